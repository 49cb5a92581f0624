#pragma once
// The cases of a run: every <Case>_0000.nii.gz in CASES_DIR, sorted by name.
#include <filesystem>
#include <string>
#include <vector>

namespace lb::runner {

struct CaseInput {
  std::string name;                 // "FLARE24Val_0001"
  std::string image_file;           // "FLARE24Val_0001_0000.nii.gz"
  std::filesystem::path path;       // CASES_DIR/FLARE24Val_0001_0000.nii.gz
  std::string prediction_file() const { return name + ".nii.gz"; }
};

// Throws SetupError (journal.h) when the folder is missing or holds no case; other files are listed in
// `ignored` (printable names).
std::vector<CaseInput> find_cases(const std::filesystem::path& cases_dir, std::vector<std::string>* ignored = nullptr);

}  // namespace lb::runner
