// Command contestants; see process_launcher.h.
#include "runner/process_launcher.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <thread>

#include "runner/proc.h"
#include "runner/spawn.h"
#include "runner/util.h"

namespace lb::runner {

namespace {

// What is in a launch's tree right now: how many of its processes are bwrap's own (the sandbox and its
// init, not the contestant's), and which are our children other than the launched process (orphans we
// adopted as subreaper, among them bwrap's init, which outlives the outer bwrap by a moment).
struct TreeView {
  int bwrap = 0;
  std::vector<pid_t> adopted;
};

TreeView look_at_tree(pid_t root, bool sandboxed, const proc::AdoptFilter* filter) {
  proc::ProcessTable table;
  table.scan();
  std::vector<size_t> members;
  const pid_t self = ::getpid();
  table.tree(&root, 1, self, &members, filter);
  TreeView v;
  for (size_t i : members) {
    const proc::ProcStat& p = table.processes()[i];
    if (p.ppid == self && p.pid != root) v.adopted.push_back(p.pid);
    if (!sandboxed || p.state == 'Z') continue;
    std::ifstream comm("/proc/" + std::to_string(p.pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name == "bwrap") ++v.bwrap;
  }
  return v;
}

// Reaps adopted processes (after they were killed or exited) and returns their CPU time, children
// included: in the sandbox, the contestant's CPU time is bwrap's init's.
double reap_adopted(const std::vector<pid_t>& pids) {
  double cpu_s = 0;
  for (pid_t pid : pids) cpu_s += proc::reap_adopted(pid, std::chrono::seconds(1)).value_or(0.0);
  return cpu_s;
}

class ProcessLaunched : public Launched {
 public:
  ProcessLaunched(const SpawnOptions& o, bool sandboxed, bool concurrent)
      : oom_before_(proc::oom_kill_count()), sandboxed_(sandboxed), spawned_(o) {
    tree_.root.store(spawned_.pid());
    tree_.adopter.store(::getpid());
    // The launch's process group (its root's pid): another launch's orphans, adopted by us too, are not ours.
    if (concurrent) adopt_pgid_ = spawned_.pid();
    tree_.adopt_pgid.store(adopt_pgid_);
  }
  Clock::time_point started() const override { return spawned_.started(); }
  const TreeRoots& tree() const override { return tree_; }
  std::vector<std::string> argv() const override { return spawned_.argv(); }
  bool wait_for(std::chrono::milliseconds timeout) override { return spawned_.wait_for(timeout); }

  void kill() override {
    // Counted here, not after exit: once the tree is gone there is nothing left to count (a fork chain
    // whose members all died with the kill used to get no note at all).
    const std::vector<pid_t> known = tree_.seen();
    const proc::AdoptFilter filter{adopt_pgid_, &known};
    const proc::AdoptFilter* f = adopt_pgid_ > 0 ? &filter : nullptr;
    const TreeView v = look_at_tree(spawned_.pid(), sandboxed_, f);
    const int n = proc::kill_tree({spawned_.pid()}, ::getpid(), spawned_.pid(), f);
    killed_ += std::max(0, n - v.bwrap);
  }

  LaunchExit finish() override {
    spawned_.wait_for(std::chrono::hours(24 * 365));
    LaunchExit e;
    e.end = spawned_.ended();
    if (killed_ > 0) e.notes.push_back("killed " + std::to_string(killed_) + " process(es) of its tree");
    // Whatever it left running (background jobs, daemons re-parented to us) goes now: it would skew the
    // next case's figures and could still write into the outputs folder we are about to check.
    const std::vector<pid_t> known = tree_.seen();
    const proc::AdoptFilter filter{adopt_pgid_, &known};
    const proc::AdoptFilter* f = adopt_pgid_ > 0 ? &filter : nullptr;
    const TreeView v = look_at_tree(spawned_.pid(), sandboxed_, f);
    const int left = std::max(0, proc::kill_tree({spawned_.pid()}, ::getpid(), spawned_.pid(), f) - v.bwrap);
    const double adopted_cpu_s = reap_adopted(v.adopted);
    if (left > 0) e.notes.push_back("killed " + std::to_string(left) + " process(es) still running after the contestant exited");
    for (int i = 0; i < 50 && proc::reap_exited_children() > 0; ++i) {
    }
    spawned_.finish_logs(2000);
    const int st = spawned_.wait_status();
    e.exit_code = shell_exit_code(st);
    if (WIFSIGNALED(st)) e.signal = WTERMSIG(st);
    e.cpu_time_s = proc::cpu_seconds(spawned_.usage()) + adopted_cpu_s;
    // SIGKILL while the kernel counted an OOM kill in our cgroup: the OOM killer, not a person.
    const int64_t oom_after = proc::oom_kill_count();
    const bool killed_hard = (e.signal && *e.signal == SIGKILL) || e.exit_code == 128 + SIGKILL;
    if (oom_before_ >= 0 && oom_after > oom_before_ && killed_hard) e.oom_killed = true;
    e.stderr_last_line = spawned_.err().last_line();
    return e;
  }

 private:
  int64_t oom_before_;
  bool sandboxed_ = false;
  pid_t adopt_pgid_ = 0;
  int killed_ = 0;
  Spawned spawned_;
  TreeRoots tree_;
};

}  // namespace

ProcessLauncher::ProcessLauncher(CommandSettings settings) : settings_(std::move(settings)) {}

void ProcessLauncher::prepare(Provenance& p) {
  p.kind = kind();
  p.command = settings_.command;
  p.sandbox = sandbox_name(settings_.sandbox);
  if (settings_.command.find_first_not_of(" \t\n") == std::string::npos) throw LaunchError("the command is empty");
  if (::access("/bin/sh", X_OK) != 0) throw LaunchError("/bin/sh is missing: commands cannot run on this machine");
  if (settings_.sandbox == SandboxKind::bwrap) {
    // Never a silent fallback to no sandbox: if bwrap cannot start, nothing runs.
    if (const std::string why = probe_bwrap(&bwrap_); !why.empty()) throw LaunchError(why);
  }
  proc::become_subreaper();
}

std::vector<std::string> ProcessLauncher::argv_for(const LaunchRequest& r) const {
  std::vector<std::string> argv{"/bin/sh", "-c",
                                substitute_command(settings_.command, r.inputs_dir.string(), r.outputs_dir.string())};
  if (settings_.sandbox == SandboxKind::none) return argv;
  SandboxLaunch l;
  l.argv = std::move(argv);
  l.command = settings_.command;
  l.inputs_dir = r.inputs_dir;
  l.outputs_dir = r.outputs_dir;
  l.scratch_dir = r.work_dir;
  l.workdir = settings_.workdir;
  l.cwd = settings_.workdir.empty() ? r.work_dir : std::filesystem::path(settings_.workdir);
  l.gpu_index = r.gpu_index;
  for (const auto& p : settings_.sandbox_ro) l.ro.emplace_back(p);
  for (const auto& p : settings_.sandbox_rw) l.rw.emplace_back(p);
  l.hidden = r.team_dir;
  return bwrap_argv(bwrap_.empty() ? std::string("bwrap") : bwrap_, l);
}

std::unique_ptr<Launched> ProcessLauncher::launch(const LaunchRequest& r) {
  SpawnOptions o;
  o.argv = argv_for(r);
  o.cwd = settings_.workdir.empty() ? r.work_dir : std::filesystem::path(settings_.workdir);
  o.env = settings_.env;
  const bool sandboxed = settings_.sandbox == SandboxKind::bwrap;
  if (r.gpu_index) {
    // NVML numbers GPUs by PCI bus; CUDA's default order may differ, so ask CUDA for the same order. In the
    // sandbox only the launch's /dev/nvidia<N> exists, so CUDA sees that one GPU, as device 0.
    o.env.emplace_back("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
    o.env.emplace_back("CUDA_VISIBLE_DEVICES", sandboxed ? "0" : std::to_string(*r.gpu_index));
  }
  o.stdout_path = r.stdout_log.string();
  o.stderr_path = r.stderr_log.string();
  o.head_bytes = r.log_head_bytes;
  o.tail_bytes = r.log_tail_bytes;
  o.die_with_parent = true;
  o.cpus = r.cpus;
  return std::make_unique<ProcessLaunched>(o, sandboxed, r.concurrent);
}

}  // namespace lb::runner
