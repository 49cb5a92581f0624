// Lesion-wise scores: hand-built cases from the definition, and independent references computed with scipy's
// labelling and the official surface functions.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>

#include "metrics/lesion_scores.h"
#include "metrics/mask_io.h"
#include "tests/support/test_support.h"

#include "tests/metrics/data/lesionwise_ref.inc"

using namespace lb;
using lb::test::Vol;
namespace fs = std::filesystem;

namespace {
LesionWise lw(const Vol& g, const Vol& p, std::array<double, 3> s = {1, 1, 1}, int conn = 26) {
  LesionSettings st;
  st.connectivity = conn;
  return score_lesions(g.v.data(), p.v.data(), g.dims, s, 2.0, st);
}
}  // namespace

TEST_CASE("two lesions, one found exactly: half the lesion-wise score", "[lesion]") {
  Vol g(20, 10, 10), p(20, 10, 10);
  g.box({1, 1, 1}, {5, 5, 5});    // 64 voxels, found
  g.box({10, 1, 1}, {13, 4, 4});  // 27 voxels, missed
  p.box({1, 1, 1}, {5, 5, 5});
  const auto r = lw(g, p);
  CHECK(r.n_gt == 2);
  CHECK(r.n_pred == 1);
  CHECK(r.tp == 1);
  CHECK(r.fn == 1);
  CHECK(r.fp == 0);
  CHECK(r.dsc == Approx(0.5));
  CHECK(r.nsd == Approx(0.5));
  REQUIRE(r.lesions.size() == 2);
  CHECK(r.lesions[0].id == 1);
  CHECK(r.lesions[0].voxels == 64);  // largest first
  CHECK(r.lesions[0].detected);
  CHECK(r.lesions[1].voxels == 27);
  CHECK(!r.lesions[1].detected);
  CHECK(*r.sensitivity == 0.5);
  CHECK(*r.precision == 1.0);
  CHECK(*r.f1 == Approx(2.0 / 3));
}

TEST_CASE("one prediction spanning two lesions counts against both", "[lesion]") {
  Vol g(20, 6, 6), p(20, 6, 6);
  g.box({1, 1, 1}, {5, 5, 5});    // 64
  g.box({8, 1, 1}, {12, 5, 5});   // 64
  p.box({1, 1, 1}, {12, 5, 5});   // 176, one component over both
  const auto r = lw(g, p);
  CHECK(r.n_pred == 1);
  CHECK(r.tp == 2);
  CHECK(r.fp == 0);
  for (const auto& l : r.lesions) {
    CHECK(l.linked_pred == 1);
    CHECK(l.pred_voxels == 176);
    CHECK(l.dsc == Approx(2.0 * 64 / (64 + 176)));
  }
  CHECK(r.dsc == Approx(2.0 * 64 / 240));
}

TEST_CASE("a lesion split in two predictions: P(g) is their union", "[lesion]") {
  Vol g(20, 6, 6), p(20, 6, 6);
  g.box({1, 1, 1}, {11, 5, 5});  // 160
  p.box({1, 1, 1}, {5, 5, 5});   // 64
  p.box({6, 1, 1}, {11, 5, 5});  // 80
  const auto r = lw(g, p);
  CHECK(r.n_pred == 2);
  CHECK(r.tp == 1);
  CHECK(r.fp == 0);
  REQUIRE(r.lesions.size() == 1);
  CHECK(r.lesions[0].linked_pred == 2);
  CHECK(r.lesions[0].dsc == Approx(2.0 * 144 / (160 + 144)));
  CHECK(*r.precision == 1.0);
}

