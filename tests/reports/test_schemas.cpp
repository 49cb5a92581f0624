// Real `lesionbench score --json` output validated against schemas/scores.schema.json by a real JSON Schema
// validator (ajv, draft 2020-12), with and without --lesion-wise; and documents the schema must refuse.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/reports/report_fixtures.h"

using namespace lb::test;
using nlohmann::json;

namespace {
std::string q(const std::string& s) { return shell_quote(s); }
}  // namespace

TEST_CASE("scores.json from `score --json` is valid against scores.schema.json, with and without --lesion-wise") {
  const auto p = shared_path("data/flare24-parity");
  if (!p) {
    LB_SKIP("../shared/data/flare24-parity is absent");
  }
  if (const std::string why = schema_validator_missing(); !why.empty()) {
    LB_SKIP(why);
  }
  TempDir dir("schemas");
  const std::string gt = (*p / "gt").string(), pred = (*p / "pred").string();
  // The parity set has every status the scorer gives on real files: ok, invalid labels (label 2), healthy
  // cases with and without false positives; a missing prediction is added by scoring an emptier folder.
  REQUIRE(run_cli("score --gt " + q(gt) + " --pred " + q(pred) + " --json " + q(dir / "plain.json") + " --quiet").exit_code == 0);
  REQUIRE(run_cli("score --gt " + q(gt) + " --pred " + q(pred) + " --json " + q(dir / "lesion.json") +
                  " --lesion-wise --quiet").exit_code == 0);
  REQUIRE(run_cli("score --gt " + q(gt) + " --pred " + q(gt) + " --json " + q(dir / "perfect.json") +
                  " --lesion-wise --connectivity 6 --volume-buckets 1,10 --quiet").exit_code == 0);
  // Every extra metric, with null distances (healthy cases, the invalid-labels case) and per lesion.
  REQUIRE(run_cli("score --gt " + q(gt) + " --pred " + q(pred) + " --json " + q(dir / "metrics.json") +
                  " --lesion-wise --metrics dsc,nsd,iou,hd,hd95,masd,assd --nsd-at-mm 1,5 --matching hungarian --quiet")
              .exit_code == 0);
  const auto v = validate_json("scores.schema.json",
                               {dir / "plain.json", dir / "lesion.json", dir / "perfect.json", dir / "metrics.json"});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  const json metrics = json::parse(read_text(dir / "metrics.json"));
  CHECK(metrics["cases"][1]["hd_mm"].is_null());  // healthy case with a false positive
  CHECK(metrics["cases"][5]["hd95_mm"].is_number());
  CHECK(metrics["cases"][5]["lesion_wise"]["lesions"][0].contains("assd_mm"));
  CHECK(metrics["summary"]["metrics"]["hd_mm"]["n_null"] == 5);
  CHECK(metrics["settings"]["matching"] == "hungarian");
  CHECK(metrics["summary"]["lesion_wise"]["pq"].is_number());
  CHECK(metrics["settings"]["metrics"] == json{"dsc", "nsd", "iou", "hd", "hd95", "masd", "assd"});
  CHECK_FALSE(json::parse(read_text(dir / "plain.json"))["cases"][5].contains("hd_mm"));
  // The files hold what the schema's conditional parts are about.
  const json lesion = json::parse(read_text(dir / "lesion.json"));
  CHECK(lesion["summary"].contains("lesion_wise"));
  CHECK(lesion["cases"][5]["lesion_wise"]["lesions"].size() > 0);
  CHECK(lesion["summary"]["lesion_wise"]["pq"].is_null());  // overlap: no PQ
  CHECK(lesion["settings"]["matching"] == "overlap");
  CHECK_FALSE(json::parse(read_text(dir / "plain.json"))["summary"].contains("lesion_wise"));

  // The validator refuses what the writer must never produce.
  auto refuses = [&](const std::string& name, const std::function<void(json&)>& change) {
    json doc = lesion;
    change(doc);
    std::ofstream(dir / name) << doc.dump();
    const auto r = validate_json("scores.schema.json", {dir / name});
    INFO(name << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
  };
  refuses("nan.json", [](json& d) { d["cases"][0]["dsc"] = nullptr; });  // NaN is written as null by nlohmann
  refuses("status.json", [](json& d) { d["cases"][0]["status"] = "fine"; });
  refuses("extra.json", [](json& d) { d["cases"][0]["surprise"] = 1; });
  refuses("no-lesion-summary.json", [](json& d) { d["summary"].erase("lesion_wise"); });
  refuses("dsc-range.json", [](json& d) { d["summary"]["mean_dsc"] = 1.5; });
  refuses("version.json", [](json& d) { d["schema_version"] = "2.0"; });
  refuses("date.json", [](json& d) { d["created_utc"] = "yesterday"; });
}
