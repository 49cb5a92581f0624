// The sampler against processes whose use is known: memory allocated and touched, CPU burnt and measured by
// the process itself, and (with the fake NVML) GPU memory held by the contestant and by a stranger.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>

#include "runner/process_launcher.h"
#include "runner/sampler.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
namespace fs = std::filesystem;

namespace {

struct Ran {
  std::vector<Sample> samples;
  SamplerInfo info;
  LaunchExit exit;
  double wall_s = 0;
  std::string out;
};

// Runs the test contestant through the process launcher with a sampler, as the scheduler does.
Ran run_sampled(const std::string& mode, const std::string& arg, double interval_ms = 50,
                std::shared_ptr<Nvml> nvml = nullptr, std::optional<int> gpu = std::nullopt) {
  lb::test::TempDir tmp("sampled");
  write_case(tmp.path() / "in", "C1");
  fs::create_directories(tmp.path() / "out");
  fs::create_directories(tmp.path() / "work");
  // Unconfined: these tests measure the sampler, and the fake NVML's state holds pids as we see them.
  ProcessLauncher launcher({contestant_command(mode, arg), "", {}, SandboxKind::none, {}, {}});
  Provenance p;
  launcher.prepare(p);
  LaunchRequest r;
  r.label = "C1";
  r.inputs_dir = tmp.path() / "in";
  r.outputs_dir = tmp.path() / "out";
  r.work_dir = tmp.path() / "work";
  r.stdout_log = tmp.path() / "stdout";
  r.stderr_log = tmp.path() / "stderr";
  auto launched = launcher.launch(r);
  Sampler sampler(SamplerSettings{interval_ms, gpu, 0}, nvml);
  sampler.start(&launched->tree(), launched->started());
  while (!launched->wait_for(std::chrono::milliseconds(20))) {
  }
  Ran ran;
  ran.exit = launched->finish();
  sampler.stop(ran.exit.cpu_time_s);
  ran.samples = sampler.samples();
  ran.info = sampler.info();
  ran.wall_s = std::chrono::duration<double>(ran.exit.end - launched->started()).count();
  ran.out = lb::test::read_text(tmp / "stdout");
  return ran;
}

}  // namespace

TEST_CASE("resident memory of a contestant that touches 200 MiB is measured within a few MiB", "[sampler]") {
  const Ran r = run_sampled("alloc", "200");
  REQUIRE(r.exit.exit_code == 0);
  const SampleFigures f = summarize(r.samples);
  REQUIRE(f.rss.max);
  // 200 MiB touched, plus the shell and the program itself (a static binary: a few MiB).
  CHECK(*f.rss.max >= 200);
  CHECK(*f.rss.max <= 215);
  // It holds the memory for 1.5 s: the area is at least 200 MiB * 1.4 s and at most the maximum * wall time.
  CHECK(*f.rss.auc >= 200 * 1.4);
  CHECK(*f.rss.auc <= *f.rss.max * r.wall_s);
  // Timestamps are real and increasing; the last sample is at the exit.
  for (size_t i = 1; i < r.samples.size(); ++i) CHECK(r.samples[i].t_s > r.samples[i - 1].t_s);
  // The final scan follows the exit by a scheduling delay, which grows on a loaded 2-core machine.
  CHECK(r.samples.back().t_s == Approx(r.wall_s).margin(0.25));
  CHECK(r.info.samples == static_cast<int64_t>(r.samples.size()));
}

TEST_CASE("CPU area equals the CPU time the contestant measured itself", "[sampler]") {
  const Ran r = run_sampled("busy", "1.0", 100);
  REQUIRE(r.exit.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("cpu_s ([0-9.]+)")));
  const double self_cpu_s = std::stod(m[1]);
  const SampleFigures f = summarize(r.samples);
  REQUIRE(f.cpu.auc);
  // Clock ticks are 10 ms; allow a few of them plus the reading and writing of the case.
  CHECK(*f.cpu.auc / 100.0 == Approx(self_cpu_s).margin(0.08));
  CHECK(*r.exit.cpu_time_s == Approx(self_cpu_s).margin(0.08));
  // One thread cannot use more than one core, up to rounding: CPU time comes in 10 ms clock ticks, so an
  // interval of 100 ms can read up to a tick too much at each end; and the two readings may be late.
  CHECK(*f.cpu.max <= 100.0 * (1 + 2 * 0.01 / 0.1) + 10);
}

TEST_CASE("the sampler's own cost is measured: its thread's CPU time and the length of a tick", "[sampler]") {
  const Ran r = run_sampled("slow", "1.0", 20);
  CHECK(r.info.samples >= 20);
  CHECK(r.info.cpu_s > 0);
  CHECK(r.info.cpu_s < r.wall_s);  // far below one core
  CHECK(r.info.mean_tick_us > 0);
  CHECK(r.info.max_tick_us >= r.info.mean_tick_us);
  CHECK(r.info.interval_ms == 20);
}

