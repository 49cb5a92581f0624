#pragma once
// The Slurm backend of `run`: one `sbatch` job array per contestant, each array task running lesionbench
// itself on its shard of the cases, and the merge of the shards back into the team folder.
//
// TEAM_DIR/.slurm/ (only the submitter and the tasks write here, each its own files):
//   submitter.lock           O_EXCL lock of the submitter or collect ("host pid"): flock is not trusted on
//                            cluster filesystems
//   sub-<K>/                 the K-th submission (a --resume submits again: sub-<K+1>)
//     job.json               JobFile: the shards, the run's arguments, the submitter's lesionbench version
//     job.sh                 the job script given to sbatch
//     job-id                 the array's job id, written after sbatch answered
//     slurm-<job>_<task>.out Slurm's output of each task
//     task-<N>/              task N's own team folder: records.jsonl (its shard journal), predictions/,
//                            samples/, logs/, rejected/, contestant.json, .containers-in-flight
//     task-<N>.lock          O_EXCL lock of task N ("host pid job task")
//     task-<N>.end           written by task N as it ends: its exit code (absent: killed, or never ran)
//     task-<N>.error         why task N could not start (wrong version, team folder or cases not visible)
//     merged                 every task had ended and was merged (collect skips this submission)
//
// Everything Slurm does to a task ends as records: cases its shard journal lacks get a record with status
// launch_error, `slurm.unfinished` true and Slurm's state and reason ("state unknown" when Slurm no longer
// knows the task); --resume submits exactly the cases without a final record.
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runner/record.h"

