// The official scorer's rules in their order, and lesionbench's statuses for everything it does better.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "metrics/case_scores.h"
#include "metrics/score_set.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::TempDir;
using lb::test::Vol;
namespace fs = std::filesystem;

namespace {
CaseScores score(const Vol& g, const Vol& p) { return score_case(g.v.data(), p.v.data(), g.dims, {1, 1, 2}, {}); }

struct Pair {
  TempDir dir{"case"};
  std::string gt() const { return dir / "gt.nii.gz"; }
  std::string pred() const { return dir / "pred.nii.gz"; }
};
}  // namespace

TEST_CASE("healthy case with an empty prediction scores 1, 1", "[rules]") {
  Vol g(8, 8, 8), p(8, 8, 8);
  const auto s = score(g, p);
  CHECK(s.dsc == 1.0);
  CHECK(s.nsd == 1.0);
  CHECK(s.rule == Rule::both_empty);
}

TEST_CASE("a single false-positive voxel zeroes a healthy case", "[rules]") {
  Vol g(8, 8, 8), p(8, 8, 8);
  p.at(3, 3, 3) = 1;
  const auto s = score(g, p);
  CHECK(s.dsc == 0.0);
  CHECK(s.nsd == 0.0);
  CHECK(s.rule == Rule::false_positive_on_healthy);
}

TEST_CASE("an empty prediction on a lesion case scores 0, 0", "[rules]") {
  Vol g(8, 8, 8), p(8, 8, 8);
  g.box({1, 1, 1}, {4, 4, 4});
  const auto s = score(g, p);
  CHECK(s.dsc == 0.0);
  CHECK(s.nsd == 0.0);
  CHECK(s.rule == Rule::empty_prediction);
}

TEST_CASE("DSC below 0.2 sets NSD to 0 but nsd_ungated keeps the value", "[rules]") {
  Vol g(20, 20, 4), p(20, 20, 4);
  g.box({0, 0, 0}, {10, 10, 2});   // 200 voxels
  p.box({9, 0, 0}, {19, 10, 2});   // overlaps in one column: 20 voxels shared
  const auto s = score(g, p);
  CHECK(s.dsc == Approx(2.0 * 20 / 400));
  CHECK(s.rule == Rule::below_dsc_gate);
  CHECK(s.nsd == 0.0);
  CHECK(s.nsd_ungated > 0.0);
}

TEST_CASE("DSC exactly 0.2 is not gated (the official test is DSC < 0.2)", "[rules]") {
  Vol g(10, 1, 1), p(10, 1, 1);
  g.box({0, 0, 0}, {5, 1, 1});
  p.box({4, 0, 0}, {9, 1, 1});  // |G| = |P| = 5, |G∩P| = 1: 2/10
  const auto s = score(g, p);
  CHECK(s.dsc == 0.2);
  CHECK(s.rule == Rule::computed);
  CHECK(s.nsd > 0.0);
  CHECK(s.nsd == s.nsd_ungated);
}

TEST_CASE("numpy rounding: round4 is rint(x*1e4)/1e4 with ties to even", "[rules]") {
  // Expected values from numpy 1.24: round(np.float64(x), 4).
  CHECK(round4(0.12345) == 0.1234);   // x*1e4 = 1234.5 exactly: ties to even
  CHECK(round4(0.12355) == 0.1236);   // 1235.5: ties to even, upwards
  CHECK(round4(0.00005) == 0.0);      // 0.5
  CHECK(round4(0.00025) == 0.0002);   // 2.5
  CHECK(round4(0.00015) == 0.0001);   // 1.4999999999999998
  CHECK(round4(0.99995) == 1.0);      // 9999.5
  CHECK(round4(0.44104) == 0.441);
}

