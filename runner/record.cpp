// Run records to and from JSON (schemas/run-record.schema.json).
#include "runner/record.h"

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace lb::runner {

using nlohmann::json;

const char* status_name(RunStatus s) {
  switch (s) {
    case RunStatus::ok: return "ok";
    case RunStatus::nonzero_exit: return "nonzero_exit";
    case RunStatus::signal: return "signal";
    case RunStatus::timeout: return "timeout";
    case RunStatus::oom: return "oom";
    case RunStatus::no_output: return "no_output";
    case RunStatus::bad_output: return "bad_output";
    case RunStatus::launch_error: return "launch_error";
  }
  return "launch_error";
}

std::optional<RunStatus> parse_status(const std::string& name) {
  for (RunStatus s : kAllRunStatuses)
    if (name == status_name(s)) return s;
  return std::nullopt;
}

namespace {

// No NaN or infinity in JSON: a value that is not finite is written as null.
json num(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

const json& field(const json& j, const char* key, const char* where) {
  auto it = j.find(key);
  if (it == j.end()) throw std::runtime_error(std::string(where) + ": missing field '" + key + "'");
  return *it;
}

// Optional members: absent or null -> nullopt; wrong type -> error naming the field.
std::optional<double> get_num(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw std::runtime_error(where + "." + key + " must be a number or null");
  return it->get<double>();
}
std::optional<int> get_int(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw std::runtime_error(where + "." + key + " must be an integer or null");
  return it->get<int>();
}
std::string get_str(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) throw std::runtime_error(where + "." + key + " must be a string");
  return it->get<std::string>();
}
bool get_bool(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw std::runtime_error(where + "." + key + " must be true or false");
  return it->get<bool>();
}
const json& get_obj(const json& j, const char* key) {
  static const json empty = json::object();
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return empty;
  return *it;
}

}  // namespace

void to_json(json& j, const RunRecord& r) {
  j = json::object();
  j["schema_version"] = r.schema_version;
  j["case"] = r.case_name;
  j["image"] = r.image;
  j["status"] = status_name(r.status);
  j["message"] = r.message;
  j["notes"] = r.notes;
  j["exit_code"] = opt(r.exit_code);
  j["signal"] = opt(r.signal);
  j["wall_s"] = num(r.wall_s);
  j["output_s"] = num(r.output_s);
  j["prediction"] = opt(r.prediction);
  j["mode"] = r.mode;
  j["timeout_s"] = num(r.timeout_s);
  j["started_at"] = r.started_at;
  j["gpu"] = {{"available", r.gpu.available},
              {"index", opt(r.gpu.index)},
              {"name", r.gpu.name},
              {"uuid", r.gpu.uuid},
              {"driver", r.gpu.driver},
              {"total_mib", num(r.gpu.total_mib)},
              {"device_max_mib", num(r.gpu.device_max_mib)},
              {"device_auc_mib_s", num(r.gpu.device_auc_mib_s)},
              {"own_available", r.gpu.own_available},
              {"own_max_mib", num(r.gpu.own_max_mib)},
              {"own_auc_mib_s", num(r.gpu.own_auc_mib_s)},
              {"note", r.gpu.note}};
  j["cpu"] = {{"max_pct", num(r.cpu.max_pct)}, {"auc_pct_s", num(r.cpu.auc_pct_s)}, {"time_s", num(r.cpu.time_s)}};
  j["ram"] = {{"max_mib", num(r.ram.max_mib)}, {"auc_mib_s", num(r.ram.auc_mib_s)}};
  j["system"] = {{"cpu_max_pct", num(r.system.cpu_max_pct)},
                 {"cpu_auc_pct_s", num(r.system.cpu_auc_pct_s)},
                 {"ram_max_mib", num(r.system.ram_max_mib)},
                 {"ram_auc_mib_s", num(r.system.ram_auc_mib_s)},
                 {"cpu_count", r.system.cpu_count},
                 {"ram_total_mib", num(r.system.ram_total_mib)}};
  j["sampler"] = {{"interval_ms", num(r.sampler.interval_ms)},
                  {"samples", r.sampler.samples},
                  {"cpu_s", num(r.sampler.cpu_s)},
                  {"mean_tick_us", num(r.sampler.mean_tick_us)},
                  {"max_tick_us", num(r.sampler.max_tick_us)},
                  {"late_ticks", r.sampler.late_ticks}};
  j["provenance"] = {{"contestant", r.provenance.contestant},
                     {"kind", r.provenance.kind},
                     {"command", r.provenance.command},
                     {"image", r.provenance.image},
                     {"image_id", r.provenance.image_id},
                     {"engine", r.provenance.engine},
                     {"sandbox", r.provenance.sandbox},
                     {"launch", r.provenance.launch},
                     {"host", r.provenance.host},
                     {"lesionbench", r.provenance.lesionbench}};
  j["files"] = {{"samples", r.files.samples}, {"stdout", r.files.stdout_log}, {"stderr", r.files.stderr_log}};
  if (r.placement)
    j["placement"] = {{"slot", r.placement->slot},
                      {"slots", r.placement->slots},
                      {"cpus", r.placement->cpus},
                      {"concurrent_max", r.placement->concurrent_max},
                      {"cpu_ram_scope", r.placement->cpu_ram_scope}};
  if (r.slurm) {
    json s = {{"job_id", r.slurm->job_id}, {"task_id", opt(r.slurm->task_id)}, {"node", r.slurm->node},
              {"gpu", r.slurm->gpu}};
    if (r.slurm->unfinished) {
      s["unfinished"] = true;
      s["state"] = r.slurm->state;
      s["reason"] = r.slurm->reason;
    }
    j["slurm"] = s;
  }
}

void from_json(const json& j, RunRecord& r) {
  if (!j.is_object()) throw std::runtime_error("a run record must be a JSON object");
  const std::string version = field(j, "schema_version", "run record").is_string()
                                  ? j["schema_version"].get<std::string>()
                                  : std::string("?");
  // Same major version: fields may have been added, none renamed; a newer major is a different format.
  if (version.substr(0, version.find('.')) != std::string(kRunRecordSchemaVersion).substr(0, 1))
    throw std::runtime_error("run record schema_version '" + version + "' is not supported (this build reads " +
                             kRunRecordSchemaVersion + ")");
  r = RunRecord{};
  r.schema_version = version;
  const std::string w = "run record";
  r.case_name = field(j, "case", "run record").get<std::string>();
  const std::string status = field(j, "status", "run record").get<std::string>();
  auto s = parse_status(status);
  if (!s) throw std::runtime_error("run record of " + r.case_name + ": unknown status '" + status + "'");
  r.status = *s;
  r.image = get_str(j, "image", w);
  r.message = get_str(j, "message", w);
  if (auto it = j.find("notes"); it != j.end() && it->is_array())
    for (const auto& n : *it)
      if (n.is_string()) r.notes.push_back(n.get<std::string>());
  r.exit_code = get_int(j, "exit_code", w);
  r.signal = get_int(j, "signal", w);
  r.wall_s = get_num(j, "wall_s", w).value_or(0.0);
  r.output_s = get_num(j, "output_s", w);
  if (auto p = get_str(j, "prediction", w); !p.empty()) r.prediction = p;
  r.mode = get_str(j, "mode", w);
  if (r.mode.empty()) r.mode = "per_case";
  r.timeout_s = get_num(j, "timeout_s", w).value_or(0.0);
  r.started_at = get_str(j, "started_at", w);

  const json& g = get_obj(j, "gpu");
  r.gpu.available = get_bool(g, "available", "gpu");
  r.gpu.index = get_int(g, "index", "gpu");
  r.gpu.name = get_str(g, "name", "gpu");
  r.gpu.uuid = get_str(g, "uuid", "gpu");
  r.gpu.driver = get_str(g, "driver", "gpu");
  r.gpu.total_mib = get_num(g, "total_mib", "gpu");
  r.gpu.device_max_mib = get_num(g, "device_max_mib", "gpu");
  r.gpu.device_auc_mib_s = get_num(g, "device_auc_mib_s", "gpu");
  r.gpu.own_available = get_bool(g, "own_available", "gpu");
  r.gpu.own_max_mib = get_num(g, "own_max_mib", "gpu");
  r.gpu.own_auc_mib_s = get_num(g, "own_auc_mib_s", "gpu");
  r.gpu.note = get_str(g, "note", "gpu");

  const json& c = get_obj(j, "cpu");
  r.cpu.max_pct = get_num(c, "max_pct", "cpu");
  r.cpu.auc_pct_s = get_num(c, "auc_pct_s", "cpu");
  r.cpu.time_s = get_num(c, "time_s", "cpu");
  const json& m = get_obj(j, "ram");
  r.ram.max_mib = get_num(m, "max_mib", "ram");
  r.ram.auc_mib_s = get_num(m, "auc_mib_s", "ram");
  const json& sy = get_obj(j, "system");
  r.system.cpu_max_pct = get_num(sy, "cpu_max_pct", "system");
  r.system.cpu_auc_pct_s = get_num(sy, "cpu_auc_pct_s", "system");
  r.system.ram_max_mib = get_num(sy, "ram_max_mib", "system");
  r.system.ram_auc_mib_s = get_num(sy, "ram_auc_mib_s", "system");
  r.system.cpu_count = get_int(sy, "cpu_count", "system").value_or(0);
  r.system.ram_total_mib = get_num(sy, "ram_total_mib", "system").value_or(0.0);
  const json& sa = get_obj(j, "sampler");
  r.sampler.interval_ms = get_num(sa, "interval_ms", "sampler").value_or(0.0);
  r.sampler.samples = static_cast<int64_t>(get_num(sa, "samples", "sampler").value_or(0.0));
  r.sampler.cpu_s = get_num(sa, "cpu_s", "sampler").value_or(0.0);
  r.sampler.mean_tick_us = get_num(sa, "mean_tick_us", "sampler").value_or(0.0);
  r.sampler.max_tick_us = get_num(sa, "max_tick_us", "sampler").value_or(0.0);
  r.sampler.late_ticks = static_cast<int64_t>(get_num(sa, "late_ticks", "sampler").value_or(0.0));
  const json& p = get_obj(j, "provenance");
  r.provenance.contestant = get_str(p, "contestant", "provenance");
  r.provenance.kind = get_str(p, "kind", "provenance");
  r.provenance.command = get_str(p, "command", "provenance");
  r.provenance.image = get_str(p, "image", "provenance");
  r.provenance.image_id = get_str(p, "image_id", "provenance");
  r.provenance.engine = get_str(p, "engine", "provenance");
  // Absent in records written before the sandbox existed (they ran unconfined).
  if (auto it = p.find("sandbox"); it != p.end() && it->is_string()) r.provenance.sandbox = it->get<std::string>();
  if (auto it = p.find("launch"); it != p.end() && it->is_array())
    for (const auto& a : *it)
      if (a.is_string()) r.provenance.launch.push_back(a.get<std::string>());
  r.provenance.host = get_str(p, "host", "provenance");
  r.provenance.lesionbench = get_str(p, "lesionbench", "provenance");
  const json& f = get_obj(j, "files");
  r.files.samples = get_str(f, "samples", "files");
  r.files.stdout_log = get_str(f, "stdout", "files");
  r.files.stderr_log = get_str(f, "stderr", "files");
  if (auto it = j.find("placement"); it != j.end() && it->is_object()) {
    const json& pl = *it;
    Placement p;
    p.slot = get_int(pl, "slot", "placement").value_or(0);
    p.slots = get_int(pl, "slots", "placement").value_or(1);
    p.cpus = get_str(pl, "cpus", "placement");
    p.concurrent_max = get_int(pl, "concurrent_max", "placement").value_or(1);
    p.cpu_ram_scope = get_str(pl, "cpu_ram_scope", "placement");
    if (p.cpu_ram_scope != "system" && p.cpu_ram_scope != "own")
      throw std::runtime_error("run record of " + r.case_name + ": placement.cpu_ram_scope must be \"system\" or \"own\"");
    r.placement = p;
  }
  if (auto it = j.find("slurm"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw std::runtime_error("slurm must be an object");
    SlurmPlacement s;
    s.job_id = get_str(*it, "job_id", "slurm");
    if (auto t = get_num(*it, "task_id", "slurm")) s.task_id = static_cast<int>(*t);
    s.node = get_str(*it, "node", "slurm");
    s.gpu = get_str(*it, "gpu", "slurm");
    if (auto u = it->find("unfinished"); u != it->end() && u->is_boolean()) s.unfinished = u->get<bool>();
    if (s.unfinished) {
      s.state = get_str(*it, "state", "slurm");
      s.reason = get_str(*it, "reason", "slurm");
    }
    r.slurm = s;
  }
}

std::vector<RunRecord> read_records_jsonl(const std::string& path, std::vector<std::string>* warnings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<RunRecord> records;
  std::map<std::string, size_t> index;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      RunRecord r = json::parse(line).get<RunRecord>();
      auto [it, inserted] = index.emplace(r.case_name, records.size());
      if (inserted) records.push_back(std::move(r));
      else records[it->second] = std::move(r);
    } catch (const std::exception& e) {
      if (warnings) warnings->push_back(path + " line " + std::to_string(line_no) + " skipped: " + e.what());
    }
  }
  return records;
}

}  // namespace lb::runner
