#pragma once
// Shared by the runner tests: small CT-like input cases, the test contestant, a probe for a working
// container engine, and FLARE-style test images built FROM scratch.
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace lb::test::runner_util {

// Writes <dir>/<name>_0000.nii.gz: int16 HU, -1000 background with a +200 block (so a threshold mask is
// not empty), the given grid.
void write_case(const std::filesystem::path& dir, const std::string& name, std::array<int64_t, 3> dims = {24, 20, 8},
                std::array<double, 3> spacing_mm = {0.8, 0.8, 2.5}, std::array<double, 3> origin_mm = {-10, 5, 30});

std::string contestant();                      // the static test contestant
std::string contestant_command(const std::string& mode, const std::string& arg = "");  // "... MODE {inputs} {outputs} ARG"

// Whether podman can run a trivial FROM-scratch container here with lesionbench's flags (tests/support).
using lb::test::EngineProbe;
using lb::test::podman_probe;

// A FLARE-contract image: /contestant, busybox as /bin/sh (and a /bin/bash that runs it), and
// /workspace/predict.sh running `/contestant MODE /workspace/inputs /workspace/outputs ARG`.
// Tagged uniquely; removed when the object goes away.
class TestImage {
 public:
  explicit TestImage(const std::string& mode, const std::string& arg = "");
  ~TestImage();
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  const std::string& tag() const { return tag_; }

 private:
  bool ok_ = false;
  std::string why_, tag_;
};

std::vector<pid_t> read_pids(const std::string& file);
bool process_alive(pid_t pid);  // exists and is not a zombie
// Containers whose name starts with `prefix` (any state).
std::vector<std::string> containers_named(const std::string& prefix);

}  // namespace lb::test::runner_util
