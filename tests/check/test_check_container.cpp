// lesionbench check --image: a dry run with real containers (podman), images built FROM scratch from the
// static test contestant and busybox: a good image passes every rule, and each way of breaking the FLARE
// contract fails its own rule. Reported as skipped by ctest (LB_REQUIRE_PODMAN) where podman
// cannot build and run such an image.
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "check/container_check.h"
#include "tests/check/check_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::check;
using namespace lb::test::check_util;
using lb::test::run_command;
using lb::test::shell_quote;
namespace fs = std::filesystem;

namespace {

// An image following (or breaking) the contract: busybox as /bin/sh and /bin/busybox, /bin/bash a script
// handing its arguments to sh (unless with_bash is false), /contestant, and /workspace/predict.sh.
class Image {
 public:
  Image(const std::string& predict_sh, bool with_bash = true) {
    static std::atomic<int> n{0};
    tag_ = "localhost/lesionbench-check-test:" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    lb::test::TempDir ctx("check-image");
    fs::copy_file(LB_TEST_CONTESTANT, ctx / "contestant");
    fs::copy_file("/bin/busybox", ctx / "busybox");
    {
      std::ofstream(ctx / "bash") << "#!/bin/sh\nexec /bin/sh \"$@\"\n";
      std::ofstream(ctx / "predict.sh") << predict_sh << "\n";
      std::ofstream c(ctx / "Containerfile");
      c << "FROM scratch\nCOPY busybox /bin/sh\nCOPY busybox /bin/busybox\n" << (with_bash ? "COPY bash /bin/bash\n" : "")
        << "COPY contestant /contestant\nCOPY predict.sh /workspace/predict.sh\nWORKDIR /workspace\n";
    }
    fs::permissions(ctx / "bash", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec);
    for (int attempt = 0; attempt < 2 && !ok_; ++attempt) {
      const auto r = run_command("podman build -q -t " + shell_quote(tag_) + " -f " + shell_quote(ctx / "Containerfile") +
                                 " " + shell_quote(ctx.path().string()));
      ok_ = r.exit_code == 0;
      why_ = r.err;
    }
  }
  ~Image() {
    if (ok_) run_command("podman rmi -f " + shell_quote(tag_));
  }
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  const std::string& tag() const { return tag_; }

 private:
  std::string tag_, why_;
  bool ok_ = false;
};

// Skips (LB_SKIP: ctest reports it) where podman cannot run a trivial container with lesionbench's flags, or
// the test contestant could not be linked statically for a FROM-scratch image.
#define REQUIRE_PODMAN()                                                                  \
  do {                                                                                    \
    if (!LB_CONTESTANT_STATIC) LB_SKIP("the test contestant could not be linked statically"); \
    LB_REQUIRE_PODMAN();                                                                  \
  } while (0)

struct DryRun {
  lb::test::TempDir tmp{"check-ctr"};
  fs::path cases = tmp.path() / "cases";
  DryRun(size_t n_cases = 4) {
    for (size_t i = 0; i < n_cases; ++i) write_image(cases, "FLARE24Val_000" + std::to_string(i + 1));
  }
  ContainerCheck run(const std::string& image, double timeout_s = 60, size_t sample = 2) {
    ContainerCheckSettings s;
    s.container.engine = "podman";
    s.container.image = image;
    s.container.memory = "1g";
    s.container.shm_size = "64m";
    s.cases_dir = cases;
    s.work_dir = tmp.path() / "work";
    s.sample = sample;
    s.timeout_s = timeout_s;
    s.probe_timeout_s = 60;
    s.sample_ms = 50;
    return check_container(s, nullptr);
  }
};

const RuleVerdict& rule(const ContainerCheck& c, const std::string& starts) {
  for (const auto& r : c.rules)
    if (r.rule.rfind(starts, 0) == 0) return r;
  FAIL("no rule " << starts);
  throw std::logic_error("unreachable");
}

const std::string kPredict = "/contestant predict /workspace/inputs /workspace/outputs";

}  // namespace

TEST_CASE("check --image: the sample is spread over the cases", "[check]") {
  CHECK(pick_sample(10, 3) == std::vector<size_t>{0, 4, 9});
  CHECK(pick_sample(2, 3) == std::vector<size_t>{0, 1});
  CHECK(pick_sample(5, 0).size() == 5);
  CHECK(pick_sample(5, 1) == std::vector<size_t>{0});
}

