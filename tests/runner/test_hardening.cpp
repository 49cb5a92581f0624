// Issue 11 (untrusted contestants), runner side: what a contestant leaves cannot hurt the host (setuid bits,
// device nodes, FIFOs, links, size), containers run with no capabilities and nosuid outputs, a killed
// lesionbench leaves no container behind, output caps and a full disk, a team folder holds one contestant,
// the runner follows `score` on a prediction's geometry, stderr bytes are escaped once.
// Container tests are skipped (ctest SKIPPED, "skipped: ...") where podman cannot run a trivial image; the
// tmpfs test where mounting is not permitted.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "metrics/nifti.h"
#include "runner/container_launcher.h"
#include "runner/keep_files.h"
#include "runner/mock_launcher.h"
#include "runner/record.h"
#include "runner/scheduler.h"
#include "runner/team_state.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
using lb::test::run_cli;
using lb::test::shell_quote;
namespace fs = std::filesystem;
namespace nifti = lb::nifti;

namespace {

#define REQUIRE_PODMAN_OR_SKIP() LB_REQUIRE_PODMAN()

std::map<std::string, RunRecord> records_of(const fs::path& team) {
  std::vector<std::string> warnings;
  std::map<std::string, RunRecord> out;
  for (auto& r : read_records_jsonl((team / "records.jsonl").string(), &warnings)) out[r.case_name] = r;
  CHECK(warnings.empty());
  return out;
}

std::string all_notes(const RunRecord& r) {
  std::string s;
  for (const auto& n : r.notes) s += n + "\n";
  return s;
}

void write_prediction(const LaunchRequest& r, const std::string& name, std::array<double, 3> origin_shift = {0, 0, 0}) {
  auto h = nifti::header_like(nifti::read_header((r.inputs_dir / (name + "_0000.nii.gz")).string()), nifti::kUInt8);
  h.qoffset_x += origin_shift[0];
  h.srow[0][3] += origin_shift[0];
  std::vector<uint8_t> v(static_cast<size_t>(h.voxel_count()), 0);
  nifti::write_image((r.outputs_dir / (name + ".nii.gz")).string(), h, v.data(), 1);
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode;
}

struct MockTeam {
  lb::test::TempDir tmp{"harden"};
  fs::path cases_dir = tmp.path() / "cases", team = tmp.path() / "team";
  std::vector<CaseInput> cases;
  explicit MockTeam(const std::vector<std::string>& names) {
    for (const auto& n : names) write_case(cases_dir, n);
    cases = find_cases(cases_dir);
  }
  RunSettings settings() const {
    RunSettings st;
    st.team_dir = team;
    st.contestant = "mock";
    st.timeout_s = 20;
    st.sample_ms = 20;
    return st;
  }
  RunSummary run(MockLauncher::Play play, RunSettings st, JournalMode mode = JournalMode::fresh_only) {
    MockLauncher launcher(std::move(play));
    Scheduler s(launcher, std::move(st), nullptr);
    return s.run(cases, mode);
  }
};

std::string cli_base(const fs::path& cases, const fs::path& team, const std::string& gpu = "none") {
  return "run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(team.string()) + " --gpu " + gpu + " ";
}

}  // namespace

// ---- 1. setuid files, special files and size of what is kept ------------------------------------------------

