// NSD engine: analytic answers worked out by hand, an independent brute force on random volumes,
// and the per-code surfel areas against the official scorer's.
#include <tbb/global_control.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "metrics/case_scores.h"
#include "metrics/surface_dice.h"
#include "metrics/surface_table.h"
#include "tests/support/test_support.h"

#include "tests/metrics/data/official_values.inc"

using namespace lb;
using lb::test::Vol;

namespace {

SurfaceDice nsd_of(const Vol& g, const Vol& p, std::array<double, 3> spacing, double tol = 2.0) {
  return surface_dice(count_surfels(MaskView::of(g.v.data(), g.dims), MaskView::of(p.v.data(), p.dims), spacing, tol),
                      spacing);
}

// Brute force, written independently of the engine: every corner point's code read voxel by voxel with bounds
// checks, every pair of border points compared with the distance expression numpy evaluates.
SurfaceDice brute_force(const Vol& g, const Vol& p, std::array<double, 3> s, double tol) {
  const auto area = surface::surfel_areas(s);
  auto code_at = [](const Vol& v, int64_t x, int64_t y, int64_t z) {
    int code = 0;
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 2; ++c) {
          const int64_t i = x - 1 + a, j = y - 1 + b, k = z - 1 + c;
          const bool inside = i >= 0 && j >= 0 && k >= 0 && i < v.dims[0] && j < v.dims[1] && k < v.dims[2];
          if (inside && v.at(i, j, k)) code |= 128 >> (4 * a + 2 * b + c);
        }
    return code;
  };
  struct Pt {
    int64_t x, y, z;
    int code;
  };
  auto border = [&](const Vol& v) {
    std::vector<Pt> pts;
    for (int64_t z = 0; z <= v.dims[2]; ++z)
      for (int64_t y = 0; y <= v.dims[1]; ++y)
        for (int64_t x = 0; x <= v.dims[0]; ++x) {
          const int c = code_at(v, x, y, z);
          if (c != 0 && c != 255) pts.push_back({x, y, z, c});
        }
    return pts;
  };
  const auto bg = border(g), bp = border(p);
  auto min_dist = [&](const Pt& a, const std::vector<Pt>& others) {
    double best = INFINITY;
    for (const Pt& b : others) {
      const double t0 = static_cast<double>(a.x - b.x) * s[0], t1 = static_cast<double>(a.y - b.y) * s[1],
                   t2 = static_cast<double>(a.z - b.z) * s[2];
      double d2 = t0 * t0 + t1 * t1;
      d2 = d2 + t2 * t2;
      best = std::min(best, std::sqrt(d2));
    }
    return best;
  };
  SurfaceDice d;
  for (const Pt& a : bg) {
    d.gt_area_mm2 += area[a.code];
    if (min_dist(a, bp) <= tol) d.gt_within_mm2 += area[a.code];
  }
  for (const Pt& a : bp) {
    d.pred_area_mm2 += area[a.code];
    if (min_dist(a, bg) <= tol) d.pred_within_mm2 += area[a.code];
  }
  return d;
}

}  // namespace

TEST_CASE("identical masks have NSD 1", "[nsd]") {
  Vol g(10, 9, 8);
  g.box({2, 2, 2}, {6, 7, 5});
  CHECK(nsd_of(g, g, {0.7, 1.1, 3.0}).nsd() == 1.0);
}

TEST_CASE("single voxels: border distance exactly at the tolerance counts (inclusive)", "[nsd]") {
  // One voxel is the cube [0,1]^3 in corner coordinates; its 8 corners are its border points, all with the
  // same area. With a gap of 2 voxels (distance 2 mm between the facing corners) the 4 facing corners of
  // each voxel are within 2 mm and the far ones (3 mm) are not: NSD = 8/16.
  Vol g(8, 3, 3), p(8, 3, 3);
  g.at(1, 1, 1) = 1;
  p.at(4, 1, 1) = 1;
  CHECK(nsd_of(g, p, {1, 1, 1}).nsd() == Approx(0.5).epsilon(1e-14));
  // One voxel further: the nearest corners are 3 mm apart.
  Vol q(8, 3, 3);
  q.at(5, 1, 1) = 1;
  CHECK(nsd_of(g, q, {1, 1, 1}).nsd() == 0.0);
  // Half-millimetre voxels, 4 voxels of gap: 2.0 mm exactly again.
  Vol r(10, 3, 3);
  r.at(6, 1, 1) = 1;
  Vol g2(10, 3, 3);
  g2.at(1, 1, 1) = 1;
  CHECK(nsd_of(g2, r, {0.5, 1, 1}).nsd() == Approx(0.5).epsilon(1e-14));
  CHECK(nsd_of(g2, r, {0.5, 1, 1}, 1.999).nsd() == 0.0);
}