TEST_CASE("GPU: own memory counts only the contestant's processes, device-wide counts everyone", "[sampler][gpu]") {
  lb::test::TempDir tmp("gpu");
  const std::string state = tmp / "state";
  {
    // A stranger (pid 1, not in the contestant's tree) holds 1000 MiB all along.
    std::ofstream s(state);
    s << "1 1000\n";
  }
  ::setenv("LESIONBENCH_NVML_LIBRARY", LB_FAKE_NVML, 1);
  ::setenv("LB_FAKE_NVML_STATE", state.c_str(), 1);
  const auto nvml = Nvml::load();
  ::unsetenv("LESIONBENCH_NVML_LIBRARY");
  REQUIRE(nvml->available());
  const Ran r = run_sampled("fake-gpu", "3000", 50, nvml, 0);
  ::unsetenv("LB_FAKE_NVML_STATE");
  REQUIRE(r.exit.exit_code == 0);
  const SampleFigures f = summarize(r.samples);
  REQUIRE(f.gpu_own.max);
  REQUIRE(f.gpu_device.max);
  CHECK(*f.gpu_own.max == Approx(3000));
  CHECK(*f.gpu_device.max == Approx(480 + 1000 + 3000));
  // The stranger is always there; the contestant's 3000 MiB are never counted as its own twice.
  for (const auto& s : r.samples) {
    CHECK(s.gpu_device_mib >= 480 + 1000 - 0.5);
    CHECK(s.gpu_own_mib <= 3000 + 0.5);
  }
  // The fake keeps the contestant's entry after it exits (a dead pid): it is no longer in the tree.
  CHECK(r.samples.back().gpu_own_mib == Approx(0));
}

TEST_CASE("a sampler with no GPU asked for records none and says why", "[sampler]") {
  Sampler s(SamplerSettings{50, std::nullopt, 0}, nullptr);
  TreeRoots tree;
  tree.root.store(::getpid());
  s.start(&tree, Clock::now());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  s.stop();
  REQUIRE(s.samples().size() >= 2);
  for (const auto& x : s.samples()) CHECK(std::isnan(x.gpu_device_mib));
  CHECK_FALSE(s.gpu_note().empty());
  // This process is the root: its RSS is seen.
  CHECK(s.samples().back().rss_mib > 0);
  CHECK(s.samples().back().procs >= 1);
}

TEST_CASE("a memory limit is flagged as soon as the tree's resident memory goes above it", "[sampler]") {
  lb::test::TempDir tmp("limit");
  write_case(tmp.path() / "in", "C1");
  fs::create_directories(tmp.path() / "out");
  ProcessLauncher launcher({contestant_command("alloc", "300"), "", {}, SandboxKind::bwrap, {}, {}});
  Provenance p;
  launcher.prepare(p);
  LaunchRequest r;
  r.label = "C1";
  r.inputs_dir = tmp.path() / "in";
  r.outputs_dir = tmp.path() / "out";
  r.work_dir = tmp.path();
  r.stdout_log = tmp.path() / "stdout";
  r.stderr_log = tmp.path() / "stderr";
  auto launched = launcher.launch(r);
  Sampler sampler(SamplerSettings{20, std::nullopt, 100}, nullptr);
  sampler.start(&launched->tree(), launched->started());
  bool flagged = false;
  while (!launched->wait_for(std::chrono::milliseconds(10))) {
    if (sampler.memory_limit_exceeded() && !flagged) {
      flagged = true;
      launched->kill();
    }
  }
  const LaunchExit e = launched->finish();
  sampler.stop();
  CHECK(flagged);
  CHECK(e.signal == SIGKILL);
  CHECK(sampler.peak_rss_mib() > 100);
}

TEST_CASE("GPU processes under pids that do not exist here are reported, not silently counted as 0", "[sampler][gpu]") {
  lb::test::TempDir tmp("gpuns");
  const std::string state = tmp / "state";
  std::ofstream(state) << "3999999 5000\n";  // a pid from another pid namespace (none exists here)
  ::setenv("LESIONBENCH_NVML_LIBRARY", LB_FAKE_NVML, 1);
  ::setenv("LB_FAKE_NVML_STATE", state.c_str(), 1);
  const auto nvml = Nvml::load();
  ::unsetenv("LESIONBENCH_NVML_LIBRARY");
  Sampler s(SamplerSettings{50, 0, 0}, nvml);
  TreeRoots tree;
  tree.root.store(::getpid());
  s.start(&tree, Clock::now());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  s.stop();
  ::unsetenv("LB_FAKE_NVML_STATE");
  CHECK(s.samples().back().gpu_own_mib == 0);
  CHECK(s.samples().back().gpu_device_mib == Approx(480 + 5000));
  CHECK_THAT(s.gpu_note(), Catch::Contains("another pid namespace"));
}