TEST_CASE("issue 11.1: a failed case's files are kept without setuid bits, special files, links, or beyond the cap",
          "[issue11]") {
  MockTeam t({"a_bad", "b_good"});
  mode_t work_mode = 0;
  auto play = [&](const LaunchRequest& r, const std::atomic<bool>&) {
    // outputs_dir is .work/<case>.XXXXXX/outputs: the launch's own folder sits in the private .work/.
    work_mode = mode_of(r.outputs_dir.parent_path().parent_path());
    MockOutcome o;
    if (r.label == "b_good") {
      write_prediction(r, r.label);
      ::chmod((r.outputs_dir / "b_good.nii.gz").c_str(), 06777);
      return o;
    }
    const fs::path out = r.outputs_dir;
    std::ofstream(out / "probe") << "#!/bin/sh\nid\n";
    ::chmod((out / "probe").c_str(), 04755);
    fs::create_directories(out / "sub");
    ::chmod((out / "sub").c_str(), 0777);
    std::ofstream(out / "sub" / "setgid") << "x";
    ::chmod((out / "sub" / "setgid").c_str(), 02777);
    ::mkfifo((out / "fifo").c_str(), 0666);
    fs::create_symlink("/etc/passwd", out / "link");
    ::mknod((out / "null").c_str(), S_IFCHR | 0666, makedev(1, 3));  // works as root; harmless when refused
    std::ofstream(out / "zbig") << std::string(3 << 20, 'x');  // sorts last: the cap cuts it
    o.exit_code = 1;
    return o;
  };
  RunSettings st = t.settings();
  st.keep_rejected_mib = 1;
  t.run(play, st);
  // While it ran, only lesionbench's user could reach its folders.
  CHECK((work_mode & 07777) == 0700);
  const fs::path kept = t.team / "rejected" / "a_bad";
  REQUIRE(fs::is_directory(kept));
  CHECK((mode_of(kept) & 07777) == 0755);
  CHECK((mode_of(kept / "sub") & 07777) == 0755);
  CHECK((mode_of(kept / "probe") & 07777) == 0644);
  CHECK((mode_of(kept / "sub" / "setgid") & 07777) == 0644);
  CHECK(lb::test::read_text(kept / "probe") == "#!/bin/sh\nid\n");
  CHECK_FALSE(fs::exists(fs::symlink_status(kept / "fifo")));
  CHECK_FALSE(fs::exists(fs::symlink_status(kept / "link")));
  CHECK_FALSE(fs::exists(fs::symlink_status(kept / "null")));
  // At most 1 MiB of it is kept.
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(kept))
    if (e.is_regular_file()) total += e.file_size();
  CHECK(total <= (1u << 20));
  const auto recs = records_of(t.team);
  CHECK_THAT(all_notes(recs.at("a_bad")), Catch::Contains("not kept") && Catch::Contains("capped at 1 MiB"));
  // A kept prediction is a plain data file, whatever mode the contestant gave it.
  REQUIRE(recs.at("b_good").status == RunStatus::ok);
  CHECK((mode_of(t.team / "predictions" / "b_good.nii.gz") & 07777) == 0644);
}

TEST_CASE("issue 11.1: output usage counts bytes and entries without following links", "[issue11]") {
  lb::test::TempDir tmp("usage");
  fs::create_directories(tmp.path() / "d" / "e");
  std::ofstream(tmp.path() / "d" / "e" / "f") << std::string(100000, 'x');
  fs::create_symlink("/usr", tmp.path() / "d" / "l");
  const OutputUsage u = output_usage(tmp.path());
  CHECK(u.entries == 4);
  CHECK(u.bytes >= 100000);
  CHECK(u.bytes < 200000);
  CHECK(output_usage(tmp.path(), 0, 2).over);
  CHECK(output_usage(tmp.path(), 50000, 0).over);
}

TEST_CASE("issue 11.1: containers get no capabilities, nosuid,nodev mounts with podman, --cap-add to give more",
          "[issue11]") {
  ContainerSettings cs;
  cs.engine = "podman";
  cs.image = "img";
  ContainerLauncher podman(cs);
  LaunchRequest r;
  r.inputs_dir = "/in";
  r.outputs_dir = "/out";
  auto argv = podman.run_argv(r, "n");
  auto has = [&](const std::vector<std::string>& a, const std::string& x, const std::string& y) {
    for (size_t i = 0; i + 1 < a.size(); ++i)
      if (a[i] == x && a[i + 1] == y) return true;
    return false;
  };
  CHECK(has(argv, "--cap-drop", "ALL"));
  CHECK(has(argv, "-v", "/in:/workspace/inputs:ro,nosuid,nodev"));
  CHECK(has(argv, "-v", "/out:/workspace/outputs:nosuid,nodev"));
  cs.cap_add = {"CHOWN"};
  cs.engine = "docker";
  ContainerLauncher docker(cs);
  argv = docker.run_argv(r, "n");
  CHECK(has(argv, "--cap-drop", "ALL"));
  CHECK(has(argv, "--cap-add", "CHOWN"));
  CHECK(has(argv, "-v", "/out:/workspace/outputs"));  // docker's -v takes no nosuid
}

