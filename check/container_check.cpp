// The container dry run; see container_check.h.
#include "check/container_check.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <sstream>

#include "runner/cases.h"
#include "runner/journal.h"
#include "runner/scheduler.h"
#include "runner/spawn.h"
#include "runner/util.h"

namespace fs = std::filesystem;
using namespace lb::runner;

namespace lb::check {

namespace {

std::string fixed(double v, int decimals) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(decimals) << v;
  return s.str();
}

std::string mib_text(double mib) {
  if (mib >= 1024) return fixed(mib / 1024, 2) + " GiB";
  return fixed(mib, 0) + " MiB";
}

// Runs `/bin/bash -c "exit 0"` in the image with the same flags as a case: whether /bin/bash exists, and how
// long a container takes to start and go away (the part of every case's Time that is not the model's).
struct BashProbe {
  bool ran = false;          // the engine started it and it exited
  std::optional<int> exit_code;
  std::string error;
  double wall_s = 0;
};

BashProbe probe_bash(const ContainerCheckSettings& s, const std::string& image, const fs::path& dir) {
  BashProbe p;
  ContainerSettings cs = s.container;
  cs.image = image;
  cs.image_archive.clear();  // loaded already by the main launcher
  cs.entry = {"/bin/bash", "-c", "exit 0"};
  ContainerLauncher launcher(cs);
  Provenance prov;
  try {
    launcher.prepare(prov);
    std::error_code ec;
    for (const char* d : {"inputs", "outputs", "work", "logs"}) fs::create_directories(dir / d, ec);
    LaunchRequest r;
    r.label = "bash-probe";
    r.inputs_dir = dir / "inputs";
    r.outputs_dir = dir / "outputs";
    r.work_dir = dir / "work";
    r.gpu_index = s.gpu_index;
    r.stdout_log = dir / "logs" / "stdout.txt";
    r.stderr_log = dir / "logs" / "stderr.txt";
    auto launched = launcher.launch(r);
    const auto t0 = launched->started();
    bool done = launched->wait_for(std::chrono::milliseconds(static_cast<int64_t>(s.probe_timeout_s * 1000)));
    if (!done) {
      launched->kill();
      launched->wait_for(std::chrono::seconds(30));
      p.error = "did not exit within " + fixed(s.probe_timeout_s, 0) + " s";
    }
    const LaunchExit e = launched->finish();
    p.wall_s = std::chrono::duration<double>(e.end - t0).count();
    if (e.launch_error) p.error = *e.launch_error;
    else if (done) {
      p.ran = true;
      p.exit_code = e.exit_code;
      if (e.exit_code != 0) p.error = e.stderr_last_line.empty() ? "exit code " + std::to_string(e.exit_code.value_or(-1))
                                                                 : e.stderr_last_line;
    }
  } catch (const LaunchError& e) {
    p.error = e.what();
  }
  return p;
}

std::string case_list(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? "; " : "") + items[i];
  return s;
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::not_checked: return "not checked";
  }
  return "not checked";
}

bool ContainerCheck::passed() const {
  if (rules.empty() || interrupted) return false;
  for (const auto& r : rules)
    if (r.verdict != Verdict::pass) return false;
  return true;
}

std::string ContainerCheck::verdict_text() const {
  if (interrupted) return "would fail: interrupted before every rule was checked";
  if (passed()) return "would pass";
  std::vector<std::string> failed;
  for (const auto& r : rules)
    if (r.verdict == Verdict::fail) failed.push_back(r.rule);
  return "would fail: " + (failed.empty() ? std::string("not every rule could be checked") : case_list(failed));
}

std::vector<size_t> pick_sample(size_t n, size_t k) {
  std::vector<size_t> idx;
  if (k == 0 || k >= n) {
    for (size_t i = 0; i < n; ++i) idx.push_back(i);
    return idx;
  }
  // Evenly spread (first and last included when k > 1): a sorted list often runs small to large or by source.
  for (size_t i = 0; i < k; ++i) idx.push_back(k == 1 ? 0 : i * (n - 1) / (k - 1));
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  return idx;
}

