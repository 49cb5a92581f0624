#pragma once
// Linux /proc readers for the sampler and for stopping process trees: per-process CPU ticks and resident
// memory, the parent links that define a contestant's process tree, system-wide CPU and memory, and the
// kernel's OOM-kill counter of our cgroup. Everything here reads into buffers owned by the caller or
// allocated once, so a sampling tick does not allocate.
#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lb::runner::proc {

// The fields of /proc/<pid>/stat the runner needs (times in clock ticks, see ticks_per_second()).
struct ProcStat {
  pid_t pid = 0, ppid = 0, pgrp = 0;
  char state = '?';
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
  uint64_t starttime = 0;
  int64_t rss_pages = 0;
  uint64_t cpu_ticks() const { return utime + stime + cutime + cstime; }
};

// Parses one /proc/<pid>/stat line (the command name may hold spaces and parentheses).
bool parse_stat(const char* text, size_t n, ProcStat* out);
// Reads /proc/<pid>/stat; false when the process is gone.
bool read_stat(pid_t pid, ProcStat* out);

long ticks_per_second();
long page_size_bytes();
int cpu_count();

// First line of /proc/stat, in clock ticks.
struct CpuTimes {
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  uint64_t busy() const { return user + nice + system + irq + softirq + steal; }
  uint64_t total() const { return busy() + idle + iowait; }
};
bool read_cpu_times(CpuTimes* out);
bool parse_cpu_times(const char* text, size_t n, CpuTimes* out);

// /proc/meminfo. used_mib is what `free` (procps 3.3) and psutil report as used:
// MemTotal − MemFree − Buffers − Cached − SReclaimable.
struct MemInfo {
  double total_mib = 0, free_mib = 0, available_mib = 0, used_mib = 0;
};
bool read_meminfo(MemInfo* out);
bool parse_meminfo(const char* text, size_t n, MemInfo* out);

// Which orphans adopted by the subreaper belong to a tree, when several launches share it (runner/slots.h):
// those still in the launch's process group, and those seen in the tree before they were orphaned (a
// sandbox's init after the outer bwrap exits: it has its own session and group).
struct AdoptFilter {
  pid_t pgid = 0;                          // > 0: adopted children of this process group
  const std::vector<pid_t>* known = nullptr;  // sorted: adopted children with these pids
  bool accepts(pid_t pid, pid_t pgrp) const;
};

// A snapshot of the processes' stat lines, refreshed without allocating once warmed up. tree() marks the
// processes that descend from the given roots: the contestant's process tree.
//
// scan_tree() is the sampler's cheap path: a process read before and found outside the tree cannot have
// joined it since (a parent is fixed at fork; re-parenting only moves orphans to a subreaper or init), so
// it is not read again; new processes and members are. A pid that vanishes and is reused within one tick
// could be missed, so a full scan (`full`) should run every second or so.
class ProcessTable {
 public:
  ProcessTable();
  ~ProcessTable();
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // Reads every process.
  void scan();
  const std::vector<ProcStat>& processes() const { return procs_; }
  // Indices into processes() of the roots and all their descendants; with `adopter` > 0, also the children
  // of `adopter` (orphans re-parented to a subreaper) and their descendants. With a `filter`, only the
  // orphans it accepts: when several launches run at once, every launch's orphans are re-parented to the
  // one subreaper.
  void tree(const pid_t* roots, size_t n_roots, pid_t adopter, std::vector<size_t>* members,
            const AdoptFilter* filter = nullptr);
  // scan() and tree() in one, reading only what can be in the tree unless `full`. processes() then holds
  // the processes read this time.
  void scan_tree(const pid_t* roots, size_t n_roots, pid_t adopter, bool full, std::vector<size_t>* members,
                 const AdoptFilter* filter = nullptr);
  size_t last_read_count() const { return procs_.size(); }
  size_t last_listed_count() const { return pids_.size(); }

 private:
  void list_pids();
  int dir_fd_ = -1;
  std::vector<char> dents_;
  std::vector<ProcStat> procs_;
  std::vector<pid_t> pids_, prev_pids_;
  std::vector<uint8_t> mark_;      // by pid: in the tree (scratch, cleared after each call)
  std::vector<uint8_t> outsider_;  // by pid: read before and found outside the tree
};

// Stops every process of a tree: freezes it with SIGSTOP until no new process appears (so nothing forks
// past us), then SIGKILLs them all and the process group `pgid` (if > 0). Returns how many were killed.
// `filter` as in ProcessTable::tree.
int kill_tree(const std::vector<pid_t>& roots, pid_t adopter, pid_t pgid, const AdoptFilter* filter = nullptr);

// Reaps children of this process that have already exited (orphans adopted as subreaper); never waits
// for a live one, nor for a child that a thread of ours waits on (claim_child). Returns how many were reaped.
int reap_exited_children();
// A child whose exit status a thread of ours collects itself (Spawned's waiter): reap_exited_children()
// leaves it alone, so that with several launches at once one launch's sweep cannot take another's status.
void claim_child(pid_t pid);
void release_child(pid_t pid);
// Reaps an adopted child once it has exited (waiting up to `wait`) and returns its CPU time, its children's
// included; nullopt if it is not our child or still runs. If another thread's reap_exited_children() reaped
// it first, the time it recorded is returned instead, so the time stays with the launch the child belongs to.
std::optional<double> reap_adopted(pid_t pid, std::chrono::milliseconds wait);

// User + system CPU seconds of a rusage.
double cpu_seconds(const rusage& ru);

// Makes this process the subreaper of its descendants, so orphans of a contestant are re-parented to us
// (and stay in reach) instead of init. Idempotent.
void become_subreaper();

// Number of OOM kills the kernel counted in this process's memory cgroup (v2 memory.events or
// v1 memory.oom_control), or -1 when unknown. An increase during a case means the OOM killer struck.
int64_t oom_kill_count();

}  // namespace lb::runner::proc
