// Helpers for the check tests; see check_test_util.h.
#include "tests/check/check_test_util.h"

#include <vector>

#include "metrics/nifti.h"

namespace fs = std::filesystem;

namespace lb::test::check_util {

void write_image(const fs::path& dir, const std::string& name) {
  fs::create_directories(dir);
  const auto h = nifti::make_header(kDims, kSpacing, kOrigin, {1, 0, 0, 0, 1, 0, 0, 0, 1}, nifti::kInt16);
  std::vector<int16_t> v(static_cast<size_t>(kDims[0] * kDims[1] * kDims[2]), -1000);
  nifti::write_image((dir / (name + "_0000.nii.gz")).string(), h, v.data(), 1);
}

void write_prediction(const fs::path& path, std::array<double, 3> origin_mm, std::array<int64_t, 3> dims, uint8_t label) {
  fs::create_directories(path.parent_path());
  Vol v(dims[0], dims[1], dims[2]);
  v.box({2, 2, 1}, {6, 6, 3}, label);
  write_mask(path.string(), v, kSpacing, origin_mm);
}

std::string check_schema_errors(const std::string& json_path) {
  const std::string schema = std::string(LB_SOURCE_DIR) + "/schemas/check.schema.json";
  const auto r = run_command("python3 -c " +
                             shell_quote("import json, sys, jsonschema\n"
                                         "s = json.load(open(sys.argv[1]))\n"
                                         "jsonschema.Draft202012Validator.check_schema(s)\n"
                                         "jsonschema.validate(json.load(open(sys.argv[2])), s)\n") +
                             " " + shell_quote(schema) + " " + shell_quote(json_path));
  return r.exit_code == 0 ? std::string() : "jsonschema: " + r.err;
}

}  // namespace lb::test::check_util
