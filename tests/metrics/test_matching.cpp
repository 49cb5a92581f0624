// Lesion matching choices (metrics/matching.h, lesion_scores.h): a case worked by hand where overlap, iou:T and
// hungarian disagree, with tp/fp/fn, per-lesion DSC, RQ/SQ/PQ and autoPET's volumes; the assignment solver
// against all permutations on small random matrices.
#include <catch2/catch.hpp>
#include <algorithm>
#include <numeric>
#include <random>

#include "metrics/lesion_scores.h"
#include "metrics/matching.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::Vol;

namespace {

// Along one row (y = 0, z = 0; 1 mm voxels, 0.001 ml each):
//   g1 = x 0..5 (6 voxels), g2 = x 7..16 (10), p1 = x 3..12 (10), p2 = x 14..16 (3)
//   |g1∩p1| = 3 -> IoU 3/13;  |g2∩p1| = 6 -> IoU 6/14;  |g2∩p2| = 3 -> IoU 3/10.
// Plus a missed lesion g3 (4 voxels, row y = 3) and a false-positive component p3 (2 voxels, row y = 6).
struct Fixture {
  Vol g{30, 8, 1}, p{30, 8, 1};
  Fixture() {
    g.box({0, 0, 0}, {6, 1, 1});
    g.box({7, 0, 0}, {17, 1, 1});
    g.box({10, 3, 0}, {14, 4, 1});
    p.box({3, 0, 0}, {13, 1, 1});
    p.box({14, 0, 0}, {17, 1, 1});
    p.box({20, 6, 0}, {22, 7, 1});
  }
  LesionWise score(const std::string& matching) const {
    LesionSettings st;
    REQUIRE(parse_matching(matching, st.matching).empty());
    return score_lesions(g.v.data(), p.v.data(), g.dims, {1, 1, 1}, 2.0, st);
  }
};

// Lesions are listed largest first: g2 (id 1), g1 (id 2), g3 (id 3).
const Lesion& by_voxels(const LesionWise& lw, int64_t voxels) {
  for (const auto& l : lw.lesions)
    if (l.voxels == voxels) return l;
  FAIL("no lesion of " << voxels << " voxels");
  return lw.lesions.front();
}

}  // namespace