TEST_CASE("healthy case: empty prediction 1, any component 0", "[lesion]") {
  Vol g(10, 10, 10), p(10, 10, 10);
  auto r = lw(g, p);
  CHECK(r.dsc == 1.0);
  CHECK(r.nsd == 1.0);
  CHECK(!r.sensitivity);
  CHECK(!r.precision);
  CHECK(!r.f1);
  p.at(5, 5, 5) = 1;
  r = lw(g, p);
  CHECK(r.dsc == 0.0);
  CHECK(r.nsd == 0.0);
  CHECK(r.fp == 1);
  CHECK(*r.precision == 0.0);
  CHECK(*r.f1 == 0.0);
}

TEST_CASE("lesions touching at a corner: one lesion under 26-connectivity, two under 6", "[lesion]") {
  Vol g(8, 8, 8);
  g.box({1, 1, 1}, {3, 3, 3});
  g.box({3, 3, 3}, {5, 5, 5});
  CHECK(lw(g, g, {1, 1, 1}, 26).n_gt == 1);
  const auto six = lw(g, g, {1, 1, 1}, 6);
  CHECK(six.n_gt == 2);
  CHECK(six.dsc == 1.0);
}

TEST_CASE("volumes in ml with anisotropic spacing", "[lesion]") {
  Vol g(10, 10, 10);
  g.box({0, 0, 0}, {5, 4, 2});  // 40 voxels of 0.5 x 0.8 x 2.5 mm = 40 mm^3 = 0.04 ml
  const auto r = lw(g, g, {0.5, 0.8, 2.5});
  REQUIRE(r.lesions.size() == 1);
  CHECK(r.lesions[0].volume_ml == Approx(0.04));
  CHECK(r.lesions[0].bbox.lo == std::array<int64_t, 3>{0, 0, 0});
  CHECK(r.lesions[0].bbox.hi == std::array<int64_t, 3>{5, 4, 2});
}

TEST_CASE("thousands of one-voxel false positives", "[lesion]") {
  Vol g(120, 120, 40), p(120, 120, 40);
  g.box({50, 50, 10}, {70, 70, 30});
  p.box({50, 50, 10}, {70, 70, 30});
  int placed = 0;
  for (int64_t k = 0; k < 40; k += 3)
    for (int64_t j = 0; j < 120; j += 4)
      for (int64_t i = 0; i < 120; i += 4)
        if (g.at(i, j, k) == 0 && (i < 45 || i > 75 || j < 45 || j > 75)) {
          p.at(i, j, k) = 1;
          ++placed;
        }
  REQUIRE(placed > 5000);
  const auto r = lw(g, p);
  CHECK(r.n_pred == placed + 1);
  CHECK(r.fp == placed);
  CHECK(r.tp == 1);
  CHECK(r.lesions[0].dsc == 1.0);
  CHECK(r.dsc == Approx(1.0 / (1 + placed)));
  CHECK(*r.precision == Approx(1.0 / (placed + 1)));
}

