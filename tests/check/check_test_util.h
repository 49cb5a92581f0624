#pragma once
// Inputs for the check tests: FLARE-named images on one small grid, and predictions on it (or not).
#include <array>
#include <filesystem>
#include <string>

#include "tests/support/test_support.h"

namespace lb::test::check_util {

inline constexpr std::array<int64_t, 3> kDims = {20, 16, 6};
inline constexpr std::array<double, 3> kSpacing = {0.8, 0.8, 2.5};
inline constexpr std::array<double, 3> kOrigin = {-10, 5, 30};

// <dir>/<name>_0000.nii.gz, int16, on the grid above.
void write_image(const std::filesystem::path& dir, const std::string& name);
// A uint8 0/1 mask with a small box, on the grid above (or another origin/dims).
void write_prediction(const std::filesystem::path& path, std::array<double, 3> origin_mm = kOrigin,
                      std::array<int64_t, 3> dims = kDims, uint8_t label = 1);

// Validates a JSON file against schemas/check.schema.json with Python's jsonschema (an independent
// validator); returns its complaint, or an empty string when the document is valid.
std::string check_schema_errors(const std::string& json_path);

}  // namespace lb::test::check_util
