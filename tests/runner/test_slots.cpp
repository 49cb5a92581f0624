// Slots (runner/slots.h): how CPUs and GPUs are split into slots, the pool, and the scheduler running cases
// over several slots at once with real command contestants — that it really runs them at once, that each
// launch sees its own slot's GPU and CPUs, that GPU memory is attributed per GPU (fake NVML of several
// devices), that without NVML slots still work and say the GPU was not measured, and that the journal holds
// each case exactly once after a concurrent run, a Ctrl-C and a --resume.
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "runner/container_launcher.h"
#include "runner/nvml.h"
#include "runner/proc.h"
#include "runner/process_launcher.h"
#include "runner/sandbox.h"
#include "runner/sampler.h"
#include "runner/scheduler.h"
#include "runner/slots.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
namespace fs = std::filesystem;

namespace {

struct EnvVar {
  std::string name;
  EnvVar(const std::string& n, const std::string& v) : name(n) { ::setenv(n.c_str(), v.c_str(), 1); }
  ~EnvVar() { ::unsetenv(name.c_str()); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Slot> cpu_slots(int n, const std::vector<std::optional<int>>& gpus = {}) {
  std::vector<std::optional<int>> g = gpus.empty() ? std::vector<std::optional<int>>(static_cast<size_t>(n)) : gpus;
  return plan_slots(g, 0, allowed_cpus()).slots;
}

struct Bench {
  lb::test::TempDir tmp{"slots"};
  fs::path cases_dir = tmp.path() / "cases", team = tmp.path() / "team";
  std::vector<CaseInput> cases;
  explicit Bench(int n) {
    for (int i = 0; i < n; ++i) write_case(cases_dir, "Case" + std::to_string(100 + i));
    cases = find_cases(cases_dir);
  }
  RunSettings settings(std::shared_ptr<SlotPool> pool) const {
    RunSettings s;
    s.team_dir = team;
    s.contestant = "slot-team";
    s.timeout_s = 60;
    s.sample_ms = 50;
    s.slots = std::move(pool);
    return s;
  }
};

CommandSettings command(const std::string& prefix) {
  CommandSettings c;
  c.command = prefix + contestant_command("predict");
  c.sandbox = SandboxKind::none;  // the sandbox has its own tests; here the slots are under test
  return c;
}

size_t count_lines(const fs::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

// Each case exactly once in records.jsonl.
void check_each_case_once(const fs::path& team, const std::vector<CaseInput>& cases) {
  std::vector<std::string> warnings;
  const auto records = read_records_jsonl((team / "records.jsonl").string(), &warnings);
  CHECK(warnings.empty());
  std::multiset<std::string> seen;
  for (const auto& r : records) seen.insert(r.case_name);
  CHECK(count_lines(team / "records.jsonl") == cases.size());
  for (const auto& c : cases) CHECK(seen.count(c.name) == 1);
}

}  // namespace

TEST_CASE("slots split the CPUs evenly and share cores, with a warning, when there are too few", "[slots]") {
  const std::vector<int> four = {0, 1, 2, 3};
  SlotPlan p = plan_slots({std::nullopt, std::nullopt}, 0, four);
  REQUIRE(p.slots.size() == 2);
  CHECK(p.slots[0].cpus == std::vector<int>{0, 1});
  CHECK(p.slots[1].cpus == std::vector<int>{2, 3});
  CHECK(p.warnings.empty());

  // Our 2-core CI machines testing 4 slots: they share cores rather than refuse.
  p = plan_slots({0, 1, 2, 3}, 0, {0, 1});
  REQUIRE(p.slots.size() == 4);
  CHECK(p.slots[0].cpus == std::vector<int>{0});
  CHECK(p.slots[1].cpus == std::vector<int>{1});
  CHECK(p.slots[2].cpus == std::vector<int>{0});
  CHECK(p.slots[3].gpu_index == 3);
  REQUIRE(p.warnings.size() == 1);
  CHECK_THAT(p.warnings[0], Catch::Contains("share cores"));

  p = plan_slots({std::nullopt, std::nullopt}, 3, four);
  CHECK(p.slots[0].cpus == std::vector<int>{0, 1, 2});
  CHECK(p.slots[1].cpus == std::vector<int>{0, 1, 3});
  CHECK(p.warnings.size() == 1);

  CHECK(cpu_list_text({0, 1, 2, 3, 6, 8, 9}) == "0-3,6,8-9");
  CHECK(cpu_list_text({}).empty());
  CHECK_FALSE(allowed_cpus().empty());
}

TEST_CASE("GPU lists of --gpus: indices, UUIDs and all, checked against NVML when it is there", "[slots]") {
  std::string err;
  // Without NVML: indices as given, nothing else.
  CHECK(parse_gpu_list("0,2", nullptr, &err) == std::vector<int>{0, 2});
  CHECK(err.empty());
  for (const char* bad : {"all", "0,0", "x", "1,", "-1", "GPU-00000001-fake"}) {
    err.clear();
    CHECK(parse_gpu_list(bad, nullptr, &err).empty());
    INFO(bad);
    CHECK_FALSE(err.empty());
  }
  EnvVar lib("LESIONBENCH_NVML_LIBRARY", LB_FAKE_NVML);
  EnvVar devices("LB_FAKE_NVML_DEVICES", "4");
  const auto nvml = Nvml::load();
  REQUIRE(nvml->available());
  REQUIRE(nvml->device_count() == 4);
  err.clear();
  CHECK(parse_gpu_list("all", nvml.get(), &err) == std::vector<int>{0, 1, 2, 3});
  CHECK(parse_gpu_list("GPU-00000002-fake,0", nvml.get(), &err) == std::vector<int>{2, 0});
  CHECK(err.empty());
  CHECK(parse_gpu_list("4", nvml.get(), &err).empty());
  CHECK_THAT(err, Catch::Contains("no GPU 4"));
  err.clear();
  CHECK(parse_gpu_list("GPU-deadbeef", nvml.get(), &err).empty());
  CHECK_THAT(err, Catch::Contains("no GPU with UUID GPU-deadbeef"));
}

TEST_CASE("the pool: one holder per slot, the most held at once, and Ctrl-C ends a wait", "[slots]") {
  SlotPool pool(cpu_slots(2));
  const auto a = pool.acquire();
  const auto b = pool.acquire();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a != *b);
  CHECK(pool.busy() == 2);
  std::atomic<bool> stop{false};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    stop.store(true);
  });
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(pool.acquire([&] { return stop.load(); }));  // both held: waits until stopped
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(100));
  t.join();
  CHECK(pool.release(*a) == 2);
  const auto c = pool.acquire();
  REQUIRE(c);
  CHECK(*c == *a);
  CHECK(pool.release(*b) == 2);
  CHECK(pool.release(*c) == 2);  // b was held beside it
  const auto d = pool.acquire();
  CHECK(pool.release(*d) == 1);  // alone
  CHECK(pool.busy() == 0);
}