TEST_CASE("equals the scipy + official-surface reference for 6, 18 and 26 connectivity", "[lesion][reference]") {
  // Regenerate the set the reference was computed on (see data/make_lesionwise_ref.py).
  lb::test::TempDir d("lwref");
  const std::string gen = std::string(LB_BINARY_DIR) + "/benchmarks/lesionbench-gen-masks";
  REQUIRE(lb::test::run_command(gen + " --out " + (d / "0") + " --cases 12 --seed 7 --size small").exit_code == 0);
  REQUIRE(lb::test::run_command(gen + " --out " + (d / "1") + " --cases 4 --seed 8 --size small --noise 30000").exit_code == 0);
  for (const auto& ref : kLesionRef) {
    const std::string root = d / std::to_string(ref.set);
    const auto g = load_mask(root + "/gt/" + ref.name), p = load_mask(root + "/pred/" + ref.name);
    REQUIRE(g.status == MaskStatus::ok);
    REQUIRE(p.status == MaskStatus::ok);
    LesionSettings st;
    st.connectivity = ref.connectivity;
    const auto r = score_lesions(g.mask.voxels.data(), p.mask.voxels.data(), g.mask.dims, g.mask.spacing_mm, 2.0, st);
    INFO(ref.name << " set " << ref.set << " connectivity " << ref.connectivity);
    CHECK(r.n_gt == ref.n_gt);
    CHECK(r.n_pred == ref.n_pred);
    CHECK(r.tp == ref.tp);
    CHECK(r.fn == ref.fn);
    CHECK(r.fp == ref.fp);
    CHECK(r.dsc == Approx(ref.dsc).epsilon(1e-12));
    CHECK(r.nsd == Approx(ref.nsd).epsilon(1e-10));
    REQUIRE(static_cast<int>(r.lesions.size()) == ref.n_lesions);
    // Largest first; equal sizes are ordered differently (scipy scans in C order), so compare sorted tuples.
    using Row = std::tuple<int64_t, double, double, bool>;
    std::vector<Row> ours, theirs;
    for (int i = 0; i < ref.n_lesions; ++i) {
      CHECK(r.lesions[i].voxels == ref.lesions[i].voxels);
      ours.emplace_back(r.lesions[i].voxels, r.lesions[i].dsc, r.lesions[i].nsd, r.lesions[i].detected);
      theirs.emplace_back(ref.lesions[i].voxels, ref.lesions[i].dsc, ref.lesions[i].nsd, ref.lesions[i].detected);
    }
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    for (size_t i = 0; i < ours.size(); ++i) {
      CHECK(std::get<0>(ours[i]) == std::get<0>(theirs[i]));
      CHECK(std::get<1>(ours[i]) == Approx(std::get<1>(theirs[i])).epsilon(1e-12));
      CHECK(std::get<2>(ours[i]) == Approx(std::get<2>(theirs[i])).epsilon(1e-10));
      CHECK(std::get<3>(ours[i]) == std::get<3>(theirs[i]));
    }
  }
}

TEST_CASE("equals the shared parity set's lesion-wise reference", "[lesion][reference][shared]") {
  const auto dir = lb::test::shared_path("data/flare24-parity");
  if (!dir) {
    LB_SKIP("../shared/data/flare24-parity is absent");
  }
  std::ifstream in(*dir / "lesionwise_ref.json");
  const auto ref = nlohmann::json::parse(in);
  REQUIRE(ref.size() >= 10);
  for (const auto& [name, c] : ref.items()) {
    const auto g = load_mask((*dir / "gt" / name).string()), p = load_mask((*dir / "pred" / name).string());
    REQUIRE(g.status == MaskStatus::ok);
    REQUIRE(p.status == MaskStatus::ok);
    const auto r = score_lesions(g.mask.voxels.data(), p.mask.voxels.data(), g.mask.dims, g.mask.spacing_mm, 2.0, {});
    INFO(name);
    CHECK(r.dsc == Approx(c["lesion_dsc"].get<double>()).epsilon(1e-12));
    CHECK(r.nsd == Approx(c["lesion_nsd"].get<double>()).epsilon(1e-10));
    CHECK(r.n_gt == c["n_gt"].get<int>());
    CHECK(r.n_pred == c["n_pred"].get<int>());
    CHECK(r.tp == c["tp"].get<int>());
    CHECK(r.fn == c["fn"].get<int>());
    CHECK(r.fp == c["fp"].get<int>());
    // The reference lists lesions in scipy's order: compare by voxel count.
    std::multimap<int64_t, std::pair<double, double>> theirs;
    for (const auto& l : c["lesions"]) theirs.emplace(l["voxels"].get<int64_t>(), std::make_pair(l["dsc"].get<double>(), l["nsd"].get<double>()));
    REQUIRE(theirs.size() == r.lesions.size());
    for (const auto& l : r.lesions) {
      auto range = theirs.equal_range(l.voxels);
      bool matched = false;
      for (auto it = range.first; it != range.second; ++it)
        if (std::abs(it->second.first - l.dsc) < 1e-12 && std::abs(it->second.second - l.nsd) < 1e-10) matched = true;
      CHECK(matched);
    }
  }
}
