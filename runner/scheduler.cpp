// Cases × contestant → launcher + sampler → journal; see scheduler.h.
#include "runner/scheduler.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <csignal>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "metrics/nifti.h"
#include "runner/efficiency.h"
#include "runner/journal.h"
#include "runner/keep_files.h"
#include "runner/output_check.h"
#include "runner/output_watch.h"
#include "runner/proc.h"
#include "runner/sampler.h"
#include "runner/samples.h"
#include "runner/util.h"

namespace fs = std::filesystem;

namespace lb::runner {

namespace {

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::round(s * 10) / 10);
  return buf;
}

void fresh_dir(const fs::path& p, fs::perms perms) {
  std::error_code ec;
  fs::remove_all(p, ec);
  fs::create_directories(p);
  // Containers may run as another user: the outputs folder must be writable by it (as FLARE's chmod 777).
  fs::permissions(p, perms, ec);
}

double ram_total_mib() {
  proc::MemInfo m;
  return proc::read_meminfo(&m) ? m.total_mib : 0;
}

bool is_disk_full(const std::error_code& ec) {
  return ec == std::errc::no_space_on_device || ec.value() == EDQUOT;
}

// A write that failed because the disk is full stops the run (DiskFull); other errors pass through.
[[noreturn]] void rethrow_disk_full(const std::string& what) {
  try {
    throw;
  } catch (const std::system_error& e) {
    if (is_disk_full(e.code())) throw DiskFull("disk full: " + what + ": " + e.what());
    throw;
  }
}

// Beside other launches the machine's CPU and RAM are everyone's: the record keeps the launch's own
// figures only and says so (placement.cpu_ram_scope; efficiency.csv then shows the own figures).
void apply_concurrency(RunRecord& r) {
  if (!r.placement || r.placement->concurrent_max <= 1) return;
  r.placement->cpu_ram_scope = "own";
  r.system.cpu_max_pct.reset();
  r.system.cpu_auc_pct_s.reset();
  r.system.ram_max_mib.reset();
  r.system.ram_auc_mib_s.reset();
}

