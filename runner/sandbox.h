#pragma once
// The sandbox of command contestants: turns one launch (what to run, its inputs, outputs and scratch
// folders, the organiser's extra paths, the GPU) into a bubblewrap (bwrap) command line. Inside, the
// command has its own PID namespace (it cannot see or signal lesionbench, and every process it starts dies
// with the namespace), no network, no capabilities, and sees only an allow-list:
//   system folders read-only (/usr, /bin, /sbin, /lib*, /sys, a few files of /etc), a private /tmp and
//   /var/tmp, a minimal /dev plus the launch's GPU nodes, the case's inputs read-only, its outputs and
//   scratch folder writable, --workdir read-only, every existing absolute path named in the command
//   (its program, a model file) read-only, the program found on PATH, and --sandbox-ro / --sandbox-rw.
// The team folder (journal, predictions, other cases) stays hidden: a path the organiser adds that would
// show it is an error; a path named in the command that would show it is left out.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lb::runner {

enum class SandboxKind { bwrap, none };
std::string sandbox_name(SandboxKind kind);
// "bwrap" or "none"; nullopt for anything else.
std::optional<SandboxKind> parse_sandbox(const std::string& text);

struct SandboxLaunch {
  std::vector<std::string> argv;            // what runs inside, e.g. {"/bin/sh", "-c", CMD}
  std::string command;                      // the organiser's command text: absolute paths named in it are shown
  std::filesystem::path inputs_dir;         // read-only
  std::filesystem::path outputs_dir;        // writable
  std::filesystem::path scratch_dir;        // writable (the launch's own work folder)
  std::filesystem::path workdir;            // --workdir: read-only unless also in rw; empty: none
  std::filesystem::path cwd;                // where the command starts
  std::optional<int> gpu_index;             // its /dev/nvidia<N> and the driver's control nodes
  std::vector<std::filesystem::path> ro, rw;  // --sandbox-ro / --sandbox-rw
  std::filesystem::path hidden;             // the team folder; empty: none
};

// One mount of the allow-list, for tests and the docs.
struct SandboxMount {
  std::filesystem::path path;
  bool writable = false;
};

// The data mounts (everything but the system folders) of a launch, parents before children. Throws
// LaunchError when a --sandbox-ro/--sandbox-rw path is missing or would show the hidden folder.
std::vector<SandboxMount> sandbox_mounts(const SandboxLaunch& launch);

// The whole bwrap argv: `bwrap` (the path given), its flags and mounts, `--`, launch.argv.
std::vector<std::string> bwrap_argv(const std::string& bwrap, const SandboxLaunch& launch);

// Finds bwrap on PATH and starts a trivial sandbox with the flags every launch uses. Returns an empty
// string and sets *bwrap when it works; otherwise the reason, naming `--sandbox none`.
std::string probe_bwrap(std::string* bwrap);

// Whether a and b (symbolic links resolved) are one folder or one holds the other.
bool paths_overlap(const std::filesystem::path& a, const std::filesystem::path& b);

// The absolute paths named in a command line (words, and the value of --flag=/path), as written.
std::vector<std::string> paths_named_in(const std::string& command);

}  // namespace lb::runner
