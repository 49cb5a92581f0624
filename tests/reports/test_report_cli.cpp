// `lesionbench report` end to end on three teams made from real CT: the files it writes, the JSON against the
// schema, the official CSVs, the page in headless Chromium, and the errors it refuses with.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <regex>

#include "tests/reports/report_fixtures.h"

namespace fs = std::filesystem;
using namespace lb::test;
using nlohmann::json;

namespace {

std::string q(const std::string& s) { return shell_quote(s); }

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

std::string between(const std::string& text, const std::string& from, const std::string& to) {
  const auto a = text.find(from);
  if (a == std::string::npos) return "";
  const auto b = text.find(to, a + from.size());
  return text.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

std::string attribute(const std::string& dom, const std::string& name) {
  std::smatch m;
  if (std::regex_search(dom, m, std::regex(name + "=\"([^\"]*)\""))) return m[1];
  return "";
}

std::string chromium_missing() {
  if (run_command("command -v chromium").exit_code != 0) return "chromium is not installed (scripts/setup.sh installs it)";
  return "";
}

// Headless Chromium with the flags these machines need (../shared/notes/platform.md); virtual time lets the
// page's scripts finish before the DOM is dumped or the screenshot taken.
CommandResult chromium(const TempDir& dir, const std::string& what, const std::string& page) {
  return run_command("timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
                     "--no-first-run --user-data-dir=" + q(dir / "chromium-profile") +
                     " --enable-logging=stderr --v=0 --virtual-time-budget=15000 " + what + " " +
                     q("file://" + fs::absolute(page).string()));
}

std::string report_args(const ReportFixture& f, const std::string& out) {
  // alpha with a trailing slash: still named alpha.
  return "report " + q(f.alpha + "/") + " " + q(f.bravo) + " " + q(f.charlie) + " --out " + q(out) + " --gt " + q(f.gt_dir) +
         " --cases " + q(f.cases_dir);
}

}  // namespace

TEST_CASE("report on three teams writes the leaderboard, the official CSVs and the pictures") {
  TempDir dir("report");
  const auto f = make_report_fixture(dir);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  const std::string out = dir / "report";
  const auto r = run_cli(report_args(*f, out));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"leaderboard.json", "leaderboard.html", "DSC_NSD_alpha.csv", "DSC_NSD_bravo.csv",
                           "DSC_NSD_charlie.csv", "alpha_Efficiency.csv", "bravo_Efficiency.csv", "scores/charlie.json"})
    CHECK(fs::exists(fs::path(out) / name));
  // charlie ran elsewhere: no efficiency CSV; it was scored now (it had no scores.json).
  CHECK_FALSE(fs::exists(fs::path(out) / "charlie_Efficiency.csv"));
  CHECK_FALSE(fs::exists(fs::path(f->charlie) / "scores.json"));

  const json board = json::parse(read_text(out + "/leaderboard.json"));
  CHECK(board["schema_version"] == "1.2");
  REQUIRE(board["teams"].size() == 3);
  CHECK(board["cases"].size() == f->cases.size());
  std::map<std::string, json> team;
  for (const auto& t : board["teams"]) team[t["name"]] = t;
  // Time and GPU are not ranked: charlie has no run records.
  CHECK(board["ranking"]["metrics"] == json({"dsc", "nsd"}));
  // alpha (one voxel too big) beats bravo (shifted 6 voxels, one timeout) and charlie (eroded, one empty).
  CHECK(team["alpha"]["ranks"]["rank_then_aggregate"]["place"] == 1);
  CHECK(board["teams"][0]["name"] == "alpha");
  CHECK(team["bravo"]["failed_cases"] == 1);
  CHECK(team["charlie"]["failed_cases"] == 0);
  CHECK(team["charlie"]["scores"]["scored_now"] == true);
  CHECK(team["charlie"]["efficiency"].is_null());
  CHECK(team["alpha"]["efficiency"]["n_records"] == f->cases.size());
  CHECK(team["alpha"]["lesion_wise"].is_object());
  // The timed-out case: counted 0 and described, its run record carried along.
  const std::string timed_out = f->cases[f->cases.size() - 2];
  json last;
  for (const auto& c : team["bravo"]["cases"])
    if (c["case"] == timed_out) last = c;
  CHECK(last["failed"] == true);
  CHECK(last["dsc"] == 0.0);
  CHECK(last["run"]["status"] == "timeout");
  CHECK(last["score"]["status"] == "missing");
  // The healthy case: charlie's false positive counts against it.
  CHECK(team["charlie"]["lesion_wise"]["healthy_cases"] == 1);
  CHECK(team["charlie"]["lesion_wise"]["fp_on_healthy"] == 1);
  CHECK(team["alpha"]["lesion_wise"]["fp_on_healthy"] == 0);
  // bravo's timed-out case counts its lesions as missed: every team is judged on the same lesions.
  CHECK(team["bravo"]["lesion_wise"]["n_gt"] == team["alpha"]["lesion_wise"]["n_gt"]);
  CHECK(team["bravo"]["lesion_wise"]["fn"].get<int>() >= 1);
  // Stability: 1000 resamples by default.
  CHECK(board["ranking"]["bootstrap_resamples"] == 1000);
  int total = 0;
  for (int c : team["alpha"]["stability"]["place_counts"]) total += c;
  CHECK(total == 1000);
  // Every ranking method's places, test-then-rank's tests, Kendall's tau and the intervals.
  const json& ranking = board["ranking"];
  CHECK(ranking["method"] == "rank-then-aggregate");
  for (const char* m : {"rank-then-aggregate", "aggregate-then-rank:mean", "aggregate-then-rank:median", "test-then-rank"}) {
    INFO(m);
    REQUIRE(ranking["methods"].contains(m));
    CHECK(ranking["methods"][m].size() == 3);
  }
  CHECK(ranking["methods"]["rank-then-aggregate"]["alpha"] == 1);
  CHECK(ranking["methods"]["aggregate-then-rank:mean"]["alpha"] == team["alpha"]["ranks"]["mean_based"]["place"]);
  CHECK(ranking["significance"].size() == 2 * 3 * 2);  // 2 metrics x 6 ordered pairs
  for (const auto& s : ranking["significance"]) {
    CHECK(s["p_adjusted"] == s["p"]);  // --p-adjust none
    CHECK(s["significant"] == (s["p"].get<double>() <= 0.05));
  }
  const auto& tau = board["stability"]["kendall_tau"];
  REQUIRE(tau.is_object());
  CHECK_FALSE(ranking.contains("kendall_tau"));
  CHECK(tau["q025"].get<double>() <= tau["median"].get<double>());
  CHECK(tau["n"].get<int>() + tau["undefined"].get<int>() == 1000);
  const json& ci = team["alpha"]["stability"]["mean_ci95"]["dsc"];
  CHECK(ci["q025"].get<double>() <= team["alpha"]["dsc"]["mean"].get<double>());
  CHECK(ci["q975"].get<double>() >= team["alpha"]["dsc"]["mean"].get<double>());
  CHECK(board["teams"][2]["stability"]["gap_to_next_ci95"]["dsc"].is_null());
  CHECK(board["teams"][0]["stability"]["gap_to_next_ci95"]["nsd"].is_object());

  const std::string why = schema_validator_missing();
  if (why.empty()) {
    const auto v = validate_json("leaderboard.schema.json", {out + "/leaderboard.json"});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
    const auto s = validate_json("scores.schema.json", {out + "/scores/charlie.json", f->alpha + "/scores.json"});
    INFO(s.out << s.err);
    CHECK(s.exit_code == 0);
    const auto rr = validate_json("run-record.schema.json", {f->alpha + "/records.jsonl"});
    INFO(rr.out << rr.err);
    CHECK(rr.exit_code == 0);
  } else {
    WARN("schema validation skipped: " << why);
  }

  // The official CSVs: the same as `score --csv` writes for the team; the efficiency CSV copied as it is.
  const auto csv = run_cli("score --gt " + q(f->gt_dir) + " --pred " + q(f->alpha + "/predictions") + " --csv " +
                           q(dir / "alpha.csv") + " --quiet");
  REQUIRE(csv.exit_code == 0);
  CHECK(read_text(out + "/DSC_NSD_alpha.csv") == read_text(dir / "alpha.csv"));
  CHECK(read_text(out + "/DSC_NSD_alpha.csv").rfind("Name,Lesion_DSC,Lesion_NSD\n", 0) == 0);
  CHECK(read_text(out + "/alpha_Efficiency.csv") == read_text(f->alpha + "/efficiency.csv"));

  // Pictures: up to 3 per team, written as files and embedded in the page.
  size_t pngs = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(out) / "pictures")) pngs += e.path().extension() == ".png";
  CHECK(pngs >= 6);
  CHECK(pngs <= 9);
  const std::string html = read_text(out + "/leaderboard.html");
  CHECK(count(html, "src=\"data:image/png;base64,") == pngs);
  // Self-contained: nothing is fetched when it opens.
  CHECK(count(html, "src=\"http") == 0);
  CHECK(count(html, "<link") == 0);
}

