#pragma once
// Team folders for the report and compare tests, made from real CT with real tumour masks
// (../shared/data/sts-ct) plus one healthy case: predictions derived from the ground truth (dilated, shifted,
// eroded, dropped, false positives added), run records as the runner writes them (runner/record.h), sample series and an
// efficiency CSV.
#include <optional>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace lb::test {

struct ReportFixture {
  std::string gt_dir;      // the chosen cases' labels, and an empty one for the healthy case STS_999
  std::string cases_dir;   // links to their CT images (STS_999 shows the first case's CT)
  std::vector<std::string> cases;  // e.g. "STS_001", ..., "STS_999"
  std::string alpha, bravo, charlie;  // team folders; charlie has no scores.json
};

// nullopt when ../shared/data/sts-ct is absent. Scores alpha and bravo with `lesionbench score --json`.
std::optional<ReportFixture> make_report_fixture(const TempDir& dir, size_t n_cases = 5);

// Node.js and the ajv package from reports/web/node_modules, for schema validation; empty when available,
// otherwise why not.
std::string schema_validator_missing();
// Runs reports/web/validate.mjs on the files against schemas/<schema>.
CommandResult validate_json(const std::string& schema, const std::vector<std::string>& files);

}  // namespace lb::test
