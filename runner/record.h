#pragma once
// The run record: what happened when one contestant ran on one case, and what it cost.
//
// One record per case is appended to TEAM_DIR/records.jsonl (one JSON object a line) as soon as the case
// ends. Its JSON form is described by schemas/run-record.schema.json; `schema_version` names that format,
// separate from the program's version. Reports and scripts read records through this header.
//
// Conventions: a figure that could not be measured is std::nullopt here and null in JSON (never NaN);
// names carry units (_s seconds, _mib MiB = 2^20 bytes, _mib_s MiB·s, _pct percent, _pct_s percent·s);
// CPU percent of the contestant is per core (100 = one core busy), system-wide CPU percent is of the whole
// machine (100 = every core busy, as FLARE reports it). Paths are relative to the team folder.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lb::runner {

inline constexpr const char* kRunRecordSchemaVersion = "1.1";  // 1.1: placement (slots), slurm

enum class RunStatus {
  ok,            // exited 0 and wrote a readable prediction on its input's grid
  nonzero_exit,  // exited with a code other than 0
  signal,        // killed by a signal it did not get from us (or a shell reported 128+n)
  timeout,       // still running at the time limit: the whole process tree was killed
  oom,           // killed for memory: the kernel's OOM killer, the container's limit, or our --memory-limit-mib
  no_output,     // exited 0 but wrote nothing
  bad_output,    // wrote something unusable: wrong name, not a regular file, unreadable NIfTI, wrong grid
  launch_error,  // could not be started (engine missing, image not found, command not found in the image)
};
inline constexpr RunStatus kAllRunStatuses[] = {RunStatus::ok,        RunStatus::nonzero_exit, RunStatus::signal,
                                                RunStatus::timeout,   RunStatus::oom,          RunStatus::no_output,
                                                RunStatus::bad_output, RunStatus::launch_error};
const char* status_name(RunStatus s);
std::optional<RunStatus> parse_status(const std::string& name);

// GPU memory of the device the contestant was given, read through NVML.
struct GpuFigures {
  bool available = false;             // NVML answered for this device during the case
  std::optional<int> index;           // NVML device index
  std::string name, uuid, driver;     // e.g. "NVIDIA H100 80GB HBM3", "GPU-…", "580.65.06"
  std::optional<double> total_mib;
  // Device-wide used memory as FLARE reads it: total − free, every process and the driver's reserve included.
  std::optional<double> device_max_mib, device_auc_mib_s;
  // The contestant's own: the sum of usedGpuMemory over the processes of its tree or container.
  bool own_available = false;
  std::optional<double> own_max_mib, own_auc_mib_s;
  std::string note;                   // why a figure is missing ("no NVIDIA driver (libnvidia-ml.so.1 not found)")
};

// The contestant's process tree (or container), read from /proc.
struct CpuFigures {
  std::optional<double> max_pct;      // 100 = one core busy
  std::optional<double> auc_pct_s;    // integral of the percentage over time; auc_pct_s / 100 = CPU seconds
  std::optional<double> time_s;       // user + system seconds of the launched process and what it waited for
};
struct RamFigures {
  std::optional<double> max_mib;      // sum of the resident set sizes of the tree's processes
  std::optional<double> auc_mib_s;
};

// The whole machine, as FLARE records it (CPU: 100 = every core busy; RAM: used as `free` reports it).
struct SystemFigures {
  std::optional<double> cpu_max_pct, cpu_auc_pct_s;
  std::optional<double> ram_max_mib, ram_auc_mib_s;
  int cpu_count = 0;
  double ram_total_mib = 0;
};

// What sampling cost: the sampler runs on its own thread; its CPU time is measured, not estimated.
struct SamplerInfo {
  double interval_ms = 0;
  int64_t samples = 0;
  double cpu_s = 0;                   // CPU time of the sampling thread during this launch
  double mean_tick_us = 0, max_tick_us = 0;  // wall time of one sample
  int64_t late_ticks = 0;             // ticks that started more than one interval late (machine overloaded)
};