TEST_CASE("leaderboard.html renders in headless Chromium: one row per team, charts drawn, no errors") {
  TempDir dir("report-html");
  const auto f = make_report_fixture(dir);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  if (const std::string why = chromium_missing(); !why.empty()) {
    LB_SKIP(why);
  }
  // alpha and bravo have records and samples: every chart, GPU over time included.
  const std::string out = dir / "report";
  const auto r = run_cli(report_args(*f, out));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string page = out + "/leaderboard.html";
  const auto dom = chromium(dir, "--dump-dom", page);
  INFO(dom.err.substr(0, 4000));
  REQUIRE(dom.exit_code == 0);
  const std::string& d = dom.out;
  // One row per team in the leaderboard table.
  const std::string table = between(d, "id=\"leaderboard-table\"", "</table>");
  REQUIRE_FALSE(table.empty());
  CHECK(count(between(table, "<tbody>", "</tbody>"), "<tr") == 3);
  // No script error, no console.error (errors.js counts them in body[data-errors] and lists them).
  CHECK(attribute(d, "data-errors").empty());
  CHECK(count(d, "<ul id=\"lb-errors\" hidden=\"\"></ul>") == 1);
  CHECK(dom.err.find("Uncaught") == std::string::npos);
  // Every chart panel was drawn, as SVG with marks in it.
  const size_t charts = count(d, " data-chart=\"");
  // stability, blob, Kendall's tau, 2 distributions, 2 accuracy plots, 2 GPU series (alpha, bravo), lesions x2,
  // methods, 2 significance maps, podium, 2 mean and 2 gap intervals (DSC, NSD)
  CHECK(charts == 19);
  for (const char* kind : {"methods", "significance", "blob", "tau", "podium", "mean-ci", "gap-ci"}) {
    INFO(kind);
    CHECK(count(d, std::string("data-chart=\"") + kind + "\"") >= 1);
  }
  CHECK(attribute(d, "data-charts-rendered") == std::to_string(charts));
  CHECK(count(d, "data-rendered=\"true\"") == charts);
  CHECK(count(d, "<svg") >= charts);
  CHECK(count(d, "role=\"graphics-symbol\"") > 50);
  CHECK(count(d, "class=\"empty\"") == 0);
  // Every embedded picture was decoded by the browser.
  const std::string images = attribute(d, "data-images");
  CHECK(std::stoi(images.empty() ? "0" : images) >= 6);
  CHECK(attribute(d, "data-images-decoded") == images);

  // A screenshot for people: build/test-artifacts/leaderboard.png.
  fs::create_directories(LB_ARTIFACT_DIR);
  const std::string shot = std::string(LB_ARTIFACT_DIR) + "/leaderboard.png";
  fs::remove(shot);
  const auto s = chromium(dir, "--hide-scrollbars --window-size=1280,2200 --screenshot=" + q(shot), page);
  CHECK(s.exit_code == 0);
  REQUIRE(fs::exists(shot));
  CHECK(fs::file_size(shot) > 50000);
  fs::copy_file(page, std::string(LB_ARTIFACT_DIR) + "/leaderboard.html", fs::copy_options::overwrite_existing);
}

