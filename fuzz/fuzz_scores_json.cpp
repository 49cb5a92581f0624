// libFuzzer target: scores.json (reports/scores_json.h), as `report` and `compare` read a team's scores.
// A bad document is a std::runtime_error naming the problem; nothing may crash.
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "reports/scores_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lb::fuzz::input_file(data, size, "-scores.json");
  try {
    (void)lb::read_scores_file(path);
  } catch (const std::exception&) {
  }
  return 0;
}
