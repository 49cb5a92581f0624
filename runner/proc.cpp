// /proc readers; see proc.h.
#include "runner/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <mutex>
#include <deque>
#include <map>
#include <set>

namespace lb::runner::proc {

namespace {

// Reads a small /proc file into `buf` (NUL-terminated); returns the length or -1.
ssize_t read_small(const char* path, char* buf, size_t cap) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t got = 0;
  while (got + 1 < cap) {
    const ssize_t k = ::read(fd, buf + got, cap - 1 - got);
    if (k < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return -1;
    }
    if (k == 0) break;
    got += static_cast<size_t>(k);
  }
  ::close(fd);
  buf[got] = '\0';
  return static_cast<ssize_t>(got);
}

// Parses an unsigned decimal at p (skipping leading spaces); advances p.
bool next_u64(const char*& p, const char* end, uint64_t* v) {
  while (p < end && *p == ' ') ++p;
  if (p >= end) return false;
  bool neg = false;
  if (*p == '-') {
    neg = true;
    ++p;
  }
  if (p >= end || *p < '0' || *p > '9') return false;
  uint64_t x = 0;
  while (p < end && *p >= '0' && *p <= '9') x = x * 10 + static_cast<uint64_t>(*p++ - '0');
  *v = neg ? static_cast<uint64_t>(-static_cast<int64_t>(x)) : x;
  return true;
}

}  // namespace

bool parse_stat(const char* text, size_t n, ProcStat* out) {
  const char* end = text + n;
  const char* open = static_cast<const char*>(std::memchr(text, '(', n));
  if (!open) return false;
  // The command name ends at the last ')' (it may contain ')' itself).
  const char* close = nullptr;
  for (const char* q = end; q > open;) {
    --q;
    if (*q == ')') {
      close = q;
      break;
    }
  }
  if (!close) return false;
  uint64_t v = 0;
  const char* p = text;
  if (!next_u64(p, open, &v)) return false;
  out->pid = static_cast<pid_t>(v);
  p = close + 1;
  while (p < end && *p == ' ') ++p;
  if (p >= end) return false;
  out->state = *p++;
  // Fields 4.. after the state, numbered as in proc(5).
  uint64_t f[25] = {};
  for (int field = 4; field <= 24; ++field)
    if (!next_u64(p, end, &f[field])) return false;
  out->ppid = static_cast<pid_t>(f[4]);
  out->pgrp = static_cast<pid_t>(f[5]);
  out->utime = f[14];
  out->stime = f[15];
  out->cutime = f[16];
  out->cstime = f[17];
  out->starttime = f[22];
  out->rss_pages = static_cast<int64_t>(f[24]);
  return true;
}

bool read_stat(pid_t pid, ProcStat* out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  char buf[1024];
  const ssize_t n = read_small(path, buf, sizeof buf);
  return n > 0 && parse_stat(buf, static_cast<size_t>(n), out);
}

long ticks_per_second() {
  static const long v = [] {
    const long t = ::sysconf(_SC_CLK_TCK);
    return t > 0 ? t : 100L;
  }();
  return v;
}

long page_size_bytes() {
  static const long v = [] {
    const long t = ::sysconf(_SC_PAGESIZE);
    return t > 0 ? t : 4096L;
  }();
  return v;
}

int cpu_count() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

