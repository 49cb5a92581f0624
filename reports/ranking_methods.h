#pragma once
// The ranking methods `report --ranking` offers beside FLARE's rank-then-aggregate (ranking.h), as challengeR
// defines them, and the bootstrap that judges any of them: places per draw, Kendall's tau between the full
// ranking and each draw's, and the intervals of each team's mean and of its gap to the next team.
//
// aggregate-then-rank:mean|median: per metric the mean (median) over cases, teams ranked on it (ties averaged),
//   score = the weighted mean of those ranks.
// test-then-rank: per metric, for every ordered pair of teams (a, b), the one-sided paired Wilcoxon signed-rank
//   test "a is better than b" over the cases (R's wilcox.test(a, b, paired=TRUE, alternative="greater",
//   exact=FALSE, correct=TRUE); "less" for time and GPU memory, where less is better); p-values adjusted over the
//   T(T-1) ordered pairs of that metric (none, or Holm as R's p.adjust); a is significantly better when the
//   adjusted p <= alpha. The metric's rank of a team is 1 + the number of teams with more significant wins (ties
//   to the minimum, as challengeR); score = the weighted mean of those ranks, as rank-then-aggregate combines its.
// Every method places by places_of(score): 1 + the number of teams with a strictly lower score.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reports/ranking.h"

namespace lb {

enum class RankingMethod { rank_then_aggregate, aggregate_then_rank_mean, aggregate_then_rank_median, test_then_rank };
inline constexpr std::array<RankingMethod, 4> kAllRankingMethods = {
    RankingMethod::rank_then_aggregate, RankingMethod::aggregate_then_rank_mean,
    RankingMethod::aggregate_then_rank_median, RankingMethod::test_then_rank};

// The one spelling, in the CLI (--ranking) and in leaderboard.json: "rank-then-aggregate",
// "aggregate-then-rank:mean", "aggregate-then-rank:median", "test-then-rank".
const char* ranking_method_name(RankingMethod method);
std::optional<RankingMethod> parse_ranking_method(const std::string& name);

enum class PAdjust { none, holm };
const char* p_adjust_name(PAdjust adjust);  // "none", "holm"

struct TestSettings {
  double alpha = 0.05;
  PAdjust p_adjust = PAdjust::none;  // challengeR's default
};

// One ordered pair of one metric: is team a better than team b?
struct PairTest {
  size_t metric = 0, a = 0, b = 0;
  double p = 1, p_adjusted = 1;
  bool significant = false;
};

// Holm's step-down adjustment, as R's p.adjust(p, method = "holm"): sorted ascending, p(i) * (m - i + 1) made
// non-decreasing and capped at 1, in the input order.
std::vector<double> holm_adjust(const std::vector<double>& p);

// Every ordered pair of teams for every metric, metric by metric, a then b in index order.
std::vector<PairTest> pairwise_tests(const std::vector<MetricColumn>& metrics, size_t n_teams, const TestSettings& tests);

// Throw std::invalid_argument like rank_then_aggregate.
Ranking aggregate_then_rank_median(const std::vector<MetricColumn>& metrics, size_t n_teams);
Ranking test_then_rank(const std::vector<MetricColumn>& metrics, size_t n_teams, const TestSettings& tests,
                       std::vector<PairTest>* pair_tests = nullptr);
Ranking rank_with(RankingMethod method, const std::vector<MetricColumn>& metrics, size_t n_teams,
                  const TestSettings& tests);

// Kendall's tau-b (scipy.stats.kendalltau's default, R's cor(method = "kendall")): (C - D) / sqrt((n0 - n1)(n0 - n2))
// with n0 = n(n-1)/2 and n1, n2 the pairs tied in x, in y. NaN when x or y has no untied pair (or n < 2).
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

// Quantile with linear interpolation between order statistics (R's type 7, numpy's default); NaN when empty.
double quantile_linear(std::vector<double> values, double q);

struct Interval {
  double q025 = 0, median = 0, q975 = 0;
};

struct BootstrapAnalysis {
  Stability stability;                      // places of `method` on each draw
  std::vector<double> kendall_tau;          // per draw where tau-b is defined
  int tau_undefined = 0;                    // draws where it is not (every team tied, or one team)
  std::optional<Interval> tau;              // over kendall_tau, when any
  std::vector<std::vector<Interval>> mean;  // [team][metric]: the mean over the drawn cases
  std::vector<std::vector<std::optional<Interval>>> gap_to_next;  // [team][metric]: mean(team) - mean(next[team])
};

// Draws the cases `resamples` times with replacement (SplitMix64 seeded by `seed`: the same draws as
// bootstrap_stability) and ranks each draw with `method`. next[t] is the team shown after t (n_teams: none).
// For rank-then-aggregate the case ranks are computed once (they do not depend on the draw), so its places equal
// bootstrap_stability's; the other methods are run whole on each draw.
BootstrapAnalysis bootstrap_analysis(const std::vector<MetricColumn>& metrics, size_t n_teams, RankingMethod method,
                                     const TestSettings& tests, int resamples, uint64_t seed,
                                     const std::vector<size_t>& next);

}  // namespace lb