std::vector<std::string> stricter_than_organisers(const std::vector<std::string>& a) {
  std::vector<std::string> out;
  auto value_of = [&](const std::string& flag) -> std::optional<std::string> {
    for (size_t i = 0; i + 1 < a.size(); ++i)
      if (a[i] == flag) return a[i + 1];
    return std::nullopt;
  };
  if (auto net = value_of("--network"); net && *net == "none")
    out.push_back("no network (--network none); the organisers' command leaves the engine's default network on");
  for (const auto& arg : a)
    if (arg.ends_with(":ro") && arg.find("/workspace/inputs") != std::string::npos)
      out.push_back("the inputs folder is read-only; theirs is writable (write scratch files elsewhere, e.g. /tmp)");
  if (auto p = value_of("--pids-limit"))
    out.push_back("at most " + *p + " processes (--pids-limit " + *p + "); theirs has no such limit");
  for (size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == "--ulimit") out.push_back("resource limit --ulimit " + a[i + 1] + "; theirs inherits the engine's");
  if (auto so = value_of("--security-opt"); so && *so == "no-new-privileges")
    out.push_back("no new privileges (--security-opt no-new-privileges): setuid programs (sudo, su) gain nothing; "
                  "theirs allows them");
  if (auto m = value_of("-m"); m && *m != "28g" && *m != "28G")
    out.push_back("memory limit " + *m + " (-m); theirs is 28G");
  if (auto shm = value_of("--shm-size"); shm && *shm != "28g" && *shm != "28gb")
    out.push_back("shared memory " + *shm + " (--shm-size); theirs is 28gb");
  return out;
}

