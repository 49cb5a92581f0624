// Real containers with podman, FLARE's contract (/workspace/inputs, /workspace/outputs, predict.sh, run as
// /bin/bash -c "sh predict.sh"), images built FROM scratch from the static test contestant and busybox.
// Skipped, with the reason, only where podman cannot build and run such an image.
#include <catch2/catch.hpp>
#include <sstream>

#include "runner/container_launcher.h"
#include "runner/scheduler.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
namespace fs = std::filesystem;

namespace {

#define REQUIRE_PODMAN() LB_REQUIRE_PODMAN()

struct ContainerRun {
  lb::test::TempDir tmp{"ctr"};
  fs::path cases_dir = tmp.path() / "cases", team = tmp.path() / "team";
  RunSummary run(const std::vector<std::string>& cases, ContainerSettings cs, double timeout_s = 60,
                 JournalMode mode = JournalMode::fresh_only) {
    for (const auto& c : cases) write_case(cases_dir, c);
    cs.engine = "podman";
    ContainerLauncher launcher(cs);
    RunSettings st;
    st.team_dir = team;
    st.contestant = "ctr";
    st.timeout_s = timeout_s;
    st.sample_ms = 50;
    Scheduler s(launcher, st, nullptr);
    return s.run(find_cases(cases_dir), mode);
  }
};

ContainerSettings with_image(const TestImage& img) {
  ContainerSettings cs;
  cs.image = img.tag();
  cs.memory = "1g";
  cs.shm_size = "64m";
  return cs;
}

}  // namespace

TEST_CASE("container: a good contestant's predictions are checked and kept, its processes are measured",
          "[container]") {
  REQUIRE_PODMAN();
  TestImage img("by-name");
  INFO(img.why());
  REQUIRE(img.ok());
  ContainerRun r;
  // slow: writes, then stays 1 s (so the sampler sees its processes); write-inputs: the inputs are
  // read-only; net-check: no network interface but loopback.
  const RunSummary sum = r.run({"C1_slow", "C2_write-inputs", "C3_net-check"}, with_image(img));
  REQUIRE(sum.records.size() == 3);
  for (const auto& rec : sum.records) {
    INFO(rec.case_name << ": " << rec.message);
    CHECK(rec.status == RunStatus::ok);
    CHECK(rec.prediction == "predictions/" + rec.case_name + ".nii.gz");
    CHECK(fs::exists(r.team / *rec.prediction));
    CHECK(rec.provenance.kind == "container");
    CHECK(rec.provenance.image == img.tag());
    CHECK(rec.provenance.image_id.size() >= 12);
    CHECK_THAT(rec.provenance.engine, Catch::Contains("podman"));
    REQUIRE(rec.provenance.launch.size() > 4);
    CHECK(rec.provenance.launch[1] == "run");
  }
  const RunRecord& slow = sum.records[0];
  CHECK(slow.wall_s >= 1.0);
  REQUIRE(slow.ram.max_mib);
  CHECK(*slow.ram.max_mib > 0);  // the container's own processes were found and sampled
  REQUIRE(slow.output_s);
  CHECK(*slow.output_s < slow.wall_s - 0.8);
  for (const auto& rec : sum.records) CHECK(containers_named("lesionbench-" + rec.case_name + "-").empty());
}

TEST_CASE("container: a crash is a signal, a fault in predict.sh is a non-zero exit, both recorded", "[container]") {
  REQUIRE_PODMAN();
  TestImage img("by-name");
  INFO(img.why());
  REQUIRE(img.ok());
  ContainerRun r;
  const RunSummary sum = r.run({"C1_crash", "C2_exit3", "C3_good"}, with_image(img));
  REQUIRE(sum.records.size() == 3);
  CHECK(sum.records[0].status == RunStatus::signal);
  CHECK(sum.records[0].signal == 11);
  CHECK_THAT(sum.records[0].message, Catch::Contains("SIGSEGV"));
  // The container's stderr reached the case's log through the engine.
  CHECK_THAT(lb::test::read_text((r.team / sum.records[0].files.stderr_log).string()),
             Catch::Contains("about to crash on C1_crash"));
  CHECK(sum.records[1].status == RunStatus::nonzero_exit);
  CHECK(sum.records[1].exit_code == 3);
  CHECK(sum.records[2].status == RunStatus::ok);
}

TEST_CASE("container: on timeout the container is killed and removed", "[container]") {
  REQUIRE_PODMAN();
  TestImage img("hang");
  INFO(img.why());
  REQUIRE(img.ok());
  ContainerRun r;
  // A case name no other test uses: tests may run in parallel, each with its containers.
  const RunSummary sum = r.run({"Hang1"}, with_image(img), 2);
  REQUIRE(sum.records.size() == 1);
  INFO(sum.records[0].message);
  CHECK(sum.records[0].status == RunStatus::timeout);
  CHECK(sum.records[0].wall_s < 15);
  CHECK(containers_named("lesionbench-Hang1-").empty());
}

TEST_CASE("container: memory above the container's limit is oom", "[container]") {
  REQUIRE_PODMAN();
  TestImage img("alloc", "300");
  INFO(img.why());
  REQUIRE(img.ok());
  ContainerRun r;
  ContainerSettings cs = with_image(img);
  cs.memory = "64m";
  const RunSummary sum = r.run({"C1"}, cs);
  REQUIRE(sum.records.size() == 1);
  INFO(sum.records[0].message);
  CHECK(sum.records[0].status == RunStatus::oom);
}

