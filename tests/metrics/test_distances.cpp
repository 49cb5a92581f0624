// Surface distances (metrics/distances.h, metric_set.h): hand-worked answers, an independent brute force on
// random anisotropic volumes (every border pair compared), NSD from the distances against the NSD engine,
// and values recorded from google-deepmind/surface-distance on real masks (tests/metrics/reference/).
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "metrics/distances.h"
#include "metrics/lesion_scores.h"
#include "metrics/mask_io.h"
#include "metrics/metric_set.h"
#include "metrics/score_set.h"
#include "metrics/surface_dice.h"
#include "metrics/surface_table.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::Vol;

namespace {

struct Pt {
  int64_t x, y, z;
  int code;
};

// Border points read voxel by voxel with bounds checks, independently of the engine.
std::vector<Pt> border_points(const Vol& v) {
  std::vector<Pt> pts;
  for (int64_t z = 0; z <= v.dims[2]; ++z)
    for (int64_t y = 0; y <= v.dims[1]; ++y)
      for (int64_t x = 0; x <= v.dims[0]; ++x) {
        int code = 0;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b)
            for (int c = 0; c < 2; ++c) {
              const int64_t i = x - 1 + a, j = y - 1 + b, k = z - 1 + c;
              const bool in = i >= 0 && j >= 0 && k >= 0 && i < v.dims[0] && j < v.dims[1] && k < v.dims[2];
              if (in && v.at(i, j, k)) code |= 128 >> (4 * a + 2 * b + c);
            }
        if (code != 0 && code != 255) pts.push_back({x, y, z, code});
      }
  return pts;
}

// Every border point's distance to the nearest border point of the other mask, by trying all of them.
std::vector<double> brute_distances(const std::vector<Pt>& from, const std::vector<Pt>& to, std::array<double, 3> s) {
  std::vector<double> d;
  for (const Pt& a : from) {
    double best = INFINITY;
    for (const Pt& b : to) {
      const double t0 = static_cast<double>(a.x - b.x) * s[0], t1 = static_cast<double>(a.y - b.y) * s[1],
                   t2 = static_cast<double>(a.z - b.z) * s[2];
      double d2 = t0 * t0 + t1 * t1;
      d2 = d2 + t2 * t2;
      best = std::min(best, std::sqrt(d2));
    }
    d.push_back(best);
  }
  std::sort(d.begin(), d.end());
  return d;
}

SurfaceDistances engine(const Vol& g, const Vol& p, std::array<double, 3> s) {
  return surface_distances(MaskView::of(g.v.data(), g.dims), MaskView::of(p.v.data(), p.dims), s);
}

std::vector<double> distances_of(const std::vector<SurfelDistance>& v) {
  std::vector<double> d;
  for (const auto& x : v) d.push_back(x.distance_mm);
  return d;
}

Vol random_vol(std::mt19937& rng, std::array<int64_t, 3> dims, double fill, int blobs) {
  Vol v(dims[0], dims[1], dims[2]);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto& x : v.v) x = u(rng) < fill;
  for (int b = 0; b < blobs; ++b) {
    std::array<int64_t, 3> lo, hi;
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::uniform_int_distribution<int64_t>(0, dims[a] - 1)(rng);
      hi[a] = std::min(dims[a], lo[a] + std::uniform_int_distribution<int64_t>(1, 6)(rng));
    }
    v.box(lo, hi);
  }
  return v;
}

}  // namespace

TEST_CASE("distances: two single voxels three voxels apart, worked by hand", "[distances]") {
  // Voxel (2,2,2) against voxel (5,2,2), 1 mm: each has 8 corner points of equal area. From g, the 4 corners
  // at x = 3 are 2 mm from pred's corners at x = 5, the 4 at x = 2 are 3 mm away; the same the other way.
  Vol g(8, 5, 5), p(8, 5, 5);
  g.at(2, 2, 2) = 1;
  p.at(5, 2, 2) = 1;
  const auto d = engine(g, p, {1, 1, 1});
  REQUIRE(d.gt_to_pred.size() == 8);
  REQUIRE(d.pred_to_gt.size() == 8);
  CHECK(distances_of(d.gt_to_pred) == std::vector<double>{2, 2, 2, 2, 3, 3, 3, 3});
  CHECK(robust_hausdorff_mm(d, 100) == 3.0);
  CHECK(robust_hausdorff_mm(d, 95) == 3.0);
  CHECK(robust_hausdorff_mm(d, 50) == 2.0);  // the cumulative area reaches exactly 0.5 at the 4th point
  CHECK(average_surface_distance_mm(d)[0] == 2.5);
  CHECK(average_surface_distance_mm(d)[1] == 2.5);
  CHECK(symmetric_surface_distance_mm(d) == 2.5);
  // With spacing 0.5 mm along i the same offsets are half as long.
  const auto h = engine(g, p, {0.5, 1, 1});
  CHECK(robust_hausdorff_mm(h, 100) == 1.5);
}