ContainerCheck check_container(const ContainerCheckSettings& s, std::shared_ptr<Nvml> nvml) {
  std::vector<CaseInput> all;
  try {
    all = find_cases(s.cases_dir);
  } catch (const SetupError& e) {
    throw CheckUnusable(e.what());
  }
  ContainerCheck c;
  std::vector<CaseInput> cases;
  for (size_t i : pick_sample(all.size(), s.sample)) {
    cases.push_back(all[i]);
    c.sample.push_back(all[i].name);
  }
  std::error_code ec;
  fs::create_directories(s.work_dir, ec);
  if (ec) throw CheckUnusable("cannot create " + s.work_dir.string() + ": " + ec.message());
  const fs::path team = s.work_dir / "dry-run";
  fs::remove_all(team, ec);

  c.rules.reserve(8);  // the references below must stay valid
  auto rule = [&](const std::string& name) -> RuleVerdict& {
    c.rules.push_back({name, Verdict::not_checked, ""});
    return c.rules.back();
  };
  RuleVerdict& loads = rule("the image loads");
  RuleVerdict& bash = rule("/bin/bash exists and runs");
  RuleVerdict& predict = rule("/bin/bash -c \"sh predict.sh\" runs and exits 0");
  RuleVerdict& outputs = rule("predictions appear in /workspace/outputs");
  RuleVerdict& in_time = rule("each case finishes within the time limit (" +
                              (s.timeout_s > 0 ? fixed(s.timeout_s, 0) + " s" : std::string("none")) + ")");
  RuleVerdict& in_memory = rule("each case stays within the memory limit" +
                                (s.container.memory.empty() ? std::string() : " (" + s.container.memory + ")"));
  RuleVerdict& accepted = rule("the predictions would be accepted (lesionbench check --pred)");
  // Not a verdict of this rule: the same words the scheduler records, for the rules that come after.
  auto skip_rest = [&](const std::string& why) {
    for (auto& r : c.rules)
      if (r.verdict == Verdict::not_checked && r.detail.empty()) r.detail = why;
  };

  ContainerLauncher launcher(s.container);
  Provenance prov;
  const auto t_load = std::chrono::steady_clock::now();
  try {
    launcher.prepare(prov);
  } catch (const LaunchError& e) {
    loads.verdict = Verdict::fail;
    loads.detail = e.what();
    skip_rest("not checked: the image did not load");
    return c;
  }
  loads.verdict = Verdict::pass;
  loads.detail = launcher.image() + (prov.image_id.empty() ? "" : " (" + prov.image_id.substr(0, 19) + ")");
  c.info.push_back({"engine", prov.engine.empty() ? launcher.engine_path() : prov.engine});
  if (!s.container.image_archive.empty())
    c.info.push_back({"archive load time", fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count(), 1) + " s"});
  {
    const HelperResult r = run_helper({launcher.engine_path(), "image", "inspect", "--format", "{{.Size}}", launcher.image()}, 60);
    std::string size = r.out;
    while (!size.empty() && (size.back() == '\n' || size.back() == ' ')) size.pop_back();
    try {
      c.info.push_back({"image size", r.exit_code == 0 ? mib_text(std::stod(size) / (1024.0 * 1024.0)) : "unknown"});
    } catch (const std::exception&) {
      c.info.push_back({"image size", "unknown (" + printable(size, 60) + ")"});
    }
  }

  const BashProbe probe = probe_bash(s, launcher.image(), s.work_dir / "bash-probe");
  if (probe.ran && probe.exit_code == 0) {
    bash.verdict = Verdict::pass;
    bash.detail = "/bin/bash -c \"exit 0\" exited 0";
    c.info.push_back({"start-up and teardown time (empty container)", fixed(probe.wall_s, 2) + " s"});
  } else {
    bash.verdict = Verdict::fail;
    bash.detail = "/bin/bash -c \"exit 0\" failed: " + probe.error +
                  "; the organisers start every case with /bin/bash -c \"sh predict.sh\", so the image needs /bin/bash";
  }

  RunSettings st;
  st.team_dir = team;
  st.contestant = "check";
  st.timeout_s = s.timeout_s;
  st.gpu_index = s.gpu_index;
  st.sample_ms = s.sample_ms;
  Scheduler scheduler(launcher, st, nvml, s.stop);
  RunSummary sum;
  try {
    sum = scheduler.run(cases, JournalMode::start_over);
  } catch (const SetupError& e) {
    throw CheckUnusable(e.what());
  }
  launcher.cleanup(&c.notes);
  for (const auto& n : sum.notes) c.notes.push_back(n);
  c.records = sum.records;
  if (sum.interrupted) {
    c.interrupted = true;
    skip_rest("not checked: interrupted");
    return c;
  }
  std::vector<std::string> crashed, silent, slow, big;
  for (const auto& r : c.records) {
    const std::string what = r.case_name + ": " + (r.message.empty() ? status_name(r.status) : r.message);
    switch (r.status) {
      case RunStatus::nonzero_exit:
      case RunStatus::signal:
      case RunStatus::launch_error: crashed.push_back(what); break;
      case RunStatus::no_output: silent.push_back(what); break;
      case RunStatus::timeout: slow.push_back(what); break;
      case RunStatus::oom: big.push_back(what); break;
      default: break;
    }
  }
  const std::string n_cases = std::to_string(c.records.size()) + " case(s)";
  auto set = [](RuleVerdict& r, const std::vector<std::string>& bad, const std::string& good) {
    r.verdict = bad.empty() ? Verdict::pass : Verdict::fail;
    r.detail = bad.empty() ? good : case_list(bad);
  };
  set(predict, crashed, "exited 0 on " + n_cases);
  set(in_time, slow, "slowest case " + [&] {
    double m = 0;
    for (const auto& r : c.records) m = std::max(m, r.wall_s);
    return fixed(m, 1) + " s";
  }());
  set(in_memory, big, "no case was killed for memory");
  // A case that crashed or ran out of time says nothing about its outputs.
  std::vector<std::string> finished;
  for (const auto& r : c.records)
    if (r.status == RunStatus::ok || r.status == RunStatus::no_output || r.status == RunStatus::bad_output)
      finished.push_back(r.case_name);
  if (finished.empty()) {
    outputs.detail = accepted.detail = "not checked: no case finished";
  } else {
    set(outputs, silent, "every finished case wrote to /workspace/outputs");
    // What each case wrote: kept in predictions/ when the runner accepted it, else in rejected/<case>/.
    PredictionCheckSettings ps;
    ps.cases_dir = s.cases_dir;
    ps.pred_dir = team / "predictions";
    ps.geometry_strict = s.geometry_strict;
    PredictionCheck pc;
    pc.settings = ps;
    for (const auto& name : finished) {
      const auto in = std::find_if(cases.begin(), cases.end(), [&](const CaseInput& ci) { return ci.name == name; });
      const fs::path kept = team / "predictions", rejected = team / "rejected" / name;
      const bool was_kept = fs::exists(kept / (name + ".nii.gz"), ec);
      pc.cases.push_back(check_case(in->path, name, was_kept ? kept : rejected, ps));
    }
    std::vector<std::string> bad;
    for (const auto& cc : pc.cases)
      for (const auto& e : cc.errors) bad.push_back(e);
    accepted.verdict = bad.empty() ? Verdict::pass : Verdict::fail;
    accepted.detail = bad.empty() ? std::to_string(pc.cases.size()) + " prediction(s) checked" : case_list(bad);
    c.predictions = std::move(pc);
  }
  // The launcher's real flags against the organisers' command.
  LaunchRequest dummy;
  dummy.inputs_dir = "/inputs";
  dummy.outputs_dir = "/outputs";
  c.stricter = stricter_than_organisers(launcher.run_argv(dummy, "check"));
  return c;
}

