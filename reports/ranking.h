#pragma once
// Ranking teams over cases: FLARE's rank-then-aggregate, a plain aggregate-then-rank (means), and the
// stability of the rank-then-aggregate placing under a bootstrap over cases. Pure functions over a table of
// values; what counts as a failure and what it is replaced by is decided by the caller (leaderboard.cpp).
//
// Rank-then-aggregate (as FLARE ranks): on every case, for every metric, the teams are ranked 1..T (ties get
// the average of the ranks they span); a team's rank for a metric is the mean of its case ranks; its score is
// the weighted mean of those over metrics; lower is better.
// Aggregate-then-rank: per metric the mean over cases, teams ranked on those means (ties averaged), the score
// is the weighted mean of those ranks.
// Placing: 1 + the number of teams with a strictly better score, so equal scores share a place (1, 2, 2, 4).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace lb {

enum class Direction { higher_is_better, lower_is_better };

// 1-based ranks of `values`, ties sharing the mean of the ranks they span: {0.9, 0.5, 0.9} -> {1.5, 3, 1.5}
// when higher is better.
std::vector<double> average_ranks(const std::vector<double>& values, Direction direction);

// One metric over all cases and teams: values[case][team], every value finite (failures already replaced).
struct MetricColumn {
  std::string name;  // "dsc", "nsd", "time_s", "gpu_auc_mib_s"
  Direction direction = Direction::higher_is_better;
  double weight = 1;
  std::vector<std::vector<double>> values;
};

struct Ranking {
  std::vector<double> score;                    // per team; lower is better
  std::vector<int> place;                       // per team; 1 is best
  std::vector<std::vector<double>> metric_rank;  // [team][metric]: mean case rank, or the rank of the mean
  std::vector<std::vector<double>> metric_mean;  // [team][metric]: mean value over cases
};

// Throws std::invalid_argument for an empty table, ragged rows, non-finite values or no positive weight.
Ranking rank_then_aggregate(const std::vector<MetricColumn>& metrics, size_t n_teams);
Ranking aggregate_then_rank(const std::vector<MetricColumn>& metrics, size_t n_teams);
// Per-metric ranks of one aggregate per team and metric ([team][metric]: the mean, the median, ...), combined
// with the weights as above; metric_mean holds the means. aggregate_then_rank is this with the means.
Ranking rank_aggregates(const std::vector<MetricColumn>& metrics, size_t n_teams,
                        const std::vector<std::vector<double>>& aggregate);

// Checks the table as the rankings do (std::invalid_argument) and returns the sum of the weights.
double check_ranking_input(const std::vector<MetricColumn>& metrics, size_t n_teams);

// Places from scores (lower is better); scores within a relative 1e-9 count as equal.
std::vector<int> places_of(const std::vector<double>& score);

struct Stability {
  int resamples = 0;
  uint64_t seed = 0;
  std::vector<double> keeps_place;                // per team: fraction of resamples with the same place
  std::vector<std::vector<int>> place_counts;     // [team][place - 1]
  std::vector<std::array<int, 2>> place_range95;  // [team]: 2.5th and 97.5th percentile of the place
  std::vector<std::vector<double>> ahead;         // [i][j]: fraction of resamples where i scored strictly better
};

// Turns the counts of a finished bootstrap into fractions: keeps_place from `keeps` (per team, draws that kept
// the place), `ahead` divided by the draws, and place_range95 from place_counts (the smallest place whose
// cumulative count reaches 2.5% and 97.5% of the draws).
void finish_stability(Stability& s, const std::vector<int>& keeps, int resamples);

// Draws the cases `resamples` times with replacement (seeded, the same on every platform) and places the
// teams by rank-then-aggregate on each draw. Case ranks do not depend on which cases are drawn, so they are
// computed once.
Stability bootstrap_stability(const std::vector<MetricColumn>& metrics, size_t n_teams, int resamples, uint64_t seed);

// A small seeded generator with an unbiased bounded draw, so that bootstrap results do not depend on the
// standard library's distributions (which differ between implementations).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t n);  // uniform in [0, n), n > 0

 private:
  uint64_t state_;
};

}  // namespace lb
