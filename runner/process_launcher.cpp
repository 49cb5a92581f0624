// Command contestants; see process_launcher.h.
#include "runner/process_launcher.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/proc.h"
#include "runner/spawn.h"
#include "runner/util.h"

namespace lb::runner {

namespace {

class ProcessLaunched : public Launched {
 public:
  ProcessLaunched(const SpawnOptions& o) : oom_before_(proc::oom_kill_count()), spawned_(o) {
    tree_.root.store(spawned_.pid());
    tree_.adopter.store(::getpid());
  }
  Clock::time_point started() const override { return spawned_.started(); }
  const TreeRoots& tree() const override { return tree_; }
  std::vector<std::string> argv() const override { return spawned_.argv(); }
  bool wait_for(std::chrono::milliseconds timeout) override { return spawned_.wait_for(timeout); }

  void kill() override {
    proc::kill_tree({spawned_.pid()}, ::getpid(), spawned_.pid());
  }

  LaunchExit finish() override {
    spawned_.wait_for(std::chrono::hours(24 * 365));
    LaunchExit e;
    e.end = spawned_.ended();
    // Whatever it left running (background jobs, daemons re-parented to us) goes now: it would skew the
    // next case's figures and could still write into the outputs folder we are about to check.
    const int left = proc::kill_tree({spawned_.pid()}, ::getpid(), spawned_.pid());
    if (left > 0) e.notes.push_back("killed " + std::to_string(left) + " process(es) still running after the contestant exited");
    for (int i = 0; i < 50 && proc::reap_exited_children() > 0; ++i) {
    }
    spawned_.finish_logs(2000);
    const int st = spawned_.wait_status();
    e.exit_code = shell_exit_code(st);
    if (WIFSIGNALED(st)) e.signal = WTERMSIG(st);
    const rusage& ru = spawned_.usage();
    e.cpu_time_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                   static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    // SIGKILL while the kernel counted an OOM kill in our cgroup: the OOM killer, not a person.
    const int64_t oom_after = proc::oom_kill_count();
    const bool killed_hard = (e.signal && *e.signal == SIGKILL) || e.exit_code == 128 + SIGKILL;
    if (oom_before_ >= 0 && oom_after > oom_before_ && killed_hard) e.oom_killed = true;
    e.stderr_last_line = spawned_.err().last_line();
    return e;
  }

 private:
  int64_t oom_before_;
  Spawned spawned_;
  TreeRoots tree_;
};

}  // namespace

ProcessLauncher::ProcessLauncher(CommandSettings settings) : settings_(std::move(settings)) {}

void ProcessLauncher::prepare(Provenance& p) {
  p.kind = kind();
  p.command = settings_.command;
  if (settings_.command.find_first_not_of(" \t\n") == std::string::npos) throw LaunchError("the command is empty");
  if (::access("/bin/sh", X_OK) != 0) throw LaunchError("/bin/sh is missing: commands cannot run on this machine");
  proc::become_subreaper();
}

std::vector<std::string> ProcessLauncher::argv_for(const LaunchRequest& r) const {
  return {"/bin/sh", "-c", substitute_command(settings_.command, r.inputs_dir.string(), r.outputs_dir.string())};
}

std::unique_ptr<Launched> ProcessLauncher::launch(const LaunchRequest& r) {
  SpawnOptions o;
  o.argv = argv_for(r);
  o.cwd = settings_.workdir.empty() ? r.work_dir : std::filesystem::path(settings_.workdir);
  o.env = settings_.env;
  if (r.gpu_index) {
    // NVML numbers GPUs by PCI bus; CUDA's default order may differ, so ask CUDA for the same order.
    o.env.emplace_back("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
    o.env.emplace_back("CUDA_VISIBLE_DEVICES", std::to_string(*r.gpu_index));
  }
  o.stdout_path = r.stdout_log.string();
  o.stderr_path = r.stderr_log.string();
  o.head_bytes = r.log_head_bytes;
  o.tail_bytes = r.log_tail_bytes;
  o.die_with_parent = true;
  return std::make_unique<ProcessLaunched>(o);
}

}  // namespace lb::runner
