#pragma once
// Starting one process with Boost.Process, the way every launcher needs it: its own process group (so the
// whole group can be signalled), stdin from /dev/null, stdout and stderr through pipes into capped
// captures, no file descriptor of ours leaked into it, and a thread blocked in wait4() that stamps the
// exit time and collects its rusage (CPU time).
#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runner/log_capture.h"
#include "runner/sampler.h"

namespace lb::runner {

struct SpawnOptions {
  std::vector<std::string> argv;                          // argv[0]: a path, or a name looked up on PATH
  std::filesystem::path cwd;                              // empty: ours
  std::vector<std::pair<std::string, std::string>> env;   // set (on top of our environment)
  std::string stdout_path, stderr_path;                   // empty: kept in memory only
  size_t head_bytes = 1 << 20, tail_bytes = 256 << 10;
  // SIGKILL the process if the thread that started it dies (lesionbench killed outright): for contestants,
  // which must not outlive the runner. Only for spawns from a thread that lives as long as the process.
  bool die_with_parent = false;
  // CPUs the process (and all it starts) may run on (sched_setaffinity); empty: ours.
  std::vector<int> cpus;
};

class Spawned {
 public:
  // Throws LaunchError (launcher.h) when the program cannot be started.
  explicit Spawned(const SpawnOptions& options);
  ~Spawned();
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;

  pid_t pid() const { return pid_; }  // also the process group id
  Clock::time_point started() const { return started_; }
  bool wait_for(std::chrono::milliseconds timeout);
  bool exited() const;
  // After exit: the wait status, its time and rusage.
  int wait_status() const { return status_; }
  Clock::time_point ended() const { return ended_; }
  const rusage& usage() const { return usage_; }
  // Sends `sig` to the whole process group (no effect once it is gone).
  void signal_group(int sig) const;
  // Closes the captures (waiting up to grace_ms for the pipes to drain).
  void finish_logs(int grace_ms = 2000);
  LogCapture& out() { return *out_; }
  LogCapture& err() { return *err_; }
  const std::vector<std::string>& argv() const { return argv_; }

 private:
  std::vector<std::string> argv_;
  pid_t pid_ = 0;
  Clock::time_point started_, ended_;
  int status_ = 0;
  rusage usage_{};
  std::unique_ptr<LogCapture> out_, err_;
  std::thread waiter_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

struct HelperResult {
  int exit_code = -1;  // -1: could not start, or timed out
  std::string out, err;
  std::string error;   // why it could not run
};
// Runs a short helper (an engine's load, inspect, rm) to completion, killing it after timeout_s.
HelperResult run_helper(const std::vector<std::string>& argv, double timeout_s);

// Exit code as a shell reports it: the code, or 128 + n when killed by signal n.
int shell_exit_code(int wait_status);

}  // namespace lb::runner
