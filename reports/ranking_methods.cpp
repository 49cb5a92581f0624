// Ranking methods, pairwise tests, Kendall's tau and the bootstrap analysis (see ranking_methods.h).
#include "reports/ranking_methods.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "reports/wilcoxon.h"

namespace lb {

const char* ranking_method_name(RankingMethod method) {
  switch (method) {
    case RankingMethod::rank_then_aggregate: return "rank-then-aggregate";
    case RankingMethod::aggregate_then_rank_mean: return "aggregate-then-rank:mean";
    case RankingMethod::aggregate_then_rank_median: return "aggregate-then-rank:median";
    case RankingMethod::test_then_rank: return "test-then-rank";
  }
  return "?";
}

std::optional<RankingMethod> parse_ranking_method(const std::string& name) {
  for (RankingMethod m : kAllRankingMethods)
    if (name == ranking_method_name(m)) return m;
  return std::nullopt;
}

const char* p_adjust_name(PAdjust adjust) { return adjust == PAdjust::holm ? "holm" : "none"; }

std::vector<double> holm_adjust(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(m);
  double running = 0;
  for (size_t i = 0; i < m; ++i) {
    running = std::max(running, static_cast<double>(m - i) * p[order[i]]);
    out[order[i]] = std::min(1.0, running);
  }
  return out;
}

namespace {

std::vector<double> column_of(const MetricColumn& m, size_t team) {
  std::vector<double> v;
  v.reserve(m.values.size());
  for (const auto& row : m.values) v.push_back(row[team]);
  return v;
}

double median_of(std::vector<double> v) {
  const size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2), v.end());
  const double upper = v[n / 2];
  if (n % 2) return upper;
  return 0.5 * (upper + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2)));
}

}  // namespace

Ranking aggregate_then_rank_median(const std::vector<MetricColumn>& metrics, size_t n_teams) {
  check_ranking_input(metrics, n_teams);
  std::vector<std::vector<double>> medians(n_teams, std::vector<double>(metrics.size(), 0.0));
  for (size_t m = 0; m < metrics.size(); ++m)
    for (size_t t = 0; t < n_teams; ++t) medians[t][m] = median_of(column_of(metrics[m], t));
  return rank_aggregates(metrics, n_teams, medians);
}

std::vector<PairTest> pairwise_tests(const std::vector<MetricColumn>& metrics, size_t n_teams, const TestSettings& tests) {
  check_ranking_input(metrics, n_teams);
  if (!(tests.alpha > 0 && tests.alpha < 1)) throw std::invalid_argument("alpha must be between 0 and 1");
  std::vector<PairTest> out;
  for (size_t m = 0; m < metrics.size(); ++m) {
    WilcoxonOptions opt;
    opt.alternative = metrics[m].direction == Direction::higher_is_better ? Alternative::greater : Alternative::less;
    opt.continuity_correction = true;
    opt.normal_only = true;
    std::vector<std::vector<double>> cols(n_teams);
    for (size_t t = 0; t < n_teams; ++t) cols[t] = column_of(metrics[m], t);
    const size_t first = out.size();
    std::vector<double> p;
    for (size_t a = 0; a < n_teams; ++a)
      for (size_t b = 0; b < n_teams; ++b) {
        if (a == b) continue;
        PairTest pt;
        pt.metric = m;
        pt.a = a;
        pt.b = b;
        pt.p = wilcoxon_signed_rank(cols[a], cols[b], opt).p_value;
        p.push_back(pt.p);
        out.push_back(pt);
      }
    const auto adjusted = tests.p_adjust == PAdjust::holm ? holm_adjust(p) : p;
    for (size_t i = 0; i < p.size(); ++i) {
      out[first + i].p_adjusted = adjusted[i];
      out[first + i].significant = adjusted[i] <= tests.alpha;
    }
  }
  return out;
}