TEST_CASE("issue 11.1: container: a setuid file made by the container's root is kept inert, and it ran with no "
          "capabilities on a nosuid outputs mount", "[issue11][container]") {
  REQUIRE_PODMAN_OR_SKIP();
  TestImage img("predict");
  INFO(img.why());
  REQUIRE(img.ok());
  lb::test::TempDir tmp("ctrsuid");
  write_case(tmp.path() / "cases", "probe");
  ContainerSettings cs;
  cs.engine = "podman";
  cs.image = img.tag();
  cs.memory = "1g";
  cs.shm_size = "64m";
  cs.entry = {"/bin/sh", "-c",
              "cp /contestant /workspace/outputs/probe && chmod 4755 /workspace/outputs/probe; "
              "grep CapEff /proc/self/status > /workspace/outputs/caps.txt; "
              "grep ' /workspace/outputs ' /proc/self/mountinfo > /workspace/outputs/mounts.txt; "
              "/contestant predict /workspace/inputs /workspace/outputs; exit 1"};
  ContainerLauncher launcher(cs);
  RunSettings st;
  st.team_dir = tmp.path() / "team";
  st.contestant = "suid";
  st.timeout_s = 60;
  Scheduler s(launcher, st, nullptr);
  s.run(find_cases(tmp.path() / "cases"), JournalMode::fresh_only);
  const auto recs = records_of(st.team_dir);
  REQUIRE(recs.count("probe"));
  INFO(recs.at("probe").message);
  CHECK(recs.at("probe").status == RunStatus::nonzero_exit);
  // The prediction written before exit 1 is what a plain predict.sh needs: it worked without capabilities.
  CHECK(recs.at("probe").prediction.has_value());
  const fs::path kept = st.team_dir / "rejected" / "probe";
  CHECK((mode_of(kept / "probe") & 07777) == 0644);
  CHECK_THAT(lb::test::read_text(kept / "caps.txt"), Catch::Contains("0000000000000000"));
  const std::string mounts = lb::test::read_text(kept / "mounts.txt");
  CHECK_THAT(mounts, Catch::Contains("nosuid") && Catch::Contains("nodev"));
}

// ---- 3 and 10. No container outlives lesionbench ----------------------------------------------------------

