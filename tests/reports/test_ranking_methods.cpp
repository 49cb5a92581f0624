// Ranking methods beyond rank-then-aggregate (ranking_methods.h): hand-worked examples for each, the one-sided
// Wilcoxon p-values, Holm's adjustment and Kendall's tau-b against scipy, and the bootstrap analysis.
//
// The scipy values come from tests/reports/reference/ranking_scipy.py (Debian 12: scipy 1.10.1, numpy 1.24.2);
// its output is tests/reports/reference/ranking_scipy.out. Run it again with
//   /usr/bin/python3 tests/reports/reference/ranking_scipy.py
#include <catch2/catch.hpp>
#include <cmath>

#include "reports/leaderboard.h"
#include "reports/ranking_methods.h"
#include "reports/wilcoxon.h"

using namespace lb;

namespace {

// One metric: values[team][case] turned into the table's values[case][team].
MetricColumn column(const std::string& name, Direction dir, const std::vector<std::vector<double>>& by_team,
                    double weight = 1) {
  MetricColumn m;
  m.name = name;
  m.direction = dir;
  m.weight = weight;
  m.values.assign(by_team.front().size(), std::vector<double>(by_team.size()));
  for (size_t t = 0; t < by_team.size(); ++t)
    for (size_t c = 0; c < by_team[t].size(); ++c) m.values[c][t] = by_team[t][c];
  return m;
}

WilcoxonOptions challenger(Alternative alt) {
  WilcoxonOptions o;
  o.alternative = alt;
  o.continuity_correction = true;
  o.normal_only = true;
  return o;
}

// The 4 x 12 table of ranking_scipy.py ("test-then-rank on one metric").
const std::vector<std::vector<double>> kTable = {
    {0.90, 0.85, 0.80, 0.95, 0.70, 0.88, 0.92, 0.81, 0.77, 0.93, 0.86, 0.0},
    {0.60, 0.55, 0.70, 0.65, 0.50, 0.62, 0.58, 0.61, 0.66, 0.59, 0.64, 0.0},
    {0.61, 0.50, 0.72, 0.60, 0.55, 0.60, 0.57, 0.66, 0.62, 0.61, 0.69, 0.0},
    {0.20, 0.10, 0.30, 0.25, 0.15, 0.22, 0.18, 0.21, 0.72, 0.24, 0.19, 0.0}};

}  // namespace

TEST_CASE("ranking methods: one spelling, parsed and printed") {
  for (RankingMethod m : kAllRankingMethods) CHECK(parse_ranking_method(ranking_method_name(m)) == m);
  CHECK(std::string(ranking_method_name(RankingMethod::aggregate_then_rank_median)) == "aggregate-then-rank:median");
  CHECK_FALSE(parse_ranking_method("rank_then_aggregate").has_value());
  CHECK_FALSE(parse_ranking_method("aggregate-then-rank").has_value());
}

