// Contestant specs and manifests; see contestant.h.
#include "runner/contestant.h"

#include "runner/sandbox.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "runner/journal.h"
#include "runner/scheduler.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lb::runner {

std::string check_contestant_name(const std::string& name) {
  if (name.empty()) return "a contestant needs a name";
  if (name.size() > 100) return "name '" + name.substr(0, 40) + "...' is longer than 100 characters";
  if (name[0] == '.' || name[0] == '-') return "name '" + name + "' may not start with '.' or '-'";
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return "name '" + name + "' may hold only letters, digits, '.', '_' and '-' (it becomes a folder name)";
  }
  return {};
}

namespace {

std::vector<std::string> string_list(const json& v, const std::string& where) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) throw SetupError(where + " must be a list of strings");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) throw SetupError(where + " must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::string str(const json& v, const std::string& where) {
  if (!v.is_string()) throw SetupError(where + " must be a string");
  return v.get<std::string>();
}

double positive(const json& v, const std::string& where) {
  if (!v.is_number() || v.get<double>() < 0) throw SetupError(where + " must be a number >= 0");
  return v.get<double>();
}

}  // namespace

std::vector<ContestantSpec> read_manifest(const fs::path& path, const ContestantSpec& defaults, ManifestSlots* slots) {
  std::ifstream in(path);
  if (!in) throw SetupError("cannot read manifest " + path.string());
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw SetupError("manifest " + path.string() + " is not valid JSON: " + e.what());
  }
  const std::string file = "manifest " + path.string();
  if (!doc.is_object()) throw SetupError(file + ": the top level must be an object with \"contestants\"");
  static const std::set<std::string> top = {"contestants", "schema_version", "description", "gpus", "parallel",
                                            "cpus_per_slot"};
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (!top.count(it.key())) throw SetupError(file + ": unknown field '" + it.key() + "' (expected \"contestants\")");
  ManifestSlots found;
  if (doc.contains("gpus")) {
    const json& g = doc["gpus"];
    if (g.is_string() && !g.get<std::string>().empty()) {
      found.gpus = g.get<std::string>();
    } else if (g.is_array() && !g.empty()) {
      std::string list;
      for (const auto& x : g) {
        if (!x.is_number_integer() || x.get<int>() < 0)
          throw SetupError(file + ": \"gpus\" must be \"all\", \"0,1,...\" or a list of GPU indices");
        if (!list.empty()) list.push_back(',');
        list.append(std::to_string(x.get<int>()));
      }
      found.gpus = list;
    } else {
      throw SetupError(file + ": \"gpus\" must be \"all\", \"0,1,...\" or a list of GPU indices");
    }
  }
  for (const char* k : {"parallel", "cpus_per_slot"}) {
    if (!doc.contains(k)) continue;
    const json& v = doc[k];
    if (!v.is_number_integer() || v.get<int>() < 1) throw SetupError(file + ": \"" + k + "\" must be an integer >= 1");
    (std::string(k) == "parallel" ? found.parallel : found.cpus_per_slot) = v.get<int>();
  }
  if (found.gpus && found.parallel) throw SetupError(file + ": \"gpus\" and \"parallel\" exclude each other");
  if (slots) *slots = found;
  if (doc.contains("schema_version")) {
    const std::string v = doc["schema_version"].is_string() ? doc["schema_version"].get<std::string>() : "?";
    if (v.substr(0, v.find('.')) != "1") throw SetupError(file + ": schema_version '" + v + "' is not supported (1.x)");
  }
  if (!doc.contains("contestants") || !doc["contestants"].is_array() || doc["contestants"].empty())
    throw SetupError(file + ": \"contestants\" must be a non-empty list");
  const fs::path base = fs::absolute(path).parent_path();
  auto resolve = [&](const std::string& p) { return p.empty() || fs::path(p).is_absolute() ? p : (base / p).string(); };

  static const std::set<std::string> known = {
      "name", "command", "workdir", "sandbox", "sandbox_ro", "sandbox_rw", "env", "image", "image_archive", "engine", "engine_args", "entry",
      "memory", "shm_size", "network", "gpu_args", "mode", "timeout_s", "gpu", "memory_limit_mib", "cap_add",
      "description"};
  std::vector<ContestantSpec> out;
  std::set<std::string> names;
  size_t index = 0;
  for (const auto& e : doc["contestants"]) {
    ++index;
    std::string where = file + ", contestant " + std::to_string(index);
    if (!e.is_object()) throw SetupError(where + " must be an object");
    ContestantSpec s;
    s.container = defaults.container;
    s.command.sandbox = defaults.command.sandbox;
    s.command.sandbox_ro = defaults.command.sandbox_ro;
    s.command.sandbox_rw = defaults.command.sandbox_rw;
    s.batch = defaults.batch;
    s.timeout_s = defaults.timeout_s;
    s.gpu = defaults.gpu;
    s.memory_limit_mib = defaults.memory_limit_mib;
    if (!e.contains("name")) throw SetupError(where + " has no \"name\"");
    s.name = str(e["name"], where + " name");
    where += " (" + s.name + ")";
    if (const std::string bad = check_contestant_name(s.name); !bad.empty()) throw SetupError(where + ": " + bad);
    if (!names.insert(s.name).second) throw SetupError(where + ": the name is used twice");
    for (auto it = e.begin(); it != e.end(); ++it)
      if (!known.count(it.key())) throw SetupError(where + ": unknown field '" + it.key() + "'");
    const bool has_command = e.contains("command"), has_image = e.contains("image") || e.contains("image_archive");
    if (has_command == has_image)
      throw SetupError(where + ": give either \"command\" or \"image\"/\"image_archive\", not " +
                       (has_command ? "both" : "neither"));
    s.is_container = has_image;
    if (has_command) {
      s.command.command = str(e["command"], where + " command");
      if (e.contains("workdir")) s.command.workdir = resolve(str(e["workdir"], where + " workdir"));
      if (e.contains("sandbox")) {
        const auto kind = parse_sandbox(str(e["sandbox"], where + " sandbox"));
        if (!kind) throw SetupError(where + ": sandbox must be \"bwrap\" or \"none\"");
        s.command.sandbox = *kind;
      }
      for (const char* k : {"sandbox_ro", "sandbox_rw"}) {
        if (!e.contains(k)) continue;
        auto& list = std::string(k) == "sandbox_ro" ? s.command.sandbox_ro : s.command.sandbox_rw;
        for (const auto& p : string_list(e[k], where + " " + k)) {
          if (p.empty()) throw SetupError(where + ": " + k + " holds an empty path");
          const fs::path full = fs::absolute(resolve(p)).lexically_normal();
          std::error_code ec;
          if (!fs::exists(full, ec)) throw SetupError(where + ": " + k + " path " + full.string() + " does not exist");
          list.push_back(full.string());
        }
      }
    } else {
      for (const char* k : {"workdir", "sandbox", "sandbox_ro", "sandbox_rw"})
        if (e.contains(k)) throw SetupError(where + ": \"" + std::string(k) + "\" applies only to commands");
      if (e.contains("image")) s.container.image = str(e["image"], where + " image");
      if (e.contains("image_archive")) s.container.image_archive = resolve(str(e["image_archive"], where + " image_archive"));
      if (e.contains("engine")) s.container.engine = str(e["engine"], where + " engine");
      if (e.contains("engine_args")) s.container.engine_args = string_list(e["engine_args"], where + " engine_args");
      if (e.contains("entry")) s.container.entry = string_list(e["entry"], where + " entry");
      if (e.contains("memory")) s.container.memory = str(e["memory"], where + " memory");
      if (e.contains("shm_size")) s.container.shm_size = str(e["shm_size"], where + " shm_size");
      if (e.contains("network")) s.container.network = str(e["network"], where + " network");
      if (e.contains("gpu_args")) s.container.gpu_args = string_list(e["gpu_args"], where + " gpu_args");
      if (e.contains("cap_add")) s.container.cap_add = string_list(e["cap_add"], where + " cap_add");
    }
    if (e.contains("env")) {
      if (!e["env"].is_object()) throw SetupError(where + " env must be an object of strings");
      for (auto it = e["env"].begin(); it != e["env"].end(); ++it)
        s.command.env.emplace_back(it.key(), str(it.value(), where + " env." + it.key()));
      if (s.is_container)
        for (const auto& [k, v] : s.command.env) s.container.engine_args.insert(s.container.engine_args.end(), {"-e", k + "=" + v});
    }
    if (e.contains("mode")) {
      const std::string m = str(e["mode"], where + " mode");
      if (m != "per_case" && m != "batch") throw SetupError(where + ": mode must be \"per_case\" or \"batch\"");
      s.batch = m == "batch";
    }
    if (e.contains("timeout_s")) s.timeout_s = positive(e["timeout_s"], where + " timeout_s");
    if (e.contains("memory_limit_mib")) s.memory_limit_mib = positive(e["memory_limit_mib"], where + " memory_limit_mib");
    if (e.contains("gpu")) {
      const json& g = e["gpu"];
      if (g.is_number_integer() && g.get<int>() >= 0) s.gpu = std::to_string(g.get<int>());
      else if (g.is_string() && (g == "auto" || g == "none")) s.gpu = g.get<std::string>();
      else throw SetupError(where + ": gpu must be \"auto\", \"none\" or a device index");
    }
    out.push_back(std::move(s));
  }
  return out;
}