namespace {
bool wait_until_gone(const std::string& prefix, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (containers_named(prefix).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return containers_named(prefix).empty();
}

// Starts `lesionbench run` on one hanging container case, waits until the container runs, then runs `then`
// (shell, $p is lesionbench's pid). Returns the shell's output.
std::string run_container_and(const lb::test::TempDir& tmp, const std::string& case_name, const std::string& image,
                              const std::string& then) {
  write_case(tmp.path() / "cases", case_name);
  const std::string cli = shell_quote(LB_CLI) + " " + cli_base(tmp.path() / "cases", tmp.path() / "team") +
                          "--engine podman --memory 1g --shm-size 64m --image " + shell_quote(image);
  const std::string prefix = "lesionbench-" + case_name;
  return lb::test::run_command("( " + cli + " > " + shell_quote(tmp / "cli.out") + " 2>&1 & p=$!; for i in $(seq 300); do "
                               "podman ps --format '{{.Names}}' | grep -q '^" + prefix + "' && break; sleep 0.1; done; "
                               "sleep 0.5; cat " + shell_quote(tmp / "team/.containers-in-flight") + "; " + then +
                               "; wait $p; echo rc=$? )")
      .out;
}
}  // namespace

TEST_CASE("issue 11.3: lesionbench killed outright (kill -9): its watchdog removes the running container",
          "[issue11][container]") {
  REQUIRE_PODMAN_OR_SKIP();
  TestImage img("hang");
  INFO(img.why());
  REQUIRE(img.ok());
  lb::test::TempDir tmp("ctrkill9");
  const std::string out = run_container_and(tmp, "kill9case", img.tag(), "kill -KILL $p");
  INFO(out);
  CHECK_THAT(out, Catch::Contains("rc=137"));
  // While it ran, the team folder named the container in flight.
  CHECK_THAT(out, Catch::Contains("podman lesionbench-kill9case-"));
  CHECK(wait_until_gone("lesionbench-kill9case", 20));
}

TEST_CASE("issue 11.3: after a run that ended normally, no container is named in flight", "[issue11][container]") {
  REQUIRE_PODMAN_OR_SKIP();
  TestImage img("predict");
  INFO(img.why());
  REQUIRE(img.ok());
  lb::test::TempDir tmp("ctrclean");
  write_case(tmp.path() / "cases", "cleanrun");
  const auto r = run_cli(cli_base(tmp.path() / "cases", tmp.path() / "team") + "--engine podman --memory 1g "
                         "--shm-size 64m --image " + shell_quote(img.tag()));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(records_of(tmp.path() / "team").at("cleanrun").status == RunStatus::ok);
  CHECK_FALSE(fs::exists(tmp.path() / "team" / kInFlightFile));
  CHECK(containers_named("lesionbench-cleanrun").empty());
}

TEST_CASE("issue 11.10: a second Ctrl-C ends lesionbench at once and still leaves no container behind",
          "[issue11][container]") {
  REQUIRE_PODMAN_OR_SKIP();
  TestImage img("hang");
  INFO(img.why());
  REQUIRE(img.ok());
  lb::test::TempDir tmp("ctr2int");
  const std::string out = run_container_and(tmp, "twiceint", img.tag(), "kill -INT $p; sleep 0.05; kill -INT $p");
  INFO(out);
  CHECK(wait_until_gone("lesionbench-twiceint", 20));
}

TEST_CASE("issue 11.3: --resume first removes, by exact name, the containers the state file names", "[issue11][container]") {
  REQUIRE_PODMAN_OR_SKIP();
  TestImage img("predict");
  INFO(img.why());
  REQUIRE(img.ok());
  lb::test::TempDir tmp("ctrleft");
  write_case(tmp.path() / "cases", "c1");
  const std::string left = "lesionbench-leftover-" + std::to_string(::getpid());
  const std::string similar = left + "x";  // a container whose name merely starts the same stays
  for (const auto& n : {left, similar})
    REQUIRE(lb::test::run_command("podman create --name " + n + " " + img.tag() + " /contestant").exit_code == 0);
  fs::create_directories(tmp.path() / "team");
  std::ofstream(tmp.path() / "team" / kInFlightFile) << "podman " << left << "\nsh rm-everything\n";
  const auto r = run_cli(cli_base(tmp.path() / "cases", tmp.path() / "team") + "--resume --command " +
                         shell_quote(contestant_command("predict")));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("removed container " + left));
  CHECK_THAT(r.out, Catch::Contains("ignored an entry"));
  CHECK(containers_named(left + "x").size() == 1);
  CHECK(containers_named(left).size() == 1);  // only the similar one is left
  lb::test::run_command("podman rm -f " + similar);
  CHECK_FALSE(fs::exists(tmp.path() / "team" / kInFlightFile));
}

// ---- 4. Output caps and a full disk -------------------------------------------------------------------------

TEST_CASE("issue 11.4: over --max-output-mib or --max-output-files the launch is stopped, bad_output, files removed",
          "[issue11]") {
  lb::test::TempDir tmp("caps");
  write_case(tmp.path() / "cases", "big");
  write_case(tmp.path() / "cases", "many");
  write_case(tmp.path() / "cases", "ok");
  // Writes 20 MiB (big) or 500 files (many), then waits: only the cap can end it before the time limit.
  const std::string cmd =
      "case {outputs} in *) ;; esac; c=$(ls {inputs}); c=${c%_0000.nii.gz}; "
      "if [ $c = big ]; then head -c 20971520 /dev/zero > {outputs}/fill; sleep 30; fi; "
      "if [ $c = many ]; then i=0; while [ $i -lt 500 ]; do : > {outputs}/f$i; i=$((i+1)); done; sleep 30; fi; "
      "exec " + contestant_command("predict");
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_cli(cli_base(tmp.path() / "cases", tmp.path() / "team") +
                         "--timeout-s 60 --max-output-mib 5 --max-output-files 100 --command " + shell_quote(cmd));
  const double took_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(took_s < 30);
  const auto recs = records_of(tmp.path() / "team");
  CHECK(recs.at("big").status == RunStatus::bad_output);
  CHECK_THAT(recs.at("big").message, Catch::Contains("above --max-output-mib (5.0 MiB"));
  CHECK(recs.at("many").status == RunStatus::bad_output);
  CHECK_THAT(recs.at("many").message, Catch::Contains("above --max-output-files (100 "));
  CHECK(recs.at("ok").status == RunStatus::ok);
  CHECK_FALSE(fs::exists(tmp.path() / "team" / "rejected" / "big"));
  CHECK_FALSE(fs::exists(tmp.path() / "team" / "rejected" / "many"));
}

