// `lesionbench run` end to end: the statuses of a misbehaving contestant, a manifest of three contestants
// (a good binary, a container, a crashing one), records valid against the JSON schema, usage errors, and
// Ctrl-C leaving a consistent journal.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <thread>
#include <nlohmann/json.hpp>

#include "runner/record.h"
#include "runner/samples.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
using lb::test::run_cli;
using lb::test::shell_quote;
namespace fs = std::filesystem;

namespace {

std::map<std::string, RunRecord> records_by_case(const fs::path& team) {
  std::vector<std::string> warnings;
  std::map<std::string, RunRecord> out;
  for (auto& r : read_records_jsonl((team / "records.jsonl").string(), &warnings)) out[r.case_name] = r;
  CHECK(warnings.empty());
  return out;
}

// Validates a JSON document, or every line of a JSON-lines file, against a schema of schemas/ with Python's
// jsonschema, an implementation independent of ours. Returns the validator's error text (empty: valid).
// Skipped (empty) when that module is not installed.
std::string schema_errors(const std::string& schema, const fs::path& file, bool lines) {
  const auto probe = lb::test::run_command("/usr/bin/python3 -c 'import jsonschema'");
  if (probe.exit_code != 0) {
    WARN("skipped schema validation: python3-jsonschema is not installed");
    return {};
  }
  const std::string script =
      "import json,sys,jsonschema\n"
      "schema=json.load(open(sys.argv[1]))\n"
      "jsonschema.Draft202012Validator.check_schema(schema)\n"
      "v=jsonschema.Draft202012Validator(schema)\n"
      "docs=[json.loads(l) for l in open(sys.argv[2])] if sys.argv[3]=='lines' else [json.load(open(sys.argv[2]))]\n"
      "for d in docs: v.validate(d)\n"
      "print('valid', len(docs))\n";
  lb::test::TempDir tmp("schema");
  std::ofstream(tmp / "v.py") << script;
  const auto r = lb::test::run_command("/usr/bin/python3 " + shell_quote(tmp / "v.py") + " " +
                                       shell_quote(std::string(LB_SCHEMA_DIR) + "/" + schema) + " " +
                                       shell_quote(file.string()) + (lines ? " lines" : " doc"));
  if (r.exit_code == 0 && r.out.rfind("valid", 0) == 0) return {};
  return r.err.empty() ? "invalid" : r.err;
}

void validate_records(const fs::path& records) {
  const std::string err = schema_errors("run-record.schema.json", records, true);
  INFO(err);
  CHECK(err.empty());
}

size_t csv_rows(const fs::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n == 0 ? 0 : n - 1;
}

}  // namespace

TEST_CASE("run: each fault of a command contestant gets its status, good cases their prediction", "[cli]") {
  lb::test::TempDir tmp("cli");
  const fs::path cases = tmp.path() / "cases", team = tmp.path() / "team";
  const std::vector<std::string> names = {"a_good",      "b_crash",      "c_exit3",   "d_garbage", "e_wrong-name",
                                          "f_several",   "g_truncated",  "h_wrong-shape", "i_symlink", "j_nothing",
                                          "k_hang"};
  for (const auto& n : names) write_case(cases, n);
  const auto r = run_cli("run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(team.string()) +
                         " --name faulty --timeout-s 2 --sample-ms 50 --command " +
                         shell_quote(contestant_command("by-name")));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto recs = records_by_case(team);
  REQUIRE(recs.size() == names.size());
  CHECK(recs["a_good"].status == RunStatus::ok);
  CHECK(recs["b_crash"].status == RunStatus::signal);
  CHECK(recs["c_exit3"].status == RunStatus::nonzero_exit);
  CHECK(recs["d_garbage"].status == RunStatus::bad_output);
  CHECK(recs["e_wrong-name"].status == RunStatus::bad_output);
  CHECK_THAT(recs["e_wrong-name"].message, Catch::Contains("e_wrong-name_pred.nii.gz"));
  CHECK(recs["f_several"].status == RunStatus::ok);
  REQUIRE_FALSE(recs["f_several"].notes.empty());
  CHECK_THAT(recs["f_several"].notes[0], Catch::Contains("f_several_probabilities.nii.gz"));
  CHECK(recs["g_truncated"].status == RunStatus::bad_output);
  CHECK(recs["h_wrong-shape"].status == RunStatus::bad_output);
  CHECK_THAT(recs["h_wrong-shape"].message, Catch::Contains("shape 23x20x8"));
  CHECK(recs["i_symlink"].status == RunStatus::bad_output);
  CHECK(recs["j_nothing"].status == RunStatus::no_output);
  CHECK(recs["k_hang"].status == RunStatus::timeout);
  for (const auto& [name, rec] : recs) {
    CHECK(rec.provenance.contestant == "faulty");
    CHECK(fs::exists(team / rec.files.samples));
    CHECK(fs::exists(team / rec.files.stderr_log));
    CHECK(fs::exists(team / "predictions" / (name + ".nii.gz")) == (rec.status == RunStatus::ok));
    CHECK(rec.prediction.has_value() == (rec.status == RunStatus::ok));
    // The samples file belongs to the record: its last sample is at the exit.
    const auto samples = read_samples_csv((team / rec.files.samples).string());
    REQUIRE_FALSE(samples.empty());
    // The final scan follows the exit by a scheduling delay, which grows on a loaded 2-core machine.
    CHECK(samples.back().t_s == Approx(rec.wall_s).margin(0.25));
  }
  CHECK(csv_rows(team / "efficiency.csv") == names.size());
  CHECK_THAT(r.out, Catch::Contains("timeout 1") && Catch::Contains("ok 2"));
  validate_records(team / "records.jsonl");
}

