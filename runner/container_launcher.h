#pragma once
// A contestant packed as a container image, run as the FLARE organisers run it:
//   ENGINE run --name N --network none -m 28g --shm-size 28g --pids-limit 4096
//     --security-opt no-new-privileges --cap-drop ALL [--cap-add CAP ...] --ulimit nofile=S:H --ulimit nproc=S:H
//     [GPU flags] -v INPUTS:/workspace/inputs:ro[,nosuid,nodev] -v OUTPUTS:/workspace/outputs[:nosuid,nodev]
//     [--engine-arg ...] IMAGE /bin/bash -c "sh predict.sh"
// The engine (docker or podman), limits, GPU flags and entry command are settings. The contestant's open-file
// and process limits are chosen by the harness, inherited from lesionbench's own, rather than left to the
// engine: engines ask the runtime for defaults (podman: nofile 1048576) above what many machines allow, and
// the launch then fails before the contestant starts. A later `--ulimit` in engine_args overrides ours.
// GPU flags are left out when no GPU is asked for. `image_archive` (a `docker save` file) is loaded first and the image removed
// after the last case.
//
// The container is not started with --rm: after it exits the engine is asked whether the OOM killer
// ended it, then it is removed. While it exists, its name is in the team folder's containers-in-flight
// file and a watchdog process (outside our session, so neither Ctrl-C nor our death reaches it) waits on a
// pipe from us: if lesionbench dies before it has removed the container, the watchdog removes it. Its processes are found through the engine (State.Pid) and sampled as the
// contestant's own; the engine's client process is not counted.
#include <string>
#include <vector>

#include "runner/launcher.h"

namespace lb::runner {

struct ContainerSettings {
  std::string engine = "auto";          // "docker", "podman", a path, or "auto": docker if on PATH, else podman
  std::string image;                    // may be empty when image_archive names the image
  std::string image_archive;            // `docker save` archive (.tar or .tar.gz) to load first
  std::vector<std::string> engine_args; // extra `run` arguments, before the image
  std::vector<std::string> entry = {"/bin/bash", "-c", "sh predict.sh"};
  std::string memory = "28g";           // -m; empty: no limit
  std::string shm_size = "28g";         // --shm-size; empty: the engine's default
  std::string network = "none";         // --network; empty: the engine's default
  // Contestants are untrusted: a fork bomb stops at the limit, and setuid binaries in the image gain nothing.
  int pids_limit = 4096;                // --pids-limit; 0: the engine's default
  bool no_new_privileges = true;        // --security-opt no-new-privileges
  bool inherit_ulimits = true;          // --ulimit nofile/nproc from our own limits (inherited_ulimit_args)
  // Capabilities: none by default (a predict.sh writing to /workspace/outputs needs none: the folder is
  // mode 777); `cap_add` gives an image what it shows it needs (--cap-add, "ALL" for the engine's set).
  bool cap_drop_all = true;             // --cap-drop ALL
  std::vector<std::string> cap_add;     // --cap-add CAP, each
  // GPU flags with {gpu} for the index; empty: per engine (docker: --gpus device={gpu};
  // podman: --device nvidia.com/gpu={gpu}).
  std::vector<std::string> gpu_args;
  std::string inputs_mount = "/workspace/inputs";
  std::string outputs_mount = "/workspace/outputs";
};

class ContainerLauncher : public Launcher {
 public:
  explicit ContainerLauncher(ContainerSettings settings);
  std::string kind() const override { return "container"; }
  void prepare(Provenance& provenance) override;
  std::unique_ptr<Launched> launch(const LaunchRequest& request) override;
  void cleanup(std::vector<std::string>* notes) override;

  // The `run` argv for a request and container name (exposed for tests). Needs prepare() for the engine path.
  std::vector<std::string> run_argv(const LaunchRequest& request, const std::string& container_name) const;
  // The GPU flags for an index, for this engine.
  std::vector<std::string> gpu_flags(int index) const;
  const std::string& engine_path() const { return engine_path_; }
  const std::string& image() const { return image_; }

 private:
  ContainerSettings settings_;
  std::string engine_path_, engine_name_, image_;
  bool loaded_from_archive_ = false;
};

// `--ulimit nofile=S:H --ulimit nproc=S:H` with lesionbench's own soft and hard limits. nofile is capped at
// fs.nr_open and nproc at kernel.pid_max (no user can hold more processes than there are process IDs; runc
// refuses an nproc above it on some kernels). RLIMIT_NPROC counts every process of the user ID host-wide, so
// it is kept as high as ours: --pids-limit is the per-container cap.
std::vector<std::string> inherited_ulimit_args();

// "Loaded image: team-a:latest" (docker), "Loaded image(s): localhost/team-a:latest" or
// "Loaded image: ..." (podman): the first image named in `engine load` output, or empty.
std::string parse_loaded_image(const std::string& load_output);

}  // namespace lb::runner
