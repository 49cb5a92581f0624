// Rank-then-aggregate, aggregate-then-rank and bootstrap stability (see ranking.h).
#include "reports/ranking.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace lb {

std::vector<double> average_ranks(const std::vector<double>& values, Direction direction) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  const bool higher = direction == Direction::higher_is_better;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return higher ? values[a] > values[b] : values[a] < values[b]; });
  std::vector<double> ranks(n);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && values[order[j]] == values[order[i]]) ++j;
    // Positions i..j-1 (0-based) hold equal values: each gets the mean of ranks i+1..j.
    const double rank = 0.5 * static_cast<double>(i + 1 + j);
    for (size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

std::vector<int> places_of(const std::vector<double>& score) {
  std::vector<int> place(score.size(), 1);
  for (size_t i = 0; i < score.size(); ++i)
    for (size_t j = 0; j < score.size(); ++j) {
      const double tol = 1e-9 * std::max({1.0, std::fabs(score[i]), std::fabs(score[j])});
      if (score[j] < score[i] - tol) ++place[i];
    }
  return place;
}

namespace {

double total_weight(const std::vector<MetricColumn>& metrics) {
  double w = 0;
  for (const auto& m : metrics) {
    if (!(m.weight >= 0) || !std::isfinite(m.weight)) throw std::invalid_argument("weight of " + m.name + " must be >= 0");
    w += m.weight;
  }
  if (!(w > 0)) throw std::invalid_argument("ranking needs at least one metric with a positive weight");
  return w;
}

void check_table(const std::vector<MetricColumn>& metrics, size_t n_teams) {
  if (metrics.empty()) throw std::invalid_argument("ranking needs at least one metric");
  if (n_teams == 0) throw std::invalid_argument("ranking needs at least one team");
  const size_t n_cases = metrics.front().values.size();
  if (n_cases == 0) throw std::invalid_argument("ranking needs at least one case");
  for (const auto& m : metrics) {
    if (m.values.size() != n_cases)
      throw std::invalid_argument("metric " + m.name + " has " + std::to_string(m.values.size()) + " cases, expected " +
                                  std::to_string(n_cases));
    for (size_t c = 0; c < n_cases; ++c) {
      if (m.values[c].size() != n_teams)
        throw std::invalid_argument("metric " + m.name + ", case " + std::to_string(c) + ": " +
                                    std::to_string(m.values[c].size()) + " teams, expected " + std::to_string(n_teams));
      for (double v : m.values[c])
        if (!std::isfinite(v)) throw std::invalid_argument("metric " + m.name + " has a non-finite value");
    }
  }
}

// case_rank[m][c][t]
std::vector<std::vector<std::vector<double>>> case_ranks(const std::vector<MetricColumn>& metrics) {
  std::vector<std::vector<std::vector<double>>> r(metrics.size());
  for (size_t m = 0; m < metrics.size(); ++m)
    for (const auto& row : metrics[m].values) r[m].push_back(average_ranks(row, metrics[m].direction));
  return r;
}

std::vector<std::vector<double>> metric_means(const std::vector<MetricColumn>& metrics, size_t n_teams) {
  std::vector<std::vector<double>> mean(n_teams, std::vector<double>(metrics.size(), 0.0));
  for (size_t m = 0; m < metrics.size(); ++m) {
    for (const auto& row : metrics[m].values)
      for (size_t t = 0; t < n_teams; ++t) mean[t][m] += row[t];
    for (size_t t = 0; t < n_teams; ++t) mean[t][m] /= static_cast<double>(metrics[m].values.size());
  }
  return mean;
}

}  // namespace

double check_ranking_input(const std::vector<MetricColumn>& metrics, size_t n_teams) {
  check_table(metrics, n_teams);
  return total_weight(metrics);
}

Ranking rank_then_aggregate(const std::vector<MetricColumn>& metrics, size_t n_teams) {
  check_table(metrics, n_teams);
  const double w_total = total_weight(metrics);
  const auto ranks = case_ranks(metrics);
  Ranking r;
  r.metric_mean = metric_means(metrics, n_teams);
  r.metric_rank.assign(n_teams, std::vector<double>(metrics.size(), 0.0));
  r.score.assign(n_teams, 0.0);
  for (size_t m = 0; m < metrics.size(); ++m) {
    const double n_cases = static_cast<double>(ranks[m].size());
    for (size_t t = 0; t < n_teams; ++t) {
      double sum = 0;
      for (const auto& row : ranks[m]) sum += row[t];
      r.metric_rank[t][m] = sum / n_cases;
      r.score[t] += metrics[m].weight * r.metric_rank[t][m];
    }
  }
  for (double& s : r.score) s /= w_total;
  r.place = places_of(r.score);
  return r;
}

Ranking rank_aggregates(const std::vector<MetricColumn>& metrics, size_t n_teams,
                        const std::vector<std::vector<double>>& aggregate) {
  check_table(metrics, n_teams);
  const double w_total = total_weight(metrics);
  Ranking r;
  r.metric_mean = metric_means(metrics, n_teams);
  r.metric_rank.assign(n_teams, std::vector<double>(metrics.size(), 0.0));
  r.score.assign(n_teams, 0.0);
  for (size_t m = 0; m < metrics.size(); ++m) {
    std::vector<double> values(n_teams);
    for (size_t t = 0; t < n_teams; ++t) values[t] = aggregate[t][m];
    const auto ranks = average_ranks(values, metrics[m].direction);
    for (size_t t = 0; t < n_teams; ++t) {
      r.metric_rank[t][m] = ranks[t];
      r.score[t] += metrics[m].weight * ranks[t];
    }
  }
  for (double& s : r.score) s /= w_total;
  r.place = places_of(r.score);
  return r;
}

Ranking aggregate_then_rank(const std::vector<MetricColumn>& metrics, size_t n_teams) {
  check_table(metrics, n_teams);
  return rank_aggregates(metrics, n_teams, metric_means(metrics, n_teams));
}

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t n) {
  // Rejection of the top partial block keeps every value equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = next();
  while (x >= limit);
  return x % n;
}

