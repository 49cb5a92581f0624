// The contestant header and the containers-in-flight file of a team folder; see team_state.h.
#include "runner/team_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <optional>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runner/spawn.h"
#include "runner/util.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lb::runner {

namespace {
// The whole of a small file in the team folder, never through a link (the folder is not trusted);
// nullopt when it is absent, a link, or not a regular file.
std::optional<std::string> read_small_file(const fs::path& p, size_t max_bytes = 1 << 20) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  for (ssize_t k; text.size() < max_bytes && (k = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(k));
  ::close(fd);
  return text;
}
}  // namespace

std::vector<std::string> header_differences(const json& stored, const json& current) {
  std::vector<std::string> out;
  auto text = [](const json* v) { return v ? printable(v->dump(), 160) : std::string("(absent)"); };
  std::vector<std::string> keys;
  for (const json* doc : {&stored, &current})
    if (doc->is_object())
      for (auto it = doc->begin(); it != doc->end(); ++it)
        if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
  for (const auto& k : keys) {
    if (k == "schema_version" || k == "written_at") continue;
    const json* a = stored.is_object() && stored.contains(k) ? &stored[k] : nullptr;
    const json* b = current.is_object() && current.contains(k) ? &current[k] : nullptr;
    if (a && b && *a == *b) continue;
    out.push_back(k + ": " + text(a) + " -> " + text(b));
  }
  return out;
}

json read_header(const fs::path& team_dir) {
  const fs::path p = team_dir / kHeaderFile;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(p, ec))) return nullptr;
  const auto text = read_small_file(p);
  if (!text) throw std::runtime_error(p.string() + " is not a regular file (a link?)");
  json doc;
  try {
    doc = json::parse(*text);
  } catch (const json::exception&) {
    // Not the parser's text: it quotes bytes of the file.
    throw std::runtime_error(p.string() + " is not valid JSON");
  }
  if (!doc.is_object()) throw std::runtime_error(p.string() + " is not a JSON object");
  return doc;
}

void write_header(const fs::path& team_dir, json header) {
  json doc = json::object();
  doc["schema_version"] = kHeaderSchemaVersion;
  doc["written_at"] = iso_time_utc(std::chrono::system_clock::now());
  for (auto it = header.begin(); it != header.end(); ++it) doc[it.key()] = it.value();
  write_file_atomic((team_dir / kHeaderFile).string(), doc.dump(2) + "\n");
}

bool is_our_container_name(const std::string& name) {
  if (name.rfind("lesionbench-", 0) != 0 || name.size() > 128 || name.size() <= 12) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> InFlightContainers::read_entries() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(read_small_file(path_).value_or(""));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string engine, name;
    if (fields >> engine >> name) out.emplace_back(engine, name);
  }
  return out;
}

void InFlightContainers::write_entries(const std::vector<std::pair<std::string, std::string>>& entries) const {
  if (entries.empty()) {  // nothing in flight: no file
    std::error_code ec;
    fs::remove(path_, ec);
    return;
  }
  std::string text;
  for (const auto& [engine, name] : entries) text += engine + " " + name + "\n";
  write_file_atomic(path_.string(), text);
}

void InFlightContainers::add(const std::string& engine_name, const std::string& container) {
  std::lock_guard<std::mutex> lock(mu_);
  auto entries = read_entries();
  entries.emplace_back(engine_name, container);
  write_entries(entries);
}

void InFlightContainers::remove(const std::string& container) {
  std::lock_guard<std::mutex> lock(mu_);
  auto entries = read_entries();
  std::erase_if(entries, [&](const auto& e) { return e.second == container; });
  try {
    write_entries(entries);
  } catch (const std::exception&) {
    // A full disk: the name stays listed, and the next run's `rm -f` of a gone container is harmless.
  }
}

void InFlightContainers::remove_leftovers(std::vector<std::string>* notes) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto entries = read_entries();
  if (entries.empty()) return;
  for (const auto& [engine, name] : entries) {
    if ((engine != "docker" && engine != "podman") || !is_our_container_name(name)) {
      if (notes) notes->push_back(path_.string() + ": ignored an entry that lesionbench did not write: " + printable(engine + " " + name, 100));
      continue;
    }
    const std::string path = boost::process::search_path(engine).string();
    if (path.empty()) {
      if (notes) notes->push_back("cannot remove leftover container " + name + ": " + engine + " is not on PATH");
      continue;
    }
    const HelperResult r = run_helper({path, "rm", "-f", name}, 60);
    if (notes) {
      // The engines print the name of a container they removed and nothing for one that was already gone.
      if (r.exit_code == 0 && r.out.find(name) != std::string::npos)
        notes->push_back("removed container " + name + ", left behind by an earlier run that was killed");
      else if (r.exit_code != 0 && r.err.find("o such container") == std::string::npos)
        notes->push_back("could not remove leftover container " + name + ": " + printable(r.err + r.error, 200));
    }
  }
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace lb::runner