TEST_CASE("unequal spacing: the same shift along different axes gives different answers", "[nsd]") {
  // Spacing (1, 1, 3): a gap of 2 voxels is 2 mm along i (within) but 6 mm along k (not).
  Vol g(8, 3, 8), along_i(8, 3, 8), along_k(8, 3, 8);
  g.at(1, 1, 1) = 1;
  along_i.at(4, 1, 1) = 1;
  along_k.at(1, 1, 4) = 1;
  const std::array<double, 3> s = {1, 1, 3};
  CHECK(nsd_of(g, along_i, s).nsd() == Approx(0.5).epsilon(1e-14));
  CHECK(nsd_of(g, along_k, s).nsd() == 0.0);
}

TEST_CASE("two 2x2x2 cubes one voxel apart: NSD from hand-derived surfel areas", "[nsd]") {
  // G = voxels [0,2)^3, P = [3,5) x [0,2) x [0,2): P's near face lies at corner plane x = 3.
  // G's border points: planes x = 0, 1, 2 at distances 3, 2, 1 mm from P's face (same y, z exists there).
  // So the x = 0 layer (and P's mirror layer x = 5) is out, everything else within. Areas by code type,
  // unit spacing: a lone voxel's corner sqrt(3)/8, two voxels sharing a face 2*sqrt(2)/4, a flat 2x2
  // square of voxels 1. Layer x=0: 4 corners + 4 edges + 1 face point; layer x=1: 4 edges + 4 faces.
  Vol g(6, 3, 3), p(6, 3, 3);
  g.box({0, 0, 0}, {2, 2, 2});
  p.box({3, 0, 0}, {5, 2, 2});
  const double corner = std::sqrt(3.0) / 8, edge = std::sqrt(2.0) / 2, face = 1.0;
  const double outer = 4 * corner + 4 * edge + face, middle = 4 * edge + 4 * face;
  const double total = 2 * outer + middle;
  const SurfaceDice d = nsd_of(g, p, {1, 1, 1});
  CHECK(d.gt_area_mm2 == Approx(total).epsilon(1e-12));
  CHECK(d.nsd() == Approx((total - outer) / total).epsilon(1e-12));
}

TEST_CASE("masks touching the volume border get surfels on that side", "[nsd]") {
  Vol g(4, 4, 4), p(4, 4, 4);
  g.box({0, 0, 0}, {4, 4, 4});  // fills the whole volume
  p.box({0, 0, 0}, {4, 4, 3});
  const SurfaceDice d = nsd_of(g, p, {1, 1, 1});
  CHECK(d.gt_area_mm2 > 0);
  CHECK(d.gt_area_mm2 == Approx(nsd_of(g, g, {1, 1, 1}).gt_area_mm2));
  CHECK(d.nsd() == 1.0);  // every border point is within 1 mm of the other surface
}

TEST_CASE("engine equals an independent brute force on random volumes with random spacing", "[nsd][brute]") {
  std::mt19937_64 rng(12345);
  auto uni = [&](double a, double b) { return a + (b - a) * (static_cast<double>(rng() >> 11) * 0x1.0p-53); };
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t n0 = 3 + rng() % 10, n1 = 3 + rng() % 10, n2 = 2 + rng() % 9;
    Vol g(n0, n1, n2), p(n0, n1, n2);
    const double density_g = uni(0.05, 0.6), density_p = uni(0.05, 0.6);
    for (auto& v : g.v) v = uni(0, 1) < density_g;
    for (auto& v : p.v) v = uni(0, 1) < density_p;
    if (trial % 3 == 0) {  // blobs instead of noise
      std::fill(g.v.begin(), g.v.end(), 0);
      g.box({0, 1, 0}, {n0 / 2 + 1, n1, n2 / 2 + 1});
      p.box({n0 / 3, 0, 1}, {n0, n1 / 2 + 1, n2});
    }
    // Spacing from very fine to very coarse, float32 values as NIfTI stores them.
    const std::array<double, 3> s = {static_cast<float>(uni(0.25, 4.0)), static_cast<float>(uni(0.25, 4.0)),
                                     static_cast<float>(uni(0.25, 6.0))};
    const double tol = trial % 4 == 0 ? uni(0.5, 5.0) : 2.0;
    const SurfaceDice a = nsd_of(g, p, s, tol), b = brute_force(g, p, s, tol);
    INFO("trial " << trial << " dims " << n0 << "x" << n1 << "x" << n2 << " spacing " << s[0] << "," << s[1] << ","
                  << s[2] << " tol " << tol);
    CHECK(a.gt_area_mm2 == Approx(b.gt_area_mm2).epsilon(1e-12));
    CHECK(a.pred_area_mm2 == Approx(b.pred_area_mm2).epsilon(1e-12));
    CHECK(a.gt_within_mm2 == Approx(b.gt_within_mm2).epsilon(1e-12).margin(1e-12));
    CHECK(a.pred_within_mm2 == Approx(b.pred_within_mm2).epsilon(1e-12).margin(1e-12));
  }
}

