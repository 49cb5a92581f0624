// `lesionbench compare` exit codes on improved, unchanged, regressed, slower and malformed inputs.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runner/record.h"
#include "tests/reports/report_fixtures.h"

namespace fs = std::filesystem;
using namespace lb::test;
using nlohmann::json;

namespace {

std::string q(const std::string& s) { return shell_quote(s); }

struct Parity {
  std::string gt, pred;
};
std::optional<Parity> parity() {
  const auto p = shared_path("data/flare24-parity");
  if (!p) return std::nullopt;
  return Parity{(*p / "gt").string(), (*p / "pred").string()};
}

std::string score(const std::string& gt, const std::string& pred, const std::string& json_path, const std::string& extra = "") {
  const auto r = run_cli("score --gt " + q(gt) + " --pred " + q(pred) + " --json " + q(json_path) + " --quiet " + extra);
  if (r.exit_code != 0) throw std::runtime_error("score failed: " + r.err);
  return json_path;
}

void write_json(const std::string& path, const json& j) { std::ofstream(path) << j.dump(1); }

// A team folder with scores.json and records.jsonl whose per-case wall times are `wall_s`.
std::string team_with_times(const TempDir& dir, const std::string& name, const std::string& scores, double wall_s) {
  const fs::path t = fs::path(dir.path()) / name;
  fs::create_directories(t);
  fs::copy_file(scores, t / "scores.json");
  std::ofstream rec(t / "records.jsonl");
  const json doc = json::parse(lb::test::read_text(scores));
  for (const auto& c : doc["cases"]) {
    lb::runner::RunRecord r;
    std::string file = c["case"];
    r.case_name = file.substr(0, file.size() - 7);
    r.status = lb::runner::RunStatus::ok;
    r.wall_s = wall_s;
    rec << json(r).dump() << "\n";
  }
  return t.string();
}

}  // namespace

TEST_CASE("compare: improved and unchanged runs pass, a run that lost cases fails") {
  const auto p = parity();
  if (!p) {
    LB_SKIP("../shared/data/flare24-parity is absent");
  }
  TempDir dir("compare");
  const std::string base = score(p->gt, p->pred, dir / "base.json");
  // Improved: the ground truth as the prediction.
  const std::string better = score(p->gt, p->gt, dir / "better.json");
  auto r = run_cli("compare " + q(base) + " " + q(better));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("result: no regression") != std::string::npos);
  CHECK(r.out.find("paired Wilcoxon") != std::string::npos);

  // Unchanged: p = 1, nothing listed.
  r = run_cli("compare " + q(base) + " " + q(base));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("p = 1 (no case changed)") != std::string::npos);
  CHECK(r.out.find("cases that dropped most") == std::string::npos);

  // Regressed: two predictions gone -> two cases no longer ok, and the means drop.
  fs::create_directories(dir / "fewer");
  for (const auto& e : fs::directory_iterator(p->pred))
    if (e.path().filename() != "FLARE24Val_0006.nii.gz" && e.path().filename() != "FLARE24Val_0008.nii.gz")
      fs::copy_file(e.path(), fs::path(dir / "fewer") / e.path().filename());
  const std::string worse = score(p->gt, dir / "fewer", dir / "worse.json");
  const std::string md = dir / "summary.md";
  r = run_cli("compare " + q(base) + " " + q(worse) + " --markdown " + q(md));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("result: REGRESSION") != std::string::npos);
  CHECK(r.out.find("2 cases no longer ok") != std::string::npos);
  CHECK(r.out.find("FLARE24Val_0008: missing") != std::string::npos);
  CHECK(r.out.find("mean DSC dropped by") != std::string::npos);
  const std::string m = read_text(md);
  CHECK(m.find("### lesionbench compare: regression") != std::string::npos);
  CHECK(m.find("| mean DSC |") != std::string::npos);
  CHECK(m.find("| FLARE24Val_0006 | missing |") != std::string::npos);
  // A looser gate still fails on the new failures.
  r = run_cli("compare " + q(base) + " " + q(worse) + " --max-drop 0.5");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("mean DSC dropped") == std::string::npos);
}