TEST_CASE("distances: the far side of a large crop is reached (not only a tolerance neighbourhood)", "[distances]") {
  // One voxel at each end of a 60-voxel axis with 3 mm slices: the nearest border point is 58 or 59 slices
  // away along k, far beyond any NSD tolerance.
  Vol g(3, 3, 60), p(3, 3, 60);
  g.at(1, 1, 0) = 1;
  p.at(1, 1, 59) = 1;
  const auto d = engine(g, p, {0.8, 0.8, 3.0});
  CHECK(robust_hausdorff_mm(d, 100) == 59 * 3.0);  // corner z = 0 of g to corner z = 59 of p
  CHECK(distances_of(d.gt_to_pred).front() == 58 * 3.0);
}

TEST_CASE("distances: equal to a brute force on random anisotropic volumes", "[distances]") {
  std::mt19937 rng(16);
  std::uniform_real_distribution<double> sp(0.3, 5.0);
  for (int trial = 0; trial < 60; ++trial) {
    const std::array<int64_t, 3> dims = {std::uniform_int_distribution<int64_t>(1, 14)(rng),
                                         std::uniform_int_distribution<int64_t>(1, 14)(rng),
                                         std::uniform_int_distribution<int64_t>(1, 12)(rng)};
    const std::array<double, 3> s = trial % 5 == 0 ? std::array<double, 3>{0.5, 0.5, 2.0}
                                                    : std::array<double, 3>{sp(rng), sp(rng), sp(rng)};
    const Vol g = random_vol(rng, dims, trial % 3 == 0 ? 0.02 : 0.15, 2);
    const Vol p = random_vol(rng, dims, trial % 4 == 0 ? 0.0 : 0.1, 1);
    const auto bg = border_points(g), bp = border_points(p);
    const auto d = engine(g, p, s);
    INFO("trial " << trial << " dims " << dims[0] << "x" << dims[1] << "x" << dims[2]);
    REQUIRE(d.gt_to_pred.size() == bg.size());
    REQUIRE(d.pred_to_gt.size() == bp.size());
    if (!bg.empty() && !bp.empty()) {
      CHECK(distances_of(d.gt_to_pred) == brute_distances(bg, bp, s));
      CHECK(distances_of(d.pred_to_gt) == brute_distances(bp, bg, s));
      // Holding the pass-two plane for one x at a time (the memory bound's ranges) changes nothing.
      const auto one = surface_distances(MaskView::of(g.v.data(), dims), MaskView::of(p.v.data(), dims), s, 1);
      CHECK(distances_of(one.gt_to_pred) == distances_of(d.gt_to_pred));
      CHECK(distances_of(one.pred_to_gt) == distances_of(d.pred_to_gt));
      // NSD from the distances is the NSD engine's, bit for bit, at several tolerances.
      for (double tol : {0.0, 1.0, 2.0, 5.0}) {
        const SurfaceDice nsd =
            surface_dice(count_surfels(MaskView::of(g.v.data(), dims), MaskView::of(p.v.data(), dims), s, tol), s);
        CHECK(nsd_from_distances(d, s, tol) == nsd.nsd());
      }
    } else if (!bg.empty()) {
      CHECK(std::isinf(d.gt_to_pred.front().distance_mm));
    }
    // Sorted by (distance, area), as surface-distance sorts them.
    for (size_t i = 1; i < d.gt_to_pred.size(); ++i) {
      const auto &a = d.gt_to_pred[i - 1], &b = d.gt_to_pred[i];
      CHECK((a.distance_mm < b.distance_mm || (a.distance_mm == b.distance_mm && a.area_mm2 <= b.area_mm2)));
    }
  }
}

