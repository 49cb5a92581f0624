// The score command end to end: exit codes, the official CSV format, scores.json contents and round trip.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "reports/scores_json.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::run_cli;
using lb::test::shell_quote;
using lb::test::TempDir;
using lb::test::Vol;
namespace fs = std::filesystem;

namespace {
// gt/ and pred/ with: a good case, a healthy case done right, a missing prediction, label 2.
struct SmallSet {
  TempDir d{"cli"};
  SmallSet() {
    fs::create_directories(d.path() / "gt");
    fs::create_directories(d.path() / "pred");
    Vol g(10, 10, 6), p(10, 10, 6), empty(10, 10, 6);
    g.box({2, 2, 1}, {7, 7, 4});
    p.box({3, 2, 1}, {8, 7, 4});
    lb::test::write_mask(d / "gt/case_b.nii.gz", g, {0.8, 0.8, 2.5});
    lb::test::write_mask(d / "pred/case_b.nii.gz", p, {0.8, 0.8, 2.5});
    lb::test::write_mask(d / "gt/case_a.nii.gz", empty);
    lb::test::write_mask(d / "pred/case_a.nii.gz", empty);
    lb::test::write_mask(d / "gt/case_c.nii.gz", g);
    Vol two = g;
    two.at(3, 3, 2) = 2;
    lb::test::write_mask(d / "gt/case_d.nii.gz", g);
    lb::test::write_mask(d / "pred/case_d.nii.gz", two);
  }
  std::string args() const { return "--gt " + shell_quote(d / "gt") + " --pred " + shell_quote(d / "pred"); }
};
}  // namespace

TEST_CASE("python_float prints as Python's repr does", "[csv]") {
  CHECK(python_float(1.0) == "1.0");
  CHECK(python_float(0.0) == "0.0");
  CHECK(python_float(0.441) == "0.441");
  CHECK(python_float(0.9953) == "0.9953");
  CHECK(python_float(0.0001) == "0.0001");
  CHECK(python_float(0.00001) == "1e-05");
  CHECK(python_float(0.1 + 0.2) == "0.30000000000000004");
}

TEST_CASE("version and usage errors exit with the documented codes", "[cli]") {
  auto v = run_cli("--version");
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.out, Catch::StartsWith("lesionbench ") && Catch::Contains("commit"));
  CHECK(run_cli("").exit_code == 2);
  CHECK(run_cli("frobnicate").exit_code == 2);
  auto r = run_cli("score --pred x");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--gt is required"));
  r = run_cli("score --gt a --pred b --geometry loose");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("warn|strict"));
  r = run_cli("score --gt /nonexistent/gt --pred /nonexistent/pred");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("/nonexistent/gt"));
  TempDir empty("empty");
  r = run_cli("score --gt " + shell_quote(empty.path()) + " --pred " + shell_quote(empty.path()));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no *.nii.gz"));
  CHECK(run_cli("score --help").exit_code == 0);
}

TEST_CASE("score writes the official CSV and a complete scores.json, and bad cases do not fail the run", "[cli][json]") {
  SmallSet s;
  const std::string json_path = s.d / "scores.json", csv_path = s.d / "out.csv";
  const auto r = run_cli("score " + s.args() + " --json " + shell_quote(json_path) + " --csv " + shell_quote(csv_path));
  REQUIRE(r.exit_code == 0);
  const std::string csv = lb::test::read_text(csv_path);
  CHECK_THAT(csv, Catch::StartsWith("Name,Lesion_DSC,Lesion_NSD\ncase_a.nii.gz,1.0,1.0\ncase_b.nii.gz,0.8,"));
  CHECK_THAT(csv, Catch::Contains("case_c.nii.gz,0.0,0.0\ncase_d.nii.gz,0.0,0.0\n"));

  const auto doc = nlohmann::json::parse(lb::test::read_text(json_path));  // would throw on NaN
  for (const char* key : {"schema_version", "tool", "settings", "cases", "summary"}) CHECK(doc.contains(key));
  CHECK(doc["tool"]["name"] == "lesionbench");
  CHECK(doc["settings"]["tolerance_mm"] == 2.0);
  const auto& sum = doc["summary"];
  for (const char* key : {"n_cases", "mean_dsc", "mean_nsd", "median_dsc", "median_nsd", "mean_dsc_rounded",
                          "mean_nsd_rounded", "status_counts"})
    CHECK(sum.contains(key));
  CHECK(sum["n_cases"] == 4);
  CHECK(sum["status_counts"]["ok"] == 2);
  CHECK(sum["status_counts"]["missing"] == 1);
  CHECK(sum["status_counts"]["invalid_labels"] == 1);
  REQUIRE(doc["cases"].size() == 4);
  for (const auto& c : doc["cases"]) {
    for (const char* key : {"case", "dsc", "nsd", "nsd_ungated", "status", "warnings"}) CHECK(c.contains(key));
    CHECK(c["lesion_wise"].is_null());
  }
  CHECK(doc["cases"][1]["dsc"] == Approx(0.8));
  CHECK(doc["cases"][2]["status"] == "missing");
}