TEST_CASE("report without the charting library still writes a page that says why it has no charts") {
  TempDir dir("report-nolib");
  const auto f = make_report_fixture(dir, 2);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  const std::string out = dir / "report";
  const auto r = run_cli(report_args(*f, out) + " --web-modules " + q(dir / "no-such-node_modules") + " --pictures 0");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("charting library was not found") != std::string::npos);
  const std::string html = read_text(out + "/leaderboard.html");
  CHECK(html.find("vegaEmbed=") == std::string::npos);
  CHECK(count(html, "class=\"gallery\"") == 0);
  if (chromium_missing().empty()) {
    const auto dom = chromium(dir, "--dump-dom", out + "/leaderboard.html");
    REQUIRE(dom.exit_code == 0);
    CHECK(attribute(dom.out, "data-errors").empty());
    CHECK(count(between(between(dom.out, "id=\"leaderboard-table\"", "</table>"), "<tbody>", "</tbody>"), "<tr") == 3);
    CHECK(count(dom.out, "the charting library (Vega-Lite from npm) was not found") >= 8);
  }
}

TEST_CASE("report --ranking test-then-rank --p-adjust holm orders the table by that method and says so") {
  TempDir dir("report-ttr");
  const auto f = make_report_fixture(dir);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  const std::string out = dir / "report";
  const auto r = run_cli("report " + q(f->alpha) + " " + q(f->bravo) + " " + q(f->charlie) + " --out " + q(out) +
                         " --gt " + q(f->gt_dir) + " --pictures 0 --ranking test-then-rank --p-adjust holm --alpha 0.1"
                         " --bootstrap 200");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("ranked by test-then-rank (one-sided Wilcoxon, alpha 0.1, p adjustment holm)") != std::string::npos);
  const json board = json::parse(read_text(out + "/leaderboard.json"));
  const json& ranking = board["ranking"];
  CHECK(ranking["method"] == "test-then-rank");
  CHECK(ranking["p_adjust"] == "holm");
  CHECK(ranking["alpha"] == 0.1);
  // The table follows test-then-rank's places, which equal the teams' test_then_rank placing.
  int previous = 0;
  for (const auto& t : board["teams"]) {
    const int place = ranking["methods"]["test-then-rank"][t["name"].get<std::string>()];
    CHECK(place == t["ranks"]["test_then_rank"]["place"]);
    CHECK(place >= previous);
    previous = place;
    int total = 0;
    for (int c : t["stability"]["place_counts"]) total += c;
    CHECK(total == 200);
  }
  // Holm: per metric, the smallest p of the 6 ordered pairs is multiplied by 6; every adjusted p >= its p.
  for (const std::string metric : {"dsc", "nsd"}) {
    double smallest = 1, smallest_adjusted = 1;
    for (const auto& s : ranking["significance"]) {
      if (s["metric"] != metric) continue;
      CHECK(s["p_adjusted"].get<double>() >= s["p"].get<double>());
      CHECK(s["significant"] == (s["p_adjusted"].get<double>() <= 0.1));
      if (s["p"].get<double>() < smallest) smallest = s["p"], smallest_adjusted = s["p_adjusted"];
    }
    CHECK(smallest_adjusted == Approx(std::min(1.0, 6 * smallest)));
  }
  if (schema_validator_missing().empty()) {
    const auto v = validate_json("leaderboard.schema.json", {out + "/leaderboard.json"});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
  }
}

