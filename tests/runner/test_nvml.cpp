// NVML through dlopen: a machine without the driver is reported, not fatal; against the fake NVML the
// device-wide figure is total − free and per-process figures come back by pid. On a machine where the real
// NVML finds a GPU, its figures are checked for consistency.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "runner/nvml.h"
#include "tests/support/test_support.h"

using namespace lb::runner;

namespace {
// Sets an environment variable for the scope of a test.
struct EnvVar {
  std::string name;
  EnvVar(const std::string& n, const std::string& v) : name(n) { ::setenv(n.c_str(), v.c_str(), 1); }
  ~EnvVar() { ::unsetenv(name.c_str()); }
};
}  // namespace

TEST_CASE("a missing NVML library leaves the GPU unavailable with the reason", "[nvml]") {
  EnvVar lib("LESIONBENCH_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
  const auto nvml = Nvml::load();
  CHECK_FALSE(nvml->available());
  CHECK_THAT(nvml->error(), Catch::Contains("/nonexistent/libnvidia-ml.so.1"));
  GpuMemory m;
  CHECK_FALSE(nvml->memory(0, &m));
  GpuDeviceInfo info;
  CHECK_FALSE(nvml->device_info(0, &info));
}

TEST_CASE("with the fake NVML: device memory is total minus free, processes by pid", "[nvml]") {
  lb::test::TempDir tmp("nvml");
  const std::string state = tmp / "state";
  {
    std::ofstream s(state);
    s << "1234 2048\n5678 512\n";
  }
  EnvVar lib("LESIONBENCH_NVML_LIBRARY", LB_FAKE_NVML);
  EnvVar st("LB_FAKE_NVML_STATE", state);
  const auto nvml = Nvml::load();
  REQUIRE(nvml->available());
  CHECK(nvml->device_count() == 1);
  CHECK(nvml->driver_version() == "999.99");
  GpuDeviceInfo info;
  REQUIRE(nvml->device_info(0, &info));
  CHECK(info.name == "Fake GPU 80GB");
  CHECK(info.total_mib == Approx(80 * 1024));
  GpuMemory m;
  REQUIRE(nvml->memory(0, &m));
  CHECK(m.used_mib() == Approx(480 + 2048 + 512));
  GpuProcess procs[8];
  unsigned n = 0;
  REQUIRE(nvml->compute_processes(0, procs, 8, &n));
  REQUIRE(n == 2);
  CHECK(procs[0].pid == 1234);
  CHECK(procs[0].used_mib == Approx(2048));
  CHECK(procs[1].pid == 5678);
  CHECK(procs[1].used_mib == Approx(512));
  CHECK_FALSE(nvml->device_info(1, &info));
  CHECK_THAT(nvml->error(), Catch::Contains("no GPU with NVML index 1"));
}

TEST_CASE("real NVML, where a GPU exists: memory figures are consistent", "[nvml][gpu]") {
  const auto nvml = Nvml::load();
  if (!nvml->available()) {
    LB_SKIP("no GPU here (" << nvml->error() << ")");
  }
  GpuDeviceInfo info;
  REQUIRE(nvml->device_info(0, &info));
  GpuMemory m;
  REQUIRE(nvml->memory(0, &m));
  CHECK(m.total_mib == Approx(info.total_mib));
  CHECK(m.used_mib() >= 0);
  CHECK(m.used_mib() <= m.total_mib);
  GpuProcess procs[512];
  unsigned n = 0;
  CHECK(nvml->compute_processes(0, procs, 512, &n));
}