bool parse_cpu_times(const char* text, size_t n, CpuTimes* out) {
  if (n < 4 || std::strncmp(text, "cpu ", 4) != 0) return false;
  const char* p = text + 4;
  const char* end = static_cast<const char*>(std::memchr(text, '\n', n));
  if (!end) end = text + n;
  uint64_t v[8] = {};
  int got = 0;
  for (; got < 8; ++got)
    if (!next_u64(p, end, &v[got])) break;
  if (got < 4) return false;  // user nice system idle are always there
  *out = CpuTimes{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  return true;
}

bool read_cpu_times(CpuTimes* out) {
  char buf[512];  // only the first line is needed
  const int fd = ::open("/proc/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t k = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (k <= 0) return false;
  buf[k] = '\0';
  return parse_cpu_times(buf, static_cast<size_t>(k), out);
}

bool parse_meminfo(const char* text, size_t n, MemInfo* out) {
  const char* p = text;
  const char* end = text + n;
  double total = -1, free_kib = -1, avail = -1, buffers = 0, cached = 0, reclaimable = 0;
  while (p < end) {
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!eol) eol = end;
    const char* colon = static_cast<const char*>(std::memchr(p, ':', static_cast<size_t>(eol - p)));
    if (colon) {
      const size_t key_len = static_cast<size_t>(colon - p);
      const char* q = colon + 1;
      uint64_t v = 0;
      if (next_u64(q, eol, &v)) {
        auto is = [&](const char* key) { return key_len == std::strlen(key) && std::strncmp(p, key, key_len) == 0; };
        const double kib = static_cast<double>(v);
        if (is("MemTotal")) total = kib;
        else if (is("MemFree")) free_kib = kib;
        else if (is("MemAvailable")) avail = kib;
        else if (is("Buffers")) buffers = kib;
        else if (is("Cached")) cached = kib;
        else if (is("SReclaimable")) reclaimable = kib;
      }
    }
    p = eol + 1;
  }
  if (total < 0 || free_kib < 0) return false;
  out->total_mib = total / 1024.0;
  out->free_mib = free_kib / 1024.0;
  out->available_mib = (avail >= 0 ? avail : free_kib) / 1024.0;
  double used = total - free_kib - buffers - cached - reclaimable;
  if (used < 0) used = total - free_kib;  // as procps does when the cache figures exceed the total
  out->used_mib = used / 1024.0;
  return true;
}

bool read_meminfo(MemInfo* out) {
  char buf[8192];
  const ssize_t n = read_small("/proc/meminfo", buf, sizeof buf);
  return n > 0 && parse_meminfo(buf, static_cast<size_t>(n), out);
}

// ---------------------------------------------------------------------------------------------------------

namespace {
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

size_t pid_limit() {
  char buf[32];
  if (read_small("/proc/sys/kernel/pid_max", buf, sizeof buf) > 0) {
    const long v = std::strtol(buf, nullptr, 10);
    if (v > 0 && v <= (1L << 22)) return static_cast<size_t>(v) + 1;
  }
  return (1u << 22) + 1;  // the kernel's upper bound for pid_max
}
}  // namespace

ProcessTable::ProcessTable() : dents_(1 << 16), mark_(pid_limit(), 0), outsider_(mark_.size(), 0) {
  dir_fd_ = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  procs_.reserve(1024);
  pids_.reserve(4096);
  prev_pids_.reserve(4096);
}

ProcessTable::~ProcessTable() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

void ProcessTable::list_pids() {
  pids_.clear();
  if (dir_fd_ < 0) return;
  ::lseek(dir_fd_, 0, SEEK_SET);
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir_fd_, dents_.data(), dents_.size());
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(dents_.data() + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (name[0] < '1' || name[0] > '9') continue;
      pid_t pid = 0;
      bool numeric = true;
      for (const char* c = name; *c; ++c) {
        if (*c < '0' || *c > '9') {
          numeric = false;
          break;
        }
        pid = pid * 10 + (*c - '0');
      }
      if (numeric) pids_.push_back(pid);
    }
  }
  std::sort(pids_.begin(), pids_.end());
}

void ProcessTable::scan() {
  list_pids();
  procs_.clear();
  for (pid_t pid : pids_) {
    ProcStat st;
    if (read_stat(pid, &st)) procs_.push_back(st);
  }
}