TEST_CASE("report refuses unusable input with exit code 2 and a message naming the problem") {
  TempDir dir("report-bad");
  const auto f = make_report_fixture(dir, 2);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  const std::string out = dir / "report";
  // A team without scores.json and no --gt to score it.
  auto r = run_cli("report " + q(f->alpha) + " " + q(f->charlie) + " --out " + q(out));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("charlie") != std::string::npos);
  CHECK(r.err.find("no scores.json") != std::string::npos);
  // No such folder.
  r = run_cli("report " + q(dir / "nobody") + " --out " + q(out));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("nobody") != std::string::npos);
  // A malformed scores.json.
  fs::create_directories(dir / "broken");
  std::ofstream(dir / "broken/scores.json") << "{\"schema_version\": \"1.0\", \"cases\": [";
  r = run_cli("report " + q(f->alpha) + " " + q(dir / "broken") + " --out " + q(out));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("broken/scores.json") != std::string::npos);
  // Scored with another tolerance: refused unless allowed.
  const auto s = run_cli("score --gt " + q(f->gt_dir) + " --pred " + q(f->charlie + "/predictions") + " --json " +
                         q(f->charlie + "/scores.json") + " --tolerance-mm 1 --quiet");
  REQUIRE(s.exit_code == 0);
  r = run_cli("report " + q(f->alpha) + " " + q(f->charlie) + " --out " + q(out));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("different settings") != std::string::npos);
  CHECK(r.err.find("tolerance_mm") != std::string::npos);
  r = run_cli("report " + q(f->alpha) + " " + q(f->charlie) + " --out " + q(out) + " --allow-different-settings --pictures 0");
  CHECK(r.exit_code == 0);
  // Bad options.
  r = run_cli("report " + q(f->alpha) + " --out " + q(out) + " --weights dsc=1,speed=2");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("speed") != std::string::npos);
  r = run_cli("report " + q(f->alpha) + " --out " + q(out) + " --ranking rank_then_aggregate");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--ranking") != std::string::npos);
  r = run_cli("report " + q(f->alpha) + " --out " + q(out) + " --alpha 1.5");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--alpha") != std::string::npos);
  r = run_cli("report " + q(f->alpha) + " --out " + q(out) + " --p-adjust bonferroni");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--p-adjust") != std::string::npos);
  r = run_cli("report " + q(f->alpha));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--out") != std::string::npos);
}

