// libFuzzer target: the contestants manifest (runner/contestant.h, schemas/manifest.schema.json).
// A bad manifest is a SetupError naming the field; nothing may crash.
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "runner/contestant.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lb::fuzz::input_file(data, size, "-manifest.json");
  try {
    (void)lb::runner::read_manifest(path, lb::runner::ContestantSpec{});
  } catch (const std::exception&) {
  }
  return 0;
}
