// Team folders made by an attacker, as real folders on disk: made-up cases in scores.json and records.jsonl,
// case names that climb out of --out, team names that collide, records changed after the run, and the
// wrong --gt. Each of these got past `report` at 992f10f (issue 11, items 6-10).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "reports/names.h"
#include "tests/reports/report_fixtures.h"

namespace fs = std::filesystem;
using namespace lb::test;
using nlohmann::json;

namespace {

std::string q(const std::string& s) { return shell_quote(s); }

json read_json(const std::string& path) { return json::parse(read_text(path)); }

void write_text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  return lines;
}

std::map<std::string, json> teams_of(const json& board) {
  std::map<std::string, json> t;
  for (const auto& x : board["teams"]) t[x["name"]] = x;
  return t;
}

const json* case_of(const json& team, const std::string& key) {
  for (const auto& c : team["cases"])
    if (c["case"] == key) return &c;
  return nullptr;
}

// Every regular file under `root`, as absolute paths.
std::set<std::string> files_under(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.insert(fs::absolute(e.path()).lexically_normal().string());
  return out;
}

}  // namespace

TEST_CASE("names read from files: one component, no separators, no dot-dot, no control characters") {
  using lb::file_name_problem;
  CHECK(file_name_problem("FLARE24Val_0001.nii.gz").empty());
  CHECK(file_name_problem("team a (2).png").empty());
  CHECK_FALSE(file_name_problem("").empty());
  CHECK_FALSE(file_name_problem(".").empty());
  CHECK_FALSE(file_name_problem("..").empty());
  CHECK_FALSE(file_name_problem("../x").empty());
  CHECK_FALSE(file_name_problem("/tmp/x").empty());
  CHECK_FALSE(file_name_problem("a\\b").empty());
  CHECK_FALSE(file_name_problem("a\nb").empty());
  CHECK_FALSE(file_name_problem(std::string("a\0b", 3)).empty());
  CHECK_FALSE(file_name_problem(std::string(256, 'a')).empty());
  CHECK(lb::path_in("/out", "x.png", "case") == fs::path("/out/x.png"));
  CHECK_THROWS_WITH(lb::path_in("/out", "../../tmp/x.png", "case"), Catch::Contains("../../tmp/x.png") && Catch::Contains("separator"));
  CHECK_THROWS_WITH(lb::path_in("/out", "a\x1b[2Jb", "case"), Catch::Contains("\\x1b"));
  CHECK(lb::relative_path_in("/team", "samples/STS_001.csv", "files.samples") == fs::path("/team/samples/STS_001.csv"));
  for (const char* bad : {"../samples/x.csv", "samples/../../x.csv", "/etc/passwd", "samples//x.csv", "samples/", ""})
    CHECK_THROWS_AS(lb::relative_path_in("/team", bad, "files.samples"), lb::UnsafeName);
}

TEST_CASE("report --gt: a team that adds made-up ok cases to scores.json and records.jsonl does not come first") {
  TempDir dir("attack-forged");
  const auto f = make_report_fixture(dir, 2);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  // forger: bravo's predictions (shifted, one timeout), with a scores.json that says every case is perfect
  // plus three made-up cases, and records.jsonl with those cases run ok in 0.01 s.
  const std::string forger = dir / "forger";
  fs::copy(f->bravo, forger, fs::copy_options::recursive);
  json scores = read_json(forger + "/scores.json");
  json extra = json::array();
  for (auto& c : scores["cases"]) {
    c["status"] = "ok", c["dsc"] = 1.0, c["nsd"] = 1.0, c["dsc_rounded"] = 1.0, c["nsd_rounded"] = 1.0, c["message"] = "";
    c["rule"] = "computed";
  }
  std::string records = read_text(forger + "/records.jsonl");
  const json first_record = json::parse(lines_of(records).front());
  for (const char* fake : {"FAKE_001", "FAKE_002", "FAKE_003"}) {
    json c = scores["cases"][0];
    c["case"] = std::string(fake) + ".nii.gz";
    extra.push_back(c);
    json r = first_record;
    r["case"] = fake, r["image"] = std::string(fake) + "_0000.nii.gz", r["status"] = "ok", r["wall_s"] = 0.01;
    records += r.dump() + "\n";
  }
  for (auto& c : extra) scores["cases"].push_back(c);
  write_text(forger + "/scores.json", scores.dump());
  write_text(forger + "/records.jsonl", records);

  const std::string out = dir / "report";
  const auto r = run_cli("report " + q(f->alpha) + " " + q(f->bravo) + " " + q(forger) + " --out " + q(out) + " --gt " +
                         q(f->gt_dir) + " --pictures 0 --bootstrap 0");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const json board = read_json(out + "/leaderboard.json");
  // The cases are the ground truth's, not the union of what teams claim.
  REQUIRE(board["cases"].size() == f->cases.size());
  for (const auto& c : board["cases"]) CHECK(c.dump().find("FAKE") == std::string::npos);
  auto team = teams_of(board);
  CHECK(board["teams"][0]["name"] == "alpha");
  CHECK(team["forger"]["ranks"]["rank_then_aggregate"]["place"].get<int>() > 1);
  // forger was scored on its predictions: the same as bravo, whose files they are.
  CHECK(team["forger"]["summary"]["mean_dsc"] == team["bravo"]["summary"]["mean_dsc"]);
  CHECK(team["forger"]["failed_cases"] == team["bravo"]["failed_cases"]);
  CHECK(team["alpha"]["failed_cases"] == 0);
  // The claims were seen and named.
  CHECK(r.err.find("forger") != std::string::npos);
  CHECK(r.err.find("FAKE_001, FAKE_002, FAKE_003") != std::string::npos);
  CHECK(r.err.find("not in the ground truth") != std::string::npos);
  // The official CSV of forger holds the scores made now, not its own.
  CHECK(read_text(out + "/DSC_NSD_forger.csv") == read_text(out + "/DSC_NSD_bravo.csv"));
  // --rescore is still accepted (it is what --gt does now), with a note.
  const auto old = run_cli("report " + q(f->alpha) + " " + q(forger) + " --out " + q(dir / "report2") + " --gt " +
                           q(f->gt_dir) + " --pictures 0 --bootstrap 0 --rescore");
  CHECK(old.exit_code == 0);
  CHECK(old.err.find("--rescore has no effect") != std::string::npos);
}