void finish_stability(Stability& s, const std::vector<int>& keeps, int resamples) {
  const size_t n_teams = s.place_counts.size();
  s.keeps_place.assign(n_teams, 0.0);
  s.place_range95.assign(n_teams, {});
  for (size_t t = 0; t < n_teams; ++t) {
    s.keeps_place[t] = static_cast<double>(keeps[t]) / resamples;
    for (auto& a : s.ahead[t]) a /= resamples;
    const auto percentile = [&](double q) {
      const double need = q * resamples;
      int cum = 0;
      for (size_t p = 0; p < n_teams; ++p) {
        cum += s.place_counts[t][p];
        if (cum >= need) return static_cast<int>(p + 1);
      }
      return static_cast<int>(n_teams);
    };
    s.place_range95[t] = {percentile(0.025), percentile(0.975)};
  }
}

Stability bootstrap_stability(const std::vector<MetricColumn>& metrics, size_t n_teams, int resamples, uint64_t seed) {
  check_table(metrics, n_teams);
  if (resamples < 1) throw std::invalid_argument("bootstrap needs at least one resample");
  const double w_total = total_weight(metrics);
  const auto ranks = case_ranks(metrics);
  const size_t n_cases = metrics.front().values.size();
  // Weighted case score per team: the rank-then-aggregate score of a draw is the mean of these.
  std::vector<std::vector<double>> case_score(n_cases, std::vector<double>(n_teams, 0.0));
  for (size_t m = 0; m < metrics.size(); ++m)
    for (size_t c = 0; c < n_cases; ++c)
      for (size_t t = 0; t < n_teams; ++t) case_score[c][t] += metrics[m].weight * ranks[m][c][t] / w_total;

  std::vector<double> full(n_teams, 0.0);
  for (size_t c = 0; c < n_cases; ++c)
    for (size_t t = 0; t < n_teams; ++t) full[t] += case_score[c][t];
  const auto original = places_of(full);

  Stability s;
  s.resamples = resamples;
  s.seed = seed;
  s.place_counts.assign(n_teams, std::vector<int>(n_teams, 0));
  s.ahead.assign(n_teams, std::vector<double>(n_teams, 0.0));
  std::vector<int> keeps(n_teams, 0);
  SplitMix64 rng(seed);
  std::vector<double> sum(n_teams);
  for (int b = 0; b < resamples; ++b) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (size_t k = 0; k < n_cases; ++k) {
      const auto& row = case_score[rng.below(n_cases)];
      for (size_t t = 0; t < n_teams; ++t) sum[t] += row[t];
    }
    // Sums over the same number of cases order the teams as their means do.
    const auto place = places_of(sum);
    for (size_t t = 0; t < n_teams; ++t) {
      ++s.place_counts[t][static_cast<size_t>(place[t] - 1)];
      if (place[t] == original[t]) ++keeps[t];
      for (size_t u = 0; u < n_teams; ++u) {
        const double tol = 1e-9 * std::max({1.0, std::fabs(sum[t]), std::fabs(sum[u])});
        if (sum[t] < sum[u] - tol) s.ahead[t][u] += 1;
      }
    }
  }
  finish_stability(s, keeps, resamples);
  return s;
}

}  // namespace lb
