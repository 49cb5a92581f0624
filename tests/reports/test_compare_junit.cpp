// `lesionbench compare --junit`: the XML, read back with Python's xml.etree, has one test case per gate whose
// outcome follows the gate, failures carry the numbers, and unusable inputs still give a file (one error).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runner/record.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using namespace lb::test;
using nlohmann::json;

namespace {

std::string q(const std::string& s) { return shell_quote(s); }

// Python from Debian (other python3 builds may sit earlier on PATH); xml.etree is in its standard library.
json junit(const std::string& path) {
  const auto r = run_command("/usr/bin/python3 " + q(std::string(LB_SOURCE_DIR) + "/tests/reports/junit_summary.py") +
                             " " + q(path));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

const json& case_named(const json& doc, const std::string& name) {
  for (const auto& c : doc["cases"])
    if (c["name"] == name) return c;
  FAIL("no test case named " << name << " in " << doc.dump());
  throw std::logic_error("unreachable");
}

std::string score(const std::string& gt, const std::string& pred, const std::string& json_path) {
  const auto r = run_cli("score --gt " + q(gt) + " --pred " + q(pred) + " --json " + q(json_path) + " --quiet");
  if (r.exit_code != 0) throw std::runtime_error("score failed: " + r.err);
  return json_path;
}

std::string team_with_times(const TempDir& dir, const std::string& name, const std::string& scores, double wall_s) {
  const fs::path t = fs::path(dir.path()) / name;
  fs::create_directories(t);
  fs::copy_file(scores, t / "scores.json");
  std::ofstream rec(t / "records.jsonl");
  const json doc = json::parse(read_text(scores));  // named: a loop over a temporary's member would dangle
  for (const auto& c : doc["cases"]) {
    lb::runner::RunRecord r;
    const std::string file = c["case"];
    r.case_name = file.substr(0, file.size() - 7);
    r.status = lb::runner::RunStatus::ok;
    r.wall_s = wall_s;
    rec << json(r).dump() << "\n";
  }
  return t.string();
}

}  // namespace

TEST_CASE("compare --junit: one test case per gate, failures with the numbers, errors on unusable input") {
  const auto p = shared_path("data/flare24-parity");
  if (!p) {
    LB_SKIP("flare24-parity is absent from " << data_dir_description());
  }
  TempDir dir("compare-junit");
  const std::string gt = (*p / "gt").string(), pred = (*p / "pred").string();
  const std::string base = score(gt, pred, dir / "base.json");

  // Unchanged: four gates, three pass, time skipped (no run records).
  auto r = run_cli("compare " + q(base) + " " + q(base) + " --junit " + q(dir / "same.xml"));
  REQUIRE(r.exit_code == 0);
  json x = junit(dir / "same.xml");
  CHECK(x["tests"] == 4);
  CHECK(x["failures"] == 0);
  CHECK(x["errors"] == 0);
  CHECK(x["skipped"] == 1);
  CHECK(case_named(x, "mean DSC drop")["outcome"] == "passed");
  CHECK(case_named(x, "mean NSD drop")["outcome"] == "passed");
  CHECK(case_named(x, "no case newly failed")["outcome"] == "passed");
  CHECK(case_named(x, "median time per case")["outcome"] == "skipped");
  CHECK(x["system_out"].get<std::string>().find("result: no regression") != std::string::npos);

  // Two predictions gone: the DSC gate and the new-failures gate fail, with the numbers and the case names.
  fs::create_directories(dir / "fewer");
  for (const auto& e : fs::directory_iterator(pred))
    if (e.path().filename() != "FLARE24Val_0006.nii.gz" && e.path().filename() != "FLARE24Val_0008.nii.gz")
      fs::copy_file(e.path(), fs::path(dir / "fewer") / e.path().filename());
  const std::string worse = score(gt, dir / "fewer", dir / "worse.json");
  r = run_cli("compare " + q(base) + " " + q(worse) + " --junit " + q(dir / "worse.xml"));
  CHECK(r.exit_code == 1);
  x = junit(dir / "worse.xml");
  const json bj = json::parse(read_text(base)), wj = json::parse(read_text(worse));
  double bsum = 0, wsum = 0;
  for (const auto& c : bj["cases"]) bsum += c["dsc"].get<double>();
  for (const auto& c : wj["cases"]) wsum += c["dsc"].get<double>();
  char drop[32];
  std::snprintf(drop, sizeof drop, "%.4f", (bsum - wsum) / static_cast<double>(bj["cases"].size()));
  const json& dsc = case_named(x, "mean DSC drop");
  CHECK(dsc["outcome"] == "failure");
  CHECK(dsc["message"].get<std::string>().find(std::string("dropped by ") + drop) != std::string::npos);
  CHECK(dsc["text"].get<std::string>().find("max drop 0.0050") != std::string::npos);
  const json& failed = case_named(x, "no case newly failed");
  CHECK(failed["outcome"] == "failure");
  CHECK(failed["message"] == "2 cases ok in BASE, not ok in NEW");
  CHECK(failed["text"].get<std::string>().find("FLARE24Val_0006: missing") != std::string::npos);
  CHECK(failed["text"].get<std::string>().find("FLARE24Val_0008: missing") != std::string::npos);
  CHECK(x["failures"].get<int>() >= 2);

  // Slower by 1.2x with run records on both sides: the time gate fails with both medians.
  const std::string tbase = team_with_times(dir, "tbase", base, 10.0);
  const std::string tslow = team_with_times(dir, "tslow", base, 12.0);
  r = run_cli("compare " + q(tbase) + " " + q(tslow) + " --junit " + q(dir / "slow.xml"));
  CHECK(r.exit_code == 1);
  x = junit(dir / "slow.xml");
  const json& t = case_named(x, "median time per case");
  CHECK(t["outcome"] == "failure");
  CHECK(t["message"] == "median time per case grew 1.20x (more than 1.10x)");
  CHECK(t["text"] == "BASE 10.0 s, NEW 12.0 s, x1.20 (max x1.10)");
  CHECK(x["failures"] == 1);

  // Unusable input (exit 2): a file with one test case in error, naming the problem; characters XML
  // reserves in the path survive.
  std::ofstream(dir / "a<&>b.json") << "{\"hello\": 1}";
  r = run_cli("compare " + q(base) + " " + q(dir / "a<&>b.json") + " --junit " + q(dir / "bad.xml"));
  CHECK(r.exit_code == 2);
  x = junit(dir / "bad.xml");
  CHECK(x["tests"] == 1);
  CHECK(x["errors"] == 1);
  CHECK(x["cases"][0]["outcome"] == "error");
  CHECK(x["cases"][0]["text"].get<std::string>().find("a<&>b.json") != std::string::npos);
  CHECK(!fs::exists(dir / "bad.xml.tmp"));

  // An unwritable destination is exit 2 with a message.
  r = run_cli("compare " + q(base) + " " + q(base) + " --junit " + q(dir / "no/such/folder/x.xml"));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("cannot write") != std::string::npos);
}