TEST_CASE("a fake NVML of several devices: each GPU's memory goes to the launch on that GPU", "[slots][gpu]") {
  lb::test::TempDir tmp("gpus");
  const std::string state = tmp / "state";
  // This process holds 100 MiB on GPU 0 and 200 MiB on GPU 1; someone else 1000 MiB on GPU 1.
  std::ofstream(state) << ::getpid() << " 100 0\n" << ::getpid() << " 200 1\n" << 3999999 << " 1000 1\n";
  EnvVar lib("LESIONBENCH_NVML_LIBRARY", LB_FAKE_NVML);
  EnvVar devices("LB_FAKE_NVML_DEVICES", "2");
  EnvVar st("LB_FAKE_NVML_STATE", state);
  const auto nvml = Nvml::load();
  REQUIRE(nvml->device_count() == 2);
  GpuDeviceInfo info;
  REQUIRE(nvml->device_info(1, &info));
  CHECK(info.uuid == "GPU-00000001-fake");
  for (int gpu : {0, 1}) {
    Sampler s(SamplerSettings{20, gpu, 0}, nvml);
    TreeRoots tree;
    tree.root.store(::getpid());
    s.start(&tree, Clock::now());
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    s.stop();
    INFO("GPU " << gpu);
    REQUIRE_FALSE(s.samples().empty());
    CHECK(s.samples().back().gpu_own_mib == Approx(gpu == 0 ? 100 : 200));
    CHECK(s.samples().back().gpu_device_mib == Approx(gpu == 0 ? 480 + 100 : 480 + 200 + 1000));
  }
}

