#pragma once
// A contestant as the user describes it — on the command line or as one entry of a manifest
// (schemas/manifest.schema.json) — and the launcher made from it.
//
// Manifest:
//   {"schema_version": "1.0",
//    "contestants": [
//      {"name": "team-a", "image": "team-a:latest", "engine": "docker"},
//      {"name": "team-b", "image_archive": "teamb.tar.gz", "timeout_s": 900},
//      {"name": "baseline", "command": "lesionbench-baseline predict --input {inputs} --output {outputs}"}]}
// Relative paths in a manifest (image_archive, workdir) are relative to the manifest's folder. Settings a
// contestant leaves out come from the command line (or its defaults).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/container_launcher.h"
#include "runner/launcher.h"
#include "runner/process_launcher.h"

namespace lb::runner {

inline constexpr const char* kManifestSchemaVersion = "1.0";

struct ContestantSpec {
  std::string name;
  bool is_container = false;
  CommandSettings command;
  ContainerSettings container;
  // Per-contestant run settings; unset: the command line's.
  std::optional<bool> batch;
  std::optional<double> timeout_s;
  std::optional<std::string> gpu;             // "auto", "none" or an index
  std::optional<double> memory_limit_mib;
};

// Names become folder names: letters, digits, '.', '_' and '-', not starting with '.' or '-'.
// Returns an empty string when valid, else the reason.
std::string check_contestant_name(const std::string& name);

// The manifest's slots (top-level "gpus", "parallel", "cpus_per_slot"), the same as `run --gpus`,
// `--parallel` and `--cpus-per-slot`, which override them (runner/slots.h).
struct ManifestSlots {
  std::optional<std::string> gpus;   // "all" or "0,1,2,3" (a list of integers in the file is joined so)
  std::optional<int> parallel;
  std::optional<int> cpus_per_slot;
};

// Reads and checks a manifest. `defaults` supplies the container settings (engine, limits) that entries
// leave out. Throws SetupError naming the file, the entry and the field. `slots` (may be null) receives the
// top-level slot fields.
std::vector<ContestantSpec> read_manifest(const std::filesystem::path& path, const ContestantSpec& defaults,
                                          ManifestSlots* slots = nullptr);

std::unique_ptr<Launcher> make_launcher(const ContestantSpec& spec);

struct RunSettings;
// What defines the contestant of a team folder (contestant.json, schemas/contestant-header.schema.json):
// the spec and the settings of `st` that change what it is asked to do (mode, time limit, limits, output
// caps, geometry policy) — not how many launches run at once nor on which GPU. The scheduler adds image_id.
nlohmann::json contestant_header(const ContestantSpec& spec, const RunSettings& st);

}  // namespace lb::runner
