#pragma once
// The sampler: a thread that, every interval, reads what the contestant and the machine use —
// GPU memory (device-wide and the contestant's own, through NVML), the CPU time and resident memory of the
// contestant's process tree (/proc), and system-wide CPU and memory — and keeps the series with real
// timestamps. It measures its own cost (the CPU time of its thread and the duration of each tick).
//
// Which processes are the contestant is told by a TreeRoots that the launcher fills in: the launched
// process and, for a container, the container's first process once the engine names it. A process whose
// parent is in the tree is in the tree; with `adopter`, orphans re-parented to us are too.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runner/nvml.h"
#include "runner/proc.h"
#include "runner/record.h"
#include "runner/samples.h"

namespace lb::runner {

using Clock = std::chrono::steady_clock;

struct TreeRoots {
  std::atomic<pid_t> root{0};       // the launched process, when it belongs to the contestant
  std::atomic<pid_t> container{0};  // a container's first process, once known
  std::atomic<pid_t> adopter{0};    // this process, when it is the subreaper of the contestant's orphans
  std::atomic<pid_t> adopt_pgid{0}; // > 0: launches run at once; adopted orphans are this tree's only
                                    // when in this process group or seen in the tree before (proc::AdoptFilter)
  // The pids the sampler has seen in the tree (only kept when adopt_pgid > 0), sorted.
  void note_seen(const std::vector<pid_t>& sorted_pids) const;
  std::vector<pid_t> seen() const;

 private:
  mutable std::mutex seen_mu_;
  mutable std::vector<pid_t> seen_;
};

struct SamplerSettings {
  double interval_ms = 100;
  std::optional<int> gpu_index;     // NVML index of the contestant's GPU; none: GPU figures not measured
  double memory_limit_mib = 0;      // > 0: memory_limit_exceeded() once the tree's RSS goes above it
};

class Sampler {
 public:
  Sampler(SamplerSettings settings, std::shared_ptr<Nvml> nvml);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Takes the first sample at once, then one every interval on its own thread. t0 is the launch time.
  // A sampler can serve one launch after another; start() forgets the previous series.
  void start(const TreeRoots* tree, Clock::time_point t0);
  // Takes the last sample and stops. `final_tree_cpu_s`: the CPU seconds the launched process and its
  // waited-for children used (from rusage), so the last interval's CPU is not lost when they are gone.
  void stop(std::optional<double> final_tree_cpu_s = std::nullopt);

  bool memory_limit_exceeded() const { return memory_exceeded_.load(); }
  double peak_rss_mib() const;
  const std::vector<Sample>& samples() const { return samples_; }  // complete after stop()
  SamplerInfo info() const;
  // Why GPU figures are missing, if they are (empty otherwise).
  const std::string& gpu_note() const { return gpu_note_; }

 private:
  void loop();
  void take(bool final, std::optional<double> final_tree_cpu_s);

  SamplerSettings settings_;
  std::shared_ptr<Nvml> nvml_;
  const TreeRoots* tree_ = nullptr;
  Clock::time_point t0_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool running_ = false;

  // Sampling state, touched only by the sampling thread (and by stop() after joining it).
  proc::ProcessTable table_;
  std::vector<size_t> members_;
  std::vector<pid_t> member_pids_;
  std::vector<GpuProcess> gpu_procs_;
  std::vector<pid_t> adopt_known_;  // TreeRoots::seen() at this tick (launches at once)
  std::vector<Sample> samples_;
  uint64_t prev_tree_ticks_ = 0;
  proc::CpuTimes prev_cpu_{};
  bool have_prev_cpu_ = false;
  double prev_t_s_ = 0, prev_dt_ = 0;
  double prev_sys_busy_ = 0, prev_sys_total_ = 0;  // the last interval's system CPU ticks
  std::string gpu_note_, base_gpu_note_;
  int gpu_failures_ = 0;
  bool foreign_pids_ = false;

  std::atomic<bool> memory_exceeded_{false};
  std::atomic<double> peak_rss_mib_{0};
  double thread_cpu_s_ = 0;
  double tick_total_us_ = 0, tick_max_us_ = 0;
  int64_t late_ticks_ = 0;
};

}  // namespace lb::runner
