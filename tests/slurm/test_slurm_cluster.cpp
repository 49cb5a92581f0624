// `run --backend slurm` end to end on a real one-node Slurm cluster (scripts/slurm-test-cluster.sh, started
// and stopped here; skipped without root or the Slurm packages). One test case, so that only one test
// cluster runs at a time; its scenarios overlap in time to keep it short:
//   a task that hits its Slurm time limit (started first, checked last: Slurm ends it after about a minute),
//   an array that completes, with records, predictions and scores identical to a local run,
//   --no-wait and collect (refused while running, idempotent after), scancel, then --resume,
//   a manifest of two contestants (one array each), and a cancelled container contestant (removed).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "runner/record.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
using lb::test::run_cli;
using lb::test::run_command;
using lb::test::shell_quote;
namespace fs = std::filesystem;

namespace {

struct Cluster {
  fs::path dir;
  int start_rc = -1;
  std::string output;
  explicit Cluster(fs::path d) : dir(std::move(d)) {
    const auto r = run_command("bash " + shell_quote(LB_SLURM_CLUSTER_SCRIPT) + " start " + shell_quote(dir.string()));
    start_rc = r.exit_code;
    output = r.out + r.err;
  }
  ~Cluster() { run_command("bash " + shell_quote(LB_SLURM_CLUSTER_SCRIPT) + " stop " + shell_quote(dir.string())); }
};

std::string job_of(const std::string& out) {
  const auto at = out.find("submitted slurm job ");
  if (at == std::string::npos) return {};
  return out.substr(at + 20, out.find(':', at) - at - 20);
}

std::map<std::string, RunRecord> records(const fs::path& team) {
  std::vector<std::string> warnings;
  std::map<std::string, RunRecord> out;
  for (auto& r : read_records_jsonl((team / "records.jsonl").string(), &warnings)) out[r.case_name] = r;
  CHECK(warnings.empty());
  return out;
}

// Waits until `f` holds, at most `limit_s`.
template <class F>
bool wait_for(F f, double limit_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit_s);
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return f();
}

std::string task_state(const std::string& job, int task) {
  const auto r = run_command("squeue -h -r -t all -j " + job + " -o '%K|%T'");
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);)
    if (l.rfind(std::to_string(task) + "|", 0) == 0) return l.substr(l.find('|') + 1);
  return {};
}

}  // namespace