TEST_CASE("compare: --require-significance ignores a drop the Wilcoxon test does not support") {
  const auto p = parity();
  if (!p) {
    LB_SKIP("../shared/data/flare24-parity is absent");
  }
  TempDir dir("compare-sig");
  const std::string base = score(p->gt, p->pred, dir / "base.json");
  // Two of 16 cases lose 0.05 and 0.06 DSC: the mean drops 0.006875 (> 0.005), but two changed pairs are no
  // evidence. With 14 unchanged pairs the normal approximation applies; scipy.stats.wilcoxon on the same
  // pairs (/usr/bin/python3, scipy 1.10.1) gives statistic 0.0, p = 0.17971249487899976.
  json j = json::parse(read_text(base));
  int changed = 0;
  for (auto& c : j["cases"])
    if (c["dsc"].get<double>() > 0.5 && changed < 2) {
      c["dsc"] = c["dsc"].get<double>() - (changed ? 0.06 : 0.05);
      ++changed;
    }
  REQUIRE(changed == 2);
  write_json(dir / "drop.json", j);
  auto r = run_cli("compare " + q(base) + " " + q(dir / "drop.json"));
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("p = 0.1797 (normal, 2 cases changed)") != std::string::npos);
  r = run_cli("compare " + q(base) + " " + q(dir / "drop.json") + " --require-significance");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("drop not significant") != std::string::npos);
  r = run_cli("compare " + q(base) + " " + q(dir / "drop.json") + " --max-drop dsc=0.01");
  CHECK(r.exit_code == 0);
}

TEST_CASE("compare: a slower median time per case fails when both have run records") {
  const auto p = parity();
  if (!p) {
    LB_SKIP("../shared/data/flare24-parity is absent");
  }
  TempDir dir("compare-time");
  const std::string scores = score(p->gt, p->pred, dir / "s.json");
  const std::string base = team_with_times(dir, "base", scores, 10.0);
  const std::string slow = team_with_times(dir, "slow", scores, 12.0);
  auto r = run_cli("compare " + q(base) + " " + q(slow));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("median time per case: 10.0 s -> 12.0 s (x1.20") != std::string::npos);
  r = run_cli("compare " + q(base) + " " + q(slow) + " --max-slowdown 1.25");
  CHECK(r.exit_code == 0);
  // Time is compared only when both sides have records: a bare scores.json leaves it out.
  r = run_cli("compare " + q(scores) + " " + q(slow));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("time not compared") != std::string::npos);
}

TEST_CASE("compare: malformed or incomparable inputs exit 2") {
  const auto p = parity();
  if (!p) {
    LB_SKIP("../shared/data/flare24-parity is absent");
  }
  TempDir dir("compare-bad");
  const std::string base = score(p->gt, p->pred, dir / "base.json");
  std::ofstream(dir / "truncated.json") << read_text(base).substr(0, 300);
  std::ofstream(dir / "other.json") << "{\"hello\": 1}";
  fs::create_directories(dir / "empty-folder");
  for (const std::string& bad : {dir / "truncated.json", dir / "other.json", dir / "missing.json", dir / "empty-folder"}) {
    const auto r = run_cli("compare " + q(base) + " " + q(bad));
    INFO(bad << ": " << r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(fs::path(bad).filename().string()) != std::string::npos);
  }
  // Different tolerance: refused, unless allowed.
  const std::string tol1 = score(p->gt, p->pred, dir / "tol1.json", "--tolerance-mm 1");
  auto r = run_cli("compare " + q(base) + " " + q(tol1));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("different settings") != std::string::npos);
  r = run_cli("compare " + q(base) + " " + q(tol1) + " --allow-different-settings");
  CHECK(r.exit_code != 2);
  // Other metrics (--metrics, --nsd-at-mm) are other settings too: refused, naming both lists.
  const std::string hd = score(p->gt, p->pred, dir / "hd.json", "--metrics dsc,nsd,hd95");
  r = run_cli("compare " + q(base) + " " + q(hd));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("metrics dsc,nsd vs dsc,nsd,hd95") != std::string::npos);
  const std::string at = score(p->gt, p->pred, dir / "at.json", "--nsd-at-mm 1");
  r = run_cli("compare " + q(base) + " " + q(at));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("nsd_at_mm differ") != std::string::npos);
  // So is the lesion matching, when both are lesion-wise.
  const std::string lw = score(p->gt, p->pred, dir / "lw.json", "--lesion-wise");
  const std::string hu = score(p->gt, p->pred, dir / "hu.json", "--lesion-wise --matching hungarian");
  r = run_cli("compare " + q(lw) + " " + q(hu));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("matching overlap vs hungarian") != std::string::npos);
  // No case in common.
  json j = json::parse(read_text(base));
  for (auto& c : j["cases"]) c["case"] = "other_" + c["case"].get<std::string>();
  write_json(dir / "disjoint.json", j);
  r = run_cli("compare " + q(base) + " " + q(dir / "disjoint.json"));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no case in common") != std::string::npos);
  // Bad options.
  r = run_cli("compare " + q(base) + " " + q(base) + " --max-drop dsc=abc");
  CHECK(r.exit_code == 2);
  r = run_cli("compare " + q(base));
  CHECK(r.exit_code == 2);
}