TEST_CASE("check --image: the differences from the organisers' command are read from the real flags", "[check]") {
  const auto s = stricter_than_organisers({"podman", "run", "--network", "none", "-m", "28g", "--shm-size", "28g",
                                           "--pids-limit", "4096", "--security-opt", "no-new-privileges", "--ulimit",
                                           "nofile=1024:1024", "-v", "/in:/workspace/inputs:ro", "-v", "/out:/workspace/outputs"});
  REQUIRE(s.size() == 5);
  CHECK_THAT(s[0], Catch::Contains("no network"));
  CHECK_THAT(s[1], Catch::Contains("read-only"));
  CHECK_THAT(s[2], Catch::Contains("4096 processes"));
  CHECK_THAT(s[3], Catch::Contains("nofile=1024:1024"));
  CHECK_THAT(s[4], Catch::Contains("no new privileges"));
  CHECK(stricter_than_organisers({"docker", "run", "-m", "28g", "-v", "/in:/workspace/inputs"}).empty());
}

TEST_CASE("check --image: a good image passes every rule, measured, with the stricter flags listed", "[check][container]") {
  REQUIRE_PODMAN();
  Image img(kPredict);
  REQUIRE(img.ok());
  DryRun d;
  const ContainerCheck c = d.run(img.tag());
  INFO(format_report(c));
  CHECK(c.passed());
  CHECK(c.verdict_text() == "would pass");
  CHECK(c.sample == std::vector<std::string>{"FLARE24Val_0001", "FLARE24Val_0004"});
  REQUIRE(c.records.size() == 2);
  for (const auto& r : c.records) CHECK(r.wall_s > 0);
  for (const auto& r : c.rules) CHECK(r.verdict == Verdict::pass);
  REQUIRE(c.predictions);
  CHECK(c.predictions->cases.size() == 2);
  bool size_listed = false, startup_listed = false;
  for (const auto& i : c.info) {
    size_listed = size_listed || (i.name == "image size" && i.value.find("MiB") != std::string::npos);
    startup_listed = startup_listed || i.name.rfind("start-up", 0) == 0;
  }
  CHECK(size_listed);
  CHECK(startup_listed);
  CHECK(c.stricter.size() >= 4);  // network, read-only inputs, pids, no-new-privileges (+ memory, shm here)
}

TEST_CASE("check --image: an image without /bin/bash fails the bash rule and the predict.sh rule", "[check][container]") {
  REQUIRE_PODMAN();
  Image img(kPredict, /*with_bash=*/false);
  REQUIRE(img.ok());
  DryRun d(1);
  const ContainerCheck c = d.run(img.tag());
  INFO(format_report(c));
  CHECK_FALSE(c.passed());
  CHECK(rule(c, "the image loads").verdict == Verdict::pass);
  CHECK(rule(c, "/bin/bash exists").verdict == Verdict::fail);
  CHECK(rule(c, "/bin/bash -c").verdict == Verdict::fail);
  CHECK_THAT(c.verdict_text(), Catch::Contains("/bin/bash exists"));
}

TEST_CASE("check --image: predict.sh that exits non-zero fails its rule", "[check][container]") {
  REQUIRE_PODMAN();
  Image img("/contestant exit3 /workspace/inputs /workspace/outputs");
  REQUIRE(img.ok());
  DryRun d(1);
  const ContainerCheck c = d.run(img.tag());
  INFO(format_report(c));
  CHECK(rule(c, "/bin/bash exists").verdict == Verdict::pass);
  CHECK(rule(c, "/bin/bash -c").verdict == Verdict::fail);
  CHECK_THAT(rule(c, "/bin/bash -c").detail, Catch::Contains("FLARE24Val_0001"));
  CHECK_FALSE(c.passed());
}

TEST_CASE("check --image: an image that writes nothing fails the outputs rule", "[check][container]") {
  REQUIRE_PODMAN();
  Image img("/contestant nothing /workspace/inputs /workspace/outputs");
  REQUIRE(img.ok());
  DryRun d(1);
  const ContainerCheck c = d.run(img.tag());
  INFO(format_report(c));
  CHECK(rule(c, "/bin/bash -c").verdict == Verdict::pass);
  CHECK(rule(c, "predictions appear").verdict == Verdict::fail);
  CHECK_FALSE(c.passed());
}

