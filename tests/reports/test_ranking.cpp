// Rankings against hand-worked examples, and the bootstrap against exact enumeration.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "reports/ranking.h"

using namespace lb;

namespace {

MetricColumn column(const std::string& name, Direction d, double weight, std::vector<std::vector<double>> values) {
  MetricColumn c;
  c.name = name;
  c.direction = d;
  c.weight = weight;
  c.values = std::move(values);
  return c;
}

}  // namespace

TEST_CASE("average_ranks gives tied values the mean of the ranks they span") {
  // Higher is better: 0.9 and 0.9 share ranks 1 and 2 -> 1.5; 0.5 is 3.
  CHECK(average_ranks({0.9, 0.5, 0.9}, Direction::higher_is_better) == std::vector<double>{1.5, 3, 1.5});
  // Lower is better: three-way tie for ranks 2..4 -> 3.
  CHECK(average_ranks({10, 1, 10, 10, 20}, Direction::lower_is_better) == std::vector<double>{3, 1, 3, 3, 5});
  CHECK(average_ranks({0.0, 0.0, 0.0}, Direction::higher_is_better) == std::vector<double>{2, 2, 2});
  CHECK(average_ranks({7}, Direction::lower_is_better) == std::vector<double>{1});
  CHECK(average_ranks({}, Direction::lower_is_better).empty());
}

TEST_CASE("places_of shares a place between equal scores and skips the next") {
  CHECK(places_of({1.5, 1.5, 3.0}) == std::vector<int>{1, 1, 3});
  CHECK(places_of({2.0, 1.0, 3.0, 2.0}) == std::vector<int>{2, 1, 4, 2});
  // Scores that differ only by rounding noise are equal.
  CHECK(places_of({1.0 / 3.0 * 3.0, 1.0}) == std::vector<int>{1, 1});
}

TEST_CASE("rank_then_aggregate on a hand-worked example with ties and a failed case") {
  // Teams A, B, C; three cases. Team C failed case 2: the caller already replaced its values
  // (DSC 0, time = limit 600 s).
  //        DSC (higher better)        time s (lower better)
  // case1: A .90  B .80  C .80        A 10  B 20  C 30
  // case2: A .70  B .75  C 0 (fail)   A 15  B 15  C 600
  // case3: A .60  B .90  C .95        A 40  B 20  C 10
  // DSC ranks:  case1 A1 B2.5 C2.5; case2 B1 A2 C3; case3 C1 B2 A3
  //   means: A (1+2+3)/3 = 2, B (2.5+1+2)/3 = 5.5/3, C (2.5+3+1)/3 = 6.5/3
  // time ranks: case1 A1 B2 C3; case2 A1.5 B1.5 C3; case3 C1 B2 A3
  //   means: A 5.5/3, B 5.5/3, C 7/3
  // Equal weights: A (2 + 5.5/3)/2 = 11.5/6, B (5.5/3 + 5.5/3)/2 = 11/6, C (6.5/3 + 7/3)/2 = 13.5/6
  const std::vector<MetricColumn> m = {
      column("dsc", Direction::higher_is_better, 1, {{0.90, 0.80, 0.80}, {0.70, 0.75, 0.0}, {0.60, 0.90, 0.95}}),
      column("time_s", Direction::lower_is_better, 1, {{10, 20, 30}, {15, 15, 600}, {40, 20, 10}})};
  const Ranking r = rank_then_aggregate(m, 3);
  CHECK(r.metric_rank[0][0] == Approx(2.0));
  CHECK(r.metric_rank[1][0] == Approx(5.5 / 3));
  CHECK(r.metric_rank[2][0] == Approx(6.5 / 3));
  CHECK(r.metric_rank[0][1] == Approx(5.5 / 3));
  CHECK(r.metric_rank[1][1] == Approx(5.5 / 3));
  CHECK(r.metric_rank[2][1] == Approx(7.0 / 3));
  CHECK(r.score[0] == Approx(11.5 / 6));
  CHECK(r.score[1] == Approx(11.0 / 6));
  CHECK(r.score[2] == Approx(13.5 / 6));
  CHECK(r.place == std::vector<int>{2, 1, 3});
  CHECK(r.metric_mean[2][1] == Approx((30 + 600 + 10) / 3.0));

  // DSC weight 3, time weight 1: A (3*2 + 5.5/3)/4 = 1.9583; B (3*5.5/3 + 5.5/3)/4 = 22/12;
  // C (3*6.5/3 + 7/3)/4 = 2.2083
  auto weighted = m;
  weighted[0].weight = 3;
  const Ranking w = rank_then_aggregate(weighted, 3);
  CHECK(w.score[0] == Approx((6 + 5.5 / 3) / 4));
  CHECK(w.score[1] == Approx(22.0 / 12));
  CHECK(w.score[2] == Approx((6.5 + 7.0 / 3) / 4));
}