TEST_CASE("report ranks time and GPU when every team has run records, and the allowance comes off every sample") {
  TempDir dir("report-gpu");
  const auto f = make_report_fixture(dir, 3);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  const std::string out = dir / "report";
  // The fixture's device series is 480 MiB of driver reserve plus the team's own memory, so the device-wide
  // AUC above an allowance of 480 MiB is exactly the own AUC the records hold.
  auto r = run_cli("report " + q(f->alpha) + " " + q(f->bravo) + " --out " + q(out) + " --gpu-allowance-mib 480 --pictures 0");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  json board = json::parse(read_text(out + "/leaderboard.json"));
  CHECK(board["ranking"]["metrics"] == json({"dsc", "nsd", "time_s", "gpu_auc_mib_s"}));
  CHECK(board["ranking"]["time_limit_s"] == 120.0);
  int checked = 0;
  double worst_last = 0;
  const std::string timed_out = f->cases[f->cases.size() - 2];
  for (const auto& t : board["teams"])
    for (const auto& c : t["cases"]) {
      if (c["failed"]) continue;
      CHECK(c["gpu_auc_mib_s"].get<double>() == Approx(c["run"]["gpu"]["own_auc_mib_s"].get<double>()).epsilon(1e-9));
      CHECK(c["time_s"] == c["run"]["wall_s"]);
      if (c["case"] == timed_out) worst_last = std::max(worst_last, c["gpu_auc_mib_s"].get<double>());
      ++checked;
    }
  CHECK(checked == 2 * static_cast<int>(f->cases.size()) - 1);
  for (const auto& t : board["teams"])
    for (const auto& c : t["cases"])
      if (c["failed"]) {
        CHECK(c["time_s"] == 120.0);  // the time limit
        // The worst on that case: bravo's own failed run (it ran to the limit with the most memory).
        CHECK(c["gpu_auc_mib_s"].get<double>() >= worst_last);
      }
  // The contestant's own measure, no allowance: the own AUC as recorded.
  r = run_cli("report " + q(f->alpha) + " " + q(f->bravo) + " --out " + q(out) + " --gpu-measure own --pictures 0 --bootstrap 0");
  REQUIRE(r.exit_code == 0);
  board = json::parse(read_text(out + "/leaderboard.json"));
  CHECK(board["ranking"]["gpu_measure"] == "own");
  CHECK(board["teams"][0]["stability"].is_null());
  const json& c0 = board["teams"][0]["cases"][0];
  CHECK(c0["gpu_auc_mib_s"].get<double>() == Approx(c0["run"]["gpu"]["own_auc_mib_s"].get<double>()));
  if (schema_validator_missing().empty()) CHECK(validate_json("leaderboard.schema.json", {out + "/leaderboard.json"}).exit_code == 0);
}

