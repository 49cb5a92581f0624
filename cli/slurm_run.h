#pragma once
// `run --backend slurm` (the submitter), the array task's side of `run` (lesionbench run --slurm-task
// JOB_FILE, written into the job script), and the merge shared with `collect`. See runner/slurm.h for the
// folders and docs/runner.md ("Slurm clusters") for the protocol.
#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <set>
#include <string>
#include <vector>

#include "runner/cases.h"
#include "runner/contestant.h"

namespace lb::cli {

// Set while this process runs as an array task: cmd_run runs only this contestant, only these cases,
// into the shard folder, resuming it (a requeued task continues its own shard journal).
struct SlurmTaskContext {
  std::string contestant;
  std::set<std::string> cases;
  std::filesystem::path shard_dir;
};
const SlurmTaskContext* slurm_task_context();

// lesionbench run --slurm-task JOB_FILE: checks the version and what the node sees, locks the shard, runs
// cmd_run on it (with the run's own arguments from the job file), and leaves task-<N>.end.
int run_slurm_task(const std::string& job_file);

struct SlurmSubmit {
  std::vector<runner::ContestantSpec> contestants;
  std::vector<std::filesystem::path> team_dirs;  // one per contestant
  std::vector<runner::CaseInput> cases;
  std::string cases_dir;
  std::vector<std::string> run_args;   // cmd_run's argv without the backend flags, --resume and --fresh
  std::vector<std::string> sbatch_args;
  int cases_per_task = 1, max_running = 0;
  bool no_wait = false, resume = false, fresh = false, force = false;
  std::string sign_key;
  std::vector<nlohmann::json> headers;  // contestant.json of each contestant (image_id is the tasks' business)
};
// Submits one array per contestant, then (unless no_wait) waits and merges. Exit codes as `run`.
int submit_slurm(const SlurmSubmit& s, const std::atomic<bool>& stop);

// The run's arguments as the tasks get them: without --backend, --slurm-arg, --cases-per-task,
// --max-running, --no-wait, --resume and --fresh (either spelling: --flag VALUE or --flag=VALUE).
std::vector<std::string> task_run_args(int argc, char** argv);

// Merges every ended, unmerged submission of a team folder. Returns 0 when everything is merged, 4 when
// a submission is still queued or running (progress printed, nothing of it merged), 2 when Slurm cannot
// be asked or the folder is unusable (message printed).
int collect_team(const std::filesystem::path& team_dir, const std::string& sign_key, std::ostream& out, bool quiet = false);

}  // namespace lb::cli