TEST_CASE("run --manifest: a good binary, a container and a crashing one, end to end", "[cli][container]") {
  lb::test::TempDir tmp("manifest");
  const fs::path cases = tmp.path() / "cases", results = tmp.path() / "results";
  for (const auto& n : {"FLARE24Val_0001", "FLARE24Val_0002", "FLARE24Val_0003"}) write_case(cases, n);
  nlohmann::json m = {{"schema_version", "1.0"}, {"contestants", nlohmann::json::array()}};
  m["contestants"].push_back({{"name", "good"}, {"command", contestant_command("predict")}});
  std::unique_ptr<TestImage> img;
  if (podman_probe().ok) {
    img = std::make_unique<TestImage>("predict");
    INFO(img->why());
    REQUIRE(img->ok());
    m["contestants"].push_back(
        {{"name", "boxed"}, {"image", img->tag()}, {"engine", "podman"}, {"memory", "1g"}, {"shm_size", "64m"}});
  } else {
    WARN("running the manifest without its container contestant: " << podman_probe().why);
  }
  m["contestants"].push_back({{"name", "crasher"}, {"command", contestant_command("crash")}, {"timeout_s", 30}});
  std::ofstream(tmp / "contestants.json") << m.dump(2);
  CHECK(schema_errors("manifest.schema.json", tmp / "contestants.json", false).empty());

  const auto r = run_cli("run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(results.string()) +
                         " --manifest " + shell_quote(tmp / "contestants.json") + " --sample-ms 50");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> teams = {"good", "crasher"};
  if (img) teams.push_back("boxed");
  for (const auto& team : teams) {
    const fs::path dir = results / team;
    auto recs = records_by_case(dir);
    REQUIRE(recs.size() == 3);
    CHECK(csv_rows(dir / "efficiency.csv") == 3);
    CHECK(csv_rows(dir / "efficiency-own.csv") == 3);
    const std::string eff = lb::test::read_text((dir / "efficiency.csv").string());
    CHECK_THAT(eff, Catch::StartsWith("Name,Time,MaxGPU_Mem,AUC_GPU_Time,MaxCPU_Utilization,AUC_CPU_Time,MaxRAM,AUC_RAM_Time\n"));
    CHECK_THAT(eff, Catch::Contains("FLARE24Val_0002_0000.nii.gz,"));
    for (auto& [name, rec] : recs) {
      CHECK(rec.provenance.contestant == team);
      if (team == "crasher") {
        CHECK(rec.status == RunStatus::signal);
        CHECK_FALSE(fs::exists(dir / "predictions" / (name + ".nii.gz")));
      } else {
        CHECK(rec.status == RunStatus::ok);
        CHECK(fs::exists(dir / "predictions" / (name + ".nii.gz")));
      }
    }
    validate_records(dir / "records.jsonl");
  }
  if (img) {
    // The container and the binary are the same program: their predictions are identical files' content.
    const std::string a = lb::test::read_text((results / "good" / "predictions" / "FLARE24Val_0001.nii.gz").string());
    const std::string b = lb::test::read_text((results / "boxed" / "predictions" / "FLARE24Val_0001.nii.gz").string());
    CHECK(a == b);
  }
}

