// Process spawning with Boost.Process v1; see spawn.h.
#include "runner/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/args.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>
#include <boost/process/start_dir.hpp>
#include <cerrno>
#include <cstring>

#include "runner/launcher.h"
#include "runner/proc.h"

namespace bp = boost::process;

namespace lb::runner {

namespace {

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
constexpr unsigned kCloseRangeCloexec = 1u << 2;

// Runs in the child between fork and exec: only async-signal-safe calls.
void child_setup(int out_fd, int err_fd, bool die_with_parent, const cpu_set_t* cpus) {
  ::setpgid(0, 0);
  if (die_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // The launch's slot (runner/slots.h): inherited by everything it starts. A failure leaves the CPUs we have.
  if (cpus) ::sched_setaffinity(0, sizeof(cpu_set_t), cpus);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Ignored signals stay ignored across exec; give the contestant the defaults.
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) ::signal(sig, SIG_DFL);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  // Nothing of ours (journal, logs, /proc handles) may reach the contestant: close-on-exec for every
  // descriptor above 2. Boost's own exec-error pipe is already close-on-exec, so it keeps working.
  if (::syscall(SYS_close_range, 3u, ~0u, kCloseRangeCloexec) != 0) {
    rlimit rl{};
    int top = 4096;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
      top = static_cast<int>(rl.rlim_cur < 65536 ? rl.rlim_cur : 65536);
    for (int fd = 3; fd < top; ++fd) {
      const int flags = ::fcntl(fd, F_GETFD);
      if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
}

}  // namespace

int shell_exit_code(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

Spawned::Spawned(const SpawnOptions& o) : argv_(o.argv) {
  if (argv_.empty()) throw LaunchError("nothing to run (empty command)");
  boost::filesystem::path exe = argv_[0];
  if (argv_[0].find('/') == std::string::npos) {
    exe = bp::search_path(argv_[0]);
    if (exe.empty()) throw LaunchError("'" + argv_[0] + "' was not found on PATH");
  }
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw LaunchError(std::string("cannot create a pipe: ") + std::strerror(errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw LaunchError(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  bp::environment env = boost::this_process::environment();
  for (const auto& [k, v] : o.env) env[k] = v;
  std::vector<std::string> rest(argv_.begin() + 1, argv_.end());
  const int out_w = out_pipe[1], err_w = err_pipe[1];
  const bool die_with_parent = o.die_with_parent;
  // Built before the fork: the child may only make async-signal-safe calls.
  cpu_set_t cpu_set;
  CPU_ZERO(&cpu_set);
  for (int c : o.cpus)
    if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &cpu_set);
  const cpu_set_t* cpus = o.cpus.empty() ? nullptr : &cpu_set;
  std::error_code ec;
  started_ = Clock::now();
  bp::child child;
  auto setup = bp::extend::on_exec_setup(
      [out_w, err_w, die_with_parent, cpus](auto&) { child_setup(out_w, err_w, die_with_parent, cpus); });
  if (o.cwd.empty())
    child = bp::child(bp::exe = exe, bp::args = rest, env, bp::std_in < bp::null, setup, ec);
  else
    child = bp::child(bp::exe = exe, bp::args = rest, env, bp::start_dir = o.cwd.string(), bp::std_in < bp::null,
                      setup, ec);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (ec || !child.valid()) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw LaunchError("cannot start " + argv_[0] + ": " + (ec ? ec.message() : std::string("unknown error")));
  }
  pid_ = child.id();
  proc::claim_child(pid_);
  // We wait for it ourselves (wait4 gives the rusage Boost does not).
  child.detach();
  out_ = std::make_unique<LogCapture>(out_pipe[0], o.stdout_path, o.head_bytes, o.tail_bytes);
  err_ = std::make_unique<LogCapture>(err_pipe[0], o.stderr_path, o.head_bytes, o.tail_bytes);
  waiter_ = std::thread([this] {
    int status = 0;
    rusage ru{};
    pid_t r;
    do {
      r = ::wait4(pid_, &status, 0, &ru);
    } while (r < 0 && errno == EINTR);
    proc::release_child(pid_);
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = Clock::now();
    status_ = r == pid_ ? status : (127 << 8);
    usage_ = ru;
    done_ = true;
    cv_.notify_all();
  });
}

Spawned::~Spawned() {
  if (waiter_.joinable()) {
    if (!exited()) {
      signal_group(SIGKILL);
      ::kill(pid_, SIGKILL);
    }
    waiter_.join();
  }
}

bool Spawned::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return done_; });
}

bool Spawned::exited() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_;
}

void Spawned::signal_group(int sig) const {
  if (pid_ > 0) ::kill(-pid_, sig);
}

void Spawned::finish_logs(int grace_ms) {
  if (out_) out_->finish(grace_ms);
  if (err_) err_->finish(grace_ms);
}

HelperResult run_helper(const std::vector<std::string>& argv, double timeout_s) {
  HelperResult r;
  try {
    SpawnOptions o;
    o.argv = argv;
    Spawned s(o);
    const auto deadline = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
    if (!s.wait_for(deadline)) {
      s.signal_group(SIGKILL);
      s.wait_for(std::chrono::seconds(10));
      s.finish_logs(500);
      r.error = argv[0] + " did not finish within " + std::to_string(static_cast<int>(timeout_s)) + " s";
      r.out = s.out().text();
      r.err = s.err().text();
      return r;
    }
    s.finish_logs(2000);
    r.exit_code = shell_exit_code(s.wait_status());
    r.out = s.out().text();
    r.err = s.err().text();
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace lb::runner
