// The Slurm backend's pure parts, no cluster needed: shards, the job script and sbatch's command line,
// Slurm's answers (sbatch, squeue, sacct), the job file, O_EXCL lock files, and the merge of shard journals
// into the team folder (idempotent; unfinished cases with Slurm's state; signatures kept).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runner/hmac.h"
#include "runner/journal.h"
#include "runner/slurm.h"
#include "runner/util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::runner::slurm;
namespace fs = std::filesystem;

namespace {

std::vector<ShardCase> cases(int n) {
  std::vector<ShardCase> out;
  for (int i = 1; i <= n; ++i) {
    const std::string name = "C" + std::to_string(i);
    out.push_back({name, name + "_0000.nii.gz"});
  }
  return out;
}

JobFile sample_job(const fs::path& team) {
  JobFile job;
  job.submission = 1;
  job.contestant = "team-a";
  job.lesionbench_version = "0.1.0 (abc)";
  job.lesionbench_path = "/opt/lb dir/bin/lesionbench";  // a space: quoting must hold
  job.cases_dir = "/data/cases";
  job.team_dir = team.string();
  job.run_args = {"--cases", "/data/cases", "--out", team.string(), "--command", "x {inputs} {outputs}"};
  job.shards = make_shards(cases(3), 1);
  job.sbatch_args = {"--partition=gpu", "--gres=gpu:1"};
  job.max_running = 2;
  job.job_id = "77";
  return job;
}

// A record as a task writes it into its shard journal.
RunRecord shard_record(const std::string& name, int task, bool with_prediction) {
  RunRecord r;
  r.case_name = name;
  r.image = name + "_0000.nii.gz";
  r.status = RunStatus::ok;
  r.wall_s = 1.5;
  r.started_at = "2026-11-29T10:00:0" + std::to_string(task) + ".000Z";
  if (with_prediction) r.prediction = "predictions/" + name + ".nii.gz";
  r.files = {"samples/" + name + ".csv", "logs/" + name + ".stdout.txt", "logs/" + name + ".stderr.txt"};
  r.slurm = SlurmPlacement{"77", task, "node1", "0", false, "", ""};
  return r;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("slurm: shards keep the case order, at most K cases each", "[slurm]") {
  const auto s = make_shards(cases(5), 2);
  REQUIRE(s.size() == 3);
  CHECK(s[0].size() == 2);
  CHECK(s[2].size() == 1);
  CHECK(s[0][0].name == "C1");
  CHECK(s[1][1].name == "C4");
  CHECK(s[2][0].name == "C5");
  CHECK(make_shards(cases(3), 0).size() == 3);  // K < 1 is taken as 1
  CHECK(make_shards({}, 4).empty());
}

TEST_CASE("slurm: the job script is valid bash with the array, the throttle and the task command", "[slurm]") {
  lb::test::TempDir tmp("slurm-script");
  const JobFile job = sample_job(tmp.path() / "team");
  const fs::path sub = tmp.path() / "team" / ".slurm" / "sub-1";
  const std::string script = job_script(job, sub / "job.json");
  CHECK_THAT(script, Catch::StartsWith("#!/bin/bash\n"));
  CHECK_THAT(script, Catch::Contains("#SBATCH --array=0-2%2\n"));
  CHECK_THAT(script, Catch::Contains("#SBATCH --job-name=lb-team-a\n"));
  CHECK_THAT(script, Catch::Contains("LB='/opt/lb dir/bin/lesionbench'"));
  CHECK_THAT(script, Catch::Contains("exec \"$LB\" run --slurm-task \"$JOB\""));
  CHECK_THAT(script, Catch::Contains(std::string("export ") + kTaskEnv + "=1"));
  CHECK_THAT(script, Catch::Contains("does not see the team folder"));
  std::ofstream(tmp / "job.sh") << script;
  CHECK(lb::test::run_command("bash -n " + lb::test::shell_quote(tmp / "job.sh")).exit_code == 0);
  // Without a throttle: no %.
  JobFile open = job;
  open.max_running = 0;
  CHECK_THAT(job_script(open, sub / "job.json"), Catch::Contains("#SBATCH --array=0-2\n"));

  const auto argv = sbatch_argv(job, sub, sub / "job.sh");
  REQUIRE(argv.size() == 6);
  CHECK(argv[1] == "--parsable");
  CHECK(argv[2] == "--output=" + (sub / "slurm-%A_%a.out").string());
  CHECK(argv[3] == "--partition=gpu");  // the user's options after ours: they win
  CHECK(argv[4] == "--gres=gpu:1");
  CHECK(argv[5] == (sub / "job.sh").string());
}

TEST_CASE("slurm: sbatch, squeue and sacct answers are parsed, other jobs ignored", "[slurm]") {
  CHECK(parse_sbatch_job_id("1234\n") == "1234");
  CHECK(parse_sbatch_job_id("1234;cluster2\n") == "1234");
  CHECK(parse_sbatch_job_id("sbatch: error: Batch job submission failed\n").empty());
  CHECK(parse_sbatch_job_id("").empty());

  const std::string squeue =
      "77|0|RUNNING|None|node1\n"
      "77|1|COMPLETED|None|node2\n"
      "78|0|RUNNING|None|node9\n"  // another job
      "77|[4-6%2]|PENDING|JobArrayTaskLimit|\n"
      "77|8,10|PENDING|Priority|\n"
      "garbage line\n";
  const auto s = parse_squeue(squeue, "77");
  REQUIRE(s.size() == 7);
  CHECK(s.at(0).state == "RUNNING");
  CHECK(s.at(0).node == "node1");
  CHECK(s.at(1).state == "COMPLETED");
  CHECK(s.at(5).state == "PENDING");
  CHECK(s.at(5).reason == "JobArrayTaskLimit");
  CHECK(s.count(10) == 1);
  CHECK(s.count(3) == 0);
  CHECK(is_active("PENDING"));
  CHECK(is_active("RUNNING"));
  CHECK(is_active("COMPLETING"));
  CHECK_FALSE(is_active("COMPLETED"));
  CHECK_FALSE(is_active("TIMEOUT"));
  CHECK_FALSE(is_active("OUT_OF_MEMORY"));
  CHECK_FALSE(is_active(""));

  const auto a = parse_sacct("77_3|CANCELLED by 0|node1\n77_4|NODE_FAIL|node2\n771_3|COMPLETED|x\n", "77");
  REQUIRE(a.size() == 2);
  CHECK(a.at(3).state == "CANCELLED");
  CHECK(a.at(3).reason == "by 0");
  CHECK(a.at(4).state == "NODE_FAIL");
}

TEST_CASE("slurm: the job file round-trips and a bad one is named", "[slurm]") {
  lb::test::TempDir tmp("slurm-job");
  const JobFile job = sample_job(tmp.path());
  write_job_file(tmp.path() / "job.json", job);
  const JobFile back = read_job_file(tmp.path() / "job.json");
  CHECK(back.contestant == "team-a");
  CHECK(back.run_args == job.run_args);
  CHECK(back.sbatch_args == job.sbatch_args);
  REQUIRE(back.shards.size() == 3);
  CHECK(back.shards[2][0].image == "C3_0000.nii.gz");
  CHECK(back.job_id == "77");
  std::ofstream(tmp / "bad.json") << "{\"schema_version\": \"1.0\"}";
  CHECK_THROWS_WITH(read_job_file(tmp.path() / "bad.json"), Catch::Contains("bad.json"));
  CHECK_THROWS_WITH(read_job_file(tmp.path() / "none.json"), Catch::Contains("none.json"));
}

TEST_CASE("slurm: lock files exclude a second holder, stale ones of this host are taken over", "[slurm]") {
  lb::test::TempDir tmp("slurm-lock");
  const fs::path lock = tmp.path() / "x.lock";
  std::vector<std::string> notes;
  {
    LockFile held(lock, "submitter", &notes);
    CHECK(fs::exists(lock));
    CHECK_THROWS_AS(LockFile(lock, "collect", &notes), SetupError);
    CHECK_THROWS_WITH(LockFile(lock, "collect", &notes), Catch::Contains(std::to_string(::getpid())));
  }
  CHECK_FALSE(fs::exists(lock));  // released
  // A lock of a process of this host that is gone.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  std::ofstream(lock) << host_name() << " " << child << " submitter\n";
  {
    LockFile taken(lock, "collect", &notes);
    REQUIRE(notes.size() == 1);
    CHECK_THAT(notes[0], Catch::Contains("that process is gone"));
  }
  // Another host's lock is kept, unless it is the same Slurm task (requeued).
  std::ofstream(lock) << "some-other-host 1 job 77 task 3\n";
  CHECK_THROWS_WITH(LockFile(lock, "job 77 task 4", &notes, "job 77 task 4"), Catch::Contains("some-other-host"));
  LockFile requeued(lock, "job 77 task 3", &notes, "job 77 task 3");
  CHECK_THAT(notes.back(), Catch::Contains("requeued"));
}

TEST_CASE("slurm: merging shards moves records and files, writes unfinished cases once, keeps signatures", "[slurm]") {
  lb::test::TempDir tmp("slurm-merge");
  const fs::path team = tmp.path() / "team";
  const fs::path sub = team / kSlurmDir / "sub-1";
  JobFile job = sample_job(team);  // three tasks of one case: C1, C2, C3
  const std::string key = "0123456789abcdef0123";
  job.signed_records = true;
  // Task 0 finished C1 (signed shard journal, a prediction, samples, logs); task 1 recorded nothing
  // (cancelled while C2 ran); task 2 never ran.
  {
    Journal j(sub / "task-0", JournalMode::fresh_only);
    j.set_sign_key(key);
    j.append(shard_record("C1", 0, true));
  }
  fs::create_directories(sub / "task-0" / "predictions");
  fs::create_directories(sub / "task-0" / "samples");
  fs::create_directories(sub / "task-0" / "logs");
  std::ofstream(sub / "task-0" / "predictions" / "C1.nii.gz") << "pred";
  std::ofstream(sub / "task-0" / "samples" / "C1.csv") << "t_s\n";
  std::ofstream(sub / "task-0" / "logs" / "C1.stdout.txt") << "out";
  fs::create_directories(sub / "task-1");
  std::ofstream(sub / "task-1" / "records.jsonl") << "{\"case\":\"C2\",\"torn";  // a torn line: not a record
  const std::string shard_line = lines_of(sub / "task-0" / "records.jsonl").at(0);

  QueryResult q;
  q.known = true;
  q.tasks[0] = {"COMPLETED", "None", "node1"};
  q.tasks[1] = {"CANCELLED", "None", "node2"};
  // task 2: Slurm no longer knows it.
  const MergeSummary m = merge_submission(team, sub, job, q, key);
  CHECK(m.merged == 1);
  CHECK(m.unfinished == 2);
  const auto lines = lines_of(team / "records.jsonl");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == shard_line);  // the task's bytes, signature included
  for (const auto& l : lines) CHECK(check_record_line(l, key) == LineSignature::valid);
  CHECK(lb::test::read_text((team / "predictions" / "C1.nii.gz").string()) == "pred");
  CHECK(fs::exists(team / "samples" / "C1.csv"));
  CHECK(fs::exists(team / "logs" / "C1.stdout.txt"));
  CHECK_FALSE(fs::exists(sub / "task-0" / "predictions" / "C1.nii.gz"));

  std::vector<std::string> warnings;
  auto recs = read_records_jsonl((team / "records.jsonl").string(), &warnings);
  REQUIRE(recs.size() == 3);
  CHECK(recs[0].case_name == "C1");
  CHECK(recs[0].status == RunStatus::ok);
  REQUIRE(recs[0].slurm);
  CHECK_FALSE(recs[0].slurm->unfinished);
  CHECK(recs[0].slurm->node == "node1");
  CHECK(recs[1].case_name == "C2");
  CHECK(recs[1].status == RunStatus::launch_error);
  REQUIRE(recs[1].slurm);
  CHECK(recs[1].slurm->unfinished);
  CHECK(recs[1].slurm->state == "CANCELLED");
  CHECK(recs[1].slurm->task_id == 1);
  CHECK_THAT(recs[1].message, Catch::Contains("job 77 task 1 ended (CANCELLED)") && Catch::Contains("--resume"));
  REQUIRE(recs[2].slurm);
  CHECK(recs[2].slurm->state == "state unknown");
  CHECK_THAT(recs[2].message, Catch::Contains("state unknown"));
  CHECK(final_cases(team) == std::vector<std::string>{"C1"});

  // Idempotent: merging again adds nothing.
  const MergeSummary again = merge_submission(team, sub, job, q, key);
  CHECK(again.merged == 0);
  CHECK(again.unfinished == 0);
  CHECK(lines_of(team / "records.jsonl") == lines);

  // The efficiency CSV holds the case that ran, not those that never did.
  rewrite_efficiency(team);
  const auto csv = lines_of(team / "efficiency.csv");
  REQUIRE(csv.size() == 2);
  CHECK_THAT(csv[1], Catch::StartsWith("C1_0000.nii.gz,1.5,"));

  // A resubmission's record for C2 is final and wins.
  JobFile job2 = job;
  job2.job_id = "90";
  job2.shards = {{{"C2", "C2_0000.nii.gz"}}};
  const fs::path sub2 = team / kSlurmDir / "sub-2";
  {
    Journal j(sub2 / "task-0", JournalMode::fresh_only);
    RunRecord r = shard_record("C2", 0, false);
    r.slurm->job_id = "90";
    j.append(r);
  }
  QueryResult q2;
  q2.tasks[0] = {"COMPLETED", "None", "node3"};
  CHECK(merge_submission(team, sub2, job2, q2, key).merged == 1);
  auto finals = final_cases(team);
  std::sort(finals.begin(), finals.end());
  CHECK(finals == std::vector<std::string>{"C1", "C2"});
}

TEST_CASE("slurm: progress counts queued, running, done, failed and recorded cases", "[slurm]") {
  lb::test::TempDir tmp("slurm-progress");
  const fs::path sub = tmp.path() / "sub-1";
  JobFile job = sample_job(tmp.path());
  job.shards = make_shards(cases(5), 1);
  {
    Journal j(sub / "task-0", JournalMode::fresh_only);
    j.append(shard_record("C1", 0, false));
  }
  std::ofstream(sub / "task-0.end") << "0\n";
  std::ofstream(sub / "task-3.end") << "2\n";
  QueryResult q;
  q.tasks[0] = {"COMPLETED", "None", "n"};
  q.tasks[1] = {"RUNNING", "None", "n"};
  q.tasks[2] = {"PENDING", "JobArrayTaskLimit", ""};
  // 3: Slurm forgot it, its end mark says exit 2; 4: nothing known.
  const Progress p = progress_of(sub, job, q);
  CHECK(p.done == 1);
  CHECK(p.running == 1);
  CHECK(p.queued == 1);
  CHECK(p.failed == 1);
  CHECK(p.unknown == 1);
  CHECK(p.cases_total == 5);
  CHECK(p.cases_recorded == 1);
  CHECK(p.active());
  CHECK(progress_line("77", p) ==
        "slurm job 77: 1 queued, 1 running, 1 done, 1 failed, 1 state unknown (tasks); 1/5 case(s) recorded");
}

TEST_CASE("slurm: a task's placement and GPU come from Slurm's environment, only in a task of ours", "[slurm]") {
  ::unsetenv(kTaskEnv);
  ::setenv("SLURM_JOB_GPUS", "2,3", 1);
  ::setenv("SLURM_ARRAY_JOB_ID", "812", 1);
  ::setenv("SLURM_ARRAY_TASK_ID", "5", 1);
  ::setenv("SLURMD_NODENAME", "gpu17", 1);
  ::setenv("CUDA_VISIBLE_DEVICES", "2", 1);
  CHECK_FALSE(allocated_gpu());  // some other job's environment: not ours
  CHECK_FALSE(placement_from_env());
  ::setenv(kTaskEnv, "1", 1);
  CHECK(allocated_gpu() == 2);
  const auto p = placement_from_env();
  REQUIRE(p);
  CHECK(p->job_id == "812");
  CHECK(p->task_id == 5);
  CHECK(p->node == "gpu17");
  CHECK(p->gpu == "2");
  ::unsetenv("SLURM_JOB_GPUS");
  CHECK_FALSE(allocated_gpu());
  for (const char* v : {kTaskEnv, "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURMD_NODENAME", "CUDA_VISIBLE_DEVICES"})
    ::unsetenv(v);
}

TEST_CASE("slurm: a task refuses another build, and says when it cannot see the team folder or the cases", "[slurm]") {
  lb::test::TempDir tmp("slurm-task");
  const fs::path team = tmp.path() / "team", sub = team / kSlurmDir / "sub-1";
  fs::create_directories(sub);
  // "lesionbench 0.1.0 (commit abc)" -> "0.1.0 (abc)", as the submitter writes it into the job file.
  const auto v = lb::test::run_cli("--version");
  REQUIRE(v.exit_code == 0);
  const auto commit_at = v.out.find("(commit ");
  REQUIRE(commit_at != std::string::npos);
  const std::string ours = v.out.substr(12, commit_at - 12) + "(" +
                           v.out.substr(commit_at + 8, v.out.find(')', commit_at) - commit_at - 8) + ")";
  JobFile job = sample_job(team);
  job.cases_dir = (tmp.path() / "no-such-cases").string();
  auto task = [&](const JobFile& j) {
    write_job_file(sub / "job.json", j);
    fs::remove(sub / "task-0.error");
    return lb::test::run_command(std::string("env ") + kTaskEnv + "=1 SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_JOB_ID=77 " +
                                 lb::test::shell_quote(LB_CLI) + " run --slurm-task " +
                                 lb::test::shell_quote((sub / "job.json").string()));
  };
  job.lesionbench_version = "0.0.0 (other)";
  auto r = task(job);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("0.0.0 (other)") && Catch::Contains("same build"));
  CHECK_THAT(lb::test::read_text((sub / "task-0.error").string()), Catch::Contains("0.0.0 (other)"));
  CHECK(lb::test::read_text((sub / "task-0.end").string()) == "2\n");

  job.lesionbench_version = ours;
  r = task(job);
  CHECK(r.exit_code == 2);
  CHECK_THAT(lb::test::read_text((sub / "task-0.error").string()),
             Catch::Contains("cannot read 1 case(s)") && Catch::Contains("C1_0000.nii.gz") && Catch::Contains("shared"));

  JobFile elsewhere = job;
  elsewhere.team_dir = (tmp.path() / "not-here").string();
  r = task(elsewhere);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("cannot see the team folder"));

  JobFile moved = job;
  moved.team_dir = tmp.path().string();  // exists, but is not the folder holding this job file
  r = task(moved);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("lies elsewhere"));

  // Outside a task's range.
  r = lb::test::run_command(std::string("env SLURM_ARRAY_TASK_ID=9 ") + lb::test::shell_quote(LB_CLI) +
                            " run --slurm-task " + lb::test::shell_quote((sub / "job.json").string()));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("not a task of"));
}