Ranking test_then_rank(const std::vector<MetricColumn>& metrics, size_t n_teams, const TestSettings& tests,
                       std::vector<PairTest>* pair_tests) {
  const double w_total = check_ranking_input(metrics, n_teams);
  const auto pt = pairwise_tests(metrics, n_teams, tests);
  Ranking r;
  r.metric_rank.assign(n_teams, std::vector<double>(metrics.size(), 0.0));
  r.metric_mean.assign(n_teams, std::vector<double>(metrics.size(), 0.0));
  r.score.assign(n_teams, 0.0);
  std::vector<std::vector<int>> wins(metrics.size(), std::vector<int>(n_teams, 0));
  for (const auto& t : pt)
    if (t.significant) ++wins[t.metric][t.a];
  for (size_t m = 0; m < metrics.size(); ++m)
    for (size_t t = 0; t < n_teams; ++t) {
      int more = 0;
      for (size_t u = 0; u < n_teams; ++u) more += wins[m][u] > wins[m][t];
      r.metric_rank[t][m] = 1.0 + more;
      r.score[t] += metrics[m].weight * r.metric_rank[t][m];
      const auto v = column_of(metrics[m], t);
      r.metric_mean[t][m] = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    }
  for (double& s : r.score) s /= w_total;
  r.place = places_of(r.score);
  if (pair_tests) *pair_tests = pt;
  return r;
}

