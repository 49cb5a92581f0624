// The process launcher with real processes: quoting, exit codes and signals, killing whole trees (also
// daemonised orphans), capped logs, no leaked descriptors; and the container launcher's command line.
#include <fcntl.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <fstream>
#include <thread>

#include "runner/container_launcher.h"
#include "runner/process_launcher.h"
#include "runner/util.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
namespace fs = std::filesystem;

namespace {

struct Run {
  LaunchExit exit;
  std::string out, err;
  fs::path outputs;
};

struct Bench {
  lb::test::TempDir tmp{"launch"};
  fs::path in = tmp.path() / "in dir 'quoted'", out = tmp.path() / "out $HOME", work = tmp.path() / "work";
  SandboxKind sandbox = SandboxKind::bwrap;  // the default; none where a test is about the unconfined path
  Bench() {
    write_case(in, "C1");
    fs::create_directories(out);
    fs::create_directories(work);
  }
  LaunchRequest request(size_t head = 1 << 20, size_t tail = 256 << 10) const {
    LaunchRequest r;
    r.label = "C1";
    r.inputs_dir = in;
    r.outputs_dir = out;
    r.work_dir = work;
    r.stdout_log = tmp.path() / "stdout.txt";
    r.stderr_log = tmp.path() / "stderr.txt";
    r.log_head_bytes = head;
    r.log_tail_bytes = tail;
    return r;
  }
  // Runs `command`; kills it after `kill_after_s` when > 0.
  Run run(const std::string& command, double kill_after_s = 0, LaunchRequest req = {}) {
    if (req.label.empty()) req = request();
    ProcessLauncher launcher({command, "", {{"LB_TEST_PIDS", (tmp.path() / "pids").string()}}, sandbox, {}, {}});
    Provenance p;
    launcher.prepare(p);
    auto l = launcher.launch(req);
    const auto t0 = Clock::now();
    bool killed = false;
    while (!l->wait_for(std::chrono::milliseconds(20)))
      if (kill_after_s > 0 && !killed && Clock::now() - t0 > std::chrono::duration<double>(kill_after_s)) {
        l->kill();
        killed = true;
      }
    Run r;
    r.exit = l->finish();
    r.out = lb::test::read_text(req.stdout_log.string());
    r.err = lb::test::read_text(req.stderr_log.string());
    r.outputs = out;
    return r;
  }
};

}  // namespace

TEST_CASE("{inputs} and {outputs} are substituted shell-quoted, other braces stay", "[launcher]") {
  CHECK(shell_quote("a b'c") == "'a b'\\''c'");
  CHECK(substitute_command("run {inputs} -o {outputs} {x}", "/in dir", "/o'ut") ==
        "run '/in dir' -o '/o'\\''ut' {x}");
}

TEST_CASE("a good contestant runs with awkward folder names and writes its prediction", "[launcher]") {
  Bench b;
  const Run r = b.run(contestant_command("predict"));
  CHECK(r.exit.exit_code == 0);
  CHECK_FALSE(r.exit.signal);
  CHECK(fs::exists(b.out / "C1.nii.gz"));
  CHECK_THAT(r.out, Catch::Contains("done: 1 case(s)"));
  REQUIRE(r.exit.cpu_time_s);
  CHECK(*r.exit.cpu_time_s >= 0);
}

TEST_CASE("exit codes and signals are reported as they happened", "[launcher]") {
  Bench b;
  SECTION("exit 3, with the last line of stderr") {
    const Run r = b.run(contestant_command("exit3"));
    CHECK(r.exit.exit_code == 3);
    CHECK_FALSE(r.exit.signal);
    CHECK(r.exit.stderr_last_line == "giving up on C1");
  }
  SECTION("a crash: the shell passes on 128+11") {
    const Run r = b.run(contestant_command("crash"));
    CHECK(r.exit.exit_code == 128 + SIGSEGV);
    CHECK_THAT(r.err, Catch::Contains("about to crash on C1"));
  }
  SECTION("a crash of the launched process itself is a signal") {
    b.sandbox = SandboxKind::none;
    const Run r = b.run("exec " + contestant_command("crash"));
    CHECK(r.exit.signal == SIGSEGV);
    CHECK(r.exit.exit_code == 128 + SIGSEGV);
  }
  SECTION("in the sandbox, bwrap passes a crash on as 128+11") {
    const Run r = b.run("exec " + contestant_command("crash"));
    CHECK(r.exit.exit_code == 128 + SIGSEGV);
  }
  SECTION("a command that does not exist") {
    const Run r = b.run("/nonexistent/program {inputs}");
    CHECK(r.exit.exit_code == 127);
    CHECK_THAT(r.exit.stderr_last_line, Catch::Contains("not found"));
  }
}