TEST_CASE("scores.json reads back into the same records", "[json]") {
  SmallSet s;
  const std::string json_path = s.d / "scores.json";
  REQUIRE(run_cli("score " + s.args() + " --lesion-wise --json " + shell_quote(json_path)).exit_code == 0);
  const ScoreSet set = read_scores_file(json_path);
  const auto again = scores_to_json(set, ToolInfo{"lesionbench", "x", "y"});
  const auto orig = nlohmann::json::parse(lb::test::read_text(json_path));
  CHECK(again["cases"] == orig["cases"]);
  CHECK(again["summary"] == orig["summary"]);
  CHECK(set.settings.lesion_wise);
  REQUIRE(set.cases[1].lesion_wise);
  CHECK(set.cases[1].lesion_wise->n_gt == 1);
}

TEST_CASE("unreadable scores files give a message naming the problem", "[json]") {
  TempDir d("badjson");
  std::ofstream(d / "a.json") << "{not json";
  CHECK_THROWS_WITH(read_scores_file(d / "a.json"), Catch::Contains("not valid JSON"));
  std::ofstream(d / "b.json") << R"({"schema_version": "9.0", "cases": []})";
  CHECK_THROWS_WITH(read_scores_file(d / "b.json"), Catch::Contains("9.0"));
  std::ofstream(d / "c.json") << R"({"schema_version": "1.0", "cases": [{"case": "x"}], "settings": {"tolerance_mm": 2}})";
  CHECK_THROWS_WITH(read_scores_file(d / "c.json"), Catch::Contains("malformed"));
}

TEST_CASE("the table names every case and the summary gives the leaderboard means", "[cli]") {
  SmallSet s;
  const auto r = run_cli("score " + s.args());
  REQUIRE(r.exit_code == 0);
  for (const char* n : {"case_a.nii.gz", "case_b.nii.gz", "case_c.nii.gz", "case_d.nii.gz"}) CHECK_THAT(r.out, Catch::Contains(n));
  CHECK_THAT(r.out, Catch::Contains("leaderboard means"));
  CHECK_THAT(r.out, Catch::Contains("missing 1"));
}

TEST_CASE("score with a ground truth that no prediction matches says so loudly and exits 2", "[cli]") {
  SmallSet s;
  // The wrong --gt: predictions named for other cases.
  TempDir other("cli-other");
  fs::create_directories(other.path() / "gt");
  Vol g(10, 10, 6);
  g.box({2, 2, 1}, {7, 7, 4});
  lb::test::write_mask(other / "gt/FLARE24Val_0001.nii.gz", g);
  lb::test::write_mask(other / "gt/FLARE24Val_0002.nii.gz", g);
  const std::string json_path = other / "scores.json";
  auto r = run_cli("score --gt " + shell_quote(other / "gt") + " --pred " + shell_quote(s.d / "pred") + " --json " +
                   shell_quote(json_path));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("NOTHING MATCHED") && Catch::Contains(other / "gt") &&
                        Catch::Contains("3 prediction(s) are named otherwise"));
  CHECK_FALSE(fs::exists(json_path));  // nothing written
  // An empty prediction folder matches nothing either; --missing skip does not hide it.
  fs::create_directories(other.path() / "empty");
  r = run_cli("score --gt " + shell_quote(other / "gt") + " --pred " + shell_quote(other / "empty") + " --missing skip");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("NOTHING MATCHED") && Catch::Contains("holds no <case>.nii.gz"));
  // One match is enough for a normal run.
  lb::test::write_mask(other / "gt/case_b.nii.gz", g);
  r = run_cli("score --gt " + shell_quote(other / "gt") + " --pred " + shell_quote(s.d / "pred") + " --quiet");
  CHECK(r.exit_code == 0);
}