std::string mib_text(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", bytes / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

ExitVerdict classify_exit(const LaunchExit& e, KillReason reason, const RunSettings& settings, double timeout_s,
                          double peak_rss_mib, double wall_s) {
  ExitVerdict v;
  if (e.launch_error) {
    v = {RunStatus::launch_error, *e.launch_error, false};
    return v;
  }
  // The limit holds on the measured wall time, whatever happened to our own timer (a contestant that
  // stopped lesionbench with SIGSTOP and had it continued later finished "in time" by the timer's clock).
  if (reason == KillReason::none && timeout_s > 0 && wall_s > timeout_s)
    return {RunStatus::timeout,
            "ran " + seconds_text(wall_s) + " s, longer than the limit of " + seconds_text(timeout_s) +
                " s (--timeout-s), although lesionbench's timer did not stop it (was lesionbench paused?)",
            false};
  switch (reason) {
    case KillReason::timeout:
      return {RunStatus::timeout,
              "still running after " + seconds_text(timeout_s) + " s (--timeout-s): its whole process tree was killed",
              false};
    case KillReason::memory:
      return {RunStatus::oom,
              "its processes' resident memory reached " + seconds_text(peak_rss_mib) + " MiB, above the limit of " +
                  seconds_text(settings.memory_limit_mib) + " MiB (--memory-limit-mib): killed",
              false};
    case KillReason::interrupt:
      return {RunStatus::signal, "interrupted (Ctrl-C): the contestant was stopped", false};
    case KillReason::output:
      return {RunStatus::bad_output, "wrote more into its outputs and working folders than the output caps allow", false};
    case KillReason::none:
      break;
  }
  const int code = e.exit_code.value_or(-1);
  if (e.oom_killed)
    return {RunStatus::oom, "killed by the out-of-memory killer (exit code " + std::to_string(code) + ")", true};
  if (e.signal) return {RunStatus::signal, "killed by signal " + std::to_string(*e.signal) + " (" + signal_name(*e.signal) + ")", true};
  if (code > 128 && code <= 128 + 64) {
    // A shell (sh -c, or the container's bash -c "sh predict.sh") reports a child killed by signal n as 128+n.
    const int sig = code - 128;
    return {RunStatus::signal,
            "exit code " + std::to_string(code) + ": a process was killed by signal " + std::to_string(sig) + " (" +
                signal_name(sig) + "), as the shell reports it",
            true};
  }
  if (code != 0) return {RunStatus::nonzero_exit, "exit code " + std::to_string(code), true};
  return v;
}

struct Scheduler::Launch {
  std::optional<std::string> launch_error;  // thrown by launch(): nothing ran
  LaunchExit exit;
  KillReason reason = KillReason::none;
  double wall_s = 0;
  std::chrono::system_clock::time_point started_wall;
  std::vector<Sample> samples;
  SamplerInfo sampler_info;
  std::string gpu_note;
  double peak_rss_mib = 0;
  std::vector<std::string> argv;
  std::map<std::string, std::optional<double>> appeared;
  fs::path dir;  // this launch's own work folder (inputs, outputs, scratch)
  OutputUsage usage;  // when the output caps stopped it
  uint64_t cap_bytes = 0, cap_files = 0;
};

Scheduler::Scheduler(Launcher& launcher, RunSettings settings, std::shared_ptr<Nvml> nvml, const std::atomic<bool>* stop)
    : launcher_(launcher), settings_(std::move(settings)), nvml_(std::move(nvml)), stop_(stop) {}

Scheduler::Launch Scheduler::launch_and_wait(const std::vector<CaseInput>& cases, const std::string& label,
                                             double timeout_s, const Slot& slot) {
  Launch L;
  L.started_wall = std::chrono::system_clock::now();
  // A folder of its own for every launch, named afresh: a process left over from an earlier launch or run
  // (one not confined by the sandbox) cannot write into this one's outputs by the path it was given.
  // (The label is cut to stay within a file name's 255 bytes.)
  std::string tmpl = (work_ / (label.substr(0, 100) + ".XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    L.launch_error = "could not create the launch's work folder in " + work_.string() + ": " + std::strerror(errno);
    return L;
  }
  L.dir = tmpl;
  std::error_code perm_ec;
  // mkdtemp makes it 0700; containers may run as another user and must reach the folders inside.
  fs::permissions(L.dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                             fs::perms::others_exec,
                  perm_ec);
  const fs::path inputs = L.dir / "inputs", outputs = L.dir / "outputs", scratch = L.dir / "scratch";
  try {
    fresh_dir(inputs, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                          fs::perms::others_exec);
    fresh_dir(outputs, fs::perms::all);
    fresh_dir(scratch, fs::perms::all);
    for (const auto& c : cases) {
      // A copy, not a link: a contestant that writes into its inputs cannot touch the originals.
      fs::copy_file(c.path, inputs / c.image_file, fs::copy_options::overwrite_existing);
      std::error_code ec;
      fs::permissions(inputs / c.image_file,
                      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read, ec);
    }
  } catch (const std::filesystem::filesystem_error& e) {
    // A full disk stops the run; one unreadable input is this case's failure, not the run's.
    if (is_disk_full(e.code())) throw DiskFull(std::string("disk full: preparing the case's folders: ") + e.what());
    L.launch_error = std::string("could not prepare the case's folders: ") + e.what();
    return L;
  } catch (const std::exception& e) {
    L.launch_error = std::string("could not prepare the case's folders: ") + e.what();
    return L;
  }
  LaunchRequest req;
  req.label = label;
  req.inputs_dir = fs::absolute(inputs);
  req.outputs_dir = fs::absolute(outputs);
  req.work_dir = fs::absolute(scratch);
  req.team_dir = fs::absolute(settings_.team_dir);
  req.gpu_index = slot.gpu_index;
  req.cpus = slot.cpus;
  req.concurrent = pool_ && pool_->size() > 1;
  req.stdout_log = logs_ / (label + ".stdout.txt");
  req.stderr_log = logs_ / (label + ".stderr.txt");
  req.log_head_bytes = settings_.log_head_bytes;
  req.log_tail_bytes = settings_.log_tail_bytes;
  req.in_flight = in_flight_.get();

  std::unique_ptr<Launched> launched;
  try {
    launched = launcher_.launch(req);
  } catch (const LaunchError& e) {
    L.launch_error = e.what();
    return L;
  }
  const Clock::time_point t0 = launched->started();
  Sampler sampler(SamplerSettings{settings_.sample_ms, slot.gpu_index, settings_.memory_limit_mib}, nvml_);
  sampler.start(&launched->tree(), t0);
  std::vector<std::string> names;
  for (const auto& c : cases) names.push_back(c.prediction_file());
  OutputWatch watch;
  watch.start(outputs.string(), names, t0);

  const auto deadline = timeout_s > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s))
                                      : Clock::time_point::max();
  // The output caps scale with the cases of the launch, as the time limit does in a batch.
  const double n = static_cast<double>(cases.size());
  const uint64_t cap_bytes = static_cast<uint64_t>(settings_.max_output_mib * n * 1024 * 1024);
  const uint64_t cap_files = settings_.max_output_files * static_cast<uint64_t>(cases.size());
  L.cap_bytes = cap_bytes;
  L.cap_files = cap_files;
  auto over_caps = [&] {
    if (!cap_bytes && !cap_files) return false;
    OutputUsage u = output_usage(outputs, cap_bytes, cap_files);
    if (!u.over) {
      const OutputUsage w = output_usage(scratch, cap_bytes ? cap_bytes - std::min(cap_bytes, u.bytes) : 0,
                                         cap_files ? cap_files - std::min(cap_files, u.entries) : 0);
      u.bytes += w.bytes;
      u.entries += w.entries;
      u.over = w.over;
    }
    if ((cap_bytes && u.bytes > cap_bytes) || (cap_files && u.entries > cap_files)) u.over = true;
    if (u.over) L.usage = u;
    return u.over;
  };
  auto next_usage = t0 + std::chrono::milliseconds(500);
  while (!launched->wait_for(std::chrono::milliseconds(25))) {
    if (L.reason != KillReason::none) continue;  // killed already; waiting for it to go
    if (stopping()) L.reason = KillReason::interrupt;
    else if (Clock::now() >= deadline) L.reason = KillReason::timeout;
    else if (sampler.memory_limit_exceeded()) L.reason = KillReason::memory;
    else if (Clock::now() >= next_usage) {
      // Every 0.5 s, or less often when the walk itself is slow (about 2.7 µs an entry here): at most 5%
      // of a core, even for a contestant holding thousands of files.
      const auto polled = Clock::now();
      if (over_caps()) L.reason = KillReason::output;
      next_usage = Clock::now() + std::max<Clock::duration>(std::chrono::milliseconds(500), 20 * (Clock::now() - polled));
    }
    if (L.reason != KillReason::none) launched->kill();
  }
  L.exit = launched->finish();
  // Slurm (scancel, a time limit) signals every process of a job at once: a contestant killed by SIGTERM,
  // SIGINT, SIGHUP or SIGKILL may be reaped before our own handler has run. Its case was stopped, not
  // failed: give the stop flag a moment, and then it is not recorded, as with Ctrl-C.
  if (L.reason == KillReason::none && stop_) {
    const int code = L.exit.exit_code.value_or(0);
    const int sig = L.exit.signal ? *L.exit.signal : (code > 128 ? code - 128 : 0);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGKILL)
      for (int i = 0; i < 40 && !stop_->load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (stop_->load()) L.reason = KillReason::interrupt;
  }
  sampler.stop(L.exit.cpu_time_s);
  // What it wrote between the last poll and its exit counts too.
  if (L.reason == KillReason::none && !L.exit.launch_error && over_caps()) L.reason = KillReason::output;
  watch.stop();
  L.wall_s = std::chrono::duration<double>(L.exit.end - t0).count();
  L.samples = sampler.samples();
  L.sampler_info = sampler.info();
  L.gpu_note = sampler.gpu_note();
  L.peak_rss_mib = sampler.peak_rss_mib();
  L.argv = launched->argv();
  for (const auto& n : names) L.appeared[n] = watch.appeared_s(n);
  return L;
}