struct Provenance {
  std::string contestant;             // the contestant's name
  std::string kind;                   // "command" or "container" (or "mock" in tests)
  std::string command;                // the command template (kind command)
  std::string image, image_id;        // image reference and its ID (kind container)
  std::string engine;                 // "docker" or "podman"
  std::string sandbox;                // kind command: "bwrap" or "none" (--sandbox); empty otherwise
  std::vector<std::string> launch;    // the argv actually executed
  std::string host;                   // host name
  std::string lesionbench;            // version (commit)
};

// Where the launch ran and beside what (runner/slots.h). Absent in records of lesionbench before 1.1.
struct Placement {
  int slot = 0;                       // the slot it held
  int slots = 1;                      // the slots of the pool (1: launches one at a time)
  std::string cpus;                   // its CPUs, e.g. "0-3"; empty: every CPU lesionbench may use
  int concurrent_max = 1;             // most slots held at once while it held its own (itself included)
  // What the CPU and RAM columns of efficiency.csv are: "system" (the whole machine, as FLARE measures;
  // only when it ran alone) or "own" (its own process tree: other launches ran beside it, and the
  // record's system figures are null).
  std::string cpu_ram_scope = "system";
};

struct RecordFiles {
  std::string samples;                // e.g. "samples/FLARE24Val_0001.csv" (shared by all cases of a batch)
  std::string stdout_log, stderr_log; // e.g. "logs/FLARE24Val_0001.stdout.txt"
};

// Where a case ran under the Slurm backend (runner/slurm.h); absent for local runs.
struct SlurmPlacement {
  std::string job_id;                 // the array's job id
  std::optional<int> task_id;         // the array task that ran the case
  std::string node;                   // SLURMD_NODENAME
  std::string gpu;                    // CUDA_VISIBLE_DEVICES as Slurm set it for the task ("" when unset)
  // Written by the merge for a case no task finished (cancelled, time limit, node failure, out of
  // memory, state unknown): not final, `run --resume` runs it again. state and reason are Slurm's.
  bool unfinished = false;
  std::string state, reason;
};

struct RunRecord {
  std::string schema_version = kRunRecordSchemaVersion;
  std::string case_name;              // JSON "case": "FLARE24Val_0001"
  std::string image;                  // input file name: "FLARE24Val_0001_0000.nii.gz"
  RunStatus status = RunStatus::launch_error;
  std::string message;                // empty when ok; otherwise what went wrong, naming the file or code
  std::vector<std::string> notes;     // things worth knowing that did not change the status
  std::optional<int> exit_code;       // as a shell reports it: 128+n when killed by signal n; null if never ran
  std::optional<int> signal;          // the signal that ended it, when one did
  double wall_s = 0;                  // launch to exit, start-up and model loading included (FLARE's Time)
  std::optional<double> output_s;     // launch until the prediction file appeared
  std::optional<std::string> prediction;  // "predictions/<case>.nii.gz" when a valid prediction was kept
  std::string mode = "per_case";      // "per_case" (one launch per case) or "batch" (one launch for all)
  double timeout_s = 0;               // the time limit the case ran under
  std::string started_at;             // ISO 8601 UTC, e.g. "2026-11-26T20:13:10.123Z"
  GpuFigures gpu;
  CpuFigures cpu;
  RamFigures ram;
  SystemFigures system;
  SamplerInfo sampler;
  Provenance provenance;
  RecordFiles files;
  std::optional<Placement> placement;
  std::optional<SlurmPlacement> slurm;  // JSON "slurm", only under the Slurm backend
};

void to_json(nlohmann::json& j, const RunRecord& r);
// Throws std::runtime_error naming the field when the object is not a run record this version can read.
void from_json(const nlohmann::json& j, RunRecord& r);

// Reads TEAM_DIR/records.jsonl. A line that cannot be read (a crash while writing the last one) is skipped
// and described in `warnings`; for a case recorded twice (a re-run), the later record wins.
std::vector<RunRecord> read_records_jsonl(const std::string& path, std::vector<std::string>* warnings = nullptr);

}  // namespace lb::runner