TEST_CASE("statuses for files: label 2 on a healthy case, invalid ground truth, missing, shapes", "[rules][status]") {
  ScoreSettings st;
  Pair c;
  Vol g(6, 6, 6), p(6, 6, 6);
  SECTION("label 2 in the prediction: invalid_labels, 0, 0, even when the case is healthy") {
    p.at(1, 1, 1) = 2;
    lb::test::write_mask(c.gt(), g);
    lb::test::write_mask(c.pred(), p);
    const auto r = score_files("x.nii.gz", c.gt(), c.pred(), st);
    CHECK(r.status == CaseStatus::invalid_labels);
    CHECK(r.dsc == 0.0);
    CHECK(r.nsd == 0.0);
    CHECK_THAT(r.message, Catch::Contains("prediction") && Catch::Contains("2 (1)"));
  }
  SECTION("invalid ground truth is reported as such") {
    g.at(1, 1, 1) = 3;
    lb::test::write_mask(c.gt(), g);
    lb::test::write_mask(c.pred(), p);
    const auto r = score_files("x.nii.gz", c.gt(), c.pred(), st);
    CHECK(r.status == CaseStatus::invalid_labels);
    CHECK_THAT(r.message, Catch::Contains("ground truth"));
  }
  SECTION("missing prediction") {
    lb::test::write_mask(c.gt(), g);
    const auto r = score_files("x.nii.gz", c.gt(), c.dir / "none.nii.gz", st);
    CHECK(r.status == CaseStatus::missing);
    CHECK_THAT(r.message, Catch::Contains("none.nii.gz"));
  }
  SECTION("shape mismatch names both shapes") {
    lb::test::write_mask(c.gt(), g);
    lb::test::write_mask(c.pred(), Vol(6, 6, 5));
    const auto r = score_files("x.nii.gz", c.gt(), c.pred(), st);
    CHECK(r.status == CaseStatus::shape_mismatch);
    CHECK_THAT(r.message, Catch::Contains("6x6x5") && Catch::Contains("6x6x6"));
  }
  SECTION("unreadable ground truth") {
    std::ofstream(c.gt()) << "not a nifti";
    lb::test::write_mask(c.pred(), p);
    const auto r = score_files("x.nii.gz", c.gt(), c.pred(), st);
    CHECK(r.status == CaseStatus::read_error);
    CHECK_THAT(r.message, Catch::Contains("ground truth") && Catch::Contains(c.gt()));
  }
}

TEST_CASE("geometry mismatch: warn scores on the ground truth grid, strict scores 0, 0", "[rules][status]") {
  Pair c;
  Vol g(8, 8, 8), p(8, 8, 8);
  g.box({2, 2, 2}, {6, 6, 6});
  p.box({2, 2, 2}, {6, 6, 5});
  lb::test::write_mask(c.gt(), g, {1, 1, 2});
  lb::test::write_mask(c.pred(), p, {1, 1, 2.5}, {0, 0, 4});
  ScoreSettings st;
  const auto warn = score_files("x.nii.gz", c.gt(), c.pred(), st);
  CHECK(warn.status == CaseStatus::ok);
  CHECK(warn.dsc == Approx(2.0 * 48 / (64 + 48)));
  REQUIRE(warn.warnings.size() == 1);
  CHECK_THAT(warn.warnings[0], Catch::Contains("spacing") && Catch::Contains("origin") && Catch::Contains("2.5"));
  st.geometry = GeometryMode::strict;
  const auto strict = score_files("x.nii.gz", c.gt(), c.pred(), st);
  CHECK(strict.status == CaseStatus::geometry_mismatch);
  CHECK(strict.dsc == 0.0);
  CHECK(strict.nsd == 0.0);
  // Float noise in the header is not a mismatch.
  lb::test::write_mask(c.pred(), p, {1.0000001, 1, 2}, {0.000001, 0, 0});
  CHECK(score_files("x.nii.gz", c.gt(), c.pred(), st).status == CaseStatus::ok);
}

TEST_CASE("folders: missing and extra predictions, --missing skip, one bad case does not stop the run", "[rules][set]") {
  TempDir d("set");
  fs::create_directories(d.path() / "gt");
  fs::create_directories(d.path() / "pred");
  Vol g(6, 6, 6);
  g.box({1, 1, 1}, {4, 4, 4});
  for (const char* n : {"a.nii.gz", "b.nii.gz", "c.nii.gz"}) lb::test::write_mask(d / ("gt/" + std::string(n)), g);
  lb::test::write_mask(d / "pred/a.nii.gz", g);
  std::ofstream(d / "pred/b.nii.gz") << "garbage";
  lb::test::write_mask(d / "pred/extra.nii.gz", g);
  ScoreSettings st;
  st.gt_dir = d / "gt";
  st.pred_dir = d / "pred";
  const ScoreSet set = score_folders(st);
  REQUIRE(set.cases.size() == 3);
  CHECK(set.cases[0].name == "a.nii.gz");
  CHECK(set.cases[0].status == CaseStatus::ok);
  CHECK(set.cases[0].dsc == 1.0);
  CHECK(set.cases[1].status == CaseStatus::read_error);
  CHECK(set.cases[2].status == CaseStatus::missing);
  REQUIRE(set.warnings.size() == 1);
  CHECK_THAT(set.warnings[0], Catch::Contains("extra.nii.gz"));
  const Summary s = summarize(set.cases);
  CHECK(s.mean_dsc == Approx(1.0 / 3));
  st.missing = MissingMode::skip;
  const ScoreSet skipped = score_folders(st);
  CHECK(skipped.cases.size() == 2);
  CHECK(skipped.warnings.size() == 2);
}

TEST_CASE("folders that cannot be scored at all", "[rules][set]") {
  TempDir d("empty");
  ScoreSettings st;
  st.gt_dir = d / "nope";
  st.pred_dir = d.path().string();
  CHECK_THROWS_AS(score_folders(st), UnusableInput);
  st.gt_dir = d.path().string();
  CHECK_THROWS_WITH(score_folders(st), Catch::Contains("no *.nii.gz"));
}