RunRecord Scheduler::base_record(const CaseInput& c, const Slot& slot) const {
  RunRecord r;
  r.case_name = c.name;
  r.image = c.image_file;
  r.mode = settings_.batch ? "batch" : "per_case";
  r.timeout_s = settings_.timeout_s;
  r.provenance = provenance_;
  r.gpu.index = slot.gpu_index;
  if (slot.gpu_index) {
    if (const auto it = gpu_info_.find(*slot.gpu_index); it != gpu_info_.end()) {
      r.gpu.name = it->second.name;
      r.gpu.uuid = it->second.uuid;
      r.gpu.total_mib = it->second.total_mib;
    }
  }
  Placement pl;
  pl.slot = slot.index;
  pl.slots = pool_ ? static_cast<int>(pool_->size()) : 1;
  pl.cpus = cpu_list_text(slot.cpus);
  r.placement = pl;
  if (nvml_ && nvml_->available()) r.gpu.driver = nvml_->driver_version();
  r.system.cpu_count = proc::cpu_count();
  r.system.ram_total_mib = ram_total_mib();
  r.started_at = iso_time_utc(std::chrono::system_clock::now());
  r.slurm = settings_.slurm;
  return r;
}

void Scheduler::fill_figures(RunRecord& r, const Launch& L) const {
  const SampleFigures f = summarize(L.samples);
  r.gpu.available = f.gpu_device.max.has_value();
  r.gpu.device_max_mib = f.gpu_device.max;
  r.gpu.device_auc_mib_s = f.gpu_device.auc;
  r.gpu.own_available = f.gpu_own.max.has_value();
  r.gpu.own_max_mib = f.gpu_own.max;
  r.gpu.own_auc_mib_s = f.gpu_own.auc;
  if (!r.gpu.available) r.gpu.note = L.gpu_note.empty() ? "no GPU memory was measured" : L.gpu_note;
  else if (!r.gpu.own_available) r.gpu.note = "NVML gave no per-process memory for the contestant's processes";
  else r.gpu.note = L.gpu_note;
  r.cpu.max_pct = f.cpu.max;
  r.cpu.auc_pct_s = f.cpu.auc;
  r.cpu.time_s = L.exit.cpu_time_s;
  r.ram.max_mib = f.rss.max;
  r.ram.auc_mib_s = f.rss.auc;
  r.system.cpu_max_pct = f.sys_cpu.max;
  r.system.cpu_auc_pct_s = f.sys_cpu.auc;
  r.system.ram_max_mib = f.sys_ram.max;
  r.system.ram_auc_mib_s = f.sys_ram.auc;
  r.sampler = L.sampler_info;
  r.provenance.launch = L.argv;
}