TEST_CASE("border points exactly on the tolerance agree with brute force at integer-friendly spacings", "[nsd][brute]") {
  // Spacings whose products hit 2.0 exactly make the inclusive comparison decide many points.
  std::mt19937_64 rng(7);
  const std::array<std::array<double, 3>, 4> spacings = {{{1, 1, 1}, {0.5, 0.5, 2}, {1, 2, 0.5}, {2, 1, 1}}};
  for (const auto& s : spacings)
    for (int trial = 0; trial < 5; ++trial) {
      Vol g(9, 8, 7), p(9, 8, 7);
      for (auto& v : g.v) v = (rng() % 5) == 0;
      for (auto& v : p.v) v = (rng() % 6) == 0;
      const SurfaceDice a = nsd_of(g, p, s), b = brute_force(g, p, s, 2.0);
      CHECK(a.gt_within_mm2 == Approx(b.gt_within_mm2).epsilon(1e-12));
      CHECK(a.pred_within_mm2 == Approx(b.pred_within_mm2).epsilon(1e-12));
    }
}

TEST_CASE("result does not depend on the number of threads", "[nsd]") {
  std::mt19937_64 rng(99);
  Vol g(40, 30, 70), p(40, 30, 70);
  for (auto& v : g.v) v = (rng() % 3) == 0;
  for (auto& v : p.v) v = (rng() % 4) == 0;
  SurfelCounts one, many;
  {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
    one = count_surfels(MaskView::of(g.v.data(), g.dims), MaskView::of(p.v.data(), p.dims), {0.8, 0.8, 0.7}, 2.0);
  }
  many = count_surfels(MaskView::of(g.v.data(), g.dims), MaskView::of(p.v.data(), p.dims), {0.8, 0.8, 0.7}, 2.0);
  CHECK(one.gt == many.gt);
  CHECK(one.gt_within == many.gt_within);
  CHECK(one.pred_within == many.pred_within);
}

TEST_CASE("per-code surfel areas equal the official scorer's for several spacings", "[nsd][official]") {
  for (const auto& ref : kOfficialAreas) {
    const std::array<double, 3> s = {ref.spacing[0], ref.spacing[1], ref.spacing[2]};
    const auto ours = surface::surfel_areas(s);
    for (int code = 0; code < 256; ++code) {
      INFO("spacing " << s[0] << "," << s[1] << "," << s[2] << " code " << code);
      CHECK(ours[code] == Approx(ref.area[code]).epsilon(1e-14).margin(1e-15));
    }
  }
}

TEST_CASE("tolerance stencil limits pass the exact test and the next offset fails it", "[nsd]") {
  const std::array<double, 3> s = {static_cast<float>(0.977), static_cast<float>(0.977), static_cast<float>(3.27)};
  const ToleranceStencil st = tolerance_stencil(s, 2.0);
  REQUIRE(!st.offsets.empty());
  auto dist = [&](double di, double dj, double dk) {
    const double t0 = di * s[0], t1 = dj * s[1], t2 = dk * s[2];
    double d2 = t0 * t0 + t1 * t1;
    d2 = d2 + t2 * t2;
    return std::sqrt(d2);
  };
  for (const auto& o : st.offsets) {
    CHECK(dist(o.max_di, o.dj, o.dk) <= 2.0);
    CHECK(dist(o.max_di + 1, o.dj, o.dk) > 2.0);
  }
  CHECK(st.offsets.front().dj == 0);
  CHECK(st.offsets.front().dk == 0);
  CHECK(st.offsets.front().max_di == 2);  // 2 * 0.977 = 1.954 <= 2 < 3 * 0.977
  CHECK(st.rk == 1);                      // 3.27 mm slices: no neighbouring slice is within 2 mm
  for (const auto& o : st.offsets) CHECK(o.dk == 0);
}

