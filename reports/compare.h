#pragma once
// `lesionbench compare BASE NEW`: did NEW get worse than BASE? Over the cases present in both:
//  - the unrounded mean DSC or NSD dropped by more than its max drop (with require_significance, only when a
//    paired two-sided Wilcoxon signed-rank test over the cases gives p < 0.05),
//  - a case that was ok is no longer ok (score status, and run status where there are run records),
//  - (both with run records) the median per-case time grew by more than max_slowdown times.
// Any of these is a regression (exit code 1). Inputs that cannot be compared throw CompareError (exit 2).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "reports/team.h"
#include "reports/wilcoxon.h"

namespace lb {

struct CompareOptions {
  double max_drop_dsc = 0.005, max_drop_nsd = 0.005;
  double max_slowdown = 1.10;
  bool require_significance = false;
  double alpha = 0.05;
  bool allow_different_settings = false;
  size_t list_cases = 10;  // how many of the cases that dropped most to list
};

struct CompareError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CaseChange {
  std::string key;
  double base_dsc = 0, new_dsc = 0, base_nsd = 0, new_nsd = 0;
  std::string base_status, new_status;  // "ok", a score status, or "run <status>"
  std::string new_message;
};

struct MetricChange {
  double base_mean = 0, new_mean = 0, max_drop = 0;
  WilcoxonResult test;
  bool drop_exceeds = false;  // base_mean - new_mean > max_drop
  bool regressed = false;     // drop_exceeds, and significant when significance is required
  double change() const { return new_mean - base_mean; }
};

struct CompareResult {
  std::string base_name, new_name, base_path, new_path;
  size_t n_common = 0;
  std::vector<std::string> only_base, only_new;
  MetricChange dsc, nsd;
  std::vector<CaseChange> dropped_most;  // largest DSC drops first (then NSD), only cases that dropped
  std::vector<CaseChange> new_failures;  // ok in BASE, not ok in NEW
  std::optional<double> base_median_time_s, new_median_time_s, slowdown;
  bool slower = false;
  std::string settings_difference;       // allowed with allow_different_settings
  std::vector<std::string> reasons;      // why it regressed; empty when it did not
  std::vector<std::string> notes;
  CompareOptions options;
  int exit_code() const { return reasons.empty() ? 0 : 1; }
};

CompareResult compare_teams(const Team& base, const Team& next, const CompareOptions& options);

void print_compare(std::ostream& out, const CompareResult& r);
void write_compare_markdown(std::ostream& out, const CompareResult& r);
// JUnit XML (the dialect GitHub, GitLab and Jenkins read): one test case per gate — mean DSC drop, mean NSD
// drop, cases no longer ok, median time per case (skipped without run records on both sides) — each failure
// carrying the numbers.
void write_compare_junit(std::ostream& out, const CompareResult& r);
// The same file when the inputs could not be compared (exit 2): one test case with an <error>.
void write_compare_junit_error(std::ostream& out, const std::string& base, const std::string& next,
                               const std::string& message);

}  // namespace lb
