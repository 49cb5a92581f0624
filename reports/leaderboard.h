#pragma once
// The leaderboard: every team's cases lined up on one list of cases, failures decided and replaced as the
// ranking rules say, summaries, efficiency, the two rankings and the bootstrap stability. A plain value that
// the writers (leaderboard_json, html_report, official CSVs) only read.
//
// Failure rule: a case fails for a team when it is absent from the team's scores, its score status is not ok
// (missing, unreadable or invalid prediction), or — for a team with run records — its record is absent (or was
// refused by --verify-key) or its status is not ok, unless the failed run left a valid prediction that the
// runner kept (record `prediction` set): that prediction is scored like any other, as the organisers score
// whatever file exists. A failed case counts as DSC 0, NSD 0, time = the time limit, GPU AUC = the largest AUC
// any team had on that case. Means and medians shown for a team use the same values as the ranking.
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics/score_set.h"
#include "reports/ranking.h"
#include "reports/ranking_methods.h"
#include "reports/team.h"

namespace lb {

enum class GpuMeasure { device, own };

// The extra metrics a ranking may use when asked (--weights hd95=1, ...): the keys of score --metrics.
inline constexpr std::array<const char*, 5> kRankableExtraMetrics{"iou", "hd_mm", "hd95_mm", "masd_mm", "assd_mm"};

struct RankSettings {
  double weight_dsc = 1, weight_nsd = 1, weight_time = 1, weight_gpu = 1;
  // Extra metrics ranked on request, key (kRankableExtraMetrics) -> weight; distances are reported, not
  // ranked, unless named here. Every team's scores must hold the metric.
  std::map<std::string, double> extra_weights;
  GpuMeasure gpu_measure = GpuMeasure::device;  // FLARE measures the whole device
  double gpu_allowance_mib = 0;                 // subtracted from every sample (FLARE22: 2048)
  std::optional<double> time_limit_s;           // default: the largest timeout_s in the records, else 600
  int bootstrap_resamples = 1000;
  uint64_t seed = 1;
  RankingMethod method = RankingMethod::rank_then_aggregate;  // places the table and the bootstrap (--ranking)
  TestSettings tests;                                          // test-then-rank's alpha and p adjustment
};

struct CaseEntry {
  std::string key;                           // "FLARE24Val_0001"
  std::optional<CaseRecord> score;           // absent when the team's scores lack the case
  std::optional<runner::RunRecord> run;      // absent without records (or for this case)
  bool failed = false;
  std::string failure;                       // why, when failed
  double dsc = 0, nsd = 0;                   // as ranked (0 when failed)
  std::optional<double> time_s, gpu_auc_mib_s;  // as ranked, when the metric is used
  // Extra metrics as ranked (settings.extra_weights): the case's value, or the worst one when the case failed
  // or the value is absent (a distance with one mask empty: the ground truth's volume diagonal; iou: 0).
  std::map<std::string, double> extra;
};

// Which way a ranked metric goes, and a case's value of it as ranked.
bool higher_is_better(const std::string& metric);
double ranked_value(const CaseEntry& e, const std::string& metric);

struct Stat {
  double mean = 0, median = 0, min = 0, max = 0;
  size_t n = 0;
};
Stat stat_of(std::vector<double> values);  // all zero when empty

struct Efficiency {
  size_t n_records = 0;
  Stat time_s;                          // wall time per case, as measured (failures included)
  std::optional<double> time_total_s;
  bool gpu_available = false, gpu_own_available = false;
  std::optional<double> gpu_device_max_mib, gpu_device_auc_mean_mib_s, gpu_own_max_mib, gpu_own_auc_mean_mib_s;
  std::optional<double> cpu_max_pct, ram_max_mib;
  std::string gpu_name;
  std::map<std::string, int> run_status_counts;
};

struct Placing {
  int place = 0;
  double score = 0;                     // lower is better
  std::vector<double> metric_rank;      // per used metric
  std::vector<double> metric_mean;      // per used metric (ranked values, failures replaced)
};

struct TeamResult {
  Team team;                            // as loaded
  std::vector<CaseEntry> cases;         // one per leaderboard case, in the leaderboard's order
  Summary summary;                      // over the leaderboard's cases, failures as 0
  std::optional<LesionSummary> lesion;  // when the scores have lesion-wise values
  std::optional<Efficiency> efficiency; // when the team has run records
  int failed_cases = 0, absent_cases = 0;
  Placing rank_then_aggregate, mean_based, median_based, test_then_rank;
  Placing placing;                      // by settings.method: the table's place and order
  std::array<int, kAllRankingMethods.size()> method_place{};  // place by each method, in kAllRankingMethods order
  // Bootstrap, of settings.method's places:
  double keeps_place = 0;               // fraction of resamples with the same place
  std::vector<int> place_counts;        // [place - 1]
  std::array<int, 2> place_range95{};
  std::optional<double> ahead_of_next;  // fraction of resamples ahead of the next team in the table
  std::vector<Interval> mean_ci95;      // per ranked metric: the mean over the drawn cases (2.5%, 50%, 97.5%)
  std::vector<std::optional<Interval>> gap_ci95;  // per ranked metric: mean minus the next team's (none for the last)
};

// One ordered pair of the significance map: is team a better than team b on the metric?
struct Significance {
  std::string metric, a, b;
  double p = 1, p_adjusted = 1;
  bool significant = false;
};

struct Leaderboard {
  RankSettings settings;
  double time_limit_s = 0;
  std::vector<std::string> case_keys;           // the ground truth's cases, else the union of the teams', sorted
  std::vector<std::string> metrics;              // the metrics ranked on: "dsc", "nsd", extra ones asked for
                                                 // (kRankableExtraMetrics), "time_s", "gpu_auc_mib_s"
  std::vector<double> weights;                   // their weights
  std::vector<TeamResult> teams;                 // sorted by place (settings.method), then name
  std::vector<std::vector<double>> ahead;        // [i][j] in that order: fraction of resamples i ahead of j
  std::vector<Significance> significance;        // every metric, every ordered pair (test-then-rank's tests)
  std::optional<Interval> kendall_tau;           // bootstrap: tau-b between the full places and each draw's
  std::vector<double> kendall_tau_values;        // one per draw where it is defined
  int kendall_tau_undefined = 0;                 // draws where it is not (every team tied)
  std::vector<std::string> notes;                // how the ranking was done where it deviates from the defaults
  std::vector<std::string> warnings;             // about the inputs
  ScoreSettings score_settings;                  // of the first team (all agree unless allowed otherwise)
};

// The cases are `case_keys` when given (report --gt: the ground truth's cases; what a team says about other
// cases is left out with a warning), else the union of the teams' scored cases.
// Throws std::invalid_argument when there is no team or no case.
// Reads the teams' sample series only when an allowance is set (to take it off every sample).
Leaderboard build_leaderboard(std::vector<Team> teams, const RankSettings& settings,
                              const std::optional<std::vector<std::string>>& case_keys = std::nullopt);

// GPU AUC with `allowance_mib` taken off every sample, clipped at 0, trapezoids over the sample times.
double auc_above_allowance(const std::vector<double>& t_s, const std::vector<double>& mib, double allowance_mib);

}  // namespace lb