TEST_CASE("issue 11.4: a full disk stops the run with exit 3 and a consistent journal, and --resume completes",
          "[issue11]") {
  lb::test::TempDir tmp("diskfull");
  const fs::path mnt = tmp.path() / "fs";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=40m") != 0) {
    LB_SKIP("cannot mount a 40 MB tmpfs here (" << std::strerror(errno) << "); needs root or CAP_SYS_ADMIN");
  }
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  for (const char* c : {"a_good", "b_fill", "c_good"}) write_case(tmp.path() / "cases", c);
  const std::string mark = tmp / "fill-the-disk";
  std::ofstream(mark) << "";
  // b_fill fills the disk (while the marker exists) and fails, as a contestant that ran out of space does.
  const std::string cmd = "case $(ls {inputs}) in b_fill*) if [ -e " + shell_quote(mark) +
                          " ]; then cat /dev/zero > {outputs}/fill; exit 1; fi;; esac; exec " +
                          contestant_command("predict");
  const fs::path team = mnt / "team";
  const std::string base = cli_base(tmp.path() / "cases", team) + "--max-output-mib 0 --command " + shell_quote(cmd);
  auto r = run_cli(base);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("disk full"));
  auto recs = records_of(team);
  CHECK(recs.size() == 1);
  CHECK(recs.count("a_good") == 1);
  // Nothing of the case in flight is left: no prediction, rejected files, samples, logs or scratch.
  CHECK_FALSE(fs::exists(team / "rejected" / "b_fill"));
  CHECK_FALSE(fs::exists(team / "samples" / "b_fill.csv"));
  CHECK_FALSE(fs::exists(team / "logs" / "b_fill.stderr.txt"));
  CHECK_FALSE(fs::exists(team / ".work"));
  fs::remove(mark);
  r = run_cli(base + " --resume");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  recs = records_of(team);
  CHECK(recs.size() == 3);
  CHECK(recs["b_fill"].status == RunStatus::ok);
}

// ---- 5. One team folder, one contestant --------------------------------------------------------------------

TEST_CASE("issue 11.5: --resume with another contestant is refused listing the differences, unless --force",
          "[issue11]") {
  lb::test::TempDir tmp("header");
  write_case(tmp.path() / "cases", "a");
  const fs::path team = tmp.path() / "team";
  const std::string base = cli_base(tmp.path() / "cases", team);
  auto r = run_cli(base + "--name alpha --timeout-s 600 --command " + shell_quote(contestant_command("predict")));
  REQUIRE(r.exit_code == 0);
  const auto header = nlohmann::json::parse(lb::test::read_text(team / "contestant.json"));
  CHECK(header["name"] == "alpha");
  CHECK(header["kind"] == "command");
  CHECK(header["timeout_s"] == 600);
  // Valid against its schema, checked by Python's jsonschema (an implementation independent of ours).
  if (lb::test::run_command("/usr/bin/python3 -c 'import jsonschema'").exit_code == 0) {
    const auto v = lb::test::run_command(
        "/usr/bin/python3 -c 'import json,sys,jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))"
        ".validate(json.load(open(sys.argv[2]))); print(\"valid\")' " +
        shell_quote(std::string(LB_SCHEMA_DIR) + "/contestant-header.schema.json") + " " +
        shell_quote((team / "contestant.json").string()));
    INFO(v.err);
    CHECK(v.out == "valid\n");
  }
  write_case(tmp.path() / "cases", "b");
  const std::string other = contestant_command("predict") + " # another";
  r = run_cli(base + "--name beta --batch --timeout-s 5 --resume --command " + shell_quote(other));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("name: \"alpha\" -> \"beta\"") && Catch::Contains("mode: \"per_case\" -> \"batch\"") &&
                        Catch::Contains("timeout_s: 600") && Catch::Contains("command: ") && Catch::Contains("--force"));
  CHECK(records_of(team).size() == 1);
  // The GPU (and how many run at once) is not part of what defines the contestant.
  r = run_cli(cli_base(tmp.path() / "cases", team, "0") + "--name alpha --timeout-s 600 --resume --command " +
              shell_quote(contestant_command("predict")));
  CHECK(r.exit_code == 0);
  CHECK(records_of(team).size() == 2);
  write_case(tmp.path() / "cases", "c");
  r = run_cli(base + "--name beta --batch --timeout-s 5 --resume --force --command " + shell_quote(other));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("--force"));
  CHECK(records_of(team).size() == 3);
}

