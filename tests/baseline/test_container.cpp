// The container path: baseline/build-image.sh builds the FLARE contestant image FROM scratch, and the image
// run the way the organisers run it (/bin/bash -c "sh predict.sh", no network, read-only inputs) writes the
// same masks as the binary. Reported as skipped (LB_REQUIRE_PODMAN) where podman cannot run a container here.
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "phantom/phantom.h"
#include "runner/container_launcher.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using lb::test::shell_quote;

namespace {

// baseline/build-image.sh on this build, with extra arguments (e.g. --model FILE).
lb::test::CommandResult build_image(const std::string& tag, const std::string& extra = "") {
  return lb::test::run_command("bash " + shell_quote(std::string(LB_SOURCE_DIR) + "/baseline/build-image.sh") +
                               " --engine podman --build " + shell_quote(LB_BINARY_DIR) + " --tag " + tag + extra);
}

// The image run as the organisers run it on dir/imagesTs, writing into dir/out; the image is removed after.
lb::test::CommandResult run_image(const lb::test::TempDir& dir, const std::string& tag, const std::string& podman_args) {
  fs::create_directories(dir.path() / "out");
  // The limits lesionbench gives every contestant (podman's own defaults fail on machines with low rlimits).
  std::string limits;
  for (const auto& a : lb::runner::inherited_ulimit_args()) limits += " " + shell_quote(a);
  const auto run = lb::test::run_command("podman run --rm --network none " + podman_args + limits + " -v " +
                                         shell_quote(dir / "imagesTs") + ":/workspace/inputs:ro -v " +
                                         shell_quote(dir / "out") + ":/workspace/outputs " + tag +
                                         " /bin/bash -c \"sh predict.sh\"");
  lb::test::run_command("podman rmi -f " + tag + " >/dev/null 2>&1");
  return run;
}

}  // namespace

TEST_CASE("the contestant image follows the FLARE contract and predicts like the binary") {
  LB_REQUIRE_PODMAN();
  lb::test::TempDir dir("bl-image");
  lb::phantom::PhantomOptions o;
  o.matrix = 64;
  std::ostringstream log;
  lb::phantom::write_phantom_set(dir.path().string(), 2, 31, o, log);

  const std::string tag = "lesionbench-baseline-test:" + dir.path().filename().string();
  const auto build = build_image(tag);
  INFO(build.out << build.err);
  REQUIRE(build.exit_code == 0);
  const auto run = run_image(dir, tag, "-m 2g");
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);

  const auto host = lb::test::run_command(shell_quote(LB_BASELINE_CLI) + " predict --input " + shell_quote(dir / "imagesTs") +
                                          " --output " + shell_quote(dir / "host"));
  REQUIRE(host.exit_code == 0);
  for (const char* c : {"Phantom_001.nii.gz", "Phantom_002.nii.gz"}) {
    REQUIRE(fs::exists(dir / (std::string("out/") + c)));
    const auto a = lb::nifti::read_image(dir / (std::string("out/") + c));
    const auto b = lb::nifti::read_image(dir / (std::string("host/") + c));
    CHECK(a.data == b.data);
    CHECK(lb::nifti::geometry_of(a.header).describe() == lb::nifti::geometry_of(b.header).describe());
  }
}

TEST_CASE("the contestant image with a CNN model predicts like the binary, bit for bit") {
  LB_REQUIRE_PODMAN();
  lb::test::TempDir dir("bl-image-cnn");
  lb::phantom::PhantomOptions o;
  o.matrix = 64;
  std::ostringstream log;
  lb::phantom::write_phantom_set(dir.path().string(), 2, 37, o, log);
  // A small, briefly trained network: the weights need not be good, only the same in both places.
  const auto train = lb::test::run_command(
      shell_quote(LB_BASELINE_CLI) + " train --method cnn --images " + shell_quote(dir / "imagesTs") + " --labels " +
      shell_quote(dir / "labelsTs") + " --channels 4,8 --patch 16,16,8 --iterations 6 --holdout 0 --model " +
      shell_quote(dir / "cnn.json"));
  INFO(train.err);
  REQUIRE(train.exit_code == 0);

  const std::string tag = "lesionbench-baseline-cnn-test:" + dir.path().filename().string();
  const auto build = build_image(tag, " --model " + shell_quote(dir / "cnn.json"));
  INFO(build.out << build.err);
  REQUIRE(build.exit_code == 0);
  // One CPU for the container, all of them on the host: the masks must not depend on it.
  const auto run = run_image(dir, tag, "-m 2g --cpus 1");
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const auto host = lb::test::run_command(shell_quote(LB_BASELINE_CLI) + " predict --input " + shell_quote(dir / "imagesTs") +
                                          " --output " + shell_quote(dir / "host") + " --model " + shell_quote(dir / "cnn.json"));
  INFO(host.err);
  REQUIRE(host.exit_code == 0);
  for (const char* c : {"Phantom_001.nii.gz", "Phantom_002.nii.gz"}) {
    INFO(c);
    REQUIRE(fs::exists(dir / (std::string("out/") + c)));
    CHECK(lb::nifti::read_image(dir / (std::string("out/") + c)).data ==
          lb::nifti::read_image(dir / (std::string("host/") + c)).data);
  }
}