TEST_CASE("matching: overlap, iou:T and hungarian disagree on a case worked by hand", "[matching]") {
  const Fixture f;
  const double iou11 = 3.0 / 13, iou21 = 6.0 / 14, iou22 = 3.0 / 10;

  SECTION("overlap: every component sharing a voxel; g2 takes p1 and p2 together") {
    const LesionWise lw = f.score("overlap");
    CHECK(lw.n_gt == 3);
    CHECK(lw.n_pred == 3);
    CHECK(lw.tp == 2);
    CHECK(lw.fn == 1);
    CHECK(lw.fp == 1);
    CHECK(lw.linked_pred == 2);
    const Lesion& g2 = by_voxels(lw, 10);
    CHECK(g2.linked_pred == 2);
    CHECK(g2.pred_voxels == 13);
    CHECK(g2.dsc == Approx(2.0 * 9 / 23));
    CHECK(by_voxels(lw, 6).dsc == Approx(2.0 * 3 / 16));  // g1 against the whole of p1
    // RQ = 2 / (2 + 0.5 + 0.5); SQ = mean of IoU(g1, p1) and IoU(g2, p1 ∪ p2) = 9 / 14; no PQ (not one-to-one).
    CHECK(*lw.rq == Approx(2.0 / 3));
    CHECK(*lw.sq == Approx((iou11 + 9.0 / 14) / 2));
    CHECK(!lw.pq);
  }
  SECTION("iou:0.2 (greedy): g2-p1 first (0.43), then g2-p2 and g1-p1 are blocked: g1 missed, p2 a false positive") {
    const LesionWise lw = f.score("iou:0.2");
    CHECK(lw.tp == 1);
    CHECK(lw.fn == 2);
    CHECK(lw.fp == 2);
    CHECK(lw.linked_pred == 1);
    const Lesion& g2 = by_voxels(lw, 10);
    CHECK(g2.detected);
    CHECK(g2.linked_pred == 1);
    CHECK(g2.pred_voxels == 10);
    CHECK(g2.dsc == Approx(2.0 * 6 / 20));  // the matched pair only
    CHECK_FALSE(by_voxels(lw, 6).detected);
    CHECK(by_voxels(lw, 6).dsc == 0);
    CHECK(lw.dsc == Approx(0.6 / (3 + 2)));  // sum of lesion DSC / (lesions + false positives)
    CHECK(*lw.rq == Approx(1.0 / (1 + 1 + 1)));
    CHECK(*lw.sq == Approx(iou21));
    CHECK(*lw.pq == Approx(iou21 / 3));
  }
  SECTION("hungarian: g1-p1 + g2-p2 (0.53) beats g2-p1 alone (0.43)") {
    const LesionWise lw = f.score("hungarian");
    CHECK(lw.tp == 2);
    CHECK(lw.fn == 1);
    CHECK(lw.fp == 1);
    CHECK(by_voxels(lw, 10).pred_voxels == 3);
    CHECK(by_voxels(lw, 10).dsc == Approx(2.0 * 3 / 13));
    CHECK(by_voxels(lw, 6).pred_voxels == 10);
    CHECK(by_voxels(lw, 6).dsc == Approx(2.0 * 3 / 16));
    CHECK(*lw.rq == Approx(2.0 / 3));
    CHECK(*lw.sq == Approx((iou11 + iou22) / 2));
    CHECK(*lw.pq == Approx((iou11 + iou22) / 3));
  }
  SECTION("iou:0.5: no pair reaches it") {
    const LesionWise lw = f.score("iou:0.5");
    CHECK(lw.tp == 0);
    CHECK(lw.fp == 3);
    CHECK(lw.fn == 3);
    CHECK(*lw.rq == 0);
    CHECK(*lw.sq == 0);
    CHECK(*lw.pq == 0);
  }
  SECTION("autoPET's volumes come from the overlap alone: the same under every matching") {
    for (const char* m : {"overlap", "iou:0.2", "hungarian", "iou:0.5"}) {
      const LesionWise lw = f.score(m);
      INFO(m);
      CHECK(lw.fn_volume_ml == Approx(0.004));  // g3
      CHECK(lw.fp_volume_ml == Approx(0.002));  // p3
    }
  }
}

TEST_CASE("matching: an empty case has no RQ, SQ or PQ", "[matching]") {
  Vol e(5, 5, 5);
  LesionSettings st;
  st.matching.kind = MatchingKind::hungarian;
  const LesionWise lw = score_lesions(e.v.data(), e.v.data(), e.dims, {1, 1, 1}, 2.0, st);
  CHECK(!lw.rq);
  CHECK(!lw.sq);
  CHECK(!lw.pq);
  CHECK(lw.dsc == 1.0);
}

TEST_CASE("matching: the assignment solver finds the optimum of every permutation", "[matching]") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + trial % 5, m = n + trial % 3;
    std::vector<double> cost(static_cast<size_t>(n * m));
    for (auto& c : cost) c = u(rng) < 0.3 ? 0.0 : -u(rng);
    const auto rc = min_cost_assignment(cost, n, m);
    double got = 0;
    std::vector<int> seen;
    for (int r = 0; r < n; ++r) {
      REQUIRE(rc[r] >= 0);
      got += cost[static_cast<size_t>(r * m + rc[r])];
      seen.push_back(rc[r]);
    }
    std::sort(seen.begin(), seen.end());
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    std::vector<int> cols(static_cast<size_t>(m));
    std::iota(cols.begin(), cols.end(), 0);
    double best = 1e300;
    do {
      double s = 0;
      for (int r = 0; r < n; ++r) s += cost[static_cast<size_t>(r * m + cols[r])];
      best = std::min(best, s);
    } while (std::next_permutation(cols.begin(), cols.end()));
    CHECK(got == Approx(best).margin(1e-12));
  }
}

TEST_CASE("matching: parsing --matching", "[matching]") {
  Matching m;
  CHECK(parse_matching("iou:0.3", m).empty());
  CHECK(m.kind == MatchingKind::iou_threshold);
  CHECK(m.name() == "iou:0.3");
  CHECK(parse_matching("hungarian", m).empty());
  CHECK(m.name() == "hungarian");
  CHECK(!parse_matching("iou:0", m).empty());
  CHECK(!parse_matching("iou:1.5", m).empty());
  CHECK(!parse_matching("greedy", m).empty());
}
