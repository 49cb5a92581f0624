#pragma once
// How a contestant is started and stopped. The scheduler knows only this interface, so a new way to
// launch (a cluster queue, say) is one more implementation: ProcessLauncher (a shell command), 
// ContainerLauncher (docker or podman), MockLauncher (tests, no processes).
//
// A Launcher is made once per contestant: prepare() checks that anything can run at all and fills in the
// provenance (image ID, engine); launch() starts one launch (a case, or a whole batch) and returns a
// Launched that the scheduler waits on, samples through tree(), and kills on timeout or Ctrl-C.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runner/record.h"
#include "runner/sampler.h"

namespace lb::runner {

class InFlightContainers;

// Nothing could be started (engine missing, image not found, spawn failed): status launch_error.
struct LaunchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct LaunchRequest {
  std::string label;                     // case name, or "batch": for container names and messages
  std::filesystem::path inputs_dir;      // read-only for the contestant
  std::filesystem::path outputs_dir;     // empty; the contestant writes its predictions here
  std::filesystem::path work_dir;        // scratch working folder (commands start there)
  std::filesystem::path team_dir;        // the team folder: a sandbox keeps it hidden (empty: none)
  std::optional<int> gpu_index;          // the GPU to give the contestant; none: no GPU flags at all
  std::vector<int> cpus;                 // its slot's CPUs (affinity, --cpuset-cpus); empty: all of ours
  // Other launches may run at the same time (a pool of slots, runner/slots.h): orphans adopted by this
  // process count as this launch's only while they keep its process group.
  bool concurrent = false;
  std::filesystem::path stdout_log, stderr_log;
  size_t log_head_bytes = 1 << 20, log_tail_bytes = 256 << 10;
  // The team folder's list of containers in flight (runner/team_state.h); null: not kept.
  InFlightContainers* in_flight = nullptr;
};

// How a launch ended, as the launcher saw it.
struct LaunchExit {
  Clock::time_point end;                 // when the launched process was found to have exited
  std::optional<int> exit_code;          // from exit(); for containers, what the engine passed on
  std::optional<int> signal;             // killed by this signal
  std::optional<double> cpu_time_s;      // user + system of the launched process and its waited-for children
  bool oom_killed = false;               // the engine or the kernel says memory ran out
  std::optional<std::string> launch_error;  // the engine could not run it (e.g. docker's exit code 125)
  std::string stderr_last_line;          // for the record's message
  std::vector<std::string> notes;        // e.g. leftover processes killed
};

class Launched {
 public:
  virtual ~Launched() = default;
  virtual Clock::time_point started() const = 0;
  virtual const TreeRoots& tree() const = 0;
  virtual std::vector<std::string> argv() const = 0;  // what was executed, for the provenance
  // Waits up to `timeout` for the launch to end; true once it has.
  virtual bool wait_for(std::chrono::milliseconds timeout) = 0;
  // Stops the contestant now, its whole process tree or container. Safe to call more than once.
  virtual void kill() = 0;
  // After wait_for() returned true: how it ended. Cleans up (leftover processes, the container).
  virtual LaunchExit finish() = 0;
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  virtual std::string kind() const = 0;  // "command", "container", "mock"
  // Checks what every launch needs (engine on PATH, image present or loaded) and fills in the provenance.
  // Throws LaunchError when nothing can run: every case is then recorded as launch_error with the reason.
  virtual void prepare(Provenance& provenance) = 0;
  // Throws LaunchError when this launch could not start.
  virtual std::unique_ptr<Launched> launch(const LaunchRequest& request) = 0;
  // After the last launch (e.g. removes an image loaded from an archive). Notes say what was done or failed.
  virtual void cleanup(std::vector<std::string>* notes) {}
};

}  // namespace lb::runner