TEST_CASE("slurm cluster: complete, identical to local, cancel and resume, no-wait and collect, time limit", "[slurm][cluster]") {
  lb::test::TempDir tmp("slurm");
  Cluster cluster(tmp.path() / "cluster");
  if (cluster.start_rc == 77) LB_SKIP(cluster.output.substr(cluster.output.find("SKIPPED: ") + 9));
  INFO(cluster.output);
  REQUIRE(cluster.start_rc == 0);
  ::setenv("SLURM_CONF", (cluster.dir / "slurm.conf").c_str(), 1);

  const fs::path cases = tmp.path() / "cases";
  const std::vector<std::string> names = {"FLARE24Val_0001", "FLARE24Val_0002", "FLARE24Val_0003", "FLARE24Val_0004"};
  for (const auto& n : names) write_case(cases, n);
  const fs::path one_case = tmp.path() / "one-case";
  write_case(one_case, "FLARE24Val_0009");
  const std::string base = "run --cases " + shell_quote(cases.string()) + " --sample-ms 50 ";

  // 1. A task that runs into its Slurm time limit (--time=1: one minute; Slurm checks limits every 30 s).
  const fs::path team_tl = tmp.path() / "team-timelimit";
  const auto tl = run_cli("run --cases " + shell_quote(one_case.string()) + " --out " + shell_quote(team_tl.string()) +
                          " --name hang --command " + shell_quote(contestant_command("hang")) +
                          " --backend slurm --no-wait --slurm-arg=--time=1");
  INFO(tl.out << tl.err);
  REQUIRE(tl.exit_code == 0);
  const std::string tl_job = job_of(tl.out);
  REQUIRE_FALSE(tl_job.empty());

  // 2. An array that completes: 4 cases, 2 per task, at most 2 tasks at once, one GPU (GRES) each.
  const fs::path team = tmp.path() / "team", local = tmp.path() / "local";
  const std::string contestant = " --name good --command " + shell_quote(contestant_command("predict"));
  const auto r = run_cli(base + "--out " + shell_quote(team.string()) + contestant +
                         " --backend slurm --cases-per-task 2 --max-running 2 --slurm-arg=--gres=gpu:1");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("0 queued, 0 running, 2 done, 0 failed (tasks); 4/4 case(s) recorded"));
  CHECK_THAT(r.out, Catch::Contains("ok 4"));
  const auto recs = records(team);
  REQUIRE(recs.size() == names.size());
  std::set<int> tasks;
  for (const auto& [name, rec] : recs) {
    CHECK(rec.status == RunStatus::ok);
    REQUIRE(rec.slurm);
    CHECK(rec.slurm->job_id == job_of(r.out));
    REQUIRE(rec.slurm->task_id);
    tasks.insert(*rec.slurm->task_id);
    CHECK(rec.slurm->node + "\n" == run_command("hostname -s").out);
    CHECK((rec.slurm->gpu == "0" || rec.slurm->gpu == "1" || rec.slurm->gpu == "2" || rec.slurm->gpu == "3"));
    // --gpu auto in a task: the GPU Slurm allocated, which the contestant gets and the sampler reads.
    REQUIRE(rec.gpu.index);
    CHECK(std::to_string(*rec.gpu.index) == rec.slurm->gpu);
    CHECK_FALSE(rec.slurm->unfinished);
    CHECK(fs::exists(team / rec.files.samples));
    CHECK(fs::exists(team / rec.files.stderr_log));
  }
  CHECK(tasks == std::set<int>{0, 1});
  CHECK(fs::exists(team / ".slurm" / "sub-1" / "job.sh"));
  CHECK(fs::exists(team / "contestant.json"));
  // The same contestant run locally: the same statuses and byte-identical predictions (so identical scores).
  const auto l = run_cli(base + "--out " + shell_quote(local.string()) + contestant);
  INFO(l.out << l.err);
  REQUIRE(l.exit_code == 0);
  const auto lrecs = records(local);
  for (const auto& n : names) {
    CHECK(lrecs.at(n).status == recs.at(n).status);
    CHECK(lb::test::read_text((local / "predictions" / (n + ".nii.gz")).string()) ==
          lb::test::read_text((team / "predictions" / (n + ".nii.gz")).string()));
  }
  // efficiency.csv: the same cases, in the same order, with the same columns.
  auto first_column = [](const fs::path& csv) {
    std::ifstream in(csv);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line.substr(0, line.find(',')));
    return out;
  };
  CHECK(first_column(team / "efficiency.csv") == first_column(local / "efficiency.csv"));
  // 3. --no-wait, collect while running (refused, exit 4), scancel, collect (idempotent), --resume.
  const fs::path flag_dir = tmp.path() / "flag";
  fs::create_directories(flag_dir);
  std::ofstream(flag_dir / "hold") << "";
  const std::string held = " --name held --sandbox-ro " + shell_quote(flag_dir.string()) + " --command " +
                           shell_quote("if [ -e " + shell_quote((flag_dir / "hold").string()) + " ]; then sleep 600; fi; " +
                                       contestant_command("predict"));
  const fs::path team2 = tmp.path() / "team2";
  const auto nw = run_cli(base + "--out " + shell_quote(team2.string()) + held + " --backend slurm --no-wait");
  INFO(nw.out << nw.err);
  REQUIRE(nw.exit_code == 0);
  const std::string job2 = job_of(nw.out);
  REQUIRE_FALSE(job2.empty());
  CHECK_THAT(nw.out, Catch::Contains("lesionbench collect"));
  // The time-limit task holds one of the two CPUs: task 0 of this array runs on the other.
  REQUIRE(wait_for([&] { return task_state(job2, 0) == "RUNNING"; }, 60));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // lesionbench has started the contestant
  const auto busy = run_cli("collect " + shell_quote(team2.string()));
  CHECK(busy.exit_code == 4);
  CHECK_THAT(busy.out, Catch::Contains("still queued or running"));
  const auto refused = run_cli(base + "--out " + shell_quote(team2.string()) + held + " --backend slurm --resume");
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("still queued or running") && Catch::Contains("scancel " + job2));
  REQUIRE(run_command("scancel " + job2).exit_code == 0);
  REQUIRE(wait_for([&] { return run_cli("collect " + shell_quote(team2.string())).exit_code == 0; }, 60));
  const std::string journal_after = lb::test::read_text((team2 / "records.jsonl").string());
  auto recs2 = records(team2);
  REQUIRE(recs2.size() == names.size());
  for (const auto& [name, rec] : recs2) {
    INFO(name << ": " << rec.message);
    CHECK(rec.status == RunStatus::launch_error);  // the running case was stopped, not failed
    REQUIRE(rec.slurm);
    CHECK(rec.slurm->unfinished);
    CHECK(rec.slurm->state == "CANCELLED");
    CHECK_THAT(rec.message, Catch::Contains("CANCELLED"));
  }
  const auto again = run_cli("collect " + shell_quote(team2.string()));
  CHECK(again.exit_code == 0);
  CHECK(lb::test::read_text((team2 / "records.jsonl").string()) == journal_after);  // idempotent
  fs::remove(flag_dir / "hold");
  const auto resumed = run_cli(base + "--out " + shell_quote(team2.string()) + held + " --backend slurm --resume");
  INFO(resumed.out << resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.out, Catch::Contains("4 case(s) to run on Slurm"));
  recs2 = records(team2);
  for (const auto& [name, rec] : recs2) {
    CHECK(rec.status == RunStatus::ok);
    REQUIRE(rec.slurm);
    CHECK_FALSE(rec.slurm->unfinished);
    CHECK(rec.slurm->job_id != job2);
  }
  CHECK(fs::exists(team2 / ".slurm" / "sub-2" / "job.sh"));
  // Nothing left to run: a further --resume submits nothing.
  const auto nothing = run_cli(base + "--out " + shell_quote(team2.string()) + held + " --backend slurm --resume");
  CHECK(nothing.exit_code == 0);
  CHECK_THAT(nothing.out, Catch::Contains("0 case(s) to run on Slurm (4 already recorded)"));

  // 4. A manifest: one array per contestant, each merged into its own team folder.
  const fs::path manifest = tmp.path() / "contestants.json", results = tmp.path() / "results";
  std::ofstream(manifest) << nlohmann::json{
      {"schema_version", "1.0"},
      {"contestants", {{{"name", "m-good"}, {"command", contestant_command("predict")}},
                       {{"name", "m-bad"}, {"command", contestant_command("exit3")}}}}}.dump();
  const auto man = run_cli("run --cases " + shell_quote(one_case.string()) + " --out " + shell_quote(results.string()) +
                           " --manifest " + shell_quote(manifest.string()) + " --backend slurm");
  INFO(man.out << man.err);
  REQUIRE(man.exit_code == 0);
  const auto good = records(results / "m-good"), bad = records(results / "m-bad");
  REQUIRE(good.size() == 1);
  REQUIRE(bad.size() == 1);
  CHECK(good.begin()->second.status == RunStatus::ok);
  CHECK(good.begin()->second.provenance.contestant == "m-good");
  CHECK(bad.begin()->second.status == RunStatus::nonzero_exit);
  CHECK(bad.begin()->second.provenance.contestant == "m-bad");
  REQUIRE(good.begin()->second.slurm);
  REQUIRE(bad.begin()->second.slurm);
  CHECK(good.begin()->second.slurm->job_id != bad.begin()->second.slurm->job_id);

  // 5. A container contestant cancelled while it runs: the task's lesionbench removes its container.
  if (podman_probe().ok) {
    TestImage img("hang");
    REQUIRE(img.ok());
    const fs::path ccases = tmp.path() / "container-case", team_c = tmp.path() / "team-container";
    write_case(ccases, "FLARE24Val_0777");
    const auto c = run_cli("run --cases " + shell_quote(ccases.string()) + " --out " + shell_quote(team_c.string()) +
                           " --name boxed --image " + shell_quote(img.tag()) +
                           " --engine podman --memory 1g --shm-size 64m --backend slurm --no-wait");
    INFO(c.out << c.err);
    REQUIRE(c.exit_code == 0);
    const std::string cjob = job_of(c.out);
    const std::string prefix = "lesionbench-FLARE24Val_0777";
    CHECK(wait_for([&] { return !containers_named(prefix).empty(); }, 90));
    REQUIRE(run_command("scancel " + cjob).exit_code == 0);
    REQUIRE(wait_for([&] { return run_cli("collect " + shell_quote(team_c.string())).exit_code == 0; }, 90));
    CHECK(wait_for([&] { return containers_named(prefix).empty(); }, 10));
    const auto crecs = records(team_c);
    REQUIRE(crecs.size() == 1);
    REQUIRE(crecs.begin()->second.slurm);
    CHECK(crecs.begin()->second.slurm->state == "CANCELLED");
  } else {
    WARN("skipped the container scenario: " << podman_probe().why);
  }

  // 6. The time limit: Slurm ends the task (TIMEOUT); its case is unfinished and says so.
  REQUIRE(wait_for([&] { return run_cli("collect " + shell_quote(team_tl.string())).exit_code == 0; }, 150));
  const auto tl_recs = records(team_tl);
  REQUIRE(tl_recs.size() == 1);
  const RunRecord& t = tl_recs.begin()->second;
  INFO(t.message);
  CHECK(t.status == RunStatus::launch_error);
  REQUIRE(t.slurm);
  CHECK(t.slurm->unfinished);
  CHECK(t.slurm->state == "TIMEOUT");
  CHECK_THAT(t.message, Catch::Contains("TIMEOUT"));
  CHECK(t.slurm->job_id == tl_job);
}