nlohmann::json to_json(const ContainerCheck& c) {
  nlohmann::json rules = nlohmann::json::array(), info = nlohmann::json::object(), cases = nlohmann::json::array();
  for (const auto& r : c.rules) rules.push_back({{"rule", r.rule}, {"verdict", verdict_name(r.verdict)}, {"detail", r.detail}});
  for (const auto& i : c.info) info[i.name] = i.value;
  for (const auto& r : c.records) {
    nlohmann::json j = {{"case", r.case_name}, {"status", status_name(r.status)}, {"message", r.message}, {"wall_s", r.wall_s}};
    if (r.gpu.device_max_mib) j["gpu_device_max_mib"] = *r.gpu.device_max_mib;
    if (r.gpu.own_max_mib) j["gpu_own_max_mib"] = *r.gpu.own_max_mib;
    cases.push_back(j);
  }
  nlohmann::json j = {{"schema_version", kCheckSchemaVersion},
                      {"kind", "container"},
                      {"verdict", c.verdict_text()},
                      {"passed", c.passed()},
                      {"sample", c.sample},
                      {"rules", rules},
                      {"info", info},
                      {"stricter_than_organisers", c.stricter},
                      {"cases", cases},
                      {"notes", c.notes}};
  if (c.predictions) j["predictions"] = to_json(*c.predictions);
  return j;
}

std::string format_report(const ContainerCheck& c) {
  std::ostringstream s;
  s << "sample: " << case_list(c.sample) << "\n";
  for (const auto& r : c.records) {
    s << "  " << std::left << std::setw(24) << r.case_name << std::setw(13) << status_name(r.status) << std::right
      << std::setw(8) << fixed(r.wall_s, 1) << " s";
    if (r.gpu.device_max_mib) s << "  GPU " << mib_text(*r.gpu.device_max_mib);
    if (r.gpu.own_max_mib) s << " (own " << mib_text(*r.gpu.own_max_mib) << ")";
    s << "\n";
  }
  s << "rules:\n";
  for (const auto& r : c.rules)
    s << "  [" << std::left << std::setw(11) << verdict_name(r.verdict) << "] " << r.rule << (r.detail.empty() ? "" : ": " + r.detail)
      << "\n";
  if (!c.info.empty()) s << "for information:\n";
  for (const auto& i : c.info) s << "  " << i.name << ": " << i.value << "\n";
  if (!c.stricter.empty()) s << "lesionbench's run is stricter than the organisers' command (a failure from these is ours, not theirs):\n";
  for (const auto& x : c.stricter) s << "  - " << x << "\n";
  for (const auto& n : c.notes) s << "note: " << n << "\n";
  s << "verdict: " << c.verdict_text() << "\n";
  return s.str();
}

}  // namespace lb::check