TEST_CASE("wilcoxon one-sided with continuity correction equals scipy's method='approx', correction=True") {
  struct Example {
    std::vector<double> x, y;
    double greater, less, two_sided, w_plus;
  };
  const std::vector<Example> examples = {
      // dsc_zeros_ties: two zero differences dropped, tied |d|
      {{0.8, 0.7, 0.0, 0.9, 0.6, 0.5, 0.0, 0.75, 0.85, 0.65},
       {0.7, 0.6, 0.0, 0.8, 0.7, 0.3, 0.0, 0.5, 0.85, 0.55},
       0.02914845940725132, 0.9805664480937915, 0.05829691881450264, 25.5},
      // untied
      {{0.81, 0.72, 0.93, 0.55, 0.61, 0.88, 0.47, 0.99, 0.70, 0.66},
       {0.80, 0.74, 0.90, 0.51, 0.66, 0.82, 0.40, 0.91, 0.79, 0.56},
       0.13109630120338656, 0.8893640921637652, 0.2621926024067731, 39.0},
      // all_tied: every |d| = 1
      {{2, 2, 2, 2, 2, 1}, {1, 1, 1, 1, 1, 2}, 0.06471533721895299, 0.9599093876603279, 0.12943067443790598, 17.5},
      // one_pair: one nonzero difference
      {{1, 5, 5}, {0, 5, 5}, 0.5, 0.9772498680518208, 1.0, 1.0},
      // times (less is better)
      {{30, 41, 28, 600, 35, 33, 29, 31}, {45, 40, 50, 600, 60, 33, 44, 30}, 0.9541548592252854, 0.0700082515985845,
       0.140016503197169, 3.0},
  };
  for (size_t i = 0; i < examples.size(); ++i) {
    INFO("example " << i);
    const auto& e = examples[i];
    const auto g = wilcoxon_signed_rank(e.x, e.y, challenger(Alternative::greater));
    CHECK(g.method == "normal");
    CHECK(g.statistic == e.w_plus);
    CHECK(g.p_value == Approx(e.greater).epsilon(1e-12));
    CHECK(wilcoxon_signed_rank(e.x, e.y, challenger(Alternative::less)).p_value == Approx(e.less).epsilon(1e-12));
    CHECK(wilcoxon_signed_rank(e.x, e.y, challenger(Alternative::two_sided)).p_value ==
          Approx(e.two_sided).epsilon(1e-12));
  }
  // Swapping x and y swaps greater and less.
  const auto& t = examples[4];
  CHECK(wilcoxon_signed_rank(t.y, t.x, challenger(Alternative::greater)).p_value == Approx(t.less).epsilon(1e-12));
  // Nothing differs: p = 1 in every direction (scipy returns nan with a warning; R stops).
  CHECK(wilcoxon_signed_rank({1, 2}, {1, 2}, challenger(Alternative::greater)).p_value == 1.0);
}

TEST_CASE("wilcoxon one-sided exact (method auto) by hand") {
  // d = 1..4 all positive: W+ = 10, the largest of 16 equally likely sign patterns: P(W+ >= 10) = 1/16.
  const std::vector<double> x = {1, 2, 3, 4}, y = {0, 0, 0, 0};
  WilcoxonOptions o;
  o.alternative = Alternative::greater;
  const auto r = wilcoxon_signed_rank(x, y, o);
  CHECK(r.method == "exact");
  CHECK(r.p_value == Approx(1.0 / 16));
  o.alternative = Alternative::less;
  CHECK(wilcoxon_signed_rank(x, y, o).p_value == Approx(1.0));
}

TEST_CASE("holm_adjust equals R's p.adjust(method = 'holm')") {
  // p.adjust(c(0.01, 0.04, 0.03, 0.5), "holm") = 0.04 0.09 0.09 0.50
  const auto a = holm_adjust({0.01, 0.04, 0.03, 0.5});
  REQUIRE(a.size() == 4);
  CHECK(a[0] == Approx(0.04));
  CHECK(a[1] == Approx(0.09));
  CHECK(a[2] == Approx(0.09));
  CHECK(a[3] == Approx(0.5));
  CHECK(holm_adjust({0.6, 0.7})[0] == 1.0);  // capped at 1
}

TEST_CASE("test-then-rank on the recorded 4-team table equals scipy's p-values and the ranks") {
  const std::vector<MetricColumn> cols = {column("dsc", Direction::higher_is_better, kTable)};
  TestSettings ts;
  std::vector<PairTest> tests;
  const Ranking r = test_then_rank(cols, 4, ts, &tests);
  REQUIRE(tests.size() == 12);
  // Order: a = 0..3, b = every other team. scipy (ranking_scipy.out, "ttr none"):
  const std::vector<double> p = {0.001911176863567358, 0.001911176863567358, 0.0019199000662124966,
                                 0.9985656164654193,   0.6059318672665943,   0.0024523356652214807,
                                 0.9985656164654193,   0.4289082450898092,   0.0025387425298041594,
                                 0.9985586921788043,   0.9981492377125795,   0.9980800999337875};
  for (size_t i = 0; i < 12; ++i) {
    INFO("pair " << tests[i].a << " > " << tests[i].b);
    CHECK(tests[i].p == Approx(p[i]).epsilon(1e-10));
    CHECK(tests[i].p_adjusted == tests[i].p);
  }
  // Wins A 3, B 1, C 1, D 0 -> ranks 1, 2, 2, 4 (ties to the minimum).
  CHECK(r.metric_rank[0][0] == 1);
  CHECK(r.metric_rank[1][0] == 2);
  CHECK(r.metric_rank[2][0] == 2);
  CHECK(r.metric_rank[3][0] == 4);
  CHECK(r.place == std::vector<int>{1, 2, 2, 4});

  // Holm over the 12 ordered pairs: the four small p-values become 0.022934122362808295, the rest 1.
  ts.p_adjust = PAdjust::holm;
  test_then_rank(cols, 4, ts, &tests);
  const double holm_small = 0.022934122362808295;
  for (const auto& t : tests) {
    const bool small = t.p < 0.01;
    CHECK(t.p_adjusted == Approx(small ? holm_small : 1.0).epsilon(1e-10));
  }
  // At alpha 0.01 the unadjusted tests still separate the teams; after Holm none is significant: all tie.
  ts.alpha = 0.01;
  ts.p_adjust = PAdjust::none;
  CHECK(test_then_rank(cols, 4, ts).place == std::vector<int>{1, 2, 2, 4});
  ts.p_adjust = PAdjust::holm;
  CHECK(test_then_rank(cols, 4, ts).place == std::vector<int>{1, 1, 1, 1});
}

