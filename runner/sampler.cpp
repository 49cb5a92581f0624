// The sampling thread; see sampler.h.
#include "runner/sampler.h"

#include <signal.h>
#include <time.h>

#include <cerrno>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace lb::runner {

namespace {
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

Sampler::Sampler(SamplerSettings settings, std::shared_ptr<Nvml> nvml)
    : settings_(settings), nvml_(std::move(nvml)) {
  if (!(settings_.interval_ms > 0)) settings_.interval_ms = 100;
  members_.reserve(1024);
  member_pids_.reserve(1024);
  gpu_procs_.resize(512);
  samples_.reserve(4096);
  if (settings_.gpu_index) {
    if (!nvml_ || !nvml_->available()) {
      gpu_note_ = nvml_ ? nvml_->error() : "NVML not loaded";
      settings_.gpu_index.reset();
    } else if (*settings_.gpu_index >= nvml_->device_count()) {
      gpu_note_ = "no GPU with NVML index " + std::to_string(*settings_.gpu_index);
      settings_.gpu_index.reset();
    }
  } else if (gpu_note_.empty()) {
    gpu_note_ = nvml_ && nvml_->available() ? "no GPU asked for" : (nvml_ ? nvml_->error() : "NVML not loaded");
  }
  base_gpu_note_ = gpu_note_;
}

Sampler::~Sampler() {
  if (running_) stop();
}

void Sampler::start(const TreeRoots* tree, Clock::time_point t0) {
  if (running_) stop();
  tree_ = tree;
  t0_ = t0;
  // A sampler serves one launch after another: forget the previous one.
  samples_.clear();
  memory_exceeded_.store(false);
  peak_rss_mib_.store(0);
  thread_cpu_s_ = 0;
  tick_total_us_ = tick_max_us_ = 0;
  late_ticks_ = 0;
  gpu_failures_ = 0;
  foreign_pids_ = false;
  gpu_note_ = base_gpu_note_;
  have_prev_cpu_ = proc::read_cpu_times(&prev_cpu_);
  prev_t_s_ = 0;
  prev_tree_ticks_ = 0;
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void Sampler::loop() {
  const double cpu0 = thread_cpu_seconds();
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(settings_.interval_ms));
  auto next = Clock::now();
  for (;;) {
    take(false, std::nullopt);
    next += interval;
    const auto now = Clock::now();
    if (now > next + interval) {
      // More than a whole interval behind (the machine is overloaded): do not catch up in a burst.
      ++late_ticks_;
      next = now + interval;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
  }
  thread_cpu_s_ = thread_cpu_seconds() - cpu0;
}

void Sampler::stop(std::optional<double> final_tree_cpu_s) {
  if (!running_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  running_ = false;
  const double cpu0 = thread_cpu_seconds();
  take(true, final_tree_cpu_s);
  thread_cpu_s_ += thread_cpu_seconds() - cpu0;
}

void Sampler::take(bool final, std::optional<double> final_tree_cpu_s) {
  const auto tick_start = Clock::now();
  Sample s;
  const bool first = samples_.empty();

  // The contestant's process tree.
  pid_t roots[2];
  size_t n_roots = 0;
  if (tree_) {
    if (pid_t r = tree_->root.load()) roots[n_roots++] = r;
    if (pid_t c = tree_->container.load()) roots[n_roots++] = c;
  }
  // A full scan every 5 s (it only guards against a pid freed and reused within one tick); in between
  // only new processes and the tree's are read.
  const size_t full_every = std::max<size_t>(1, static_cast<size_t>(5000.0 / settings_.interval_ms));
  const pid_t adopt_pgid = tree_ ? tree_->adopt_pgid.load() : 0;
  if (adopt_pgid > 0) adopt_known_ = tree_->seen();
  const proc::AdoptFilter filter{adopt_pgid, &adopt_known_};
  table_.scan_tree(roots, n_roots, tree_ ? tree_->adopter.load() : 0, samples_.size() % full_every == 0,
                   &members_, adopt_pgid > 0 ? &filter : nullptr);
  // The tree's figures were read during the scan: stamp the sample at its middle, so the CPU interval
  // between two samples is the interval between the readings.
  const auto scanned = Clock::now();
  s.t_s = std::chrono::duration<double>(tick_start + (scanned - tick_start) / 2 - t0_).count();
  const double dt = s.t_s - prev_t_s_;
  uint64_t ticks = 0;
  int64_t rss_pages = 0;
  member_pids_.clear();
  for (size_t i : members_) {
    const auto& p = table_.processes()[i];
    ticks += p.cpu_ticks();
    if (p.state != 'Z') rss_pages += p.rss_pages;
    member_pids_.push_back(p.pid);
  }
  std::sort(member_pids_.begin(), member_pids_.end());
  if (adopt_pgid > 0) tree_->note_seen(member_pids_);
  s.procs = static_cast<int32_t>(members_.size());
  s.rss_mib = static_cast<double>(rss_pages) * static_cast<double>(proc::page_size_bytes()) / (1024.0 * 1024.0);
  if (final && final_tree_cpu_s)
    ticks = std::max<uint64_t>(ticks, static_cast<uint64_t>(std::llround(*final_tree_cpu_s * proc::ticks_per_second())));
  // The last sample usually closes a short interval; CPU time comes in clock ticks (10 ms), so a rate
  // over a few milliseconds is mostly rounding. Merge it with the interval before: the area (CPU seconds)
  // stays exact and the maximum is not inflated.
  const double tck = static_cast<double>(proc::ticks_per_second());
  const bool merge = final && samples_.size() >= 2 && dt < 0.5 * settings_.interval_ms / 1000.0;
  if (!first && dt > 0) {
    // Ticks vanish when a process is reaped by someone outside the tree; never count that as negative.
    const uint64_t used = ticks > prev_tree_ticks_ ? ticks - prev_tree_ticks_ : 0;
    s.cpu_pct = 100.0 * static_cast<double>(used) / tck / dt;
    if (merge && !std::isnan(samples_.back().cpu_pct)) {
      const double span = dt + prev_dt_;
      s.cpu_pct = (100.0 * static_cast<double>(used) / tck + samples_.back().cpu_pct * prev_dt_) / span;
      samples_.back().cpu_pct = s.cpu_pct;
    }
  }
  // The sum dips for a moment when a child has been reaped but its parent's cutime was read before: keep
  // the highest sum seen as the baseline so the recovery is not counted twice.
  prev_tree_ticks_ = std::max(prev_tree_ticks_, ticks);

  // The machine.
  proc::CpuTimes cpu;
  if (proc::read_cpu_times(&cpu)) {
    if (have_prev_cpu_ && !first) {
      double busy = static_cast<double>(cpu.busy() - prev_cpu_.busy());
      double total = static_cast<double>(cpu.total() - prev_cpu_.total());
      if (merge) {
        busy += prev_sys_busy_;
        total += prev_sys_total_;
      }
      s.sys_cpu_pct = total > 0 ? 100.0 * busy / total : 0;
      if (merge && !std::isnan(samples_.back().sys_cpu_pct)) samples_.back().sys_cpu_pct = s.sys_cpu_pct;
      prev_sys_busy_ = static_cast<double>(cpu.busy() - prev_cpu_.busy());
      prev_sys_total_ = static_cast<double>(cpu.total() - prev_cpu_.total());
    }
    prev_cpu_ = cpu;
    have_prev_cpu_ = true;
  }
  proc::MemInfo mem;
  if (proc::read_meminfo(&mem)) s.sys_ram_mib = mem.used_mib;

  // The GPU.
  if (settings_.gpu_index && nvml_) {
    const int gi = *settings_.gpu_index;
    GpuMemory gm;
    if (nvml_->memory(gi, &gm)) {
      s.gpu_device_mib = gm.used_mib();
    } else if (++gpu_failures_ == 1) {
      gpu_note_ = "NVML did not answer for some samples";
    }
    unsigned count = 0;
    if (nvml_->compute_processes(gi, gpu_procs_.data(), static_cast<unsigned>(gpu_procs_.size()), &count)) {
      double own = 0;
      bool known = true;
      for (unsigned k = 0; k < count; ++k) {
        const GpuProcess& gp = gpu_procs_[k];
        if (!std::binary_search(member_pids_.begin(), member_pids_.end(), gp.pid)) continue;
        if (gp.used_mib < 0) known = false;
        else own += gp.used_mib;
      }
      if (known) s.gpu_own_mib = own;
      if (own == 0 && count > 0 && !foreign_pids_) {
        // NVML names processes by the pids of the host; inside a container those may not exist here, and
        // the contestant's own memory cannot be attributed. Say so rather than report 0 silently.
        for (unsigned k = 0; k < count; ++k)
          if (::kill(gpu_procs_[k].pid, 0) != 0 && errno == ESRCH) foreign_pids_ = true;
        if (foreign_pids_)
          gpu_note_ = "NVML lists GPU processes whose pids do not exist here (another pid namespace?): the "
                      "contestant's own GPU memory may be missing";
      }
    }
  }

  if (settings_.memory_limit_mib > 0 && s.rss_mib > settings_.memory_limit_mib) memory_exceeded_.store(true);
  if (s.rss_mib > peak_rss_mib_.load()) peak_rss_mib_.store(s.rss_mib);
  prev_dt_ = dt;
  prev_t_s_ = s.t_s;
  samples_.push_back(s);

  const double us = std::chrono::duration<double, std::micro>(Clock::now() - tick_start).count();
  tick_total_us_ += us;
  tick_max_us_ = std::max(tick_max_us_, us);
}

void TreeRoots::note_seen(const std::vector<pid_t>& sorted_pids) const {
  std::lock_guard<std::mutex> lock(seen_mu_);
  std::vector<pid_t> merged;
  merged.reserve(seen_.size() + sorted_pids.size());
  std::set_union(seen_.begin(), seen_.end(), sorted_pids.begin(), sorted_pids.end(), std::back_inserter(merged));
  seen_.swap(merged);
}

std::vector<pid_t> TreeRoots::seen() const {
  std::lock_guard<std::mutex> lock(seen_mu_);
  return seen_;
}

double Sampler::peak_rss_mib() const { return peak_rss_mib_.load(); }

SamplerInfo Sampler::info() const {
  SamplerInfo i;
  i.interval_ms = settings_.interval_ms;
  i.samples = static_cast<int64_t>(samples_.size());
  i.cpu_s = thread_cpu_s_;
  i.mean_tick_us = samples_.empty() ? 0 : tick_total_us_ / static_cast<double>(samples_.size());
  i.max_tick_us = tick_max_us_;
  i.late_ticks = late_ticks_;
  return i;
}

}  // namespace lb::runner