TEST_CASE("run: bad invocations exit 2 with a message that says what to do", "[cli]") {
  lb::test::TempDir tmp("cliusage");
  const fs::path cases = tmp.path() / "cases";
  write_case(cases, "C1");
  const std::string base = "run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(tmp / "team");
  auto r = run_cli(base);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--command, --image or --image-archive"));
  r = run_cli(base + " --command true --image x");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("exclude each other"));
  r = run_cli("run --cases " + shell_quote(tmp / "nowhere") + " --out " + shell_quote(tmp / "team") + " --command true");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("nowhere") && Catch::Contains("does not exist"));
  r = run_cli(base + " --command true --name 'bad/name'");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("folder name"));
  std::ofstream(tmp / "m.json") << R"({"contestants": [{"name": "a", "comand": "x"}]})";
  if (lb::test::run_command("/usr/bin/python3 -c 'import jsonschema'").exit_code == 0)
    CHECK_FALSE(schema_errors("manifest.schema.json", tmp / "m.json", false).empty());  // the schema agrees
  r = run_cli("run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(tmp / "res") + " --manifest " +
              shell_quote(tmp / "m.json"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown field 'comand'") && Catch::Contains("contestant 1 (a)"));
  // A second run into the same folder must say --resume or --fresh.
  REQUIRE(run_cli(base + " --command " + shell_quote(contestant_command("predict"))).exit_code == 0);
  r = run_cli(base + " --command " + shell_quote(contestant_command("predict")));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--resume"));
  r = run_cli(base + " --resume --command " + shell_quote(contestant_command("predict")));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("1 already recorded"));
}

TEST_CASE("run: Ctrl-C stops the contestant, keeps the finished cases and exits 130", "[cli]") {
  lb::test::TempDir tmp("ctrlc");
  const fs::path cases = tmp.path() / "cases", team = tmp.path() / "team";
  write_case(cases, "a_good");
  write_case(cases, "b_hang");
  write_case(cases, "c_good");
  const std::string pidfile = tmp / "pid";
  const std::string command = "echo $$ > " + shell_quote(pidfile) + "; exec " + contestant_command("by-name");
  // --sandbox none: the pid it writes must be ours (the sandbox's own case: test_sandbox.cpp).
  const std::string cli = shell_quote(LB_CLI) + " run --cases " + shell_quote(cases.string()) + " --out " +
                          shell_quote(team.string()) + " --sandbox none --command " + shell_quote(command);
  // Start the run, wait until the hanging case is running, press Ctrl-C (SIGINT to lesionbench only).
  // Each launch has its own folder, .work/<case>.XXXXXX/.
  const std::string started = shell_quote(tmp / "team/.work") + "/b_hang.*/inputs/b_hang_0000.nii.gz";
  const auto r = lb::test::run_command("( " + cli + " & p=$!; for i in $(seq 400); do [ -e " + started +
                                       " ] && break; sleep 0.05; done; sleep 0.5; kill -INT $p; wait $p; echo rc=$? )");
  INFO(r.out << r.err);
  CHECK_THAT(r.out, Catch::Contains("rc=130"));
  auto recs = records_by_case(team);
  CHECK(recs.size() == 1);
  CHECK(recs.count("a_good") == 1);
  const auto pids = read_pids(pidfile);
  REQUIRE_FALSE(pids.empty());
  CHECK_FALSE(process_alive(pids.back()));
  // --resume finishes the job (--force: a shorter time limit than the folder was started with).
  const auto again = run_cli("run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(team.string()) +
                             " --resume --force --timeout-s 1 --sandbox none --command " + shell_quote(command));
  CHECK(again.exit_code == 0);
  recs = records_by_case(team);
  CHECK(recs.size() == 3);
  CHECK(recs["b_hang"].status == RunStatus::timeout);
}