TEST_CASE("aggregate_then_rank differs from rank_then_aggregate when one case is lost badly") {
  // A beats B narrowly on 3 of 4 cases and loses badly on the fourth.
  // Rank-then-aggregate: A mean rank (1+1+1+2)/4 = 1.25 -> A first.
  // Mean-based: A mean .6875, B mean .7875 -> B first.
  const std::vector<MetricColumn> m = {
      column("dsc", Direction::higher_is_better, 1, {{0.80, 0.79}, {0.80, 0.79}, {0.80, 0.79}, {0.35, 0.78}})};
  const Ranking rta = rank_then_aggregate(m, 2);
  const Ranking mean = aggregate_then_rank(m, 2);
  CHECK(rta.score == std::vector<double>{1.25, 1.75});
  CHECK(rta.place == std::vector<int>{1, 2});
  CHECK(mean.metric_mean[0][0] == Approx(0.6875));
  CHECK(mean.metric_mean[1][0] == Approx(0.7875));
  CHECK(mean.place == std::vector<int>{2, 1});
  CHECK(mean.score == std::vector<double>{2, 1});
}

TEST_CASE("identical teams share every rank and the first place") {
  const std::vector<MetricColumn> m = {column("dsc", Direction::higher_is_better, 1, {{0.5, 0.5, 0.2}, {0.9, 0.9, 0.1}})};
  const Ranking r = rank_then_aggregate(m, 3);
  CHECK(r.score == std::vector<double>{1.5, 1.5, 3});
  CHECK(r.place == std::vector<int>{1, 1, 3});
  const Stability s = bootstrap_stability(m, 3, 200, 5);
  CHECK(s.keeps_place == std::vector<double>{1, 1, 1});
  CHECK(s.ahead[0][1] == 0);
  CHECK(s.ahead[1][0] == 0);
  CHECK(s.ahead[0][2] == 1);
}

TEST_CASE("ranking rejects tables it cannot rank") {
  CHECK_THROWS_AS(rank_then_aggregate({}, 2), std::invalid_argument);
  CHECK_THROWS_AS(rank_then_aggregate({column("dsc", Direction::higher_is_better, 1, {{0.5}})}, 2), std::invalid_argument);
  CHECK_THROWS_AS(rank_then_aggregate({column("dsc", Direction::higher_is_better, 0, {{0.5, 0.4}})}, 2),
                  std::invalid_argument);
  CHECK_THROWS_AS(rank_then_aggregate({column("dsc", Direction::higher_is_better, 1, {{NAN, 0.4}})}, 2),
                  std::invalid_argument);
}

TEST_CASE("SplitMix64 reproduces the reference sequence and draws without bias") {
  // First outputs of Vigna's splitmix64.c with state 0.
  SplitMix64 g(0);
  CHECK(g.next() == 0xE220A8397B1DCDAFull);
  CHECK(g.next() == 0x6E789E6AA1B965F4ull);
  CHECK(g.next() == 0x06C45D188009454Full);
  // below(n) covers 0..n-1 about evenly.
  SplitMix64 h(42);
  std::vector<int> count(7, 0);
  for (int i = 0; i < 70000; ++i) ++count[h.below(7)];
  for (int c : count) CHECK(std::abs(c - 10000) < 400);  // > 4 standard deviations
}

TEST_CASE("bootstrap place shares match exact enumeration over every draw") {
  // 3 cases, 2 teams: every one of the 27 equally likely draws (with replacement) enumerated.
  const std::vector<MetricColumn> m = {
      column("dsc", Direction::higher_is_better, 1, {{0.9, 0.8}, {0.7, 0.75}, {0.6, 0.5}})};
  // Per-case ranks: A 1,2,1; B 2,1,2. A is placed first when its rank sum is lower, tied when equal.
  double a_first = 0, a_ahead = 0;
  const int ra[3] = {1, 2, 1}, rb[3] = {2, 1, 2};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) {
        const int sa = ra[i] + ra[j] + ra[k], sb = rb[i] + rb[j] + rb[k];
        a_first += sa <= sb;
        a_ahead += sa < sb;
      }
  a_first /= 27, a_ahead /= 27;  // A's place is 1 when not behind: 20/27
  const Stability s = bootstrap_stability(m, 2, 20000, 3);
  CHECK(s.keeps_place[0] == Approx(a_first).margin(0.015));
  CHECK(s.ahead[0][1] == Approx(a_ahead).margin(0.015));
  CHECK(s.place_counts[0][0] + s.place_counts[0][1] == 20000);
  CHECK(s.place_range95[0] == std::array<int, 2>{1, 2});

  // Seeded: the same seed gives the same counts, another seed other counts.
  const Stability again = bootstrap_stability(m, 2, 20000, 3);
  CHECK(again.place_counts == s.place_counts);
  const Stability other = bootstrap_stability(m, 2, 20000, 4);
  CHECK(other.place_counts != s.place_counts);
}

TEST_CASE("a team better on every case keeps its place in every resample") {
  const std::vector<MetricColumn> m = {
      column("dsc", Direction::higher_is_better, 1, {{0.9, 0.8, 0.1}, {0.95, 0.7, 0.2}, {0.85, 0.6, 0.3}, {0.9, 0.1, 0.2}})};
  const Stability s = bootstrap_stability(m, 3, 1000, 1);
  CHECK(s.keeps_place[0] == 1.0);
  CHECK(s.place_range95[0] == std::array<int, 2>{1, 1});
  CHECK(s.ahead[0][1] == 1.0);
  CHECK(s.ahead[0][2] == 1.0);
  // B and C swap places on some draws.
  CHECK(s.keeps_place[1] < 1.0);
  CHECK(s.keeps_place[1] > 0.5);
  CHECK(s.ahead[1][2] + s.ahead[2][1] <= 1.0);
}
