// /proc parsing against hand-written lines, and process trees of real processes: found and killed whole.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

#include "runner/proc.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;

TEST_CASE("stat lines parse even when the command name holds spaces and parentheses", "[proc]") {
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice threads itreal starttime vsize rss ...
  const char* line = "4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 100 0 0 0 "
                     "250 50 7 3 20 0 1 0 123456 10000000 2560 18446744073709551615 0 0";
  proc::ProcStat st;
  REQUIRE(proc::parse_stat(line, std::strlen(line), &st));
  CHECK(st.pid == 4242);
  CHECK(st.state == 'S');
  CHECK(st.ppid == 17);
  CHECK(st.pgrp == 4242);
  CHECK(st.utime == 250);
  CHECK(st.stime == 50);
  CHECK(st.cutime == 7);
  CHECK(st.cstime == 3);
  CHECK(st.cpu_ticks() == 310);
  CHECK(st.starttime == 123456);
  CHECK(st.rss_pages == 2560);
  CHECK_FALSE(proc::parse_stat("garbage", 7, &st));
}

TEST_CASE("system CPU and memory figures follow the definitions of proc(5) and free(1)", "[proc]") {
  const char* stat = "cpu  100 5 50 800 20 3 2 1 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n";
  proc::CpuTimes c;
  REQUIRE(proc::parse_cpu_times(stat, std::strlen(stat), &c));
  CHECK(c.busy() == 100 + 5 + 50 + 3 + 2 + 1);
  CHECK(c.total() == c.busy() + 800 + 20);
  const char* meminfo =
      "MemTotal:       24684084 kB\nMemFree:        20000000 kB\nMemAvailable:   23000000 kB\n"
      "Buffers:            7160 kB\nCached:           687128 kB\nSwapCached:            0 kB\n"
      "SReclaimable:      50000 kB\n";
  proc::MemInfo m;
  REQUIRE(proc::parse_meminfo(meminfo, std::strlen(meminfo), &m));
  CHECK(m.total_mib == Approx(24684084 / 1024.0));
  CHECK(m.used_mib == Approx((24684084.0 - 20000000 - 7160 - 687128 - 50000) / 1024.0));
  CHECK(m.available_mib == Approx(23000000 / 1024.0));
}

TEST_CASE("live system figures are plausible on this machine", "[proc]") {
  proc::MemInfo m;
  REQUIRE(proc::read_meminfo(&m));
  CHECK(m.total_mib > 100);
  CHECK(m.used_mib > 0);
  CHECK(m.used_mib < m.total_mib);
  proc::CpuTimes c;
  REQUIRE(proc::read_cpu_times(&c));
  CHECK(c.total() > 0);
  proc::ProcStat self;
  REQUIRE(proc::read_stat(::getpid(), &self));
  CHECK(self.pid == ::getpid());
  CHECK(self.ppid == ::getppid());
  CHECK(self.rss_pages > 0);
  CHECK(proc::oom_kill_count() >= -1);
}

TEST_CASE("the process tree holds the root, its children and grandchildren, and nothing else", "[proc]") {
  lb::test::TempDir tmp("tree");
  const std::string pids = tmp / "pids";
  // spawn-tree: two children, each with a grandchild; all hang.
  const pid_t root = ::fork();
  if (root == 0) {
    ::setenv("LB_TEST_PIDS", pids.c_str(), 1);
    ::execl(LB_TEST_CONTESTANT, "contestant", "spawn-tree", "/", "/", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::vector<pid_t> expected;
  for (int i = 0; i < 200 && expected.size() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    expected = read_pids(pids);
  }
  REQUIRE(expected.size() == 4);
  proc::ProcessTable table;
  table.scan();
  std::vector<size_t> members;
  const pid_t roots[] = {root};
  table.tree(roots, 1, 0, &members);
  std::vector<pid_t> found;
  for (size_t i : members) found.push_back(table.processes()[i].pid);
  std::sort(found.begin(), found.end());
  expected.push_back(root);
  std::sort(expected.begin(), expected.end());
  CHECK(found == expected);

  // Killing the tree leaves none of them running.
  const int killed = proc::kill_tree({root}, 0, 0);
  CHECK(killed == 5);
  int status = 0;
  REQUIRE(::waitpid(root, &status, 0) == root);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  for (int i = 0; i < 100; ++i) {
    bool any = false;
    for (pid_t p : expected) any = any || process_alive(p);
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (pid_t p : expected) CHECK_FALSE(process_alive(p));
}

namespace {
// A child that burns about `cpu_s` of CPU time and exits.
pid_t fork_busy_child(double cpu_s) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    timespec t{};
    volatile double x = 0;
    for (;;) {
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
      if (static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9 >= cpu_s) break;
      for (int i = 0; i < 10000; ++i) x = x + 1e-9;
    }
    ::_exit(0);
  }
  return pid;
}

void wait_until_zombie(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    proc::ProcStat st;
    if (proc::read_stat(pid, &st) && st.state == 'Z') return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FAIL("child " << pid << " did not exit");
}
}  // namespace

TEST_CASE("an exited child's CPU time reaches its owner even when another thread's sweep reaped it", "[proc]") {
  // With several launches at once, one launch's sweep of exited children can reap another launch's adopted
  // orphan (a sandbox's init) before that launch collects it; the time must not be lost on the way.
  const pid_t swept = fork_busy_child(0.2);
  const pid_t own = fork_busy_child(0.1);
  REQUIRE(swept > 0);
  REQUIRE(own > 0);
  wait_until_zombie(swept);
  wait_until_zombie(own);
  proc::claim_child(own);  // the sweep leaves claimed children alone
  CHECK(proc::reap_exited_children() == 1);
  proc::release_child(own);
  const std::optional<double> swept_cpu_s = proc::reap_adopted(swept, std::chrono::milliseconds(0));
  REQUIRE(swept_cpu_s);
  CHECK(*swept_cpu_s >= 0.2);
  CHECK(*swept_cpu_s < 0.5);
  // Collected once: asked again, nothing is left to hand out.
  CHECK_FALSE(proc::reap_adopted(swept, std::chrono::milliseconds(0)));
  // Reaped directly, a child's time is its own.
  const std::optional<double> own_cpu_s = proc::reap_adopted(own, std::chrono::milliseconds(0));
  REQUIRE(own_cpu_s);
  CHECK(*own_cpu_s >= 0.1);
  CHECK(*own_cpu_s < 0.2 + 0.1);
  // Not a child at all: nothing.
  CHECK_FALSE(proc::reap_adopted(::getpid(), std::chrono::milliseconds(0)));
}
