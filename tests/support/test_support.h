#pragma once
// Helpers shared by the tests: temporary folders, small volumes written as NIfTI, the shared data folder,
// and running the lesionbench executable.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/nifti.h"

namespace lb::test {

// A fresh folder under the build tree, removed when the object goes away (kept with LB_KEEP_TEMP=1).
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "t");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The real-data folder: $LESIONBENCH_DATA when set, else the CMake cache variable LESIONBENCH_DATA
// (default ../shared/data next to the source folder).
std::filesystem::path data_dir();
// "DIR (from ...)": which folder and which setting chose it, for messages.
std::string data_dir_description();
// <data folder>/<sub>, or nullopt when it is absent (the caller skips with LB_SKIP). A leading "data/" is
// dropped, so the older spelling shared_path("data/sts-ct") names the same folder.
std::optional<std::filesystem::path> shared_path(const std::string& sub);

// Skipping a test that cannot run on this machine (no container engine, no shared data). Under ctest
// (LB_CTEST=1, set by lb_add_test) the reason is printed and the process exits with kSkipExitCode, which
// ctest reports as skipped: such a test never shows as passed. Run by hand, it WARNs and the test returns.
constexpr int kSkipExitCode = 77;
void skip_test(const std::string& why);  // exits under ctest; returns otherwise
#define LB_SKIP(why_stream)                      \
  do {                                           \
    std::ostringstream lb_skip_why_;             \
    lb_skip_why_ << why_stream;                  \
    ::lb::test::skip_test(lb_skip_why_.str());   \
    WARN("skipped: " << lb_skip_why_.str());     \
    return;                                      \
  } while (0)

// Whether podman can build a FROM-scratch image and run it with the flags lesionbench itself gives a
// contestant (no machine setting: the tests run with CONTAINERS_CONF pointing at an empty file). Probed once
// per process; `why` says what failed.
struct EngineProbe {
  bool ok = false;
  std::string why;
};
const EngineProbe& podman_probe();
// Skips the calling test (LB_SKIP) when podman cannot run a trivial container here.
#define LB_REQUIRE_PODMAN()                                               \
  do {                                                                    \
    if (!::lb::test::podman_probe().ok) LB_SKIP(::lb::test::podman_probe().why); \
  } while (0)

// A 3-D uint8 volume with index i + n0*(j + n1*k).
struct Vol {
  std::array<int64_t, 3> dims{};
  std::vector<uint8_t> v;
  Vol() = default;
  Vol(int64_t n0, int64_t n1, int64_t n2) : dims{n0, n1, n2}, v(static_cast<size_t>(n0 * n1 * n2), 0) {}
  uint8_t& at(int64_t i, int64_t j, int64_t k) { return v[static_cast<size_t>(i + dims[0] * (j + dims[1] * k))]; }
  uint8_t at(int64_t i, int64_t j, int64_t k) const { return v[static_cast<size_t>(i + dims[0] * (j + dims[1] * k))]; }
  void box(std::array<int64_t, 3> lo, std::array<int64_t, 3> hi, uint8_t value = 1);  // [lo, hi)
};

// Writes a uint8 NIfTI (gzip when the name ends in .gz) with the given spacing.
void write_mask(const std::string& path, const Vol& vol, std::array<double, 3> spacing_mm = {1, 1, 1},
                std::array<double, 3> origin_mm = {0, 0, 0});

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs a shell command line, capturing stdout and stderr.
CommandResult run_command(const std::string& command_line);
// Runs the lesionbench executable of this build with the given arguments (already shell-quoted).
CommandResult run_cli(const std::string& args);
std::string shell_quote(const std::string& s);
std::string read_text(const std::string& path);

}  // namespace lb::test