void ProcessTable::scan_tree(const pid_t* roots, size_t n_roots, pid_t adopter, bool full, std::vector<size_t>* members,
                             const AdoptFilter* filter) {
  list_pids();
  const size_t limit = outsider_.size();
  auto in_range = [&](pid_t p) { return p > 0 && static_cast<size_t>(p) < limit; };
  // A pid that disappeared may come back as a new process: forget what we knew about it.
  for (size_t i = 0, j = 0; i < prev_pids_.size(); ++i) {
    while (j < pids_.size() && pids_[j] < prev_pids_[i]) ++j;
    if ((j == pids_.size() || pids_[j] != prev_pids_[i]) && in_range(prev_pids_[i]))
      outsider_[static_cast<size_t>(prev_pids_[i])] = 0;
  }
  prev_pids_.assign(pids_.begin(), pids_.end());
  for (size_t i = 0; i < n_roots; ++i)
    if (in_range(roots[i])) outsider_[static_cast<size_t>(roots[i])] = 0;
  procs_.clear();
  for (pid_t pid : pids_) {
    if (!full && in_range(pid) && outsider_[static_cast<size_t>(pid)]) continue;
    ProcStat st;
    if (read_stat(pid, &st)) procs_.push_back(st);
  }
  tree(roots, n_roots, adopter, members, filter);
  for (const auto& p : procs_)
    if (in_range(p.pid)) outsider_[static_cast<size_t>(p.pid)] = 1;
  for (size_t i : *members) outsider_[static_cast<size_t>(procs_[i].pid)] = 0;
}

void ProcessTable::tree(const pid_t* roots, size_t n_roots, pid_t adopter, std::vector<size_t>* members,
                        const AdoptFilter* filter) {
  members->clear();
  const size_t limit = mark_.size();
  auto in_range = [&](pid_t p) { return p > 0 && static_cast<size_t>(p) < limit; };
  for (size_t i = 0; i < n_roots; ++i)
    if (in_range(roots[i])) mark_[static_cast<size_t>(roots[i])] = 1;
  // Parents usually have smaller pids, so one pass in pid order finds most of the tree; repeat until
  // nothing changes to cover pid wrap-around.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& p : procs_) {
      if (!in_range(p.pid) || mark_[static_cast<size_t>(p.pid)]) continue;
      const bool child_of_member = in_range(p.ppid) && mark_[static_cast<size_t>(p.ppid)];
      const bool adopted = adopter > 0 && p.ppid == adopter && (!filter || filter->accepts(p.pid, p.pgrp));
      if (child_of_member || adopted) {
        mark_[static_cast<size_t>(p.pid)] = 1;
        changed = true;
      }
    }
  }
  for (size_t i = 0; i < procs_.size(); ++i)
    if (in_range(procs_[i].pid) && mark_[static_cast<size_t>(procs_[i].pid)]) members->push_back(i);
  // Clear the marks: roots that are gone are not in procs_, so clear them explicitly.
  for (size_t i : *members) mark_[static_cast<size_t>(procs_[i].pid)] = 0;
  for (size_t i = 0; i < n_roots; ++i)
    if (in_range(roots[i])) mark_[static_cast<size_t>(roots[i])] = 0;
}

namespace {
// Whether a process exists and has not yet exited (a zombie has exited).
bool running(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z' && line[close + 2] != 'X';
}
}  // namespace

bool AdoptFilter::accepts(pid_t pid, pid_t pgrp) const {
  if (pgid > 0 && pgrp == pgid) return true;
  return known && std::binary_search(known->begin(), known->end(), pid);
}