TEST_CASE("issue 11.5: header differences name every changed field", "[issue11]") {
  const nlohmann::json a = {{"name", "x"}, {"timeout_s", 600}, {"schema_version", "1.0"}, {"written_at", "t1"}};
  const nlohmann::json b = {{"name", "x"}, {"timeout_s", 5}, {"entry", {"sh"}}, {"written_at", "t2"}};
  const auto d = header_differences(a, b);
  REQUIRE(d.size() == 2);
  CHECK(d[0] == "timeout_s: 600 -> 5");
  CHECK(d[1] == "entry: (absent) -> [\"sh\"]");
  // The team folder is not trusted: a header that is a link is not followed (nor its target quoted).
  lb::test::TempDir tmp("hdrlink");
  fs::create_symlink("/etc/passwd", tmp.path() / kHeaderFile);
  CHECK_THROWS_WITH(read_header(tmp.path()), Catch::Contains("not a regular file") && !Catch::Contains("root"));
  // Nor is a containers-in-flight file that is a link.
  fs::create_symlink("/etc/passwd", tmp.path() / kInFlightFile);
  std::vector<std::string> notes;
  InFlightContainers(tmp.path()).remove_leftovers(&notes);
  CHECK(notes.empty());
}

// ---- 9. The runner follows the scorer on a prediction's geometry ------------------------------------------

TEST_CASE("issue 11.9: a prediction on another origin is kept with a warning, and --geometry strict rejects it", "[issue11]") {
  auto play = [](const LaunchRequest& r, const std::atomic<bool>&) {
    write_prediction(r, r.label, {5, 0, 0});
    return MockOutcome{};
  };
  {
    MockTeam t({"shifted"});
    t.run(play, t.settings());
    const auto recs = records_of(t.team);
    CHECK(recs.at("shifted").status == RunStatus::ok);
    CHECK(recs.at("shifted").prediction.has_value());
    CHECK_THAT(all_notes(recs.at("shifted")), Catch::Contains("(origin)") && Catch::Contains("--geometry warn"));
  }
  {
    MockTeam t({"shifted"});
    RunSettings st = t.settings();
    st.strict_geometry = true;
    t.run(play, st);
    const auto recs = records_of(t.team);
    CHECK(recs.at("shifted").status == RunStatus::bad_output);
    CHECK_THAT(recs.at("shifted").message, Catch::Contains("(origin)"));
  }
}

// ---- 10. stderr bytes escaped once ------------------------------------------------------------------------

TEST_CASE("issue 11.10: a non-UTF-8 byte in stderr is escaped once in the record", "[issue11]") {
  lb::test::TempDir tmp("utf8");
  write_case(tmp.path() / "cases", "a");
  const auto r = run_cli(cli_base(tmp.path() / "cases", tmp.path() / "team") +
                         "--command " + shell_quote("printf 'raw \\377 and text \\\\xff\\n' >&2; exit 3"));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  const auto recs = records_of(tmp.path() / "team");
  // The byte 0xff and the text "\xff" a contestant printed both read \xff: never \x5cxff.
  CHECK_THAT(recs.at("a").message, Catch::Contains("raw \\xff and text \\xff"));
  CHECK_THAT(recs.at("a").message, !Catch::Contains("x5c"));
  CHECK_THAT(lb::test::read_text(tmp.path() / "team" / "records.jsonl"), !Catch::Contains("x5c"));
}