Ranking rank_with(RankingMethod method, const std::vector<MetricColumn>& metrics, size_t n_teams,
                  const TestSettings& tests) {
  switch (method) {
    case RankingMethod::rank_then_aggregate: return rank_then_aggregate(metrics, n_teams);
    case RankingMethod::aggregate_then_rank_mean: return aggregate_then_rank(metrics, n_teams);
    case RankingMethod::aggregate_then_rank_median: return aggregate_then_rank_median(metrics, n_teams);
    case RankingMethod::test_then_rank: return test_then_rank(metrics, n_teams, tests);
  }
  throw std::invalid_argument("unknown ranking method");
}

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw std::invalid_argument("kendall_tau_b: x and y differ in length");
  const size_t n = x.size();
  // O(n^2): the vectors are teams, a few dozen at most.
  double concordant = 0, discordant = 0, tied_x = 0, tied_y = 0, pairs = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      ++pairs;
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0) ++tied_x;
      if (dy == 0) ++tied_y;
      if (dx == 0 || dy == 0) continue;
      ((dx > 0) == (dy > 0) ? concordant : discordant) += 1;
    }
  const double denom = std::sqrt((pairs - tied_x) * (pairs - tied_y));
  if (!(denom > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (concordant - discordant) / denom;
}

double quantile_linear(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double h = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

namespace {

Interval interval_of(const std::vector<double>& v) {
  return {quantile_linear(v, 0.025), quantile_linear(v, 0.5), quantile_linear(v, 0.975)};
}

std::vector<double> as_doubles(const std::vector<int>& v) { return {v.begin(), v.end()}; }

// Test-then-rank on bootstrap draws without sorting on every draw: for each metric and unordered pair (a < b) the
// cases with a nonzero difference are sorted by |x_a - x_b| once; a draw is then a multiplicity per case, and a walk
// over that order gives the ranks of the drawn |d| (ties averaged), W+, W- and the tie term in O(cases). The rank
// sums are sums of half-integers, exact in double, so the p-values are bit for bit those of test_then_rank.
class DrawnTestThenRank {
 public:
  DrawnTestThenRank(const std::vector<MetricColumn>& metrics, size_t n_teams, const TestSettings& tests, double w_total)
      : metrics_(metrics), n_teams_(n_teams), tests_(tests), w_total_(w_total) {
    for (const auto& m : metrics)
      for (size_t a = 0; a < n_teams; ++a)
        for (size_t b = a + 1; b < n_teams; ++b) {
          Pair p;
          for (size_t c = 0; c < m.values.size(); ++c) {
            const double d = m.values[c][a] - m.values[c][b];
            if (d != 0) p.items.push_back({std::fabs(d), static_cast<uint32_t>(c), d > 0});
          }
          std::stable_sort(p.items.begin(), p.items.end(), [](const Item& x, const Item& y) { return x.absd < y.absd; });
          pairs_.push_back(std::move(p));
        }
  }

  // Scores (lower is better) of the draw whose case multiplicities are `count`.
  std::vector<double> score(const std::vector<int>& count) {
    std::vector<double> score(n_teams_, 0.0);
    size_t pair_index = 0;
    for (size_t m = 0; m < metrics_.size(); ++m) {
      WilcoxonOptions opt;
      opt.alternative = metrics_[m].direction == Direction::higher_is_better ? Alternative::greater : Alternative::less;
      opt.continuity_correction = true;
      opt.normal_only = true;
      // p of (a, b) for a != b, in pairwise_tests' order.
      std::vector<std::vector<double>> p(n_teams_, std::vector<double>(n_teams_, 1.0));
      for (size_t a = 0; a < n_teams_; ++a)
        for (size_t b = a + 1; b < n_teams_; ++b) {
          const Pair& pr = pairs_[pair_index++];
          double w_plus = 0, w_minus = 0, tie_term = 0, position = 0;
          for (size_t i = 0; i < pr.items.size();) {
            size_t j = i;
            double t = 0, t_plus = 0;
            for (; j < pr.items.size() && pr.items[j].absd == pr.items[i].absd; ++j) {
              const int k = count[pr.items[j].c];
              t += k;
              if (pr.items[j].positive) t_plus += k;
            }
            if (t > 0) {
              const double rank = position + (t + 1) / 2;  // the mean of ranks position+1 .. position+t
              w_plus += rank * t_plus;
              w_minus += rank * (t - t_plus);
              if (t > 1) tie_term += t * t * t - t;
              position += t;
            }
            i = j;
          }
          const int n = static_cast<int>(position);
          p[a][b] = wilcoxon_normal_p(n, w_plus, w_minus, tie_term, opt);  // d = x_a - x_b
          p[b][a] = wilcoxon_normal_p(n, w_minus, w_plus, tie_term, opt);  // d = x_b - x_a
        }
      std::vector<double> flat;
      for (size_t a = 0; a < n_teams_; ++a)
        for (size_t b = 0; b < n_teams_; ++b)
          if (a != b) flat.push_back(p[a][b]);
      if (tests_.p_adjust == PAdjust::holm) flat = holm_adjust(flat);
      std::vector<int> wins(n_teams_, 0);
      size_t k = 0;
      for (size_t a = 0; a < n_teams_; ++a)
        for (size_t b = 0; b < n_teams_; ++b)
          if (a != b && flat[k++] <= tests_.alpha) ++wins[a];
      for (size_t t = 0; t < n_teams_; ++t) {
        int more = 0;
        for (size_t u = 0; u < n_teams_; ++u) more += wins[u] > wins[t];
        score[t] += metrics_[m].weight * (1.0 + more);
      }
    }
    for (double& v : score) v /= w_total_;
    return score;
  }

 private:
  struct Item {
    double absd;
    uint32_t c;
    bool positive;
  };
  struct Pair {
    std::vector<Item> items;
  };
  const std::vector<MetricColumn>& metrics_;
  size_t n_teams_;
  TestSettings tests_;
  double w_total_;
  std::vector<Pair> pairs_;  // metric by metric, (a, b) with a < b in index order
};

}  // namespace

BootstrapAnalysis bootstrap_analysis(const std::vector<MetricColumn>& metrics, size_t n_teams, RankingMethod method,
                                     const TestSettings& tests, int resamples, uint64_t seed,
                                     const std::vector<size_t>& next) {
  const double w_total = check_ranking_input(metrics, n_teams);
  if (resamples < 1) throw std::invalid_argument("bootstrap needs at least one resample");
  if (next.size() != n_teams) throw std::invalid_argument("bootstrap: next must name one team per team");
  const size_t n_cases = metrics.front().values.size(), n_metrics = metrics.size();
  const bool rta = method == RankingMethod::rank_then_aggregate;

  // Rank-then-aggregate: each case's weighted rank score, summed over a draw (as bootstrap_stability).
  std::vector<std::vector<double>> case_score;
  if (rta) {
    case_score.assign(n_cases, std::vector<double>(n_teams, 0.0));
    for (size_t m = 0; m < n_metrics; ++m)
      for (size_t c = 0; c < n_cases; ++c) {
        const auto r = average_ranks(metrics[m].values[c], metrics[m].direction);
        for (size_t t = 0; t < n_teams; ++t) case_score[c][t] += metrics[m].weight * r[t] / w_total;
      }
  }
  std::optional<DrawnTestThenRank> drawn_ttr;
  if (method == RankingMethod::test_then_rank) drawn_ttr.emplace(metrics, n_teams, tests, w_total);
  std::vector<int> multiplicity(n_cases);
  const auto original = rank_with(method, metrics, n_teams, tests).place;
  const std::vector<double> original_d = as_doubles(original);

  BootstrapAnalysis out;
  Stability& s = out.stability;
  s.resamples = resamples;
  s.seed = seed;
  s.place_counts.assign(n_teams, std::vector<int>(n_teams, 0));
  s.ahead.assign(n_teams, std::vector<double>(n_teams, 0.0));
  std::vector<int> keeps(n_teams, 0);
  // draw_means[t][m][b], draw_gaps[t][m][b]
  std::vector<std::vector<std::vector<double>>> draw_means(
      n_teams, std::vector<std::vector<double>>(n_metrics, std::vector<double>(static_cast<size_t>(resamples))));
  auto draw_gaps = draw_means;

  SplitMix64 rng(seed);
  std::vector<size_t> drawn(n_cases);
  std::vector<MetricColumn> cols = metrics;  // reused for the methods that run whole on each draw
  std::vector<double> score(n_teams);
  for (int b = 0; b < resamples; ++b) {
    for (size_t k = 0; k < n_cases; ++k) drawn[k] = rng.below(n_cases);
    if (rta) {
      std::fill(score.begin(), score.end(), 0.0);
      for (size_t k = 0; k < n_cases; ++k)
        for (size_t t = 0; t < n_teams; ++t) score[t] += case_score[drawn[k]][t];
    } else if (drawn_ttr) {
      std::fill(multiplicity.begin(), multiplicity.end(), 0);
      for (size_t k = 0; k < n_cases; ++k) ++multiplicity[drawn[k]];
      score = drawn_ttr->score(multiplicity);
    } else {
      for (size_t m = 0; m < n_metrics; ++m)
        for (size_t k = 0; k < n_cases; ++k) cols[m].values[k] = metrics[m].values[drawn[k]];
      score = rank_with(method, cols, n_teams, tests).score;
    }
    const auto place = places_of(score);
    for (size_t t = 0; t < n_teams; ++t) {
      ++s.place_counts[t][static_cast<size_t>(place[t] - 1)];
      if (place[t] == original[t]) ++keeps[t];
      for (size_t u = 0; u < n_teams; ++u) {
        const double tol = 1e-9 * std::max({1.0, std::fabs(score[t]), std::fabs(score[u])});
        if (score[t] < score[u] - tol) s.ahead[t][u] += 1;
      }
    }
    const double tau = kendall_tau_b(original_d, as_doubles(place));
    if (std::isnan(tau)) ++out.tau_undefined;
    else out.kendall_tau.push_back(tau);
    for (size_t m = 0; m < n_metrics; ++m) {
      for (size_t t = 0; t < n_teams; ++t) {
        double sum = 0;
        for (size_t k = 0; k < n_cases; ++k) sum += metrics[m].values[drawn[k]][t];
        draw_means[t][m][static_cast<size_t>(b)] = sum / static_cast<double>(n_cases);
      }
      for (size_t t = 0; t < n_teams; ++t)
        if (next[t] < n_teams)
          draw_gaps[t][m][static_cast<size_t>(b)] = draw_means[t][m][static_cast<size_t>(b)] - draw_means[next[t]][m][static_cast<size_t>(b)];
    }
  }
  finish_stability(s, keeps, resamples);
  out.mean.assign(n_teams, std::vector<Interval>(n_metrics));
  out.gap_to_next.assign(n_teams, std::vector<std::optional<Interval>>(n_metrics));
  for (size_t t = 0; t < n_teams; ++t) {
    for (size_t m = 0; m < n_metrics; ++m) {
      out.mean[t][m] = interval_of(draw_means[t][m]);
      if (next[t] < n_teams) out.gap_to_next[t][m] = interval_of(draw_gaps[t][m]);
    }
  }
  if (!out.kendall_tau.empty()) out.tau = interval_of(out.kendall_tau);
  return out;
}

}  // namespace lb