namespace lb::runner::slurm {

inline constexpr const char* kSlurmDir = ".slurm";
inline constexpr const char* kJobSchemaVersion = "1.0";
// Set by the job script, so that a lesionbench started by hand inside some other Slurm job does not
// label its records with that job.
inline constexpr const char* kTaskEnv = "LESIONBENCH_SLURM_TASK";

// The program's path on PATH; empty when it is not there.
std::string find_on_path(const std::string& name);

// Where this process runs, from Slurm's environment; null outside a task of ours (kTaskEnv unset).
std::optional<SlurmPlacement> placement_from_env();
// The GPU Slurm allocated to this task: the first of SLURM_JOB_GPUS (the node's index, as gres.conf lists
// the devices; NVML's index where gres.conf lists /dev/nvidia0.. in order, as AutoDetect=nvml does).
// Null outside a task of ours or without a GPU GRES. `run --gpu auto` in a task gives and samples this one.
std::optional<int> allocated_gpu();

// One case of a shard.
struct ShardCase {
  std::string name;   // "FLARE24Val_0001"
  std::string image;  // "FLARE24Val_0001_0000.nii.gz"
};

// job.json: everything a task needs, written before sbatch.
struct JobFile {
  int submission = 1;                    // K of sub-<K>
  std::string contestant;
  std::string lesionbench_version;       // "0.1.0 (abc123)": a task of another build refuses to run
  std::string lesionbench_path;          // the binary the tasks run (absolute)
  std::string cases_dir, team_dir;       // absolute
  std::vector<std::string> run_args;     // the run's arguments for the tasks (backend flags, --out, --resume/--fresh removed)
  std::vector<std::vector<ShardCase>> shards;  // one per array task
  std::vector<std::string> sbatch_args;  // --slurm-arg values, in order
  int max_running = 0;                   // %M throttle; 0: none
  std::string work_dir;                  // the tasks' working folder (the submitter's), for relative paths in run_args
  bool signed_records = false;           // --sign-key: collect needs the key too (for the records it writes)
  std::string job_id;                    // filled after submission
};
nlohmann::json job_to_json(const JobFile& job);
// Throws std::runtime_error naming the file and the field.
JobFile read_job_file(const std::filesystem::path& path);
void write_job_file(const std::filesystem::path& path, const JobFile& job);

// Splits cases into shards of at most `per_task` (>= 1), in order.
std::vector<std::vector<ShardCase>> make_shards(const std::vector<ShardCase>& cases, int per_task);

// The job script: bash, #SBATCH lines for what lesionbench chooses, a check that the node sees the binary
// and the job file, then `exec lesionbench run --slurm-task JOB_FILE` (exec: scancel's SIGTERM reaches it).
std::string job_script(const JobFile& job, const std::filesystem::path& job_file);
// sbatch's argv for a submission: --parsable, --array=0-(n-1)[%M], the output files, the user's args, the script.
std::vector<std::string> sbatch_argv(const JobFile& job, const std::filesystem::path& sub_dir,
                                     const std::filesystem::path& script);
// "1234" or "1234;cluster" -> "1234"; empty when the text holds no job id.
std::string parse_sbatch_job_id(const std::string& out);

// A task as Slurm reports it.
struct TaskState {
  std::string state;   // PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ...
  std::string reason;  // squeue's %r ("None", "TimeLimit", ...)
  std::string node;
};
// Lines "JOBID|TASKS|STATE|REASON|NODE" (squeue -h -r -t all -o '%F|%K|%T|%r|%N'); TASKS may be one index,
// or a range list ("4-9%2", "[4-6,8]") for tasks not yet expanded. Lines of other jobs are ignored.
std::map<int, TaskState> parse_squeue(const std::string& text, const std::string& job_id);
// sacct -n -P -X -j JOB -o JobID,State,NodeList: "1234_5|CANCELLED by 0|node1".
std::map<int, TaskState> parse_sacct(const std::string& text, const std::string& job_id);
bool is_active(const std::string& state);  // queued or running: its shard may still grow

struct QueryResult {
  std::map<int, TaskState> tasks;
  bool known = false;      // Slurm answered for this job (false: it no longer knows it)
  std::string error;       // Slurm could not be asked at all (controller down): nothing may be merged
};
// Asks squeue (and sacct for tasks squeue no longer lists, where accounting exists).
QueryResult query_job(const std::string& job_id, size_t tasks);

// Progress of one submission: from Slurm's states and the shard folders.
struct Progress {
  int queued = 0, running = 0, done = 0, failed = 0, unknown = 0;
  size_t cases_total = 0, cases_recorded = 0;
  bool active() const { return queued + running > 0; }
};
Progress progress_of(const std::filesystem::path& sub_dir, const JobFile& job, const QueryResult& q);
std::string progress_line(const std::string& job_id, const Progress& p);

// O_EXCL lock files with "host pid [job task]": works where flock does not (NFS and other cluster
// filesystems). A lock left by a dead process of this host is taken over with a note; `same_task` (a
// requeued task of the same job) takes over a lock of another host. Throws SetupError naming the holder.
class LockFile {
 public:
  LockFile(std::filesystem::path path, const std::string& extra, std::vector<std::string>* notes,
           const std::string& same_task = {});
  ~LockFile();
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

 private:
  std::filesystem::path path_;
};

// The submissions of a team folder, in order (sub-1, sub-2, ...).
std::vector<std::filesystem::path> submissions(const std::filesystem::path& team_dir);

// Cases with a final record in the team's journal (a record not marked slurm.unfinished).
std::vector<std::string> final_cases(const std::filesystem::path& team_dir);

struct MergeSummary {
  size_t merged = 0;       // records moved from shard journals into the team's
  size_t unfinished = 0;   // records written for cases no task finished
  std::vector<std::string> notes;
};
// Merges one submission whose tasks have all ended (none active in `q`) into the team folder: every shard
// record not yet in records.jsonl (appended as its bytes were, signature included) with its prediction,
// samples, logs and rejected files; a launch_error record marked unfinished for every shard case without
// one, naming Slurm's state and reason. Idempotent: what is merged already is not merged again. The caller
// holds the team's locks. Leftover containers named in the shards' .containers-in-flight are removed.
MergeSummary merge_submission(const std::filesystem::path& team_dir, const std::filesystem::path& sub_dir,
                              const JobFile& job, const QueryResult& q, const std::string& sign_key);

// The efficiency CSVs of the team folder from its records.jsonl.
void rewrite_efficiency(const std::filesystem::path& team_dir);

}  // namespace lb::runner::slurm
