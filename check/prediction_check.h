#pragma once
// `lesionbench check --pred`: would the organisers accept this folder of predictions? Each expected
// <Case>.nii.gz is read with mask_io (the same reader and label rules as `score`) and compared with its input
// image <Case>_0000.nii.gz with the runner's grid check (the same tolerances as `score` and `run`). Only the
// organisers' format counts here (gzip-compressed NIfTI): other formats are named with a suggestion.
// Findings are values (errors, warnings) naming the file; nothing here throws for a bad prediction.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/output_check.h"

namespace lb::check {

inline constexpr const char* kCheckSchemaVersion = "1.0";

// The check cannot run at all (no cases folder, no case): exit code 2.
struct CheckUnusable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PredictionCheckSettings {
  std::filesystem::path cases_dir, pred_dir;
  bool geometry_strict = true;          // a grid differing from the image's is an error (--geometry warn: a warning)
  runner::GridTolerance tolerance;      // the tolerances `score` uses
  std::vector<std::string> only_cases;  // non-empty: check these cases only (the container dry run's sample)
  double large_lesion_ml = 8000;        // above FLARE24's largest training lesion (7,864 ml): a warning
  double large_file_mib = 64;           // a mask file larger than this is unusual: a warning
};

struct CaseCheck {
  std::string case_name;        // "FLARE24Val_0001"
  std::string image_file;       // "FLARE24Val_0001_0000.nii.gz"
  std::string prediction_file;  // "FLARE24Val_0001.nii.gz"
  // ok, missing, not_a_file, not_gzip, unreadable, not_3d, invalid_labels, shape_mismatch, geometry_mismatch,
  // image_unreadable: the first error found (ok when there is none; warnings do not change it).
  std::string status = "ok";
  std::vector<std::string> errors, warnings;
  std::array<int64_t, 3> dims{};
  std::string datatype;         // as stored ("uint8", "float32"); empty when not read
  int64_t lesion_voxels = -1;   // -1 when not read
  double lesion_ml = -1;
  uintmax_t file_bytes = 0;
  bool passed() const { return errors.empty(); }
};

struct PredictionCheck {
  PredictionCheckSettings settings;
  std::vector<CaseCheck> cases;                      // sorted by case name
  std::vector<std::string> set_errors, set_warnings; // about the folder: extra or misnamed files, all empty
  std::vector<std::string> ignored_inputs;           // files in CASES_DIR that are not <case>_0000.nii.gz
  size_t n_errors() const;
  size_t n_warnings() const;
  bool passed() const { return n_errors() == 0; }
  // The files an upload holds: every expected prediction (only meaningful when passed()).
  std::vector<std::string> archive_files() const;
};

// Throws CheckUnusable when the folders cannot be used.
PredictionCheck check_predictions(const PredictionCheckSettings& settings);

// One case alone, for callers that hold their own list (the container dry run).
CaseCheck check_case(const std::filesystem::path& image_path, const std::string& case_name,
                     const std::filesystem::path& pred_dir, const PredictionCheckSettings& settings);

// The suggestion for a file in the predictions folder that is not an expected <Case>.nii.gz, given the case
// names ("rename it to C.nii.gz (drop the _0000 suffix ...)", "convert it to C.nii.gz (...)"); empty when it
// names no case.
std::string suggest_name(const std::string& file, const std::vector<std::string>& case_names);

nlohmann::json to_json(const PredictionCheck& check);
// A table, one line per case, then the set's findings and a summary line (for the terminal).
std::string format_table(const PredictionCheck& check, bool show_ok_cases = true);

}  // namespace lb::check