TEST_CASE("distances: numpy's pairwise sum", "[distances]") {
  // Values where sequential and pairwise summation round differently: 0.1 repeated.
  std::vector<double> v(1000, 0.1);
  double seq = 0;
  for (double x : v) seq += x;
  const double pw = numpy_sum(v.data(), v.size());
  CHECK(pw == Approx(100.0).epsilon(1e-13));
  CHECK(std::fabs(pw - 100.0) <= std::fabs(seq - 100.0));
  // numpy 1.24: np.sum(np.full(1000, 0.1)) == 100.00000000000001 (and a plain loop gives 99.9999999999986).
  CHECK(pw == 100.00000000000001);
  CHECK(seq == 99.9999999999986);
}

TEST_CASE("extra metrics: empty-mask rules", "[distances]") {
  MetricChoice all;
  all.hd = all.hd95 = all.masd = all.assd = all.iou = true;
  all.nsd_at_mm = {1, 5};
  Vol e(4, 4, 4), one(4, 4, 4);
  one.at(1, 1, 1) = 1;
  auto view = [](const Vol& v) { return MaskView::of(v.v.data(), v.dims); };
  const ExtraScores both = extra_scores(view(e), view(e), 0, 0, 0, {1, 1, 1}, all);
  CHECK(*both.iou == 1.0);
  CHECK(*both.hd_mm == 0.0);
  CHECK(*both.assd_mm == 0.0);
  CHECK(both.nsd_at[1].second == 1.0);
  CHECK(both.null_reason.empty());
  const ExtraScores fp = extra_scores(view(e), view(one), 0, 1, 0, {1, 1, 1}, all);
  CHECK(*fp.iou == 0.0);
  CHECK(!fp.hd_mm);
  CHECK(!fp.hd95_mm);
  CHECK(fp.nsd_at[0].second == 0.0);
  CHECK(fp.null_reason.find("ground truth is empty") != std::string::npos);
  const ExtraScores same = extra_scores(view(one), view(one), 1, 1, 1, {1, 1, 1}, all);
  CHECK(*same.iou == 1.0);
  CHECK(*same.hd_mm == 0.0);
  CHECK(*same.masd_mm == 0.0);
  CHECK(same.nsd_at[0] == std::pair<double, double>{1.0, 1.0});
}

TEST_CASE("extra metrics: parsing --metrics and --nsd-at-mm", "[distances]") {
  MetricChoice c;
  CHECK(parse_metric_list("dsc,nsd,hd95,iou", c).empty());
  CHECK(c.hd95);
  CHECK(c.iou);
  CHECK(!c.hd);
  CHECK(c.names() == std::vector<std::string>{"dsc", "nsd", "iou", "hd95"});
  CHECK(parse_metric_list("dsc,hausdorff", c).find("unknown metric 'hausdorff'") != std::string::npos);
  std::vector<double> t;
  CHECK(parse_tolerance_list("1,5", t).empty());
  CHECK(t == std::vector<double>{1, 5});
  CHECK(!parse_tolerance_list("1,-2", t).empty());
  CHECK(!parse_tolerance_list("nan", t).empty());
}