TEST_CASE("check --image: a case over the time limit fails the time rule", "[check][container]") {
  REQUIRE_PODMAN();
  Image img("/contestant hang /workspace/inputs /workspace/outputs");
  REQUIRE(img.ok());
  DryRun d(1);
  const ContainerCheck c = d.run(img.tag(), /*timeout_s=*/3);
  INFO(format_report(c));
  CHECK(rule(c, "each case finishes within").verdict == Verdict::fail);
  CHECK_THAT(rule(c, "each case finishes within").rule, Catch::Contains("3 s"));
  CHECK_FALSE(c.passed());
}

TEST_CASE("check --image: outputs the organisers would reject fail the prediction rule, naming the problem",
          "[check][container]") {
  REQUIRE_PODMAN();
  // A classic slip: the input image copied as the prediction. Its grid is right (the runner keeps it), its
  // labels are HU values: only the prediction check catches it.
  Image img("for f in /workspace/inputs/*_0000.nii.gz; do b=${f##*/}; /bin/busybox cp \"$f\" "
            "\"/workspace/outputs/${b%_0000.nii.gz}.nii.gz\"; done");
  REQUIRE(img.ok());
  DryRun d(1);
  const ContainerCheck c = d.run(img.tag());
  INFO(format_report(c));
  CHECK(rule(c, "predictions appear").verdict == Verdict::pass);
  CHECK(rule(c, "the predictions would be accepted").verdict == Verdict::fail);
  CHECK_THAT(rule(c, "the predictions would be accepted").detail, Catch::Contains("labels must be 0 or 1"));
  CHECK_FALSE(c.passed());
}

TEST_CASE("check --image: an image that does not exist fails the load rule, and the CLI exits 1 with JSON",
          "[check][container]") {
  REQUIRE_PODMAN();
  DryRun d(1);
  const ContainerCheck c = d.run("localhost/lesionbench-no-such-image:never");
  INFO(format_report(c));
  CHECK(rule(c, "the image loads").verdict == Verdict::fail);
  CHECK(rule(c, "/bin/bash exists").verdict == Verdict::not_checked);
  CHECK_FALSE(c.passed());
  const std::string json = d.tmp / "c.json";
  const auto cli = lb::test::run_cli("check --engine podman --image localhost/lesionbench-no-such-image:never --cases " +
                                     shell_quote(d.cases.string()) + " --json " + shell_quote(json));
  CHECK(cli.exit_code == 1);
  CHECK(nlohmann::json::parse(lb::test::read_text(json))["passed"] == false);
  CHECK(check_schema_errors(json) == "");
}

TEST_CASE("check --image-archive: a saved good image passes through the CLI, and is removed after", "[check][container]") {
  REQUIRE_PODMAN();
  Image img(kPredict);
  REQUIRE(img.ok());
  DryRun d(2);
  const std::string archive = d.tmp / "team.tar";
  REQUIRE(run_command("podman save -o " + shell_quote(archive) + " " + shell_quote(img.tag())).exit_code == 0);
  REQUIRE(run_command("podman rmi -f " + shell_quote(img.tag())).exit_code == 0);
  const std::string json = d.tmp / "c.json";
  const auto cli = lb::test::run_cli("check --engine podman --memory 1g --shm-size 64m --image-archive " + shell_quote(archive) +
                                     " --cases " + shell_quote(d.cases.string()) + " --sample 1 --json " + shell_quote(json));
  INFO(cli.out << cli.err);
  CHECK(cli.exit_code == 0);
  CHECK_THAT(cli.out, Catch::Contains("verdict: would pass") && Catch::Contains("no network"));
  CHECK(run_command("podman image exists " + shell_quote(img.tag())).exit_code != 0);
  CHECK(check_schema_errors(json) == "");
  const auto j = nlohmann::json::parse(lb::test::read_text(json));
  CHECK(j["predictions"]["cases"].size() == 1);
  CHECK(j["cases"][0]["wall_s"].get<double>() > 0);
}