TEST_CASE("extreme tolerances and spacings equal brute force and stay fast", "[nsd][brute][hostile]") {
  // Issue 12 item 4: the reach once overflowed (tolerance 1e300 gave NSD 0), a spacing of 1e-30 gave NSD 0 and
  // 1e-7 hung building the stencil. The search is now bounded by the crop, so every finite case is exact.
  std::mt19937_64 rng(777);
  const std::vector<std::pair<std::array<double, 3>, double>> cases = {
      {{1, 1, 1}, 1e300},        {{1e-30, 1e-30, 1e-30}, 2.0}, {{1e-7, 1e-7, 1e-7}, 2.0},
      {{0.0008f, 0.0008f, 0.003f}, 2.0},                     {{1, 1, 1}, 0.0},
      {{1e30, 1e30, 1e30}, 2.0}, {{0.8f, 0.8f, 2.5f}, 7.9},   {{0.5, 0.5, 0.5}, 4.0},
      {{1, 1, 1}, 1e-300},       {{1e-3, 2.0, 1e3}, 2.0},
  };
  for (size_t c = 0; c < cases.size(); ++c) {
    for (int trial = 0; trial < 4; ++trial) {
      const int64_t n0 = 4 + rng() % 9, n1 = 4 + rng() % 9, n2 = 3 + rng() % 7;
      Vol g(n0, n1, n2), p(n0, n1, n2);
      for (auto& v : g.v) v = (rng() % 100) < 20;
      for (auto& v : p.v) v = (rng() % 100) < 15;
      const auto [s, tol] = cases[c];
      const SurfaceDice a = nsd_of(g, p, s, tol), b = brute_force(g, p, s, tol);
      INFO("case " << c << " trial " << trial << " spacing " << s[0] << " tol " << tol);
      CHECK(a.gt_area_mm2 == Approx(b.gt_area_mm2).epsilon(1e-12));
      CHECK(a.pred_area_mm2 == Approx(b.pred_area_mm2).epsilon(1e-12));
      CHECK(a.gt_within_mm2 == Approx(b.gt_within_mm2).epsilon(1e-12).margin(1e-300));
      CHECK(a.pred_within_mm2 == Approx(b.pred_within_mm2).epsilon(1e-12).margin(1e-300));
    }
  }
  // Two cubes 200 voxels apart: any tolerance past that distance gives 1.
  Vol g(220, 8, 8), p(220, 8, 8);
  g.box({1, 1, 1}, {5, 5, 5});
  p.box({210, 1, 1}, {214, 5, 5});
  CHECK(nsd_of(g, p, {1, 1, 1}, 1e300).nsd() == 1.0);
  CHECK(nsd_of(g, p, {1e-30, 1e-30, 1e-30}, 2.0).nsd() == 1.0);
  CHECK(nsd_of(g, p, {1, 1, 1}, 2.0).nsd() == 0.0);
}

TEST_CASE("the library refuses a NaN, infinite or negative tolerance and a bad spacing", "[nsd][hostile]") {
  Vol g(4, 4, 4);
  g.box({1, 1, 1}, {3, 3, 3});
  const MaskView v = MaskView::of(g.v.data(), g.dims);
  for (double tol : {double(NAN), double(INFINITY), -1.0})
    CHECK_THROWS_AS(count_surfels(v, v, {1, 1, 1}, tol), std::invalid_argument);
  for (double s : {0.0, -1.0, double(NAN), double(INFINITY)})
    CHECK_THROWS_AS(count_surfels(v, v, {1, s, 1}, 2.0), std::invalid_argument);
  // A stencil bounded by a 5x5x5 point grid never reaches beyond it, whatever the tolerance.
  const ToleranceStencil st = tolerance_stencil({1e-30, 1e-30, 1e-30}, 2.0, {5, 5, 5});
  CHECK(st.ri == 4);
  CHECK(st.rj == 4);
  CHECK(st.rk == 4);
  CHECK(st.offsets.size() == 81u);
}
