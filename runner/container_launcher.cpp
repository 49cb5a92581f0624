// Container contestants through docker or podman; see container_launcher.h.
#include "runner/container_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <boost/process/search_path.hpp>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "runner/proc.h"
#include "runner/spawn.h"
#include "runner/team_state.h"
#include "runner/util.h"

extern char** environ;

namespace lb::runner {

namespace {

constexpr double kHelperTimeoutS = 60;

std::string bp_find(const std::string& name) { return boost::process::search_path(name).string(); }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

std::string last_line_of(const std::string& text) {
  std::string t = trim(text);
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// Container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, unique per launch.
std::string container_name(const std::string& label) {
  std::string clean;
  for (char c : label) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    clean += ok ? c : '_';
    if (clean.size() >= 40) break;
  }
  static std::mt19937_64 rng{std::random_device{}()};
  static std::mutex rng_mu;  // launches of several slots name their containers at once
  unsigned long long draw = 0;
  {
    std::lock_guard<std::mutex> lock(rng_mu);
    draw = static_cast<unsigned long long>(rng() & 0xffffffffULL);
  }
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08llx", draw);
  return "lesionbench-" + clean + "-" + std::to_string(::getpid()) + "-" + suffix;
}

// The memory cgroup file that counts OOM kills for a process (v1 memory.oom_control, v2 memory.events).
std::string oom_counter_file(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line, v1, v2;
  while (std::getline(in, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string ctl = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (("," + ctl + ",").find(",memory,") != std::string::npos) v1 = path;
    if (line.compare(0, a, "0") == 0 && ctl.empty()) v2 = path;
  }
  if (!v1.empty() && ::access(("/sys/fs/cgroup/memory" + v1 + "/memory.oom_control").c_str(), R_OK) == 0)
    return "/sys/fs/cgroup/memory" + v1 + "/memory.oom_control";
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
    if (!v2.empty() && ::access((root + v2 + "/memory.events").c_str(), R_OK) == 0) return root + v2 + "/memory.events";
  return {};
}

int64_t read_oom_kill(int fd) {
  char buf[1024];
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = '\0';
  std::istringstream in(buf);
  std::string k;
  int64_t v = 0;
  while (in >> k >> v)
    if (k == "oom_kill") return v;
  return -1;
}

// Removes the container if lesionbench dies first. A /bin/sh in a session of its own (Ctrl-C at the
// terminal and our process group's signals do not reach it) reads one line from a pipe whose only writer
// is us: "done" when we removed the container ourselves; end of file when we died. Then it runs
// `ENGINE rm -f NAME` three times, 2 s apart: the engine's client may still be creating the container.
// posix_spawn, not fork: lesionbench has threads.
class Watchdog {
 public:
  Watchdog(const std::string& engine_path, const std::string& name) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_adddup2(&fa, p[0], 0);
    ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    ::posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setsigdefault(&attr, &defaults);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const char* script =
        "read x; [ \"$x\" = done ] && exit 0; "
        "for i in 1 2 3; do \"$0\" rm -f \"$1\"; sleep 2; done";
    std::vector<std::string> args = {"/bin/sh", "-c", script, engine_path, name};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (::posix_spawn(&pid, "/bin/sh", &fa, &attr, argv.data(), environ) == 0) {
      pid_ = pid;
      fd_ = p[1];
    } else {
      ::close(p[1]);
    }
    ::close(p[0]);
    ::posix_spawn_file_actions_destroy(&fa);
    ::posix_spawnattr_destroy(&attr);
  }
  ~Watchdog() { disarm(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  bool armed() const { return fd_ >= 0; }
  // We removed the container ourselves: the watchdog exits without doing anything.
  void disarm() {
    if (fd_ < 0) return;
    (void)!::write(fd_, "done\n", 5);
    ::close(fd_);
    fd_ = -1;
    // It exits at once; a subreaper's sweep may have reaped it already (ECHILD).
    for (int i = 0; i < 200; ++i) {
      const pid_t r = ::waitpid(pid_, nullptr, WNOHANG);
      if (r != 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
};

class ContainerLaunched : public Launched {
 public:
  // The watchdog (and the in-flight entry) come first: no moment when the container exists unguarded.
  ContainerLaunched(const SpawnOptions& o, std::string engine, std::string name, std::string memory_limit,
                    std::unique_ptr<Watchdog> watchdog, InFlightContainers* in_flight)
      : engine_(std::move(engine)), name_(std::move(name)), memory_limit_(std::move(memory_limit)),
        watchdog_(std::move(watchdog)), in_flight_(in_flight), client_(o) {
    tree_.root.store(0);  // the engine's client is not the contestant
    watcher_ = std::thread([this] { watch(); });
  }
  ~ContainerLaunched() override {
    stop_watch_.store(true);
    if (watcher_.joinable()) watcher_.join();
    if (!finished_) {
      run_helper({engine_, "rm", "-f", name_}, kHelperTimeoutS);  // never leave it running
      forget();
    }
  }
  Clock::time_point started() const override { return client_.started(); }
  const TreeRoots& tree() const override { return tree_; }
  std::vector<std::string> argv() const override { return client_.argv(); }
  bool wait_for(std::chrono::milliseconds timeout) override { return client_.wait_for(timeout); }

  void kill() override {
    killed_ = true;
    run_helper({engine_, "kill", name_}, kHelperTimeoutS);
    // The client returns once the container is gone; if it does not, it goes too.
    if (!client_.wait_for(std::chrono::seconds(10))) proc::kill_tree({client_.pid()}, 0, client_.pid());
  }

  LaunchExit finish() override {
    client_.wait_for(std::chrono::hours(24 * 365));
    stop_watch_.store(true);
    if (watcher_.joinable()) watcher_.join();
    finished_ = true;
    LaunchExit e;
    e.end = client_.ended();
    client_.finish_logs(2000);
    const int st = client_.wait_status();
    e.exit_code = shell_exit_code(st);
    if (WIFSIGNALED(st)) e.signal = WTERMSIG(st);
    const HelperResult oom = run_helper({engine_, "inspect", "--format", "{{.State.OOMKilled}}", name_}, kHelperTimeoutS);
    if (oom.exit_code == 0 && trim(oom.out) == "true") e.oom_killed = true;
    if (oom_kills_seen_.load()) e.oom_killed = true;
    if (!e.oom_killed && !killed_ && e.exit_code == 128 + SIGKILL && !memory_limit_.empty()) {
      // Some engines cannot tell (podman with cgroups v1), and the container's cgroup is gone before it can
      // be read. Nobody but the kernel SIGKILLs a process in a memory-limited container that we did not kill.
      e.oom_killed = true;
      e.notes.push_back("SIGKILL under the container's memory limit (" + memory_limit_ +
                        ") taken as the out-of-memory killer; the engine did not confirm it");
    }
    const HelperResult rm = run_helper({engine_, "rm", "-f", name_}, kHelperTimeoutS);
    if (rm.exit_code != 0 && oom.exit_code == 0)  // a container that exists but cannot be removed
      e.notes.push_back("could not remove container " + name_ + ": " + last_line_of(rm.err + rm.error));
    else forget();
    // The engine reports its own failures as 125 (docker and podman): the container never ran.
    if (e.exit_code == 125 && !killed_) {
      e.launch_error = "the engine could not run the container (exit code 125): " + printable(client_.err().last_line(300), 300);
    }
    e.stderr_last_line = client_.err().last_line();
    // Orphans adopted from the engine (conmon) that have exited.
    proc::reap_exited_children();
    return e;
  }

 private:
  // Finds the container's first process (for sampling its tree) and watches its cgroup's OOM-kill counter,
  // which is gone the moment the container is: the engine's own OOMKilled flag is not reliable everywhere.
  void watch() {
    int fd = -1;
    int64_t first = -1;
    while (!stop_watch_.load() && !client_.exited()) {
      if (tree_.container.load() == 0) {
        const HelperResult r = run_helper({engine_, "inspect", "--format", "{{.State.Pid}}", name_}, 10);
        long pid = 0;
        if (r.exit_code == 0) pid = std::strtol(trim(r.out).c_str(), nullptr, 10);
        if (pid > 0) {
          tree_.container.store(static_cast<pid_t>(pid));
          const std::string file = oom_counter_file(static_cast<pid_t>(pid));
          if (!file.empty()) fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd >= 0) first = read_oom_kill(fd);
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        continue;
      }
      if (fd >= 0) {
        const int64_t now = read_oom_kill(fd);
        if (now < 0) {
          ::close(fd);
          fd = -1;
        } else if (first >= 0 && now > first) {
          oom_kills_seen_.store(true);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (fd >= 0) {
      const int64_t now = read_oom_kill(fd);
      if (first >= 0 && now > first) oom_kills_seen_.store(true);
      ::close(fd);
    }
  }

  // The container is gone: off the in-flight list, and the watchdog can go.
  void forget() {
    if (in_flight_) in_flight_->remove(name_);
    if (watchdog_) watchdog_->disarm();
  }

  std::string engine_, name_, memory_limit_;
  std::unique_ptr<Watchdog> watchdog_;
  InFlightContainers* in_flight_;
  Spawned client_;
  TreeRoots tree_;
  std::thread watcher_;
  std::atomic<bool> stop_watch_{false}, oom_kills_seen_{false};
  bool killed_ = false, finished_ = false;
};

}  // namespace

std::string parse_loaded_image(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"Loaded image(s): ", "Loaded image: ", "Loaded image ID: "}) {
      const auto p = line.find(key);
      if (p == std::string::npos) continue;
      std::string rest = trim(line.substr(p + std::strlen(key)));
      const auto comma = rest.find(',');
      if (comma != std::string::npos) rest = rest.substr(0, comma);
      if (!rest.empty()) return rest;
    }
  }
  return {};
}

namespace {
// A kernel limit from /proc/sys, or `fallback` when it cannot be read.
uint64_t proc_sys_value(const char* path, uint64_t fallback) {
  std::ifstream in(path);
  uint64_t v = 0;
  return (in >> v) && v > 0 ? v : fallback;
}

std::string ulimit_arg(int resource, const char* name, uint64_t cap) {
  rlimit own{};
  if (::getrlimit(resource, &own) != 0) own.rlim_cur = own.rlim_max = cap;
  const auto bounded = [cap](rlim_t v) { return v == RLIM_INFINITY || v > cap ? cap : static_cast<uint64_t>(v); };
  const uint64_t hard = bounded(own.rlim_max), soft = std::min(bounded(own.rlim_cur), hard);
  return std::string(name) + "=" + std::to_string(soft) + ":" + std::to_string(hard);
}
}  // namespace

std::vector<std::string> inherited_ulimit_args() {
  return {"--ulimit", ulimit_arg(RLIMIT_NOFILE, "nofile", proc_sys_value("/proc/sys/fs/nr_open", 1048576)),
          "--ulimit", ulimit_arg(RLIMIT_NPROC, "nproc", proc_sys_value("/proc/sys/kernel/pid_max", 32768))};
}

ContainerLauncher::ContainerLauncher(ContainerSettings settings) : settings_(std::move(settings)) {
  if (!settings_.engine.empty() && settings_.engine != "auto")
    engine_name_ = std::filesystem::path(settings_.engine).filename().string();
  engine_path_ = settings_.engine;
  image_ = settings_.image;
}

std::vector<std::string> ContainerLauncher::gpu_flags(int index) const {
  std::vector<std::string> flags = settings_.gpu_args;
  if (flags.empty()) {
    if (engine_name_ == "podman") flags = {"--device", "nvidia.com/gpu={gpu}"};
    else flags = {"--gpus", "device={gpu}"};
  }
  for (auto& f : flags) {
    for (size_t p; (p = f.find("{gpu}")) != std::string::npos;) f.replace(p, 5, std::to_string(index));
  }
  return flags;
}

void ContainerLauncher::prepare(Provenance& p) {
  p.kind = kind();
  std::string engine = settings_.engine;
  if (engine.empty() || engine == "auto") engine = bp_find("docker").empty() ? "podman" : "docker";
  engine_name_ = std::filesystem::path(engine).filename().string();
  engine_path_ = engine.find('/') == std::string::npos ? bp_find(engine) : engine;
  p.engine = engine_name_;
  if (engine_path_.empty() || ::access(engine_path_.c_str(), X_OK) != 0)
    throw LaunchError("container engine '" + engine + "' not found" +
                      (settings_.engine == "auto" ? " (neither docker nor podman is on PATH)" : " on PATH"));
  const HelperResult version = run_helper({engine_path_, "--version"}, 30);
  if (version.exit_code == 0) p.engine = trim(version.out);
  image_ = settings_.image;
  if (!settings_.image_archive.empty()) {
    if (::access(settings_.image_archive.c_str(), R_OK) != 0)
      throw LaunchError("image archive " + settings_.image_archive + " cannot be read");
    const HelperResult load = run_helper({engine_path_, "load", "-i", settings_.image_archive}, 1800);
    if (load.exit_code != 0)
      throw LaunchError(engine_name_ + " load -i " + settings_.image_archive + " failed: " +
                        last_line_of(load.err + load.error));
    loaded_from_archive_ = true;
    const std::string loaded = parse_loaded_image(load.out + "\n" + load.err);
    if (image_.empty()) image_ = loaded;
    if (image_.empty())
      throw LaunchError(engine_name_ + " load did not name the image it loaded; give it with --image");
  }
  if (image_.empty()) throw LaunchError("no image given");
  p.image = image_;
  const HelperResult id = run_helper({engine_path_, "image", "inspect", "--format", "{{.Id}}", image_}, kHelperTimeoutS);
  if (id.exit_code != 0)
    throw LaunchError("image '" + image_ + "' not found by " + engine_name_ + ": " + last_line_of(id.err + id.error));
  p.image_id = trim(id.out);
}

std::vector<std::string> ContainerLauncher::run_argv(const LaunchRequest& r, const std::string& name) const {
  std::vector<std::string> a = {engine_path_, "run", "--name", name};
  if (!settings_.network.empty()) a.insert(a.end(), {"--network", settings_.network});
  if (!settings_.memory.empty()) a.insert(a.end(), {"-m", settings_.memory});
  if (!settings_.shm_size.empty()) a.insert(a.end(), {"--shm-size", settings_.shm_size});
  if (settings_.pids_limit > 0) a.insert(a.end(), {"--pids-limit", std::to_string(settings_.pids_limit)});
  if (settings_.no_new_privileges) a.insert(a.end(), {"--security-opt", "no-new-privileges"});
  if (settings_.cap_drop_all) a.insert(a.end(), {"--cap-drop", "ALL"});
  for (const auto& cap : settings_.cap_add) a.insert(a.end(), {"--cap-add", cap});
  if (settings_.inherit_ulimits) {
    const auto u = inherited_ulimit_args();
    a.insert(a.end(), u.begin(), u.end());
  }
  if (!r.cpus.empty()) {
    // The launch's slot (runner/slots.h): its cores only, so concurrent cases do not take each other's.
    std::string list;
    for (int c : r.cpus) list += (list.empty() ? "" : ",") + std::to_string(c);
    a.insert(a.end(), {"--cpuset-cpus", list});
  }
  if (r.gpu_index) {
    const auto g = gpu_flags(*r.gpu_index);
    a.insert(a.end(), g.begin(), g.end());
  }
  // podman takes nosuid,nodev as mount options (a setuid file or device node the contestant makes there
  // is inert even inside); docker's -v does not accept them (its bind mounts are suid,dev).
  const std::string extra = engine_name_ == "podman" ? ",nosuid,nodev" : "";
  a.insert(a.end(), {"-v", std::filesystem::absolute(r.inputs_dir).string() + ":" + settings_.inputs_mount + ":ro" + extra});
  a.insert(a.end(), {"-v", std::filesystem::absolute(r.outputs_dir).string() + ":" + settings_.outputs_mount +
                               (extra.empty() ? "" : ":" + extra.substr(1))});
  a.insert(a.end(), settings_.engine_args.begin(), settings_.engine_args.end());
  a.push_back(image_);
  a.insert(a.end(), settings_.entry.begin(), settings_.entry.end());
  return a;
}

std::unique_ptr<Launched> ContainerLauncher::launch(const LaunchRequest& r) {
  const std::string name = container_name(r.label);
  SpawnOptions o;
  o.argv = run_argv(r, name);
  o.cwd = r.work_dir;
  o.stdout_path = r.stdout_log.string();
  o.stderr_path = r.stderr_log.string();
  o.head_bytes = r.log_head_bytes;
  o.tail_bytes = r.log_tail_bytes;
  if (r.in_flight) {
    try {
      r.in_flight->add(engine_name_, name);
    } catch (const std::exception& e) {
      throw LaunchError(std::string("cannot note the container in the team folder, so it is not started: ") + e.what());
    }
  }
  auto watchdog = std::make_unique<Watchdog>(engine_path_, name);
  try {
    return std::make_unique<ContainerLaunched>(o, engine_path_, name, settings_.memory, std::move(watchdog), r.in_flight);
  } catch (...) {
    if (r.in_flight) r.in_flight->remove(name);
    throw;
  }
}

void ContainerLauncher::cleanup(std::vector<std::string>* notes) {
  if (!loaded_from_archive_) return;
  const HelperResult r = run_helper({engine_path_, "rmi", image_}, kHelperTimeoutS);
  if (notes) {
    if (r.exit_code == 0) notes->push_back("removed image " + image_ + " (loaded from " + settings_.image_archive + ")");
    else notes->push_back("could not remove image " + image_ + ": " + last_line_of(r.err + r.error));
  }
  loaded_from_archive_ = false;
}

}  // namespace lb::runner