json contestant_header(const ContestantSpec& spec, const RunSettings& st) {
  json h = json::object();
  h["name"] = spec.name;
  h["kind"] = spec.is_container ? "container" : "command";
  if (spec.is_container) {
    const ContainerSettings& c = spec.container;
    h["image"] = c.image;
    h["image_archive"] = c.image_archive.empty() ? "" : fs::path(c.image_archive).filename().string();
    h["engine"] = c.engine;
    h["entry"] = c.entry;
    h["engine_args"] = c.engine_args;
    h["memory"] = c.memory;
    h["shm_size"] = c.shm_size;
    h["network"] = c.network;
    h["pids_limit"] = c.pids_limit;
    h["no_new_privileges"] = c.no_new_privileges;
    h["cap_drop_all"] = c.cap_drop_all;
    h["cap_add"] = c.cap_add;
    // A container is its own sandbox; commands get theirs from the command-sandbox settings.
    h["sandbox"] = "container";
  } else {
    h["command"] = spec.command.command;
    h["workdir"] = spec.command.workdir;
    json env = json::array();
    for (const auto& [k, v] : spec.command.env) env.push_back(k + "=" + v);
    h["env"] = env;
    h["memory_limit_mib"] = st.memory_limit_mib;
    h["sandbox"] = sandbox_name(spec.command.sandbox);
    h["sandbox_ro"] = spec.command.sandbox_ro;
    h["sandbox_rw"] = spec.command.sandbox_rw;
  }
  h["mode"] = st.batch ? "batch" : "per_case";
  h["timeout_s"] = st.timeout_s;
  h["max_output_mib"] = st.max_output_mib;
  h["max_output_files"] = st.max_output_files;
  h["geometry"] = st.strict_geometry ? "strict" : "warn";
  return h;
}

std::unique_ptr<Launcher> make_launcher(const ContestantSpec& spec) {
  if (spec.is_container) return std::make_unique<ContainerLauncher>(spec.container);
  return std::make_unique<ProcessLauncher>(spec.command);
}

}  // namespace lb::runner