TEST_CASE("test-then-rank: less is better for time, and per-metric ranks combine with the weights") {
  // Times of ranking_scipy.py: team 0 faster; one-sided "less" p = 0.0700082515985845.
  const std::vector<std::vector<double>> times = {{30, 41, 28, 600, 35, 33, 29, 31}, {45, 40, 50, 600, 60, 33, 44, 30}};
  // DSC where team 1 wins every case: p(1 > 0) small.
  const std::vector<std::vector<double>> dsc = {{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
                                                {0.6, 0.7, 0.8, 0.9, 0.65, 0.75, 0.85, 0.95}};
  TestSettings ts;
  ts.alpha = 0.1;
  std::vector<PairTest> tests;
  const auto time_only = test_then_rank({column("time_s", Direction::lower_is_better, times)}, 2, ts, &tests);
  CHECK(tests[0].p == Approx(0.0700082515985845).epsilon(1e-12));  // 0 faster than 1
  CHECK(tests[0].significant);
  CHECK_FALSE(tests[1].significant);
  CHECK(time_only.place == std::vector<int>{1, 2});
  ts.alpha = 0.05;
  CHECK(test_then_rank({column("time_s", Direction::lower_is_better, times)}, 2, ts).place == std::vector<int>{1, 1});
  // DSC (weight 3) ranks team 1 first, time (weight 1, alpha 0.1) team 0: scores 0: (3*2 + 1)/4, 1: (3*1 + 2)/4.
  ts.alpha = 0.1;
  const auto both = test_then_rank({column("dsc", Direction::higher_is_better, dsc, 3),
                                    column("time_s", Direction::lower_is_better, times, 1)},
                                   2, ts);
  CHECK(both.score[0] == Approx(7.0 / 4));
  CHECK(both.score[1] == Approx(5.0 / 4));
  CHECK(both.place == std::vector<int>{2, 1});
  CHECK(both.metric_mean[0][1] == Approx((30 + 41 + 28 + 600 + 35 + 33 + 29 + 31) / 8.0));
}

TEST_CASE("aggregate-then-rank on medians by hand, where means and medians disagree") {
  // A: mean 0.54, median 0.9; B: mean 0.6, median 0.6; C: mean 0.54, median 0.5.
  const std::vector<MetricColumn> cols = {column(
      "dsc", Direction::higher_is_better,
      {{0.9, 0.9, 0.9, 0.0, 0.0}, {0.6, 0.6, 0.6, 0.6, 0.6}, {0.5, 0.5, 0.5, 0.5, 0.7}})};
  const Ranking mean = aggregate_then_rank(cols, 3);
  CHECK(mean.place == std::vector<int>{2, 1, 2});  // A and C tie on 0.54: ranks 2.5 each
  const Ranking median = aggregate_then_rank_median(cols, 3);
  CHECK(median.place == std::vector<int>{1, 2, 3});
  CHECK(median.metric_rank[0][0] == 1);
  CHECK(median.metric_mean[0][0] == Approx(0.54));
  // An even number of cases: the median is the mean of the middle two (A 0.75 vs B 0.7).
  const std::vector<MetricColumn> even = {column("dsc", Direction::higher_is_better, {{0.9, 0.6, 0.0, 0.9}, {0.7, 0.7, 0.7, 0.7}})};
  CHECK(aggregate_then_rank_median(even, 2).place == std::vector<int>{1, 2});
  // Time: the lower median wins.
  const std::vector<MetricColumn> time = {column("time_s", Direction::lower_is_better, {{10, 10, 600}, {20, 20, 20}})};
  CHECK(aggregate_then_rank_median(time, 2).place == std::vector<int>{1, 2});
  CHECK(aggregate_then_rank(time, 2).place == std::vector<int>{2, 1});
}

TEST_CASE("kendall_tau_b equals scipy.stats.kendalltau (tau-b)") {
  CHECK(kendall_tau_b({1, 2, 3, 4, 5}, {2, 1, 3, 5, 4}) == Approx(0.6));
  CHECK(kendall_tau_b({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1.0));
  CHECK(kendall_tau_b({1, 2, 2, 4, 5, 5}, {1, 3, 2, 2, 6, 5}) == Approx(0.7412493166611013).epsilon(1e-12));
  CHECK(kendall_tau_b({1, 2, 3, 4, 5}, {1, 1, 3, 3, 5}) == Approx(0.8944271909999159).epsilon(1e-12));
  // Undefined when one side is all tied (scipy: nan).
  CHECK(std::isnan(kendall_tau_b({1, 2, 3}, {1, 1, 1})));
  CHECK(std::isnan(kendall_tau_b({1}, {1})));
}

TEST_CASE("quantile_linear equals numpy.percentile's default") {
  CHECK(quantile_linear({4, 1, 3, 2}, 0.025) == Approx(1.075));
  CHECK(quantile_linear({4, 1, 3, 2}, 0.5) == Approx(2.5));
  CHECK(quantile_linear({4, 1, 3, 2}, 0.975) == Approx(3.925));
  CHECK(quantile_linear({7}, 0.3) == 7);
  CHECK(std::isnan(quantile_linear({}, 0.5)));
}

TEST_CASE("bootstrap analysis: rank-then-aggregate places equal bootstrap_stability's, tau and intervals") {
  const std::vector<MetricColumn> cols = {column("dsc", Direction::higher_is_better, kTable),
                                          column("nsd", Direction::higher_is_better, kTable)};
  const std::vector<size_t> next = {1, 2, 3, 4};
  const auto old = bootstrap_stability(cols, 4, 300, 9);
  const auto now = bootstrap_analysis(cols, 4, RankingMethod::rank_then_aggregate, {}, 300, 9, next);
  CHECK(now.stability.place_counts == old.place_counts);
  CHECK(now.stability.keeps_place == old.keeps_place);
  CHECK(now.stability.ahead == old.ahead);
  CHECK(now.stability.place_range95 == old.place_range95);
  // Every draw has a defined tau in [-1, 1]; A is first on nearly every draw, so tau is mostly high.
  CHECK(now.kendall_tau.size() + static_cast<size_t>(now.tau_undefined) == 300);
  REQUIRE(now.tau.has_value());
  CHECK(now.tau->q025 <= now.tau->median);
  CHECK(now.tau->median <= now.tau->q975);
  CHECK(now.tau->q975 <= 1.0);
  CHECK(now.tau->median > 0.5);
  // The mean interval holds the full mean; the gap interval of A over B is positive (A wins every case but one tie).
  double mean_a = 0;
  for (double v : kTable[0]) mean_a += v / 12;
  CHECK(now.mean[0][0].q025 <= mean_a);
  CHECK(now.mean[0][0].q975 >= mean_a);
  REQUIRE(now.gap_to_next[0][0].has_value());
  CHECK(now.gap_to_next[0][0]->q025 > 0);
  CHECK_FALSE(now.gap_to_next[3][0].has_value());  // the last team has no next
}

TEST_CASE("bootstrap analysis: constant teams give exact intervals and tau 1, every method runs on each draw") {
  // Every case ranks the teams A > B > C: every draw does too.
  const std::vector<MetricColumn> cols = {column(
      "dsc", Direction::higher_is_better, {{0.9, 0.9, 0.9, 0.9, 0.9}, {0.5, 0.5, 0.5, 0.5, 0.5}, {0.1, 0.1, 0.1, 0.1, 0.1}})};
  for (RankingMethod m : kAllRankingMethods) {
    INFO(ranking_method_name(m));
    TestSettings ts;
    ts.alpha = 0.05;
    const auto a = bootstrap_analysis(cols, 3, m, ts, 50, 3, {1, 2, 3});
    // test-then-rank: on any draw the 5 differences are equal and positive, p = 0.018444212853524936 (scipy,
    // wilcoxon([0.4] * 5, alternative="greater", method="approx", correction=True)) <= 0.05: A > B > C always.
    CHECK(a.stability.place_counts[0][0] == 50);
    CHECK(a.stability.keeps_place == std::vector<double>{1, 1, 1});
    REQUIRE(a.tau.has_value());
    CHECK(a.tau->q025 == 1.0);
    CHECK(a.tau->q975 == 1.0);
    CHECK(a.mean[1][0].q025 == Approx(0.5));
    CHECK(a.mean[1][0].q975 == Approx(0.5));
    REQUIRE(a.gap_to_next[0][0].has_value());
    CHECK(a.gap_to_next[0][0]->median == Approx(0.4));
  }
}

TEST_CASE("bootstrap analysis: tau is undefined when the full ranking ties every team") {
  // Two teams that each win one of two cases by the same margin: tied on all cases.
  const std::vector<MetricColumn> cols = {column("dsc", Direction::higher_is_better, {{0.9, 0.5}, {0.5, 0.9}})};
  const auto a = bootstrap_analysis(cols, 2, RankingMethod::rank_then_aggregate, {}, 100, 1, {1, 2});
  CHECK(a.tau_undefined == 100);
  CHECK_FALSE(a.tau.has_value());
}

TEST_CASE("bootstrap analysis: test-then-rank's fast draws equal test_then_rank run whole on each draw") {
  // Two metrics with zeros, tied differences and a time column; Holm and none.
  std::vector<std::vector<double>> dsc = kTable;
  dsc[1][3] = dsc[2][3];  // a zero difference between B and C
  dsc[0][5] = dsc[1][5] + 0.3, dsc[0][6] = dsc[1][6] + 0.3;  // tied |d| between A and B
  const std::vector<std::vector<double>> time = {{30, 41, 28, 600, 35, 33, 29, 31, 30, 30, 40, 50},
                                                 {45, 40, 50, 600, 60, 33, 44, 30, 30, 31, 41, 52},
                                                 {45, 40, 50, 600, 60, 33, 44, 30, 29, 31, 41, 52},
                                                 {20, 20, 20, 600, 20, 20, 20, 20, 20, 20, 20, 20}};
  const std::vector<MetricColumn> cols = {column("dsc", Direction::higher_is_better, dsc, 2),
                                          column("time_s", Direction::lower_is_better, time, 1)};
  for (PAdjust adjust : {PAdjust::none, PAdjust::holm}) {
    TestSettings ts;
    ts.p_adjust = adjust;
    ts.alpha = 0.1;
    const int resamples = 60;
    const uint64_t seed = 5;
    const auto fast = bootstrap_analysis(cols, 4, RankingMethod::test_then_rank, ts, resamples, seed, {1, 2, 3, 4});
    // The same draws, ranked whole.
    SplitMix64 rng(seed);
    std::vector<std::vector<int>> counts(4, std::vector<int>(4, 0));
    std::vector<MetricColumn> drawn = cols;
    for (int b = 0; b < resamples; ++b) {
      std::vector<size_t> idx(12);
      for (auto& i : idx) i = rng.below(12);
      for (size_t m = 0; m < cols.size(); ++m)
        for (size_t k = 0; k < 12; ++k) drawn[m].values[k] = cols[m].values[idx[k]];
      const auto place = test_then_rank(drawn, 4, ts).place;
      for (size_t t = 0; t < 4; ++t) ++counts[t][static_cast<size_t>(place[t] - 1)];
    }
    INFO(p_adjust_name(adjust));
    CHECK(fast.stability.place_counts == counts);
    // Not a trivial agreement: the draws do not all give one ranking.
    int distinct_places = 0;
    for (const auto& row : counts) distinct_places += static_cast<int>(std::count_if(row.begin(), row.end(), [](int c) { return c > 0; }));
    CHECK(distinct_places > 4);
  }
}