TEST_CASE("report reads team folders written by lesionbench run") {
  const auto sts = shared_path("data/sts-ct");
  if (!sts) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  TempDir dir("report-run");
  const fs::path cases = dir / "cases", gt = dir / "gt";
  fs::create_directories(cases);
  fs::create_directories(gt);
  for (const char* c : {"STS_001", "STS_002", "STS_004"}) {
    fs::create_symlink(*sts / "images" / (std::string(c) + "_0000.nii.gz"), cases / (std::string(c) + "_0000.nii.gz"));
    // A copy, not a link: the contestant command below reads it inside its sandbox, which shows the folder
    // named in the command but not where links in it point.
    fs::copy_file(*sts / "labels" / (std::string(c) + ".nii.gz"), gt / (std::string(c) + ".nii.gz"));
  }
  // Two contestants as plain commands: one copies the ground truth, one fails on STS_002.
  const std::string copy = "for f in {inputs}/*_0000.nii.gz; do b=$(basename $f _0000.nii.gz); ";
  const std::string good = copy + "cp " + q(gt.string()) + "/$b.nii.gz {outputs}/$b.nii.gz; sleep 0.2; done";
  const std::string flaky = copy + "[ $b = STS_002 ] && exit 3; cp " + q(gt.string()) + "/$b.nii.gz {outputs}/$b.nii.gz; done";
  for (const auto& [name, cmd] : {std::pair{"good", good}, std::pair{"flaky", flaky}}) {
    const auto r = run_cli("run --cases " + q(cases.string()) + " --out " + q(dir / name) + " --name " + name +
                           " --command " + q(cmd) + " --sandbox-ro " + q(gt.string()) + " --timeout-s 30 --gpu none --quiet");
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  const std::string out = dir / "report";
  const auto r = run_cli("report " + q(dir / "good") + " " + q(dir / "flaky") + " --out " + q(out) + " --gt " +
                         q(gt.string()) + " --cases " + q(cases.string()));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const json board = json::parse(read_text(out + "/leaderboard.json"));
  // Both have run records from per-case runs: time is ranked; no GPU here, so GPU memory is not.
  CHECK(board["ranking"]["metrics"] == json({"dsc", "nsd", "time_s"}));
  CHECK(board["ranking"]["time_limit_s"] == 30.0);
  CHECK(board["teams"][0]["name"] == "good");
  const json& flaky_team = board["teams"][1];
  CHECK(flaky_team["failed_cases"] == 1);
  for (const auto& c : flaky_team["cases"])
    if (c["case"] == "STS_002") {
      CHECK(c["run"]["status"] == "nonzero_exit");
      CHECK(c["run"]["exit_code"] == 3);
      CHECK(c["time_s"] == 30.0);
    }
  CHECK(board["teams"][0]["efficiency"]["n_records"] == 3);
  CHECK(read_text(out + "/good_Efficiency.csv") == read_text(dir / "good/efficiency.csv"));
  if (schema_validator_missing().empty()) {
    const auto v = validate_json("leaderboard.schema.json", {out + "/leaderboard.json"});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
  }
  // compare reads the same folders: the failed case is a new failure.
  fs::copy_file(out + "/scores/good.json", dir / "good/scores.json");
  fs::copy_file(out + "/scores/flaky.json", dir / "flaky/scores.json");
  const auto c = run_cli("compare " + q(dir / "good") + " " + q(dir / "flaky"));
  INFO(c.out << c.err);
  CHECK(c.exit_code == 1);
  CHECK(c.out.find("STS_002: run nonzero_exit") != std::string::npos);
}

TEST_CASE("report --gt --metrics --matching: the extra metrics in leaderboard.json and the page") {
  TempDir dir("report-metrics");
  const auto f = make_report_fixture(dir, 3);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  const std::string out = dir / "report";
  const auto r = run_cli(report_args(*f, out) + " --pictures 0 --bootstrap 0 --metrics dsc,nsd,hd95,iou --nsd-at-mm 5" +
                         " --matching hungarian");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const json board = json::parse(read_text(out + "/leaderboard.json"));
  CHECK(board["scoring"]["metrics"] == json({"dsc", "nsd", "iou", "hd95"}));
  CHECK(board["scoring"]["matching"] == "hungarian");
  CHECK(board["scoring"]["nsd_at_mm"] == json({5.0}));
  for (const auto& t : board["teams"]) {
    INFO(t["name"]);
    CHECK(t["metrics"]["hd95_mm"]["n"].get<size_t>() + t["metrics"]["hd95_mm"]["n_null"].get<size_t>() == board["cases"].size());
    if (t["name"] == "charlie") CHECK(t["metrics"]["hd95_mm"]["n_null"].get<int>() >= 1);  // its false positive on the healthy case
    CHECK(t["metrics"].contains("nsd_at_5mm"));
    CHECK(t["lesion_wise"]["pq"].is_number());
    const json& score = t["cases"][0]["score"];
    CHECK(score.contains("iou"));
    CHECK(score["nsd_at_mm"][0]["tolerance_mm"] == 5.0);
    CHECK(score["lesion_wise"].contains("fp_volume_ml"));
  }
  const std::string page = read_text(out + "/leaderboard.html");
  CHECK(page.find("HD95 (mm)") != std::string::npos);
  CHECK(page.find("NSD@5mm") != std::string::npos);
  CHECK(page.find(">PQ</th>") != std::string::npos);
  if (schema_validator_missing().empty()) {
    const auto v = validate_json("leaderboard.schema.json", {out + "/leaderboard.json"});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
  }
  // Without --gt the metrics cannot be chosen: the teams' own scores decide.
  const auto bad = run_cli("report " + q(f->alpha) + " --out " + q(dir / "r2") + " --metrics dsc,nsd,hd");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("need --gt") != std::string::npos);
  // Ranked on request: HD95 joins the ranking with its weight, and charlie's absent HD95 (a false positive on
  // the healthy case) counts as the ground truth's volume diagonal.
  const std::string ranked = dir / "ranked";
  const auto r3 = run_cli(report_args(*f, ranked) + " --pictures 0 --bootstrap 0 --metrics dsc,nsd,hd95 --weights hd95=2");
  INFO(r3.out << r3.err);
  REQUIRE(r3.exit_code == 0);
  const json rb = json::parse(read_text(ranked + "/leaderboard.json"));
  CHECK(rb["ranking"]["weights"]["hd95_mm"] == 2.0);
  CHECK(rb["ranking"]["weights"].contains("dsc"));
  // Absent values (the exact diagonal is proven in test_leaderboard) are the case's worst: one value, at least
  // every team's measured HD95 on that case.
  std::map<std::string, std::vector<double>> measured, worst;
  for (const auto& t : rb["teams"])
    for (const auto& c : t["cases"]) {
      REQUIRE(c.contains("ranked_extra"));
      const double v = c["ranked_extra"]["hd95_mm"].get<double>();
      const bool has = !c["score"].is_null() && c["score"]["hd95_mm"].is_number();
      if (has) CHECK(v == c["score"]["hd95_mm"].get<double>());
      (has ? measured : worst)[c["case"].get<std::string>()].push_back(v);
    }
  const bool worst_seen = !worst.empty();
  for (const auto& [key, values] : worst) {
    INFO(key);
    CHECK(values.front() > 0);
    for (double v : values) CHECK(v == values.front());
    for (double m : measured[key]) CHECK(m <= values.front());
  }
  CHECK(worst_seen);
  if (schema_validator_missing().empty()) {
    const auto v = validate_json("leaderboard.schema.json", {ranked + "/leaderboard.json"});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
  }
  // A metric the scores lack cannot be ranked: exit 2, saying how to score it.
  const auto lacks = run_cli(report_args(*f, dir / "r4") + " --pictures 0 --bootstrap 0 --weights masd=1");
  CHECK(lacks.exit_code == 2);
  CHECK(lacks.err.find("--metrics dsc,nsd,masd") != std::string::npos);
  CHECK(run_cli("report " + q(f->alpha) + " --out " + q(dir / "r5") + " --weights volume=1").exit_code == 2);
}
