// The scheduler with the mock launcher (no processes): every way a launch can end becomes its status, each
// record is on disk before the next case starts, --resume skips recorded cases, Ctrl-C records nothing half
// done, and efficiency.csv follows the records.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "metrics/nifti.h"
#include "runner/mock_launcher.h"
#include "runner/scheduler.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
namespace fs = std::filesystem;
namespace nifti = lb::nifti;

namespace {

// Writes a valid prediction for `name` (its input's grid) into the request's outputs folder.
void write_prediction(const LaunchRequest& r, const std::string& name) {
  const auto in = nifti::read_header((r.inputs_dir / (name + "_0000.nii.gz")).string());
  const auto h = nifti::header_like(in, nifti::kUInt8);
  std::vector<uint8_t> v(static_cast<size_t>(h.voxel_count()), 0);
  nifti::write_image((r.outputs_dir / (name + ".nii.gz")).string(), h, v.data(), 1);
}

size_t line_count(const fs::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

// The case's behaviour is in its name, as in a test contestant.
MockOutcome play_by_name(const LaunchRequest& r, const std::atomic<bool>&) {
  const std::string c = r.label;
  MockOutcome o;
  if (c.find("good") != std::string::npos) write_prediction(r, c);
  if (c.find("exit2") != std::string::npos) {
    o.exit_code = 2;
    o.stderr_last_line = "model file missing";
  }
  if (c.find("segv") != std::string::npos) o.signal = SIGSEGV, o.exit_code = 128 + SIGSEGV;
  if (c.find("shell139") != std::string::npos) o.exit_code = 139;
  if (c.find("oom") != std::string::npos) o.oom_killed = true, o.exit_code = 137;
  if (c.find("engine") != std::string::npos) o.launch_error = "the engine could not run the container";
  if (c.find("slow") != std::string::npos) o.duration_s = 30;
  if (c.find("garbage") != std::string::npos) std::ofstream(r.outputs_dir / (c + ".nii.gz")) << "garbage";
  return o;
}

struct Team {
  lb::test::TempDir tmp{"sched"};
  fs::path cases_dir = tmp.path() / "cases", team = tmp.path() / "team";
  std::vector<CaseInput> cases;
  explicit Team(const std::vector<std::string>& names) {
    for (const auto& n : names) write_case(cases_dir, n);
    cases = find_cases(cases_dir);
  }
  RunSettings settings(double timeout_s = 10) const {
    RunSettings s;
    s.team_dir = team;
    s.contestant = "mock-team";
    s.timeout_s = timeout_s;
    s.sample_ms = 20;
    return s;
  }
};

const RunRecord& find(const std::vector<RunRecord>& rs, const std::string& name) {
  for (const auto& r : rs)
    if (r.case_name == name) return r;
  FAIL("no record for " << name);
  return rs.front();
}

}  // namespace

TEST_CASE("every way a launch ends becomes its status and message", "[scheduler]") {
  Team t({"a_good", "b_exit2", "c_segv", "d_shell139", "e_oom", "f_engine", "g_slow", "h_nothing", "i_garbage"});
  MockLauncher launcher(play_by_name);
  Scheduler s(launcher, t.settings(0.3), nullptr);
  const RunSummary sum = s.run(t.cases, JournalMode::fresh_only);
  REQUIRE(sum.records.size() == 9);
  const auto& rs = sum.records;
  CHECK(find(rs, "a_good").status == RunStatus::ok);
  CHECK(find(rs, "a_good").prediction == "predictions/a_good.nii.gz");
  CHECK(fs::exists(t.team / "predictions" / "a_good.nii.gz"));
  CHECK(find(rs, "b_exit2").status == RunStatus::nonzero_exit);
  CHECK(find(rs, "b_exit2").exit_code == 2);
  CHECK_THAT(find(rs, "b_exit2").message, Catch::Contains("exit code 2") && Catch::Contains("model file missing"));
  CHECK(find(rs, "c_segv").status == RunStatus::signal);
  CHECK(find(rs, "c_segv").signal == SIGSEGV);
  CHECK_THAT(find(rs, "c_segv").message, Catch::Contains("SIGSEGV"));
  CHECK(find(rs, "d_shell139").status == RunStatus::signal);
  CHECK(find(rs, "d_shell139").signal == 11);
  CHECK(find(rs, "e_oom").status == RunStatus::oom);
  CHECK(find(rs, "f_engine").status == RunStatus::launch_error);
  CHECK(find(rs, "g_slow").status == RunStatus::timeout);
  CHECK(find(rs, "g_slow").wall_s == Approx(0.3).margin(0.2));
  CHECK_THAT(find(rs, "g_slow").message, Catch::Contains("0.3 s"));
  CHECK(find(rs, "h_nothing").status == RunStatus::no_output);
  CHECK(find(rs, "i_garbage").status == RunStatus::bad_output);
  CHECK_FALSE(find(rs, "i_garbage").prediction);
  // What a failed case wrote is kept aside for a look; the good case left nothing there.
  CHECK(fs::exists(t.team / "rejected" / "i_garbage" / "i_garbage.nii.gz"));
  CHECK_FALSE(fs::exists(t.team / "rejected" / "a_good"));
  // The journal holds the same records, and efficiency.csv a row per launched case.
  std::vector<std::string> warnings;
  const auto on_disk = read_records_jsonl((t.team / "records.jsonl").string(), &warnings);
  CHECK(warnings.empty());
  REQUIRE(on_disk.size() == 9);
  for (size_t i = 0; i < 9; ++i) CHECK(nlohmann::json(on_disk[i]) == nlohmann::json(rs[i]));
  CHECK(line_count(t.team / "efficiency.csv") == 1 + 8);  // the launch_error case is left out
  CHECK(line_count(t.team / "efficiency-own.csv") == 1 + 8);
  for (const auto& r : rs) {
    CHECK(r.provenance.contestant == "mock-team");
    CHECK(r.provenance.kind == "mock");
    CHECK(r.mode == "per_case");
  }
  CHECK(launcher.cleaned_up());
  CHECK_FALSE(fs::exists(t.team / ".work"));
}

TEST_CASE("each record is on disk before the next case starts", "[scheduler]") {
  Team t({"a_good", "b_good", "c_good"});
  MockLauncher launcher(play_by_name);
  Scheduler s(launcher, t.settings(), nullptr);
  std::vector<size_t> seen;
  RunCallbacks cb;
  cb.on_start = [&](const std::string&, size_t i, size_t) { seen.push_back(line_count(t.team / "records.jsonl")); };
  s.run(t.cases, JournalMode::fresh_only, cb);
  CHECK(seen == std::vector<size_t>{0, 1, 2});
}

TEST_CASE("resume skips recorded cases, a used team folder needs --resume or --fresh", "[scheduler]") {
  Team t({"a_good", "b_good"});
  {
    MockLauncher launcher(play_by_name);
    Scheduler s(launcher, t.settings(), nullptr);
    s.run(t.cases, JournalMode::fresh_only);
  }
  write_case(t.cases_dir, "c_good");
  const auto more = find_cases(t.cases_dir);
  {
    MockLauncher launcher(play_by_name);
    Scheduler s(launcher, t.settings(), nullptr);
    CHECK_THROWS_WITH(s.run(more, JournalMode::fresh_only), Catch::Contains("--resume") && Catch::Contains("--fresh"));
    CHECK(launcher.launches() == 0);
  }
  {
    MockLauncher launcher(play_by_name);
    Scheduler s(launcher, t.settings(), nullptr);
    const RunSummary sum = s.run(more, JournalMode::resume);
    CHECK(launcher.launches() == 1);
    CHECK(sum.skipped == 2);
    REQUIRE(sum.records.size() == 1);
    CHECK(sum.records[0].case_name == "c_good");
  }
  CHECK(line_count(t.team / "records.jsonl") == 3);
  CHECK(line_count(t.team / "efficiency.csv") == 4);
  {
    MockLauncher launcher(play_by_name);
    Scheduler s(launcher, t.settings(), nullptr);
    const RunSummary sum = s.run(more, JournalMode::start_over);
    CHECK(launcher.launches() == 3);
    CHECK(sum.skipped == 0);
  }
  CHECK(line_count(t.team / "records.jsonl") == 3);
}

TEST_CASE("two runs cannot write the same team folder at once", "[scheduler]") {
  Team t({"a_good"});
  Journal first(t.team, JournalMode::fresh_only);
  CHECK_THROWS_WITH(Journal(t.team, JournalMode::resume), Catch::Contains("in use by another lesionbench run"));
}

TEST_CASE("a torn last line from a crash is cut and its case runs again on --resume", "[scheduler]") {
  Team t({"a_good", "b_good"});
  {
    MockLauncher launcher(play_by_name);
    Scheduler s(launcher, t.settings(), nullptr);
    s.run(t.cases, JournalMode::fresh_only);
  }
  // Simulate a crash while the second record was being written.
  std::string text = lb::test::read_text((t.team / "records.jsonl").string());
  const size_t first_end = text.find('\n');
  text = text.substr(0, first_end + 1) + text.substr(first_end + 1, 40);
  std::ofstream(t.team / "records.jsonl", std::ios::trunc) << text;
  MockLauncher launcher(play_by_name);
  Scheduler s(launcher, t.settings(), nullptr);
  const RunSummary sum = s.run(t.cases, JournalMode::resume);
  CHECK(launcher.launches() == 1);
  REQUIRE(sum.records.size() == 1);
  CHECK(sum.records[0].case_name == "b_good");
  REQUIRE_FALSE(sum.notes.empty());
  CHECK_THAT(sum.notes[0], Catch::Contains("incomplete last line"));
  std::vector<std::string> warnings;
  CHECK(read_records_jsonl((t.team / "records.jsonl").string(), &warnings).size() == 2);
  CHECK(warnings.empty());
}

TEST_CASE("Ctrl-C: the case in flight is stopped and not recorded, --resume runs it again", "[scheduler]") {
  Team t({"a_good", "b_good_hangs", "c_good"});
  std::atomic<bool> stop{false};
  MockLauncher launcher([&](const LaunchRequest& r, const std::atomic<bool>& killed) {
    MockOutcome o = play_by_name(r, killed);
    if (r.label == "b_good_hangs") {
      stop.store(true);  // the user presses Ctrl-C while this case runs
      o.duration_s = 60;
    }
    return o;
  });
  Scheduler s(launcher, t.settings(), nullptr, &stop);
  const auto t0 = Clock::now();
  const RunSummary sum = s.run(t.cases, JournalMode::fresh_only);
  CHECK(std::chrono::duration<double>(Clock::now() - t0).count() < 10);
  CHECK(sum.interrupted);
  REQUIRE(sum.records.size() == 1);
  CHECK(line_count(t.team / "records.jsonl") == 1);
  CHECK(launcher.launches() == 2);
  // The interrupted case left no prediction behind.
  CHECK_FALSE(fs::exists(t.team / "predictions" / "b_good_hangs.nii.gz"));
  MockLauncher again(play_by_name);
  Scheduler s2(again, t.settings(), nullptr);
  const RunSummary sum2 = s2.run(t.cases, JournalMode::resume);
  CHECK(again.launches() == 2);
  CHECK(sum2.records.size() == 2);
  CHECK(line_count(t.team / "records.jsonl") == 3);
}

TEST_CASE("when nothing can be launched, every case is recorded as launch_error with the reason", "[scheduler]") {
  Team t({"a_good", "b_good"});
  MockLauncher launcher(play_by_name, std::string("image 'team-x:latest' not found by podman"));
  Scheduler s(launcher, t.settings(), nullptr);
  const RunSummary sum = s.run(t.cases, JournalMode::fresh_only);
  REQUIRE(sum.records.size() == 2);
  for (const auto& r : sum.records) {
    CHECK(r.status == RunStatus::launch_error);
    CHECK_THAT(r.message, Catch::Contains("team-x:latest"));
  }
  CHECK(launcher.launches() == 0);
  CHECK(line_count(t.team / "efficiency.csv") == 1);  // header only
}

TEST_CASE("batch mode: one launch for all cases, a record each, missing outputs are no_output", "[scheduler]") {
  Team t({"a", "b", "c"});
  MockLauncher launcher([](const LaunchRequest& r, const std::atomic<bool>&) {
    write_prediction(r, "a");
    write_prediction(r, "c");
    std::ofstream(r.outputs_dir / "log.txt") << "extra";
    MockOutcome o;
    o.duration_s = 0.2;
    return o;
  });
  RunSettings st = t.settings();
  st.batch = true;
  Scheduler s(launcher, st, nullptr);
  const RunSummary sum = s.run(t.cases, JournalMode::fresh_only);
  CHECK(launcher.launches() == 1);
  REQUIRE(sum.records.size() == 3);
  CHECK(find(sum.records, "a").status == RunStatus::ok);
  CHECK(find(sum.records, "b").status == RunStatus::no_output);
  CHECK(find(sum.records, "c").status == RunStatus::ok);
  for (const auto& r : sum.records) {
    CHECK(r.mode == "batch");
    CHECK(r.wall_s == Approx(0.2).margin(0.15));
    CHECK(r.files.samples == "samples/batch.csv");
  }
  CHECK_THAT(find(sum.records, "a").notes.back(), Catch::Contains("log.txt"));
  CHECK(fs::exists(t.team / "samples" / "batch.csv"));
  const std::string eff = lb::test::read_text((t.team / "efficiency.csv").string());
  CHECK(line_count(t.team / "efficiency.csv") == 2);
  CHECK_THAT(eff, Catch::Contains("\nbatch,"));
}

TEST_CASE("exit classification names the flag that set a limit", "[scheduler]") {
  RunSettings st;
  st.memory_limit_mib = 100;
  LaunchExit e;
  e.exit_code = 137;
  e.signal = SIGKILL;
  CHECK(classify_exit(e, KillReason::memory, st, 10, 150).status == RunStatus::oom);
  CHECK_THAT(classify_exit(e, KillReason::memory, st, 10, 150).message, Catch::Contains("--memory-limit-mib"));
  CHECK_THAT(classify_exit(e, KillReason::timeout, st, 10, 0).message, Catch::Contains("--timeout-s"));
  CHECK_FALSE(classify_exit(e, KillReason::timeout, st, 10, 0).check_output);
  e.signal.reset();
  e.exit_code = 0;
  CHECK(classify_exit(e, KillReason::none, st, 10, 0).status == RunStatus::ok);
}

TEST_CASE("a case whose input cannot be copied is recorded as launch_error and the run goes on", "[scheduler]") {
  Team t({"a_good", "c_good"});
  std::vector<CaseInput> cases = t.cases;
  cases.insert(cases.begin() + 1, CaseInput{"b_gone", "b_gone_0000.nii.gz", t.cases_dir / "b_gone_0000.nii.gz"});
  MockLauncher launcher(play_by_name);
  Scheduler s(launcher, t.settings(), nullptr);
  const RunSummary sum = s.run(cases, JournalMode::fresh_only);
  REQUIRE(sum.records.size() == 3);
  CHECK(sum.records[0].status == RunStatus::ok);
  CHECK(sum.records[1].status == RunStatus::launch_error);
  CHECK_THAT(sum.records[1].message, Catch::Contains("could not prepare") && Catch::Contains("b_gone_0000.nii.gz"));
  CHECK(sum.records[2].status == RunStatus::ok);
  CHECK(launcher.launches() == 2);
}