namespace {

// Recorded by tests/metrics/reference/surface_distance_values.py (command and versions in
// tests/metrics/reference/surface_distance_values.md): hd, hd95, the two directed averages, assd, NSD at 1 and 5 mm.
struct SurfaceDistanceRef {
  const char* name;
  double hd, hd95, avg_gt_to_pred, avg_pred_to_gt, assd, nsd1, nsd5;
};
const SurfaceDistanceRef kSurfaceDistanceRefs[] = {
    {"FLARE24Val_0004.nii.gz", 43.672176207278817, 32.084079752094446, 8.6483309285609291, 9.9142103279614794e-05, 5.4736052548735969, 0.73540155166327448, 0.74363931593305377},
    {"FLARE24Val_0005.nii.gz", 120.47650621592294, 105.64873510740738, 0, 78.672558028048655, 77.832469356967152, 0.021356587154113069, 0.021356587154113069},
    {"FLARE24Val_0006.nii.gz", 49.728466869939986, 37.063827050388674, 0.58951060444437153, 9.5517016846684903, 6.2743694194080746, 0.6224060918316362, 0.77045022096697913},
    {"FLARE24Val_0007.nii.gz", 44.311140608945642, 0, 3.5103752661024027e-05, 0.14948516113842891, 0.075241991242079836, 0.99389321085843185, 0.99559577143713285},
    {"FLARE24Val_0012.nii.gz", 77.957404867879163, 61.074746441791788, 21.5306243565039, 0, 14.641964191414655, 0.63989413878825518, 0.63998568923699772},
    {"FLARE24Val_0014.nii.gz", 30.978041783727896, 20.130409180820589, 2.2103638983758591, 4.5836833275774458, 3.6287729538704503, 0.5506608306804327, 0.77111592879622526},
    {"FLARE24Val_0015.nii.gz", 45.085967593995484, 0, 0, 0.10017323433044453, 0.050276170381682778, 0.9965635029760368, 0.99748903297162095},
};

}  // namespace

TEST_CASE("distances: equal to google-deepmind/surface-distance on the parity set", "[distances][shared]") {
  const auto dir = lb::test::shared_path("flare24-parity");
  if (!dir) {
    LB_SKIP("the shared parity set (flare24-parity) is absent");
  }
  ScoreSettings st;
  st.metrics.hd = st.metrics.hd95 = st.metrics.masd = st.metrics.assd = st.metrics.iou = true;
  st.metrics.nsd_at_mm = {1.0, 5.0};
  for (const auto& ref : kSurfaceDistanceRefs) {
    INFO(ref.name);
    const CaseRecord r = score_files(ref.name, (*dir / "gt" / ref.name).string(), (*dir / "pred" / ref.name).string(), st);
    REQUIRE(r.status == CaseStatus::ok);
    REQUIRE(r.extra.hd_mm);
    // Distances are the same numbers: exact.
    CHECK(*r.extra.hd_mm == ref.hd);
    CHECK(*r.extra.hd95_mm == ref.hd95);
    // Sums over the sorted surfels, summed as numpy sums them.
    CHECK(*r.extra.masd_mm == Approx((ref.avg_gt_to_pred + ref.avg_pred_to_gt) / 2).epsilon(1e-15));
    CHECK(*r.extra.assd_mm == Approx(ref.assd).epsilon(1e-13));
    // NSD sums areas per neighbour code (as the official column does), surface-distance per point: last bits.
    CHECK(r.extra.nsd_at[0].second == Approx(ref.nsd1).epsilon(1e-12));
    CHECK(r.extra.nsd_at[1].second == Approx(ref.nsd5).epsilon(1e-12));
  }
}

TEST_CASE("distances per lesion: many lesions inside one predicted blob stay bounded", "[distances]") {
  // 27 one-voxel lesions inside a prediction that fills the volume: every lesion's box of g ∪ P(g) is the whole
  // volume. Boxes are summed largest first (ties: scan order) up to 4 volumes: 4 lesions get distances, the rest
  // none (and no nsd_at_mm), with the reason; iou is still given.
  Vol g(12, 12, 12), p(12, 12, 12);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 3; ++c) g.at(2 + 4 * a, 2 + 4 * b, 2 + 4 * c) = 1;
  std::fill(p.v.begin(), p.v.end(), 1);
  MetricChoice m;
  m.hd = m.iou = true;
  m.nsd_at_mm = {1};
  const LesionWise lw = score_lesions(g.v.data(), p.v.data(), g.dims, {1, 1, 1}, 2.0, LesionSettings{}, m);
  REQUIRE(lw.lesions.size() == 27);
  int with = 0, without = 0;
  for (const auto& l : lw.lesions) {
    CHECK(*l.extra.iou == Approx(1.0 / 1728));
    if (l.extra.hd_mm) {
      ++with;
      CHECK(l.extra.nsd_at.size() == 1);
    } else {
      ++without;
      CHECK(l.extra.nsd_at.empty());
      CHECK(l.extra.null_reason.find("exceed 4 times the volume") != std::string::npos);
    }
  }
  CHECK(with == 4);
  CHECK(without == 23);
}
