#pragma once
// The scheduler: cases × one contestant → launcher + sampler → journal. For each case (or once for a
// batch) it prepares fresh folders, launches, samples, enforces the time limit, checks and moves the
// prediction, writes the samples and the record, and rewrites efficiency.csv — so that whatever happens
// next, everything finished so far is on disk.
//
// TEAM_DIR after a run:
//   records.jsonl            one record per case (runner/record.h)
//   efficiency.csv           FLARE's columns, device-wide GPU and system-wide CPU/RAM (runner/efficiency.h)
//   efficiency-own.csv       the same columns for the contestant alone
//   predictions/<case>.nii.gz  checked predictions
//   samples/<case>.csv       sample series (runner/samples.h); samples/batch.csv in batch mode
//   logs/<case>.stdout.txt, logs/<case>.stderr.txt   capped
//   rejected/<case>/         what a failed case left in its outputs folder, for a look (sanitized, capped)
//   contestant.json          what defines the contestant; a --resume that differs is refused (team_state.h)
//   .containers-in-flight    containers started and not yet removed (team_state.h)
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/cases.h"
#include "runner/journal.h"
#include "runner/launcher.h"
#include "runner/nvml.h"
#include "runner/record.h"
#include "runner/slots.h"
#include "runner/team_state.h"

namespace lb::runner {

// The disk under the team folder is full: the case in flight was not recorded (its partial files are
// removed), the journal holds every case recorded before, and the run stops (`run` exits 3). After space
// is freed, --resume runs that case again.
struct DiskFull : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RunSettings {
  std::filesystem::path team_dir;
  std::string contestant;            // its name, for the provenance
  bool batch = false;                // one launch for all cases instead of one per case
  double timeout_s = 600;            // per case (batch: per case × number of cases); 0: none
  std::optional<int> gpu_index;      // the GPU given to the contestant and sampled; none: no GPU
  double sample_ms = 100;
  double memory_limit_mib = 0;       // > 0: kill the contestant when its tree's resident memory exceeds it
  size_t log_head_bytes = 1 << 20, log_tail_bytes = 256 << 10;
  std::string lesionbench_version;   // for the provenance
  std::string sign_key;              // --sign-key: records are signed with it (runner/hmac.h); empty: unsigned
  bool strict_geometry = false;      // --geometry strict: a prediction on another grid is bad_output
  // What a launch may write into its outputs and working folders, per case (batch: × cases); 0: no cap.
  // Polled every 0.5 s while it runs and checked when it ends: over a cap it is stopped, the case is
  // bad_output and its files are removed.
  double max_output_mib = 16384;
  uint64_t max_output_files = 10000;
  // How much of a failed case's outputs is kept in rejected/<case>/.
  double keep_rejected_mib = 64;
  uint64_t keep_rejected_files = 1000;
  // What defines the contestant (contestant.json, team_state.h); null: no header is kept or checked.
  // The scheduler adds image_id from the launcher's provenance.
  nlohmann::json header;
  bool force = false;                // --force: run even though the team folder's header differs
  // Slots to run on (--gpus, --parallel; runner/slots.h), shared by the schedulers of every team of a
  // manifest: each launch holds one, and as many launches run at once as there are slots. The slot's GPU
  // replaces gpu_index. Null: one launch at a time on gpu_index, as before slots existed.
  std::shared_ptr<SlotPool> slots;
  std::optional<SlurmPlacement> slurm;  // a Slurm array task (runner/slurm.h): every record names its job, task, node, GPU
};

// Why the scheduler stopped a launch itself.
enum class KillReason { none, timeout, memory, interrupt, output };

// How a launch ended, before its output is looked at.
struct ExitVerdict {
  RunStatus status = RunStatus::ok;
  std::string message;
  bool check_output = true;  // false when we killed it: whatever it wrote is not trusted
};
// wall_s: the launch's measured wall time; above a timeout_s > 0 it is a timeout even when nothing killed it.
ExitVerdict classify_exit(const LaunchExit& exit, KillReason reason, const RunSettings& settings, double timeout_s,
                          double peak_rss_mib, double wall_s = 0);

struct RunCallbacks {
  std::function<void(const std::string& label, size_t index, size_t total)> on_start;
  std::function<void(const RunRecord& record, size_t index, size_t total)> on_record;
};

struct RunSummary {
  std::vector<RunRecord> records;    // recorded by this run
  size_t skipped = 0;                // already recorded (--resume)
  bool interrupted = false;          // stopped by the stop flag (Ctrl-C); the case in flight was not recorded
  std::vector<std::string> notes;    // launcher clean-up, journal repairs
};
// With slots, cases finish out of order: `index` in the callbacks counts the records published so far.

class Scheduler {
 public:
  // `stop` (may be null) is polled while a contestant runs; when it turns true the contestant is killed,
  // its case is not recorded, and run() returns. With slots, every launch in flight is stopped so.
  Scheduler(Launcher& launcher, RunSettings settings, std::shared_ptr<Nvml> nvml, const std::atomic<bool>* stop = nullptr);

  // Runs the cases not yet in the journal. Throws SetupError when the team folder cannot be used.
  RunSummary run(const std::vector<CaseInput>& cases, JournalMode mode, const RunCallbacks& callbacks = {});

 private:
  struct Launch;
  Launch launch_and_wait(const std::vector<CaseInput>& cases, const std::string& label, double timeout_s,
                         const Slot& slot);
  RunRecord base_record(const CaseInput& c, const Slot& slot) const;
  void fill_figures(RunRecord& r, const Launch& l) const;
  bool stopping() const { return (stop_ && stop_->load()) || abort_.load(); }

  Launcher& launcher_;
  RunSettings settings_;
  std::shared_ptr<Nvml> nvml_;
  const std::atomic<bool>* stop_;
  Provenance provenance_;
  std::map<int, GpuDeviceInfo> gpu_info_;  // by NVML index, for the GPUs this run's launches use
  std::shared_ptr<SlotPool> pool_;          // settings_.slots, or one slot of our own
  std::atomic<bool> abort_{false};          // a worker hit a full disk: the others stop too
  std::filesystem::path work_, predictions_, samples_, logs_, rejected_;
  std::unique_ptr<InFlightContainers> in_flight_;
};

}  // namespace lb::runner
