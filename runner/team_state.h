#pragma once
// Two small files in a team folder besides the journal:
//
// contestant.json (schemas/contestant-header.schema.json): what defines the contestant (name, kind, image
//   ID or command, entry, mode, time limit, limits, sandbox, caps), written before the first launch. A
//   --resume whose contestant differs is refused with the differences listed, unless forced: one team folder
//   never silently mixes two contestants. How many launches run at once and on which GPU is not part of it.
//
// .containers-in-flight: one line per container started and not yet removed, "<engine> <name>". A container
//   belongs to the engine, not to us: if lesionbench dies outright, its watchdog removes the container, and
//   the next run in the folder removes what is still named here (by exact name) before it starts anything.
//   The file is not trusted: only names lesionbench itself gives ("lesionbench-" + [A-Za-z0-9_.-]) and the
//   engines "docker" and "podman" (looked up on PATH) are acted on.
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lb::runner {

inline constexpr const char* kHeaderFile = "contestant.json";
inline constexpr const char* kHeaderSchemaVersion = "1.0";
inline constexpr const char* kInFlightFile = ".containers-in-flight";

// Field-by-field differences between a stored header and the current one ("timeout_s: 600 -> 5"); fields
// that are absent on one side count as differences. `schema_version` and `written_at` are ignored.
std::vector<std::string> header_differences(const nlohmann::json& stored, const nlohmann::json& current);

// Reads TEAM_DIR/contestant.json; null when absent. Throws std::runtime_error naming the file when it is
// not a JSON object.
nlohmann::json read_header(const std::filesystem::path& team_dir);
// Writes it atomically, adding schema_version and written_at.
void write_header(const std::filesystem::path& team_dir, nlohmann::json header);

// Whether `name` is a container name lesionbench gives (and may therefore remove).
bool is_our_container_name(const std::string& name);

// The containers-in-flight file of one team folder; safe to use from several launches at once.
class InFlightContainers {
 public:
  explicit InFlightContainers(std::filesystem::path team_dir) : path_(std::move(team_dir) / kInFlightFile) {}
  // Throws std::runtime_error when the file cannot be written (a container is then not started).
  void add(const std::string& engine_name, const std::string& container);
  void remove(const std::string& container);
  // Removes (`ENGINE rm -f NAME`) every container named in the file and empties it. Notes say what was done.
  void remove_leftovers(std::vector<std::string>* notes);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::vector<std::pair<std::string, std::string>> read_entries() const;
  void write_entries(const std::vector<std::pair<std::string, std::string>>& entries) const;
  std::filesystem::path path_;
  std::mutex mu_;
};

}  // namespace lb::runner