int kill_tree(const std::vector<pid_t>& roots, pid_t adopter, pid_t pgid, const AdoptFilter* filter) {
  ProcessTable table;
  std::vector<size_t> members;
  std::vector<pid_t> stopped;
  if (pgid > 0) ::kill(-pgid, SIGSTOP);
  // Freeze until the set stops growing: a process that forks between our scan and our signal would
  // otherwise leave a child behind.
  for (int round = 0; round < 50; ++round) {
    table.scan();
    table.tree(roots.data(), roots.size(), adopter, &members, filter);
    bool grew = false;
    for (size_t i : members) {
      const pid_t p = table.processes()[i].pid;
      if (std::find(stopped.begin(), stopped.end(), p) != stopped.end()) continue;
      if (table.processes()[i].state == 'Z') continue;
      ::kill(p, SIGSTOP);
      stopped.push_back(p);
      grew = true;
    }
    if (!grew) break;
  }
  // Every frozen process is counted: one that is gone by the time its SIGKILL is sent was killed all the
  // same (in a PID namespace, the kernel kills the rest once its init got ours).
  const int killed = static_cast<int>(stopped.size());
  for (pid_t p : stopped) ::kill(p, SIGKILL);
  if (pgid > 0) ::kill(-pgid, SIGKILL);
  // SIGKILL is delivered asynchronously (later still to a process in uninterruptible sleep): wait until each
  // is gone or a zombie, so nothing it does overlaps the output checks and the next case. Bounded, in case
  // one is stuck in the kernel.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t p : stopped)
    while (running(p) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return killed;
}

double cpu_seconds(const rusage& ru) {
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

namespace {

// One lock for claims, sweeps and the CPU time of children reaped by a sweep, so that "already reaped by
// someone else" and "its time is in the ledger" are decided together.
std::mutex g_children_mu;
std::set<pid_t> g_claimed;
// CPU time of children a sweep reaped, by pid, until their own launch asks (take_adopted_cpu_s). Bounded:
// the time of an orphan no launch claims is dropped with the oldest entries.
std::map<pid_t, double> g_swept_cpu_s;
std::deque<pid_t> g_swept_order;
constexpr size_t kSweptKept = 4096;

void remember_swept(pid_t pid, double cpu_s) {
  g_swept_cpu_s[pid] = cpu_s;
  g_swept_order.push_back(pid);
  while (g_swept_order.size() > kSweptKept) {
    g_swept_cpu_s.erase(g_swept_order.front());
    g_swept_order.pop_front();
  }
}
}  // namespace

void claim_child(pid_t pid) {
  std::lock_guard<std::mutex> lock(g_children_mu);
  g_claimed.insert(pid);
}

void release_child(pid_t pid) {
  std::lock_guard<std::mutex> lock(g_children_mu);
  g_claimed.erase(pid);
}

int reap_exited_children() {
  ProcessTable table;
  table.scan();
  const pid_t self = ::getpid();
  int reaped = 0;
  for (const auto& p : table.processes()) {
    if (p.ppid != self || p.state != 'Z') continue;
    std::lock_guard<std::mutex> lock(g_children_mu);
    if (g_claimed.count(p.pid)) continue;
    int status = 0;
    rusage ru{};
    if (::wait4(p.pid, &status, WNOHANG, &ru) == p.pid) {
      remember_swept(p.pid, cpu_seconds(ru));
      ++reaped;
    }
  }
  return reaped;
}

std::optional<double> reap_adopted(pid_t pid, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(g_children_mu);
      int status = 0;
      rusage ru{};
      const pid_t r = ::wait4(pid, &status, WNOHANG, &ru);
      if (r == pid) return cpu_seconds(ru);
      if (r < 0 && errno != EINTR) {
        // Not our child any more: another launch's sweep may have reaped it first.
        const auto it = g_swept_cpu_s.find(pid);
        if (it == g_swept_cpu_s.end()) return std::nullopt;
        const double cpu_s = it->second;
        g_swept_cpu_s.erase(it);  // its place in g_swept_order goes with the oldest
        return cpu_s;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int64_t oom_kill_count() {
  std::ifstream cg("/proc/self/cgroup");
  std::string line, v1_memory, v2_path;
  bool have_v2 = false;
  while (std::getline(cg, line)) {
    const auto a = line.find(':');
    const auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      have_v2 = true;
      v2_path = path;
    }
    std::stringstream cs(controllers);
    std::string c;
    while (std::getline(cs, c, ','))
      if (c == "memory") v1_memory = path;
  }
  auto read_counter = [](const std::string& file, const std::string& key) -> int64_t {
    std::ifstream in(file);
    std::string k;
    int64_t v = 0;
    while (in >> k >> v)
      if (k == key) return v;
    return -1;
  };
  if (!v1_memory.empty()) {
    const int64_t v = read_counter("/sys/fs/cgroup/memory" + v1_memory + "/memory.oom_control", "oom_kill");
    if (v >= 0) return v;
  }
  if (have_v2) {
    for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
      const int64_t v = read_counter(std::string(root) + v2_path + "/memory.events", "oom_kill");
      if (v >= 0) return v;
    }
  }
  return -1;
}

}  // namespace lb::runner::proc