TEST_CASE("benchmarks/gpu-check.sh passes its checks against the fake NVML", "[cli][gpu]") {
  // The GPU check cannot run here; this rehearses everything but the GPU: the script, the contestant's
  // phases and log, the runner's records and samples, and the comparison.
  if (lb::test::run_command("command -v python3").exit_code != 0) {
    LB_SKIP("python3 not found");
  }
  lb::test::TempDir tmp("gpucheck");
  const auto r = lb::test::run_command("LB_GPU_CHECK_RUNNER=" + shell_quote(LB_CLI) + " LB_GPU_CHECK_WORK=" +
                                       shell_quote(tmp.path().string()) + " LB_GPU_CHECK_FAKE_NVML=" +
                                       shell_quote(LB_FAKE_NVML) + " bash " +
                                       shell_quote(std::string(LB_SOURCE_DIR) + "/benchmarks/gpu-check.sh") + " --fake");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("PASS  step") && Catch::Contains("gpu-check: all checks passed"));
  // The comparison fails when nvidia-smi and the runner disagree by more than 5%.
  const std::string log = tmp / "contestant-log.json";
  auto doc = nlohmann::json::parse(lb::test::read_text(log));
  for (auto& reading : doc["readings"])
    if (reading["phase"] == "b") reading["smi_own_mib"] = reading["smi_own_mib"].get<double>() * 1.1;
  std::ofstream(log, std::ios::trunc) << doc.dump();
  const auto bad = lb::test::run_command("python3 " + shell_quote(std::string(LB_SOURCE_DIR) + "/benchmarks/gpu/check_gpu_run.py") +
                                         " " + shell_quote(tmp / "team") + " " + shell_quote(log));
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.out, Catch::Contains("FAIL  own (b)") && Catch::Contains("PASS  own (a)"));
}

TEST_CASE("run: a contestant does not outlive lesionbench killed outright", "[cli]") {
  lb::test::TempDir tmp("kill9");
  const fs::path cases = tmp.path() / "cases";
  write_case(cases, "a_hang");
  const std::string pidfile = tmp / "pid";
  const std::string command = "echo $$ > " + shell_quote(pidfile) + "; exec " + contestant_command("by-name");
  // --sandbox none: the unconfined case (the sandbox's: test_sandbox.cpp, which also covers what the shell
  // started).
  const std::string cli = shell_quote(LB_CLI) + " run --cases " + shell_quote(cases.string()) + " --out " +
                          shell_quote(tmp / "team") + " --sandbox none --command " + shell_quote(command);
  const auto r = lb::test::run_command("( " + cli + " & p=$!; for i in $(seq 200); do [ -s " + shell_quote(pidfile) +
                                       " ] && break; sleep 0.05; done; sleep 0.3; kill -KILL $p; wait $p; echo rc=$? )");
  CHECK_THAT(r.out, Catch::Contains("rc=137"));
  const auto pids = read_pids(pidfile);
  REQUIRE_FALSE(pids.empty());
  for (int i = 0; i < 100 && process_alive(pids.back()); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(process_alive(pids.back()));
}

TEST_CASE("run --manifest over 2 slots: two teams side by side, each case once, a crashing team blocks nobody",
          "[cli][slots]") {
  lb::test::TempDir tmp("slotsmanifest");
  const fs::path cases = tmp.path() / "cases", results = tmp.path() / "results";
  for (const auto& n : {"FLARE24Val_0001", "FLARE24Val_0002", "FLARE24Val_0003"}) write_case(cases, n);
  nlohmann::json m = {{"schema_version", "1.0"}, {"parallel", 2}, {"contestants", nlohmann::json::array()}};
  m["contestants"].push_back({{"name", "good"}, {"command", "sleep 0.5; " + contestant_command("predict")}});
  m["contestants"].push_back({{"name", "crasher"}, {"command", contestant_command("crash")}});
  std::ofstream(tmp / "contestants.json") << m.dump(2);
  CHECK(schema_errors("manifest.schema.json", tmp / "contestants.json", false).empty());
  const auto r = run_cli("run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(results.string()) +
                         " --manifest " + shell_quote(tmp / "contestants.json") + " --sample-ms 50");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("slots: 2"));
  int overlapped = 0;
  for (const std::string team : {"good", "crasher"}) {
    const fs::path dir = results / team;
    const auto recs = records_by_case(dir);
    REQUIRE(recs.size() == 3);
    CHECK(csv_rows(dir / "records.jsonl") + 1 == 3);  // three lines, each case once (csv_rows skips one header)
    CHECK(csv_rows(dir / "efficiency.csv") == 3);
    CHECK(fs::exists(dir / "contestant.json"));
    for (const auto& [name, rec] : recs) {
      CHECK(rec.status == (team == "good" ? RunStatus::ok : RunStatus::signal));
      REQUIRE(rec.placement);
      CHECK(rec.placement->slots == 2);
      CHECK(rec.provenance.host.size() > 0);
      if (rec.placement->concurrent_max > 1) ++overlapped;
    }
    validate_records(dir / "records.jsonl");
  }
  CHECK(overlapped > 0);
  // --resume with the slots: nothing left to run, nothing recorded twice.
  const auto again = run_cli("run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(results.string()) +
                             " --manifest " + shell_quote(tmp / "contestants.json") + " --resume");
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(records_by_case(results / "good").size() == 3);
  CHECK(csv_rows(results / "good" / "records.jsonl") == 2);
}

