// libFuzzer target: records.jsonl (runner/record.h), as `report` and `run --resume` read a team's journal.
// A bad line is a warning; nothing may crash.
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "runner/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lb::fuzz::input_file(data, size, "-records.jsonl");
  std::vector<std::string> warnings;
  try {
    (void)lb::runner::read_records_jsonl(path, &warnings);
  } catch (const std::exception&) {
  }
  return 0;
}
