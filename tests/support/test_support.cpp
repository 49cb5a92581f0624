#include "tests/support/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <cstdio>
#include <sstream>

#include "runner/container_launcher.h"

namespace fs = std::filesystem;

namespace lb::test {

TempDir::TempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const fs::path root = fs::path(LB_BINARY_DIR) / "test-tmp";
  fs::create_directories(root);
  path_ = root / (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  const char* keep = std::getenv("LB_KEEP_TEMP");
  if (keep && std::string(keep) == "1") return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path data_dir() {
  const char* env = std::getenv("LESIONBENCH_DATA");
  if (env && *env) return fs::path(env);
  return fs::path(LB_DATA_DIR);
}

std::string data_dir_description() {
  const char* env = std::getenv("LESIONBENCH_DATA");
  const bool from_env = env && *env;
  return data_dir().string() + (from_env ? " (from the environment variable LESIONBENCH_DATA)"
                                         : " (from the CMake cache variable LESIONBENCH_DATA)");
}

std::optional<fs::path> shared_path(const std::string& sub) {
  const std::string rel = sub.rfind("data/", 0) == 0 ? sub.substr(5) : sub;
  const fs::path p = data_dir() / rel;
  if (fs::exists(p)) return p;
  return std::nullopt;
}

void Vol::box(std::array<int64_t, 3> lo, std::array<int64_t, 3> hi, uint8_t value) {
  for (int64_t k = lo[2]; k < hi[2]; ++k)
    for (int64_t j = lo[1]; j < hi[1]; ++j)
      for (int64_t i = lo[0]; i < hi[0]; ++i) at(i, j, k) = value;
}

void write_mask(const std::string& path, const Vol& vol, std::array<double, 3> spacing_mm,
                std::array<double, 3> origin_mm) {
  const auto h = nifti::make_header(vol.dims, spacing_mm, origin_mm);
  nifti::write_image(path, h, vol.v.data(), 1);
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult run_command(const std::string& command_line) {
  TempDir tmp("cmd");
  const std::string out = tmp / "stdout", err = tmp / "stderr";
  const std::string full = command_line + " >" + shell_quote(out) + " 2>" + shell_quote(err);
  const int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

CommandResult run_cli(const std::string& args) { return run_command(shell_quote(LB_CLI) + " " + args); }

void skip_test(const std::string& why) {
  const char* ctest = std::getenv("LB_CTEST");
  if (!ctest || std::string(ctest) != "1") return;
  std::printf("SKIPPED: %s\n", why.c_str());
  std::fflush(stdout);
  std::_Exit(kSkipExitCode);
}

const EngineProbe& podman_probe() {
  static const EngineProbe probe = [] {
    EngineProbe p;
    if (run_command("command -v podman").exit_code != 0) {
      p.why = "no container engine: podman is not installed (docker is not used by these tests)";
      return p;
    }
    const auto info = run_command("podman info");
    if (info.exit_code != 0) {
      p.why = "podman does not work here: " + info.err.substr(0, 300);
      return p;
    }
    if (!fs::exists("/bin/busybox")) {
      p.why = "busybox-static is not installed (/bin/busybox), needed for the FROM-scratch test images";
      return p;
    }
    static std::atomic<int> n{0};
    const std::string tag = "localhost/lesionbench-test-probe:" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    TempDir ctx("probe");
    fs::copy_file("/bin/busybox", ctx / "sh");
    {
      std::ofstream c(ctx / "Containerfile");
      c << "FROM scratch\nCOPY sh /bin/sh\n";
    }
    const auto build = run_command("podman build -q -t " + shell_quote(tag) + " " + shell_quote(ctx.path().string()));
    if (build.exit_code != 0) {
      p.why = "podman cannot build a FROM-scratch image here: " + build.err.substr(0, 400);
      return p;
    }
    std::string limits;
    for (const auto& a : runner::inherited_ulimit_args()) limits += " " + shell_quote(a);
    const auto run = run_command("podman run --rm --network none" + limits + " " + shell_quote(tag) + " /bin/sh -c 'exit 7'");
    run_command("podman rmi -f " + shell_quote(tag));
    if (run.exit_code != 7) {
      p.why = "podman cannot run a container here (exit " + std::to_string(run.exit_code) + "): " + run.err.substr(0, 400);
      return p;
    }
    p.ok = true;
    return p;
  }();
  return probe;
}

}  // namespace lb::test
