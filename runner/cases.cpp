// Case discovery; see cases.h.
#include "runner/cases.h"

#include <algorithm>

#include "runner/journal.h"
#include "runner/util.h"

namespace fs = std::filesystem;

namespace lb::runner {

std::vector<CaseInput> find_cases(const fs::path& dir, std::vector<std::string>* ignored) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw SetupError("cases folder " + dir.string() + " does not exist or is not a folder");
  const std::string suffix = "_0000.nii.gz";
  std::vector<CaseInput> cases;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string file = e.path().filename().string();
    const bool image = file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (image && e.is_regular_file(ec)) {
      cases.push_back({file.substr(0, file.size() - suffix.size()), file, e.path()});
    } else if (ignored && file[0] != '.') {
      ignored->push_back(printable(file));
    }
  }
  if (ec) throw SetupError("cannot list " + dir.string() + ": " + ec.message());
  if (cases.empty())
    throw SetupError("no <case>_0000.nii.gz image in " + dir.string() + " (FLARE names inputs like FLARE24Val_0001_0000.nii.gz)");
  std::sort(cases.begin(), cases.end(), [](const CaseInput& a, const CaseInput& b) { return a.name < b.name; });
  if (ignored) std::sort(ignored->begin(), ignored->end());
  return cases;
}

}  // namespace lb::runner
