// Parity with the organisers' scorer on real and synthetic masks (values recorded by running it; see data/).
#include <catch2/catch.hpp>
#include <filesystem>

#include "metrics/case_scores.h"
#include "metrics/mask_io.h"
#include "tests/support/test_support.h"

#include "tests/metrics/data/official_values.inc"

using namespace lb;
using lb::test::shell_quote;

TEST_CASE("CSV identical to the official scorer's on the shared parity set", "[parity][shared]") {
  const auto dir = lb::test::shared_path("data/flare24-parity");
  if (!dir) {
    LB_SKIP("../shared/data/flare24-parity is absent");
  }
  lb::test::TempDir tmp("parity");
  // --missing skip: the official loop runs over the prediction files (all present here).
  const auto r = lb::test::run_cli("score --gt " + shell_quote((*dir / "gt").string()) + " --pred " +
                                   shell_quote((*dir / "pred").string()) + " --csv " + shell_quote(tmp / "ours.csv"));
  REQUIRE(r.exit_code == 0);
  const std::string ours = lb::test::read_text(tmp / "ours.csv");
  const std::string official = lb::test::read_text((*dir / "official.csv").string());
  REQUIRE(!official.empty());
  CHECK(ours == official);
}

TEST_CASE("real TotalSegmentator masks: DSC and NSD equal the official scorer's", "[parity][shared]") {
  const auto dir = lb::test::shared_path("data/totalseg-example");
  if (!dir) {
    LB_SKIP("../shared/data/totalseg-example is absent");
  }
  const auto gt_img = nifti::read_image((*dir / "example_seg.nii.gz").string());
  const auto pred_img = nifti::read_image((*dir / "example_seg_fast.nii.gz").string());
  REQUIRE(gt_img.header.datatype == nifti::kUInt8);
  const auto spacing = nifti::geometry_of(gt_img.header).spacing_mm;
  const auto dims = gt_img.header.dims3();
  for (const auto& ref : kTotalsegCases) {
    std::vector<uint8_t> g(gt_img.data.size()), p(pred_img.data.size());
    for (size_t i = 0; i < g.size(); ++i) {
      g[i] = gt_img.data[i] == ref.label;
      p[i] = pred_img.data[i] == ref.label;
    }
    const CaseScores s = score_case(g.data(), p.data(), dims, spacing, {});
    INFO("label " << ref.label);
    CHECK(s.dsc == Approx(ref.dsc).epsilon(1e-15));
    CHECK(s.nsd == Approx(ref.nsd).epsilon(1e-12));
    CHECK(round4(s.dsc) == ref.dsc_csv);
    CHECK(round4(s.nsd) == ref.nsd_csv);
  }
}