RunSummary Scheduler::run(const std::vector<CaseInput>& cases, JournalMode mode, const RunCallbacks& cb) {
  RunSummary summary;
  const fs::path team = settings_.team_dir;
  Journal journal(team, mode);
  journal.set_sign_key(settings_.sign_key);
  for (const auto& w : journal.warnings()) summary.notes.push_back(w);
  predictions_ = team / "predictions";
  samples_ = team / "samples";
  logs_ = team / "logs";
  rejected_ = team / "rejected";
  work_ = team / ".work";
  for (const auto& d : {predictions_, samples_, logs_}) fs::create_directories(d);
  std::error_code ec;
  // Containers an earlier run started and could not remove (it was killed) go first, by exact name.
  in_flight_ = std::make_unique<InFlightContainers>(team);
  in_flight_->remove_leftovers(&summary.notes);
  fs::remove_all(work_, ec);
  try {
    fs::create_directories(work_);
  } catch (...) {
    rethrow_disk_full("creating " + work_.string());
  }
  // Private while contestants write below it: nothing they leave (a setuid binary made by a container's
  // root, a FIFO) is reachable by other local users, whatever the modes inside.
  fs::permissions(work_, fs::perms::owner_all, ec);
  if (mode == JournalMode::start_over) fs::remove(team / kHeaderFile, ec);

  std::vector<CaseInput> pending;
  for (const auto& c : cases) {
    if (journal.has(c.name)) ++summary.skipped;
    else pending.push_back(c);
  }

  provenance_ = Provenance{};
  provenance_.contestant = settings_.contestant;
  provenance_.host = host_name();
  provenance_.lesionbench = settings_.lesionbench_version;
  std::optional<std::string> prepare_error;
  if (!pending.empty()) {
    try {
      launcher_.prepare(provenance_);
    } catch (const LaunchError& e) {
      prepare_error = e.what();
    }
  }
  // The slots, and what NVML says of their GPUs (a slot's GPU is matched by UUID in the record).
  pool_ = settings_.slots ? settings_.slots : std::make_shared<SlotPool>(std::vector<Slot>{Slot{0, settings_.gpu_index, "", {}}});
  abort_.store(false);
  gpu_info_.clear();
  for (size_t i = 0; i < pool_->size(); ++i) {
    const auto g = pool_->slot(i).gpu_index;
    GpuDeviceInfo info;
    if (g && !gpu_info_.count(*g) && nvml_ && nvml_->available() && nvml_->device_info(*g, &info)) gpu_info_[*g] = info;
  }

  // One team folder, one contestant: what defines it is written before the first launch and compared on
  // every later run that launches anything.
  if (!settings_.header.is_null() && !pending.empty()) {
    nlohmann::json current = settings_.header;
    if (provenance_.kind == "container") current["image_id"] = provenance_.image_id;
    nlohmann::json stored;
    try {
      stored = read_header(team);
    } catch (const std::exception& e) {
      launcher_.cleanup(&summary.notes);
      throw SetupError(std::string(e.what()) + " (remove it, or use --fresh to start over)");
    }
    if (!stored.is_null()) {
      const auto diffs = header_differences(stored, current);
      if (!diffs.empty()) {
        std::string list;
        for (const auto& d : diffs) list += "\n  " + d;
        if (!settings_.force) {
          launcher_.cleanup(&summary.notes);
          throw SetupError((team / kHeaderFile).string() + " describes another contestant than this run's:" + list +
                           "\none team folder holds one contestant: use another --out, --fresh to start over, or "
                           "--force to mix them anyway");
        }
        summary.notes.push_back("--force: the contestant differs from the one this folder was started with:" + list);
      }
    } else if (!journal.records().empty()) {
      summary.notes.push_back((team / kHeaderFile).string() + " was missing (a folder from an older lesionbench): "
                              "written now, the earlier records' contestant is not known");
    }
    try {
      if (stored.is_null() || header_differences(stored, current).size()) write_header(team, current);
    } catch (...) {
      launcher_.cleanup(&summary.notes);
      try {
        rethrow_disk_full("writing " + (team / kHeaderFile).string());
      } catch (const DiskFull&) {
        throw;
      } catch (const std::exception& e) {
        throw SetupError(std::string("cannot write ") + (team / kHeaderFile).string() + ": " + e.what());
      }
    }
  }

  const size_t total = pending.size();
  std::mutex publish_mu;  // one writer at a time: the journal, summary and CSVs see whole records
  size_t published = 0;
  auto publish = [&](const RunRecord& r, size_t /*index*/) {
    std::lock_guard<std::mutex> lock(publish_mu);
    const size_t index = published++;
    try {
      journal.append(r);
    } catch (...) {
      rethrow_disk_full("appending to " + journal.path().string());
    }
    summary.records.push_back(r);
    try {
      write_efficiency_file((team / "efficiency.csv").string(), journal.records(), EfficiencyView::flare);
      write_efficiency_file((team / "efficiency-own.csv").string(), journal.records(), EfficiencyView::own);
    } catch (...) {
      rethrow_disk_full("writing efficiency.csv");
    }
    if (cb.on_record) cb.on_record(r, index, total);
  };
  // Removes what an earlier, unrecorded attempt at these cases may have left.
  auto clear_case = [&](const CaseInput& c) {
    std::error_code ec;
    fs::remove(predictions_ / c.prediction_file(), ec);
    fs::remove_all(rejected_ / c.name, ec);
  };
  // A case that could not be recorded (disk full) leaves nothing behind: --resume runs it from scratch.
  auto discard_case = [&](const CaseInput& c) {
    std::error_code ec;
    clear_case(c);
    fs::remove(samples_ / (c.name + ".csv"), ec);
    fs::remove(logs_ / (c.name + ".stdout.txt"), ec);
    fs::remove(logs_ / (c.name + ".stderr.txt"), ec);
  };
  // A failed case's outputs, kept for a look as sanitized, capped copies (keep_files.h); returns the note.
  auto keep_rejected = [&](const std::string& label, const fs::path& outputs) {
    std::error_code ec;
    std::string note;
    if (!fs::is_empty(outputs, ec) && !ec) {
      fs::create_directories(rejected_, ec);
      fs::permissions(rejected_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec, ec);
      fs::remove_all(rejected_ / label, ec);
      note = keep_sanitized(outputs, rejected_ / label,
                            static_cast<uint64_t>(settings_.keep_rejected_mib * 1024 * 1024), settings_.keep_rejected_files)
                 .note;
    }
    fs::remove_all(outputs, ec);
    return note;
  };
  // Over an output cap: nothing it wrote is kept.
  auto drop_outputs = [&](const Launch& l) {
    std::error_code ec;
    fs::remove_all(l.dir / "outputs", ec);
    fs::remove_all(l.dir / "scratch", ec);
  };
  auto usage_text = [](const Launch& l) {
    const OutputUsage& u = l.usage;
    const std::string what =
        l.cap_bytes && u.bytes > l.cap_bytes
            ? mib_text(static_cast<double>(u.bytes)) + " MiB, above --max-output-mib (" +
                  mib_text(static_cast<double>(l.cap_bytes)) + " MiB for this launch)"
            : std::to_string(u.entries) + " files and folders, above --max-output-files (" + std::to_string(l.cap_files) +
                  " for this launch)";
    return ": " + what + "; stopped, its files removed";
  };

  try {  // a full disk anywhere below stops the run: see the catch after the batch branch
  if (prepare_error) {
    for (size_t i = 0; i < pending.size(); ++i) {
      RunRecord r = base_record(pending[i], pool_->slot(0));
      r.status = RunStatus::launch_error;
      r.message = *prepare_error;
      r.gpu.note = "not launched";
      publish(r, i);
    }
  } else if (!settings_.batch) {
    // One worker per slot (one in all without slots): each takes the next case, waits for a free slot of the
    // pool (shared with other teams' schedulers), runs the case and publishes its record.
    std::mutex next_mu;
    size_t next_case = 0;
    std::exception_ptr failure;  // the first error of a worker (a full disk): the others stop, run() rethrows it
    auto interrupted = [&] {
      std::lock_guard<std::mutex> lock(publish_mu);
      summary.interrupted = true;
    };
    // Runs one case on a slot already held; false when it was interrupted (nothing recorded).
    auto run_case = [&](const CaseInput& c, size_t i, size_t slot_i) -> bool {
      const Slot& slot = pool_->slot(slot_i);
      bool released = false;
      int concurrent_max = 1;
      auto release = [&] {
        if (!released) concurrent_max = std::max(1, pool_->release(slot_i));
        released = true;
      };
      struct Guard {
        std::function<void()> f;
        ~Guard() { f(); }
      } guard{release};
      if (cb.on_start) cb.on_start(c.name, i, total);
      clear_case(c);
      std::optional<nifti::Geometry> grid;
      std::string grid_note;
      try {
        grid = nifti::geometry_of(nifti::read_header(c.path.string()));
      } catch (const std::exception& e) {
        grid_note = "the input image could not be read (" + std::string(e.what()) + "): the output's grid was not checked";
      }
      RunRecord r = base_record(c, slot);
      Launch L = launch_and_wait({c}, c.name, settings_.timeout_s, slot);
      // The slot is free once the launch is gone: the checks below need no GPU.
      release();
      r.placement->concurrent_max = concurrent_max;
      if (L.reason == KillReason::interrupt) {
        if (!abort_.load()) interrupted();
        std::error_code ec;
        if (!L.dir.empty()) fs::remove_all(L.dir, ec);
        return false;
      }
      r.started_at = iso_time_utc(L.started_wall);
      if (!grid_note.empty()) r.notes.push_back(grid_note);
      if (L.launch_error) {
        r.status = RunStatus::launch_error;
        r.message = *L.launch_error;
        r.gpu.note = "not launched";
        publish(r, i);
        return true;
      }
      r.files.samples = "samples/" + c.name + ".csv";
      r.files.stdout_log = "logs/" + c.name + ".stdout.txt";
      r.files.stderr_log = "logs/" + c.name + ".stderr.txt";
      try {
        write_samples_file((team / r.files.samples).string(), L.samples);
      } catch (const std::system_error& e) {
        if (is_disk_full(e.code())) throw DiskFull(std::string("disk full: ") + e.what());
        r.notes.push_back(std::string("the samples could not be written: ") + e.what());
      } catch (const std::exception& e) {
        r.notes.push_back(std::string("the samples could not be written: ") + e.what());
      }
      r.wall_s = L.wall_s;
      fill_figures(r, L);
      apply_concurrency(r);
      const ExitVerdict v = classify_exit(L.exit, L.reason, settings_, settings_.timeout_s, L.peak_rss_mib, L.wall_s);
      r.status = v.status;
      r.message = v.message;
      r.exit_code = L.exit.exit_code;
      r.signal = L.exit.signal;
      if (!r.signal && v.status == RunStatus::signal && r.exit_code && *r.exit_code > 128) r.signal = *r.exit_code - 128;
      for (const auto& n : L.exit.notes) r.notes.push_back(n);
      r.output_s = L.appeared[c.prediction_file()];
      if (L.reason == KillReason::output) {
        r.message += usage_text(L);
        drop_outputs(L);
      }
      if (v.check_output) {
        const OutputsFolder folder(L.dir / "outputs");
        const OutputVerdict ov = check_prediction(folder, c.prediction_file(), grid, settings_.strict_geometry);
        if (ov.status == RunStatus::ok) {
          if (!ov.warning.empty()) r.notes.push_back(ov.warning);
          const std::string extras = describe_extras(folder, {c.prediction_file()});
          if (!extras.empty()) r.notes.push_back("also wrote (ignored): " + extras);
          const std::string err = move_prediction(folder, c.prediction_file(), predictions_);
          if (err.empty()) {
            r.prediction = "predictions/" + c.prediction_file();
            if (r.status != RunStatus::ok) r.notes.push_back("it wrote a valid prediction before failing; kept");
          } else if (r.status == RunStatus::ok) {
            r.status = RunStatus::bad_output;
            r.message = err;
          }
        } else if (r.status == RunStatus::ok) {
          r.status = ov.status;
          r.message = ov.message;
        } else if (ov.status == RunStatus::bad_output) {
          r.notes.push_back("its output was unusable too: " + ov.message);
        }
      }
      if (r.status != RunStatus::ok && !L.exit.stderr_last_line.empty() && r.status != RunStatus::bad_output &&
          r.status != RunStatus::no_output)
        r.message += "; last line of stderr: " + printable(L.exit.stderr_last_line, 200);
      if (r.status != RunStatus::ok) {
        const std::string note = keep_rejected(c.name, L.dir / "outputs");
        if (!note.empty()) r.notes.push_back(note);
      }
      publish(r, i);
      std::error_code ec;
      if (!L.dir.empty()) fs::remove_all(L.dir, ec);
      return true;
    };
    auto worker = [&] {
      try {
        for (;;) {
          if (stopping()) {
            if (!abort_.load()) interrupted();
            return;
          }
          size_t i = 0;
          {
            std::lock_guard<std::mutex> lock(next_mu);
            if (next_case >= pending.size()) return;
            i = next_case++;
          }
          // Waiting for a slot also ends on Ctrl-C (or another worker's failure): the case is not run.
          const std::optional<size_t> slot_i = pool_->acquire([this] { return stopping(); });
          if (!slot_i) {
            if (!abort_.load()) interrupted();
            return;
          }
          if (!run_case(pending[i], i, *slot_i)) return;
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(next_mu);
        if (!failure) failure = std::current_exception();
        abort_.store(true);
      }
    };
    const size_t n_workers = std::min(pending.size(), pool_->size());
    if (n_workers <= 1) {
      worker();
    } else {
      std::vector<std::thread> workers;
      for (size_t w = 0; w < n_workers; ++w) workers.emplace_back(worker);
      for (auto& t : workers) t.join();
    }
    if (failure) std::rethrow_exception(failure);
  } else if (!pending.empty()) {
    if (cb.on_start) cb.on_start("batch", 0, total);
    std::map<std::string, std::optional<nifti::Geometry>> grids;
    for (const auto& c : pending) {
      clear_case(c);
      try {
        grids[c.name] = nifti::geometry_of(nifti::read_header(c.path.string()));
      } catch (const std::exception&) {
        grids[c.name] = std::nullopt;
      }
    }
    const double timeout = settings_.timeout_s * static_cast<double>(pending.size());
    const std::optional<size_t> slot_i = pool_->acquire([this] { return stopping(); });
    Launch L;
    int concurrent_max = 1;
    if (!slot_i) {
      L.reason = KillReason::interrupt;
    } else {
      try {
        L = launch_and_wait(pending, "batch", timeout, pool_->slot(*slot_i));
      } catch (...) {
        pool_->release(*slot_i);  // the pool may be other teams' too
        throw;
      }
      concurrent_max = std::max(1, pool_->release(*slot_i));
    }
    const Slot& batch_slot = pool_->slot(slot_i.value_or(0));
    if (L.reason == KillReason::interrupt) {
      summary.interrupted = true;
    } else {
      const ExitVerdict v = classify_exit(L.exit, L.reason, settings_, timeout, L.peak_rss_mib, L.wall_s);
      std::vector<std::string> names;
      for (const auto& c : pending) names.push_back(c.prediction_file());
      std::optional<OutputsFolder> folder;
      if (L.reason == KillReason::output) drop_outputs(L);
      if (!L.launch_error && v.check_output) folder.emplace(L.dir / "outputs");
      if (!L.launch_error) {
        try {
          write_samples_file((samples_ / "batch.csv").string(), L.samples);
        } catch (const std::system_error& e) {
          if (is_disk_full(e.code())) throw DiskFull(std::string("disk full: ") + e.what());
          summary.notes.push_back(std::string("the batch's samples could not be written: ") + e.what());
        } catch (const std::exception& e) {
          summary.notes.push_back(std::string("the batch's samples could not be written: ") + e.what());
        }
      }
      bool any_failed = false;
      for (size_t i = 0; i < pending.size(); ++i) {
        const CaseInput& c = pending[i];
        RunRecord r = base_record(c, batch_slot);
        r.placement->concurrent_max = concurrent_max;
        r.started_at = iso_time_utc(L.started_wall);
        if (L.launch_error) {
          r.status = RunStatus::launch_error;
          r.message = *L.launch_error;
          r.gpu.note = "not launched";
          publish(r, i);
          continue;
        }
        r.files = {"samples/batch.csv", "logs/batch.stdout.txt", "logs/batch.stderr.txt"};
        r.wall_s = L.wall_s;
        fill_figures(r, L);
        apply_concurrency(r);
        r.status = v.status;
        r.message = v.message;
        r.exit_code = L.exit.exit_code;
        r.signal = L.exit.signal;
        if (!r.signal && v.status == RunStatus::signal && r.exit_code && *r.exit_code > 128) r.signal = *r.exit_code - 128;
        r.output_s = L.appeared[c.prediction_file()];
        if (i == 0) {
          if (L.reason == KillReason::output) r.message += usage_text(L);
          for (const auto& n : L.exit.notes) r.notes.push_back(n);
          if (folder) {
            const std::string extras = describe_extras(*folder, names);
            if (!extras.empty()) r.notes.push_back("the batch also wrote (ignored): " + extras);
          }
        }
        if (folder) {
          const OutputVerdict ov = check_prediction(*folder, c.prediction_file(), grids[c.name], settings_.strict_geometry);
          if (ov.status == RunStatus::ok) {
            if (!ov.warning.empty()) r.notes.push_back(ov.warning);
            const std::string err = move_prediction(*folder, c.prediction_file(), predictions_);
            if (err.empty()) r.prediction = "predictions/" + c.prediction_file();
            else if (r.status == RunStatus::ok) {
              r.status = RunStatus::bad_output;
              r.message = err;
            }
          } else if (r.status == RunStatus::ok) {
            r.status = ov.status;
            r.message = ov.message;
            // In a batch, "nothing at all" for this case is simply a missing output.
            if (ov.status == RunStatus::bad_output && ov.message.rfind("no " + c.prediction_file(), 0) == 0) {
              r.status = RunStatus::no_output;
              r.message = "wrote no " + c.prediction_file();
            }
          }
        }
        if (r.status != RunStatus::ok) any_failed = true;
        publish(r, i);
      }
      folder.reset();
      if (any_failed) {
        const std::string note = keep_rejected("batch", L.dir / "outputs");
        if (!note.empty()) summary.notes.push_back("rejected/batch: " + note);
      }
    }
  }
  } catch (const DiskFull&) {
    // The run stops here; what is recorded stays, the cases in flight leave nothing behind.
    for (const auto& c : pending)
      if (!journal.has(c.name)) discard_case(c);
    launcher_.cleanup(&summary.notes);
    fs::remove_all(work_, ec);
    throw;
  }

  launcher_.cleanup(&summary.notes);
  fs::remove_all(work_, ec);
  // Always leave the CSVs, even when nothing ran this time.
  write_efficiency_file((team / "efficiency.csv").string(), journal.records(), EfficiencyView::flare);
  write_efficiency_file((team / "efficiency-own.csv").string(), journal.records(), EfficiencyView::own);
  return summary;
}

}  // namespace lb::runner