TEST_CASE("report: case names from a team's files never become paths outside --out") {
  TempDir dir("attack-paths");
  const auto f = make_report_fixture(dir, 2);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  // The attacker's layout: cases and ground truth three folders deep, so that "../../../evil/X" from each of
  // them, and from REPORT_DIR/pictures/<team>/, lands in dir/evil.
  const fs::path root = dir.path();
  const fs::path cases = root / "c1/c2/c3", gt = root / "g1/g2/g3", evil = root / "evil";
  fs::create_directories(cases);
  fs::create_directories(gt);
  fs::create_directories(evil);
  const std::string real = f->cases[0];
  fs::create_symlink(fs::path(f->cases_dir) / (real + "_0000.nii.gz"), evil / "X_0000.nii.gz");
  fs::copy_file(fs::path(f->gt_dir) / (real + ".nii.gz"), evil / "X.nii.gz");
  const std::string team = dir / "intruder";
  fs::copy(f->alpha, team, fs::copy_options::recursive);
  json scores = read_json(team + "/scores.json");
  scores["settings"]["gt_dir"] = gt.string();
  json c = scores["cases"][0];
  c["case"] = "../../../evil/X.nii.gz", c["dsc"] = 0.0, c["nsd"] = 0.0, c["dsc_rounded"] = 0.0, c["nsd_rounded"] = 0.0;
  scores["cases"].push_back(c);
  json d = c;
  d["case"] = "/tmp/lesionbench-absolute-" + std::to_string(::getpid()) + ".nii.gz";
  scores["cases"].push_back(d);
  write_text(team + "/scores.json", scores.dump());
  // A run record whose sample path climbs out of the team folder.
  auto recs = lines_of(read_text(team + "/records.jsonl"));
  json r0 = json::parse(recs[0]);
  r0["files"]["samples"] = "../../evil/samples.csv";
  recs[0] = r0.dump();
  std::string joined;
  for (const auto& l : recs) joined += l + "\n";
  write_text(team + "/records.jsonl", joined);

  const auto before = files_under(root);
  const std::string out = dir / "o";
  const auto r = run_cli("report " + q(team) + " --out " + q(out) + " --cases " + q(cases.string()) +
                         " --bootstrap 0 --gpu-allowance-mib 100");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(fs::exists(evil / "X.png"));
  CHECK_FALSE(fs::exists("/tmp/lesionbench-absolute-" + std::to_string(::getpid()) + ".png"));
  // Every new file is under --out.
  const std::string out_abs = fs::absolute(out).lexically_normal().string() + "/";
  for (const auto& file : files_under(root))
    if (!before.count(file)) CHECK(file.rfind(out_abs, 0) == 0);
  // The names were refused, with a word on stderr, and the case is not on the leaderboard.
  CHECK(r.err.find("../../../evil/X.nii.gz") != std::string::npos);
  CHECK(r.err.find("cannot be a file name") != std::string::npos);
  CHECK(r.err.find("../../evil/samples.csv") != std::string::npos);
  const json board = read_json(out + "/leaderboard.json");
  CHECK(board["cases"].size() == f->cases.size());
}

