// Helpers for the runner tests; see runner_test_util.h.
#include "tests/runner/runner_test_util.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "metrics/nifti.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace lb::test::runner_util {

void write_case(const fs::path& dir, const std::string& name, std::array<int64_t, 3> dims,
                std::array<double, 3> spacing_mm, std::array<double, 3> origin_mm) {
  fs::create_directories(dir);
  const auto h = nifti::make_header(dims, spacing_mm, origin_mm, {1, 0, 0, 0, 1, 0, 0, 0, 1}, nifti::kInt16);
  std::vector<int16_t> v(static_cast<size_t>(dims[0] * dims[1] * dims[2]), -1000);
  for (int64_t k = dims[2] / 4; k < 3 * dims[2] / 4; ++k)
    for (int64_t j = dims[1] / 4; j < 3 * dims[1] / 4; ++j)
      for (int64_t i = dims[0] / 4; i < 3 * dims[0] / 4; ++i) v[static_cast<size_t>(i + dims[0] * (j + dims[1] * k))] = 200;
  nifti::write_image((dir / (name + "_0000.nii.gz")).string(), h, v.data(), 1);
}

std::string contestant() { return LB_TEST_CONTESTANT; }

std::string contestant_command(const std::string& mode, const std::string& arg) {
  return shell_quote(contestant()) + " " + mode + " {inputs} {outputs}" + (arg.empty() ? "" : " " + arg);
}

namespace {
std::string unique_tag(const std::string& what) {
  static std::atomic<int> n{0};
  return "localhost/lesionbench-test-" + what + ":" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

std::string build_image(const std::string& mode, const std::string& arg, const std::string& tag) {
  if (!LB_CONTESTANT_STATIC) return "the test contestant could not be linked statically (libdeflate.a missing)";
  if (!fs::exists("/bin/busybox")) return "busybox-static is not installed (/bin/busybox)";
  TempDir ctx("image");
  fs::copy_file(contestant(), ctx / "contestant");
  fs::copy_file("/bin/busybox", ctx / "busybox");
  {
    // busybox has no bash applet: /bin/bash is a script that hands its arguments to busybox's sh, so the
    // FLARE entry `/bin/bash -c "sh predict.sh"` works unchanged.
    std::ofstream b(ctx / "bash");
    b << "#!/bin/sh\nexec /bin/sh \"$@\"\n";
    std::ofstream p(ctx / "predict.sh");
    p << "/contestant " << mode << " /workspace/inputs /workspace/outputs " << arg << "\n";
    std::ofstream c(ctx / "Containerfile");
    c << "FROM scratch\n"
         "COPY busybox /bin/sh\n"
         "COPY bash /bin/bash\n"
         "COPY contestant /contestant\n"
         "COPY predict.sh /workspace/predict.sh\n"
         "WORKDIR /workspace\n";
  }
  fs::permissions(ctx / "bash", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
  const auto r = run_command("podman build -q -t " + shell_quote(tag) + " -f " + shell_quote(ctx / "Containerfile") +
                             " " + shell_quote(ctx.path().string()));
  if (r.exit_code != 0) return "podman build failed: " + r.err;
  return {};
}
}  // namespace

TestImage::TestImage(const std::string& mode, const std::string& arg) : tag_(unique_tag(mode)) {
  // podman's storage is shared by tests running in parallel: one more try after a failed build.
  for (int attempt = 0; attempt < 2; ++attempt)
    if ((why_ = build_image(mode, arg, tag_)).empty()) break;
  ok_ = why_.empty();
}

TestImage::~TestImage() {
  if (ok_) run_command("podman rmi -f " + shell_quote(tag_));
}

std::vector<pid_t> read_pids(const std::string& file) {
  std::ifstream in(file);
  std::vector<pid_t> pids;
  int p;
  while (in >> p) pids.push_back(p);
  return pids;
}

bool process_alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

std::vector<std::string> containers_named(const std::string& prefix) {
  const auto r = run_command("podman ps -a --format '{{.Names}}'");
  std::vector<std::string> out;
  std::istringstream in(r.out);
  std::string name;
  while (std::getline(in, name))
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  return out;
}

}  // namespace lb::test::runner_util