TEST_CASE("kill stops the whole tree: children and grandchildren of a hanging contestant", "[launcher]") {
  Bench b;
  // Unconfined, so that the pids it writes are ours (the sandbox's case: test_sandbox.cpp).
  b.sandbox = SandboxKind::none;
  const Run r = b.run(contestant_command("spawn-tree"), 0.5);
  CHECK(r.exit.signal == SIGKILL);
  const auto pids = read_pids((b.tmp.path() / "pids").string());
  REQUIRE(pids.size() == 4);
  for (pid_t p : pids) CHECK_FALSE(process_alive(p));
}

TEST_CASE("a daemonised orphan left behind is killed when the contestant exits", "[launcher]") {
  Bench b;
  // Unconfined, so that its pid is ours to look at (in the sandbox the namespace ends with the command).
  b.sandbox = SandboxKind::none;
  const Run r = b.run(contestant_command("orphan"));
  CHECK(r.exit.exit_code == 0);
  const auto pids = read_pids((b.tmp.path() / "pids").string());
  REQUIRE(pids.size() == 1);
  CHECK_FALSE(process_alive(pids[0]));
  REQUIRE_FALSE(r.exit.notes.empty());
  CHECK_THAT(r.exit.notes[0], Catch::Contains("killed 1 process(es) still running"));
}

TEST_CASE("logs are capped: the start and the end are kept, with the size dropped between", "[launcher]") {
  Bench b;
  const size_t head = 64 << 10, tail = 16 << 10;
  const Run r = b.run(contestant_command("print", "8"), 0, b.request(head, tail));
  CHECK(r.exit.exit_code == 0);
  const uintmax_t size = fs::file_size(b.tmp.path() / "stdout.txt");
  CHECK(size >= head + tail);
  CHECK(size < head + tail + 200);
  CHECK_THAT(r.out, Catch::Contains("bytes dropped here"));
  CHECK_THAT(r.err, Catch::Contains("printed 8388608 bytes"));
}

TEST_CASE("the contestant inherits no descriptor of ours beyond stdin, stdout and stderr", "[launcher]") {
  Bench b;
  // Descriptors this process holds open (without close-on-exec) must not reach the contestant.
  const int leak = 100;  // high, so the contestant's own descriptors cannot reuse the number
  REQUIRE(::dup2(::open("/dev/null", O_RDONLY), leak) == leak);
  const Run r = b.run(shell_quote(contestant()) + " fds x x");
  ::close(leak);
  // The contestant lists 0, 1, 2 and the descriptor of the folder it is listing.
  std::istringstream lines(r.out);
  std::vector<int> fds;
  for (std::string l; std::getline(lines, l);) fds.push_back(std::stoi(l));
  CHECK(fds.size() == 4);
  CHECK(std::find(fds.begin(), fds.end(), leak) == fds.end());
}

TEST_CASE("a GPU index reaches a command as CUDA_VISIBLE_DEVICES in NVML's order", "[launcher]") {
  Bench b;
  LaunchRequest req = b.request();
  req.gpu_index = 1;
  b.sandbox = SandboxKind::none;  // in the sandbox it is 0: see test_sandbox.cpp
  const Run r = b.run("echo \"$CUDA_VISIBLE_DEVICES $CUDA_DEVICE_ORDER\"", 0, req);
  CHECK(r.out == "1 PCI_BUS_ID\n");
  const Run none = b.run("echo \"[${CUDA_VISIBLE_DEVICES-unset}]\"");
  CHECK(none.out == "[unset]\n");
}

TEST_CASE("a command runs in its own working folder and process group", "[launcher]") {
  Bench b;
  // Unconfined: in the sandbox the process group is bwrap's init's, inside a PID namespace of its own.
  b.sandbox = SandboxKind::none;
  const Run r = b.run("pwd; cut -d' ' -f5 /proc/$$/stat; echo $$");
  std::istringstream lines(r.out);
  std::string cwd, pgid, pid;
  std::getline(lines, cwd);
  std::getline(lines, pgid);
  std::getline(lines, pid);
  CHECK(fs::equivalent(cwd, b.work));
  CHECK(std::stoi(pgid) == std::stoi(pid));
  CHECK(std::stoi(pgid) != ::getpgrp());
}