TEST_CASE("report: team names that map to one file name are refused with exit code 2, naming both") {
  TempDir dir("attack-names");
  const auto f = make_report_fixture(dir, 2);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  for (const char* name : {"team a", "team_a", "team?a"}) fs::copy(f->charlie, dir / name, fs::copy_options::recursive);
  const std::string out = dir / "report";
  auto r = run_cli("report " + q(dir / "team a") + " " + q(dir / "team_a") + " " + q(dir / "team?a") + " --out " + q(out) +
                   " --gt " + q(f->gt_dir) + " --pictures 0 --bootstrap 0");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'team a'") != std::string::npos);
  CHECK(r.err.find("'team_a'") != std::string::npos);
  CHECK(r.err.find("team_a") != std::string::npos);
  CHECK_FALSE(fs::exists(out));  // refused before anything was written
  // Two of them are enough; names that stay distinct are fine.
  r = run_cli("report " + q(dir / "team?a") + " " + q(dir / "team_a") + " --out " + q(out) + " --gt " + q(f->gt_dir) +
              " --pictures 0");
  CHECK(r.exit_code == 2);
  r = run_cli("report " + q(dir / "team a") + " " + q(f->charlie) + " --out " + q(out) + " --gt " + q(f->gt_dir) +
              " --pictures 0 --bootstrap 0");
  CHECK(r.exit_code == 0);
}

TEST_CASE("report --gt that matches no prediction says so loudly: exit 2 when no team matches") {
  TempDir dir("attack-nomatch");
  const auto f = make_report_fixture(dir, 2);
  if (!f) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  // Another ground truth: the same masks under other case names.
  const fs::path other = dir.path() / "other-gt";
  fs::create_directories(other);
  for (const auto& key : f->cases) fs::copy_file(fs::path(f->gt_dir) / (key + ".nii.gz"), other / ("OTHER_" + key + ".nii.gz"));
  const std::string out = dir / "report";
  auto r = run_cli("report " + q(f->alpha) + " " + q(f->charlie) + " --out " + q(out) + " --gt " + q(other.string()) +
                   " --pictures 0 --bootstrap 0");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("nothing matched") != std::string::npos);
  CHECK(r.err.find(other.string()) != std::string::npos);
  // One team whose predictions are named otherwise: it fails every case, and that is said, not silent.
  const fs::path stranger = dir.path() / "stranger";
  fs::create_directories(stranger / "predictions");
  fs::copy_file(fs::path(f->alpha) / "predictions" / (f->cases[0] + ".nii.gz"), stranger / "predictions/SOMETHING_ELSE.nii.gz");
  r = run_cli("report " + q(f->alpha) + " " + q(stranger.string()) + " --out " + q(out) + " --gt " + q(f->gt_dir) +
              " --pictures 0 --bootstrap 0");
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("NOTHING MATCHED for stranger") != std::string::npos);
  CHECK(r.err.find("1 prediction(s) in predictions/ have no ground truth") != std::string::npos);
}