TEST_CASE("4 slots run a sleeping contestant's cases at once: well under the serial time, each case once", "[slots]") {
  Bench b(8);
  auto pool = std::make_shared<SlotPool>(cpu_slots(4));
  ProcessLauncher launcher(command("sleep 1; "));
  Scheduler sched(launcher, b.settings(pool), nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const RunSummary sum = sched.run(b.cases, JournalMode::fresh_only);
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(sum.records.size() == 8);
  double serial_s = 0;
  std::set<int> slots_used;
  int most_at_once = 0;
  for (const auto& r : sum.records) {
    INFO(r.case_name << ": " << r.message);
    CHECK(r.status == RunStatus::ok);
    serial_s += r.wall_s;
    REQUIRE(r.placement);
    CHECK(r.placement->slots == 4);
    slots_used.insert(r.placement->slot);
    most_at_once = std::max(most_at_once, r.placement->concurrent_max);
    if (r.placement->concurrent_max > 1) {
      // Beside other launches the machine's figures are everyone's: only the own ones are kept.
      CHECK(r.placement->cpu_ram_scope == "own");
      CHECK_FALSE(r.system.cpu_max_pct);
      CHECK_FALSE(r.system.ram_max_mib);
      CHECK(r.ram.max_mib);
    }
  }
  CHECK(slots_used.size() == 4);
  CHECK(most_at_once >= 3);
  INFO("elapsed " << elapsed_s << " s, serial " << serial_s << " s");
  CHECK(elapsed_s < 0.6 * serial_s);
  check_each_case_once(b.team, b.cases);
  // efficiency.csv: a row per case, with the own CPU/RAM figures (not empty).
  const std::string csv = slurp(b.team / "efficiency.csv");
  CHECK(count_lines(b.team / "efficiency.csv") == 9);
  CHECK(csv.find(",,,,") == std::string::npos);
}

TEST_CASE("each launch sees its slot's GPU and CPUs, and without NVML the GPU is assigned but not measured", "[slots]") {
  Bench b(4);
  const std::vector<int> cpus = allowed_cpus();
  std::vector<Slot> slots = plan_slots({0, 1}, 0, cpus).slots;
  auto pool = std::make_shared<SlotPool>(slots);
  ProcessLauncher launcher(
      command("echo \"CVD=$CUDA_VISIBLE_DEVICES\"; grep Cpus_allowed_list /proc/self/status; sleep 0.3; "));
  EnvVar lib("LESIONBENCH_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
  const auto nvml = Nvml::load();
  REQUIRE_FALSE(nvml->available());
  Scheduler sched(launcher, b.settings(pool), nvml);
  const RunSummary sum = sched.run(b.cases, JournalMode::fresh_only);
  REQUIRE(sum.records.size() == 4);
  for (const auto& r : sum.records) {
    INFO(r.case_name);
    REQUIRE(r.status == RunStatus::ok);
    REQUIRE(r.placement);
    const Slot& slot = slots[static_cast<size_t>(r.placement->slot)];
    REQUIRE(r.gpu.index == slot.gpu_index);
    CHECK_FALSE(r.gpu.available);
    CHECK_FALSE(r.gpu.note.empty());
    const std::string out = slurp(b.team / r.files.stdout_log);
    CHECK_THAT(out, Catch::Contains("CVD=" + std::to_string(*slot.gpu_index) + "\n"));
    CHECK_THAT(out, Catch::Contains("Cpus_allowed_list:\t" + cpu_list_text(slot.cpus) + "\n"));
    CHECK(r.placement->cpus == cpu_list_text(slot.cpus));
  }
}

TEST_CASE("two GPUs of a fake NVML: each case's GPU memory is its own GPU's, named by index and UUID", "[slots][gpu]") {
  Bench b(2);
  const std::string state = b.tmp / "state";
  std::ofstream(state).close();
  EnvVar lib("LESIONBENCH_NVML_LIBRARY", LB_FAKE_NVML);
  EnvVar devices("LB_FAKE_NVML_DEVICES", "2");
  EnvVar st("LB_FAKE_NVML_STATE", state);
  const auto nvml = Nvml::load();
  REQUIRE(nvml->device_count() == 2);
  auto pool = std::make_shared<SlotPool>(plan_slots({0, 1}, 0, allowed_cpus()).slots);
  CommandSettings c;
  c.command = contestant_command("fake-gpu", "300");
  c.sandbox = SandboxKind::none;
  ProcessLauncher launcher(c);
  Scheduler sched(launcher, b.settings(pool), nvml);
  const RunSummary sum = sched.run(b.cases, JournalMode::fresh_only);
  REQUIRE(sum.records.size() == 2);
  std::set<int> gpus;
  for (const auto& r : sum.records) {
    INFO(r.case_name << " " << r.message << " " << r.gpu.note);
    REQUIRE(r.status == RunStatus::ok);
    REQUIRE(r.gpu.index);
    gpus.insert(*r.gpu.index);
    CHECK(r.gpu.uuid == "GPU-0000000" + std::to_string(*r.gpu.index) + "-fake");
    CHECK(r.gpu.own_max_mib == Approx(300));
    // Only this GPU's process: the other case's 300 MiB are on the other GPU.
    CHECK(r.gpu.device_max_mib == Approx(480 + 300));
    CHECK(r.placement->concurrent_max == 2);
  }
  CHECK(gpus == std::set<int>{0, 1});
}

TEST_CASE("Ctrl-C during a concurrent run records only finished cases, and --resume completes each case once", "[slots]") {
  Bench b(8);
  std::atomic<bool> stop{false};
  {
    auto pool = std::make_shared<SlotPool>(cpu_slots(3));
    ProcessLauncher launcher(command("sleep 1; "));
    Scheduler sched(launcher, b.settings(pool), nullptr, &stop);
    std::thread t([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      stop.store(true);
    });
    const RunSummary sum = sched.run(b.cases, JournalMode::fresh_only);
    t.join();
    CHECK(sum.interrupted);
    CHECK(sum.records.size() >= 1);
    CHECK(sum.records.size() < 8);
    CHECK(count_lines(b.team / "records.jsonl") == sum.records.size());
    for (const auto& r : sum.records) CHECK(r.status == RunStatus::ok);
  }
  stop.store(false);
  auto pool = std::make_shared<SlotPool>(cpu_slots(3));
  ProcessLauncher launcher(command(""));
  Scheduler sched(launcher, b.settings(pool), nullptr, &stop);
  const RunSummary sum = sched.run(b.cases, JournalMode::resume);
  CHECK_FALSE(sum.interrupted);
  CHECK(sum.skipped + sum.records.size() == 8);
  check_each_case_once(b.team, b.cases);
}

TEST_CASE("a container launch gets its slot's CPUs (--cpuset-cpus) and GPU", "[slots][container]") {
  ContainerSettings s;
  s.engine = "docker";
  s.image = "team-a:latest";
  ContainerLauncher launcher(s);
  LaunchRequest r;
  r.label = "Case1";
  r.inputs_dir = "/tmp/in";
  r.outputs_dir = "/tmp/out";
  r.gpu_index = 3;
  r.cpus = {2, 3, 5};
  const auto argv = launcher.run_argv(r, "lesionbench-Case1");
  const auto at = std::find(argv.begin(), argv.end(), "--cpuset-cpus");
  REQUIRE(at != argv.end());
  CHECK(*(at + 1) == "2,3,5");
  CHECK(std::find(argv.begin(), argv.end(), "device=3") != argv.end());
  // Before the image: engine options, not the contestant's arguments.
  CHECK(at < std::find(argv.begin(), argv.end(), "team-a:latest"));
  r.cpus.clear();
  const auto plain = launcher.run_argv(r, "lesionbench-Case1");
  CHECK(std::find(plain.begin(), plain.end(), "--cpuset-cpus") == plain.end());
}

TEST_CASE("real podman containers over 2 slots: each runs on its slot's CPUs, both at once", "[slots][container]") {
  LB_REQUIRE_PODMAN();
  TestImage img("predict");
  INFO(img.why());
  REQUIRE(img.ok());
  Bench b(2);
  const std::vector<int> cpus = allowed_cpus();
  const std::vector<Slot> slots = plan_slots({std::nullopt, std::nullopt}, 1, cpus).slots;
  auto pool = std::make_shared<SlotPool>(slots);
  ContainerSettings cs;
  cs.engine = "podman";
  cs.image = img.tag();
  cs.memory = "1g";
  cs.shm_size = "64m";
  cs.entry = {"/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status; sleep 1; sh predict.sh"};
  ContainerLauncher launcher(cs);
  Scheduler sched(launcher, b.settings(pool), nullptr);
  const RunSummary sum = sched.run(b.cases, JournalMode::fresh_only);
  REQUIRE(sum.records.size() == 2);
  std::set<int> used;
  for (const auto& r : sum.records) {
    INFO(r.case_name << ": " << r.message);
    REQUIRE(r.status == RunStatus::ok);
    const Slot& slot = slots[static_cast<size_t>(r.placement->slot)];
    used.insert(slot.index);
    CHECK_THAT(slurp(b.team / r.files.stdout_log), Catch::Contains("Cpus_allowed_list:\t" + cpu_list_text(slot.cpus)));
    const auto at = std::find(r.provenance.launch.begin(), r.provenance.launch.end(), "--cpuset-cpus");
    REQUIRE(at != r.provenance.launch.end());
    CHECK(*(at + 1) == cpu_list_text(slot.cpus));
    CHECK(r.placement->concurrent_max == 2);
  }
  CHECK(used.size() == 2);
}

TEST_CASE("sandboxed launches side by side keep their own CPU time and leave nothing running", "[slots]") {
  std::string bwrap;
  if (const std::string why = probe_bwrap(&bwrap); !why.empty()) LB_SKIP(why);
  Bench b(4);
  auto pool = std::make_shared<SlotPool>(cpu_slots(2));
  CommandSettings c;
  // busy: 0.4 s of CPU, then exits. In the sandbox the CPU time is the sandbox's init's, an orphan that
  // lesionbench adopts when the outer bwrap exits; with other launches' orphans about, it must still be
  // found as this launch's (proc::AdoptFilter).
  c.command = contestant_command("busy", "0.4");
  c.sandbox = SandboxKind::bwrap;
  ProcessLauncher launcher(c);
  Scheduler sched(launcher, b.settings(pool), nullptr);
  const RunSummary sum = sched.run(b.cases, JournalMode::fresh_only);
  REQUIRE(sum.records.size() == 4);
  int overlapped = 0;
  double total_cpu_s = 0;
  for (const auto& r : sum.records) {
    INFO(r.case_name << ": " << r.message);
    CHECK(r.status == RunStatus::ok);
    REQUIRE(r.cpu.time_s);
    // Its own 0.4 s plus the sandbox's start, never a neighbour's too (that would be 0.8 s or more).
    CHECK(*r.cpu.time_s > 0.39);
    CHECK(*r.cpu.time_s < 0.75);
    total_cpu_s += *r.cpu.time_s;
    if (r.placement->concurrent_max > 1) ++overlapped;
  }
  CHECK(overlapped > 0);
  // Every launch's time is counted once: none lost to a neighbour's sweep of exited children.
  CHECK(total_cpu_s > 4 * 0.39);
  CHECK(total_cpu_s < 4 * 0.6);
  // Nothing of theirs is left: no child of ours but what the test itself runs.
  CHECK(proc::reap_exited_children() == 0);
}