TEST_CASE("run --gpus all with a fake NVML of two GPUs: one slot per GPU, each record names its GPU", "[cli][slots][gpu]") {
  lb::test::TempDir tmp("slotsgpus");
  const fs::path cases = tmp.path() / "cases", team = tmp.path() / "team";
  for (const auto& n : {"C1", "C2", "C3", "C4"}) write_case(cases, n);
  const std::string state = tmp / "state";
  std::ofstream(state).close();
  const std::string env = "LESIONBENCH_NVML_LIBRARY=" + shell_quote(LB_FAKE_NVML) +
                          " LB_FAKE_NVML_DEVICES=2 LB_FAKE_NVML_STATE=" + shell_quote(state) + " ";
  const auto r = lb::test::run_command(env + shell_quote(LB_CLI) + " run --cases " + shell_quote(cases.string()) +
                                       " --out " + shell_quote(team.string()) + " --gpus all --sandbox none --command " +
                                       shell_quote(contestant_command("fake-gpu", "250")));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("GPU 1 GPU-00000001-fake"));
  std::set<int> gpus;
  for (const auto& [name, rec] : records_by_case(team)) {
    CHECK(rec.status == RunStatus::ok);
    REQUIRE(rec.gpu.index);
    gpus.insert(*rec.gpu.index);
    CHECK(rec.gpu.uuid == "GPU-0000000" + std::to_string(*rec.gpu.index) + "-fake");
    CHECK(rec.gpu.own_max_mib == Approx(250));
  }
  CHECK(gpus == std::set<int>{0, 1});
  validate_records(team / "records.jsonl");
}

TEST_CASE("run: slot options that contradict each other are usage errors", "[cli][slots]") {
  lb::test::TempDir tmp("slotsusage");
  const fs::path cases = tmp.path() / "cases";
  write_case(cases, "C1");
  const std::string base = "run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(tmp / "team") +
                           " --command true ";
  struct Bad {
    std::string args, says;
  };
  for (const Bad& b : {Bad{"--gpus 0 --gpu 0", "--gpu gives one GPU"}, Bad{"--gpus 0,1 --parallel 2", "exclude each other"},
                       Bad{"--parallel 0", "at least 1"}, Bad{"--cpus-per-slot 2", "needs slots"},
                       Bad{"--gpus 0,0", "twice"}, Bad{"--gpus zero", "list of GPU indices"},
                       Bad{"--parallel 2 --backend slurm", "exclude --backend slurm"}}) {
    const auto r = run_cli(base + b.args);
    INFO(b.args << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(b.says));
  }
  const auto r = lb::test::run_command("LESIONBENCH_NVML_LIBRARY=/nonexistent.so " + shell_quote(LB_CLI) + " " + base +
                                       "--gpus all");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--gpus all needs NVML"));
  std::ofstream(tmp / "m.json") << R"({"gpus": "0", "parallel": 2, "contestants": [{"name": "a", "command": "true"}]})";
  const auto m = run_cli("run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(tmp / "res") +
                         " --manifest " + shell_quote(tmp / "m.json"));
  CHECK(m.exit_code == 2);
  CHECK_THAT(m.err, Catch::Contains("\"gpus\" and \"parallel\" exclude each other"));
}