TEST_CASE("run --sign-key and report --verify-key: records changed or added after the run are refused") {
  const auto sts = shared_path("data/sts-ct");
  if (!sts) {
    LB_SKIP("../shared/data/sts-ct is absent");
  }
  TempDir dir("attack-signed");
  const fs::path cases = dir.path() / "cases", gt = dir.path() / "gt";
  fs::create_directories(cases);
  fs::create_directories(gt);
  for (const char* c : {"STS_001", "STS_002", "STS_004"}) {
    fs::create_symlink(*sts / "images" / (std::string(c) + "_0000.nii.gz"), cases / (std::string(c) + "_0000.nii.gz"));
    // A copy, not a link: the contestant command below reads it inside its sandbox, which shows the folder
    // named in the command but not where links in it point.
    fs::copy_file(*sts / "labels" / (std::string(c) + ".nii.gz"), gt / (std::string(c) + ".nii.gz"));
  }
  const std::string key = dir / "organiser.key", other_key = dir / "other.key";
  write_text(key, "0123456789abcdef0123456789abcdef");
  write_text(other_key, "fedcba9876543210fedcba9876543210");
  // good copies the ground truth; late writes its prediction of STS_002 and then exits 3 (the runner keeps
  // the valid file: it is scored, as the organisers score whatever file exists).
  const std::string copy = "for f in {inputs}/*_0000.nii.gz; do b=$(basename $f _0000.nii.gz); cp " + q(gt.string()) +
                           "/$b.nii.gz {outputs}/$b.nii.gz; ";
  const std::string good = copy + "done", late = copy + "[ $b = STS_002 ] && exit 3; true; done";
  for (const auto& [name, cmd] : {std::pair{"good", good}, std::pair{"late", late}}) {
    const auto r = run_cli("run --cases " + q(cases.string()) + " --out " + q(dir / name) + " --name " + name + " --command " +
                           q(cmd) + " --sandbox-ro " + q(gt.string()) + " --timeout-s 30 --gpu none --quiet --sign-key " + q(key));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  for (const auto& line : lines_of(read_text(dir / "good/records.jsonl")))
    CHECK(json::parse(line).at("signature").get<std::string>().rfind("hmac-sha256:", 0) == 0);
  if (schema_validator_missing().empty()) {
    const auto v = validate_json("run-record.schema.json", {dir / "good/records.jsonl"});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
  }

  // Signed and untouched: every record verifies; late's STS_002 counts with the score of its kept prediction.
  const std::string out = dir / "report";
  auto r = run_cli("report " + q(dir / "good") + " " + q(dir / "late") + " --out " + q(out) + " --gt " + q(gt.string()) +
                   " --verify-key " + q(key) + " --pictures 0 --bootstrap 0");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("refused") == std::string::npos);
  json board = read_json(out + "/leaderboard.json");
  auto team = teams_of(board);
  const json* kept = case_of(team["late"], "STS_002");
  REQUIRE(kept);
  CHECK((*kept)["run"]["status"] == "nonzero_exit");
  CHECK((*kept)["failed"] == false);
  CHECK((*kept)["dsc"] == 1.0);
  CHECK(team["late"]["failed_cases"] == 0);
  CHECK(read_text(out + "/DSC_NSD_late.csv").find("STS_002.nii.gz,1.0,1.0") != std::string::npos);
  // The efficiency CSV is written from the signed records: the runner's own file, byte for byte.
  CHECK(read_text(out + "/good_Efficiency.csv") == read_text(dir / "good/efficiency.csv"));

  // forger: good's folder with one record made faster and one replaced by an unsigned line.
  const fs::path forger = dir.path() / "forger";
  fs::copy(dir.path() / "good", forger, fs::copy_options::recursive);
  auto lines = lines_of(read_text(forger / "records.jsonl"));
  REQUIRE(lines.size() == 3);
  std::string text;
  for (auto& line : lines) {
    json j = json::parse(line);
    if (j["case"] == "STS_001") {  // altered: a smaller wall_s, signature kept
      const std::string wall = "\"wall_s\":" + j["wall_s"].dump();
      line.replace(line.find(wall), wall.size(), "\"wall_s\":0.001");
    } else if (j["case"] == "STS_002") {  // unsigned: rewritten without the signature
      j.erase("signature");
      j["wall_s"] = 0.001;
      line = j.dump();
    }
    text += line + "\n";
  }
  write_text(forger / "records.jsonl", text);
  r = run_cli("report " + q(dir / "good") + " " + q(forger.string()) + " --out " + q(out) + " --gt " + q(gt.string()) +
              " --verify-key " + q(key) + " --pictures 0 --bootstrap 0");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("forger: 2 run record(s)") != std::string::npos);
  CHECK(r.err.find("STS_001 (altered)") != std::string::npos);
  CHECK(r.err.find("STS_002 (unsigned)") != std::string::npos);
  board = read_json(out + "/leaderboard.json");
  team = teams_of(board);
  CHECK(board["teams"][0]["name"] == "good");
  CHECK(team["forger"]["failed_cases"] == 2);
  CHECK((*case_of(team["forger"], "STS_001"))["failure"] == "run record refused by --verify-key: altered");
  CHECK((*case_of(team["forger"], "STS_004"))["failed"] == false);
  // Its efficiency CSV has only the signed record.
  CHECK(lines_of(read_text(out + "/forger_Efficiency.csv")).size() == 2);
  // Without --verify-key the forged figures would be believed: the threat model says so (docs/security.md).
  r = run_cli("report " + q(dir / "good") + " " + q(forger.string()) + " --out " + q(out) + " --gt " + q(gt.string()) +
              " --pictures 0 --bootstrap 0");
  CHECK(r.exit_code == 0);
  CHECK(read_json(out + "/leaderboard.json")["teams"][0]["name"] == "forger");
  // The wrong key refuses every record; an unreadable or short key is unusable input.
  r = run_cli("report " + q(dir / "good") + " --out " + q(out) + " --gt " + q(gt.string()) + " --verify-key " + q(other_key) +
              " --pictures 0 --bootstrap 0");
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("good: 3 run record(s)") != std::string::npos);
  write_text(dir / "short.key", "short");
  r = run_cli("report " + q(dir / "good") + " --out " + q(out) + " --gt " + q(gt.string()) + " --verify-key " + q(dir / "short.key"));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("short.key") != std::string::npos);
  r = run_cli("run --cases " + q(cases.string()) + " --out " + q(dir / "x") + " --command true --sign-key " + q(dir / "absent.key"));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("absent.key") != std::string::npos);
}