TEST_CASE("the container command line follows FLARE's, with read-only inputs and no network", "[launcher][container]") {
  ContainerSettings s;
  s.engine = "/bin/true";  // any executable: prepare() is not needed to build the command line
  s.image = "team-a:latest";
  s.engine_args = {"--cpus", "4"};
  ContainerLauncher launcher(s);
  LaunchRequest r;
  r.inputs_dir = "/data/in";
  r.outputs_dir = "/data/out";
  auto argv = launcher.run_argv(r, "NAME");
  const auto limits = inherited_ulimit_args();
  REQUIRE(limits.size() == 4);
  const std::vector<std::string> expected_tail = {"run",     "--name", "NAME",   "--network",
                                                  "none",    "-m",     "28g",    "--shm-size",
                                                  "28g",     "--pids-limit", "4096", "--security-opt",
                                                  "no-new-privileges", "--cap-drop", "ALL",
                                                  "--ulimit", limits[1], "--ulimit", limits[3],
                                                  "-v", "/data/in:/workspace/inputs:ro",
                                                  "-v",      "/data/out:/workspace/outputs",
                                                  "--cpus",  "4",      "team-a:latest",
                                                  "/bin/bash", "-c",   "sh predict.sh"};
  CHECK(std::vector<std::string>(argv.begin() + 1, argv.end()) == expected_tail);
  // GPU flags only when a GPU is asked for, in each engine's syntax.
  r.gpu_index = 2;
  argv = launcher.run_argv(r, "NAME");
  CHECK(std::find(argv.begin(), argv.end(), "--gpus") != argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "device=2") != argv.end());
  ContainerSettings podman = s;
  podman.engine = "podman";
  argv = ContainerLauncher(podman).run_argv(r, "NAME");
  CHECK(std::find(argv.begin(), argv.end(), "nvidia.com/gpu=2") != argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "--gpus") == argv.end());
  // Without the limits: nothing of them on the command line.
  ContainerSettings open = s;
  open.pids_limit = 0;
  open.no_new_privileges = false;
  argv = ContainerLauncher(open).run_argv(r, "NAME");
  CHECK(std::find(argv.begin(), argv.end(), "--pids-limit") == argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "--security-opt") == argv.end());
  open.inherit_ulimits = false;
  argv = ContainerLauncher(open).run_argv(r, "NAME");
  CHECK(std::find(argv.begin(), argv.end(), "--ulimit") == argv.end());
  ContainerSettings custom = s;
  custom.gpu_args = {"--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES={gpu}"};
  argv = ContainerLauncher(custom).run_argv(r, "NAME");
  CHECK(std::find(argv.begin(), argv.end(), "NVIDIA_VISIBLE_DEVICES=2") != argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "--gpus") == argv.end());
}

namespace {
uint64_t proc_sys(const char* path) {
  std::ifstream in(path);
  uint64_t v = 0;
  in >> v;
  return v;
}
}  // namespace

TEST_CASE("containers get lesionbench's own open-file and process limits, not the engine's defaults",
          "[launcher][container]") {
  // Lower our soft limits (the hard ones stay, so this is undone below) and check the flags follow them.
  rlimit nofile{}, nproc{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &nofile) == 0);
  REQUIRE(::getrlimit(RLIMIT_NPROC, &nproc) == 0);
  rlimit lower_nofile = nofile, lower_nproc = nproc;
  lower_nofile.rlim_cur = 900;
  lower_nproc.rlim_cur = 1234;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &lower_nofile) == 0);
  REQUIRE(::setrlimit(RLIMIT_NPROC, &lower_nproc) == 0);
  const auto args = inherited_ulimit_args();
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &nofile) == 0);
  REQUIRE(::setrlimit(RLIMIT_NPROC, &nproc) == 0);

  const uint64_t pid_max = proc_sys("/proc/sys/kernel/pid_max"), nr_open = proc_sys("/proc/sys/fs/nr_open");
  REQUIRE(pid_max > 0);
  const auto hard = [](rlim_t v, uint64_t cap) { return v == RLIM_INFINITY || v > cap ? cap : uint64_t(v); };
  REQUIRE(args.size() == 4);
  CHECK(args[0] == "--ulimit");
  CHECK(args[1] == "nofile=900:" + std::to_string(hard(nofile.rlim_max, nr_open)));
  CHECK(args[2] == "--ulimit");
  // RLIMIT_NPROC counts the whole user ID's processes: ours, never a small per-container number.
  CHECK(args[3] == "nproc=1234:" + std::to_string(hard(nproc.rlim_max, pid_max)));

  // A --ulimit given through --engine-arg comes after ours, so it wins (engines take the last one).
  ContainerSettings s;
  s.engine = "/bin/true";
  s.image = "team-a:latest";
  s.engine_args = {"--ulimit", "nofile=64:64"};
  LaunchRequest r;
  r.inputs_dir = "/in";
  r.outputs_dir = "/out";
  const auto argv = ContainerLauncher(s).run_argv(r, "NAME");
  const auto ours = std::find(argv.begin(), argv.end(), "--ulimit");
  const auto theirs = std::find(argv.begin(), argv.end(), "nofile=64:64");
  REQUIRE(ours != argv.end());
  REQUIRE(theirs != argv.end());
  CHECK(ours < theirs);
}

TEST_CASE("engine load output names the image it loaded", "[launcher][container]") {
  CHECK(parse_loaded_image("Loaded image: team-a:latest\n") == "team-a:latest");
  CHECK(parse_loaded_image("Getting image source signatures\nLoaded image(s): localhost/team-b:v1\n") ==
        "localhost/team-b:v1");
  CHECK(parse_loaded_image("Loaded image ID: sha256:abc\n") == "sha256:abc");
  CHECK(parse_loaded_image("nothing useful") == "");
}