TEST_CASE("container: an image archive is loaded, run, and its image removed afterwards", "[container]") {
  REQUIRE_PODMAN();
  TestImage img("predict");
  INFO(img.why());
  REQUIRE(img.ok());
  ContainerRun r;
  const std::string archived = "localhost/lesionbench-test-archived:" + std::to_string(::getpid());
  const std::string archive = r.tmp / "team.tar";
  REQUIRE(lb::test::run_command("podman tag " + img.tag() + " " + archived).exit_code == 0);
  REQUIRE(lb::test::run_command("podman save -o " + lb::test::shell_quote(archive) + " " + archived).exit_code == 0);
  REQUIRE(lb::test::run_command("podman rmi " + archived).exit_code == 0);
  ContainerSettings cs;
  cs.image_archive = archive;
  cs.memory = "";
  const RunSummary sum = r.run({"C1"}, cs);
  REQUIRE(sum.records.size() == 1);
  CHECK(sum.records[0].status == RunStatus::ok);
  CHECK(sum.records[0].provenance.image == archived);
  CHECK(lb::test::run_command("podman image exists " + archived).exit_code != 0);
  REQUIRE_FALSE(sum.notes.empty());
  CHECK_THAT(sum.notes.back(), Catch::Contains("removed image"));
}

TEST_CASE("container: an image that does not exist makes every case launch_error, quickly", "[container]") {
  REQUIRE_PODMAN();
  ContainerRun r;
  ContainerSettings cs;
  cs.image = "localhost/lesionbench-no-such-image:never";
  const RunSummary sum = r.run({"C1", "C2"}, cs);
  REQUIRE(sum.records.size() == 2);
  for (const auto& rec : sum.records) {
    CHECK(rec.status == RunStatus::launch_error);
    CHECK_THAT(rec.message, Catch::Contains("lesionbench-no-such-image"));
  }
}

TEST_CASE("a missing container engine makes every case launch_error naming the engine", "[container]") {
  ContainerRun r;
  for (const auto& c : {"C1"}) write_case(r.cases_dir, c);
  ContainerSettings cs;
  cs.engine = "/nonexistent/docker";
  cs.image = "x";
  ContainerLauncher launcher(cs);
  RunSettings st;
  st.team_dir = r.team;
  Scheduler s(launcher, st, nullptr);
  const RunSummary sum = s.run(find_cases(r.cases_dir), JournalMode::fresh_only);
  REQUIRE(sum.records.size() == 1);
  CHECK(sum.records[0].status == RunStatus::launch_error);
  CHECK_THAT(sum.records[0].message, Catch::Contains("/nonexistent/docker"));
}

namespace {
// The "Max open files" or "Max processes" soft and hard values of /proc/self/limits text.
std::pair<std::string, std::string> limit_row(const std::string& limits, const std::string& row) {
  std::istringstream in(limits);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(row, 0) != 0) continue;
    std::istringstream v(line.substr(row.size()));
    std::string soft, hard;
    v >> soft >> hard;
    return {soft, hard};
  }
  return {};
}

// Runs `cat /proc/self/limits` in a container launched by ContainerLauncher and returns what it printed.
std::string limits_in_container(const TestImage& img, const std::vector<std::string>& engine_args) {
  lb::test::TempDir tmp("ctr-limits");
  fs::create_directories(tmp.path() / "in");
  fs::create_directories(tmp.path() / "out");
  ContainerSettings cs = with_image(img);
  cs.engine = "podman";
  cs.engine_args = engine_args;
  cs.entry = {"/bin/sh", "-c", "cat /proc/self/limits > /workspace/outputs/limits.txt"};
  ContainerLauncher launcher(cs);
  Provenance prov;
  launcher.prepare(prov);
  LaunchRequest r;
  r.label = "limits";
  r.inputs_dir = tmp.path() / "in";
  r.outputs_dir = tmp.path() / "out";
  r.work_dir = tmp.path();
  r.stdout_log = tmp.path() / "stdout.log";
  r.stderr_log = tmp.path() / "stderr.log";
  auto launched = launcher.launch(r);
  REQUIRE(launched->wait_for(std::chrono::seconds(120)));
  const LaunchExit e = launched->finish();
  INFO(lb::test::read_text(r.stderr_log.string()));
  REQUIRE(e.exit_code == 0);
  return lb::test::read_text((tmp.path() / "out" / "limits.txt").string());
}
}  // namespace

TEST_CASE("container: runs with lesionbench's limits and no machine setting, and --engine-arg --ulimit wins",
          "[container]") {
  // LB_REQUIRE_PODMAN probes with CONTAINERS_CONF set to an empty file (tests/CMakeLists.txt): the engine's
  // own default limits would fail on machines whose hard limits are lower than podman's defaults.
  REQUIRE_PODMAN();
  TestImage img("predict");
  INFO(img.why());
  REQUIRE(img.ok());
  const auto ours = inherited_ulimit_args();
  REQUIRE(ours.size() == 4);
  const std::string limits = limits_in_container(img, {});
  const auto nofile = limit_row(limits, "Max open files");
  const auto nproc = limit_row(limits, "Max processes");
  CHECK(ours[1] == "nofile=" + nofile.first + ":" + nofile.second);
  CHECK(ours[3] == "nproc=" + nproc.first + ":" + nproc.second);

  const std::string overridden = limits_in_container(img, {"--ulimit", "nofile=256:512"});
  CHECK(limit_row(overridden, "Max open files") == std::make_pair(std::string("256"), std::string("512")));
  CHECK(limit_row(overridden, "Max processes") == nproc);
}
