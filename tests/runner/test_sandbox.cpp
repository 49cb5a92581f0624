// The sandbox of command contestants (issue 11, items 2 and 3): the bwrap command line it builds, and real
// attacks through it: forging the journal, reading the ground truth or another team, stopping lesionbench,
// the network, a background process that outlives a kill -9 of lesionbench; plus the wall-time rule and
// the "killed N processes" note of a killed fork chain.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <thread>

#include "runner/contestant.h"
#include "runner/journal.h"
#include "runner/process_launcher.h"
#include "runner/record.h"
#include "runner/sandbox.h"
#include "runner/scheduler.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
using lb::test::run_cli;
using lb::test::shell_quote;
namespace fs = std::filesystem;

namespace {

const std::string& bwrap_unusable() {
  static const std::string why = [] {
    std::string path;
    return probe_bwrap(&path);
  }();
  return why;
}
bool bwrap_works() { return bwrap_unusable().empty(); }
// Skips the test (ctest: skipped, with the reason) where bubblewrap cannot start here.
#define REQUIRE_BWRAP()                                     \
  do {                                                      \
    if (!bwrap_works()) LB_SKIP(bwrap_unusable());          \
  } while (0)

// The arguments that follow `flag` in argv (each occurrence), e.g. the (source, dest) pairs of --bind.
std::vector<std::string> after(const std::vector<std::string>& argv, const std::string& flag) {
  std::vector<std::string> out;
  const auto end = std::find(argv.begin(), argv.end(), "--");
  for (auto it = argv.begin(); it != end; ++it)
    if (*it == flag && it + 1 != end) out.push_back(*(it + 1));
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

struct Launch {
  LaunchExit exit;
  std::string out, err;
};

// One launch of `command` through a ProcessLauncher, in folders laid out as the scheduler lays them out
// (TEAM/.work/<launch>/{inputs,outputs,scratch}); killed after kill_after_s when > 0.
struct Team {
  lb::test::TempDir tmp{"sandbox"};
  fs::path team = tmp.path() / "team", dir = team / ".work" / "C1.x", in = dir / "inputs", out = dir / "outputs",
           scratch = dir / "scratch";
  Team() {
    write_case(in, "C1");
    fs::create_directories(out);
    fs::create_directories(scratch);
    std::ofstream(team / "records.jsonl") << "{\"case\":\"real\"}\n";
  }
  // kill_when: kill as soon as this file exists (and not before), instead of after kill_after_s.
  Launch run(CommandSettings settings, double kill_after_s = 0, std::optional<int> gpu = std::nullopt,
             const fs::path& kill_when = {}) {
    ProcessLauncher launcher(std::move(settings));
    Provenance p;
    launcher.prepare(p);
    LaunchRequest r;
    r.label = "C1";
    r.inputs_dir = in;
    r.outputs_dir = out;
    r.work_dir = scratch;
    r.team_dir = team;
    r.gpu_index = gpu;
    r.stdout_log = tmp.path() / "stdout.txt";
    r.stderr_log = tmp.path() / "stderr.txt";
    auto l = launcher.launch(r);
    const auto t0 = Clock::now();
    bool killed = false;
    while (!l->wait_for(std::chrono::milliseconds(20)))
      if (!killed && (kill_when.empty() ? kill_after_s > 0 && Clock::now() - t0 > std::chrono::duration<double>(kill_after_s)
                                        : fs::exists(kill_when))) {
        l->kill();
        killed = true;
      }
    Launch res;
    res.exit = l->finish();
    res.out = lb::test::read_text(r.stdout_log.string());
    res.err = lb::test::read_text(r.stderr_log.string());
    return res;
  }
};

// A "contestant program": a script whose text (not the organiser's command line) holds the attack.
fs::path write_script(const fs::path& dir, const std::string& name, const std::string& body) {
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
  fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  return p;
}

}  // namespace

TEST_CASE("sandbox command line: own PID namespace, no network, the allow-list, nothing of the team folder", "[sandbox]") {
  lb::test::TempDir tmp("sbargv");
  const fs::path team = tmp.path() / "runs" / "team", dir = team / ".work" / "C1.abc";
  for (const auto& d : {dir / "inputs", dir / "outputs", dir / "scratch", tmp.path() / "extra-ro", tmp.path() / "extra-rw",
                        tmp.path() / "wd"})
    fs::create_directories(d);
  std::ofstream(tmp / "model.json") << "{}";
  SandboxLaunch l;
  l.argv = {"/bin/sh", "-c", "run it"};
  l.command = "/usr/bin/env predict --model " + (tmp / "model.json") + " --cache=" + (tmp.path() / "runs").string() +
              " {inputs} {outputs}";
  l.inputs_dir = dir / "inputs";
  l.outputs_dir = dir / "outputs";
  l.scratch_dir = dir / "scratch";
  l.workdir = tmp.path() / "wd";
  l.cwd = l.workdir;
  l.gpu_index = 1;
  l.ro = {tmp.path() / "extra-ro"};
  l.rw = {tmp.path() / "extra-rw"};
  l.hidden = team;
  const auto a = bwrap_argv("/usr/bin/bwrap", l);
  REQUIRE(a.size() > 10);
  CHECK(a[0] == "/usr/bin/bwrap");
  for (const char* f : {"--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session"}) CHECK(has(a, f));
  CHECK(after(a, "--cap-drop") == std::vector<std::string>{"ALL"});
  CHECK(has(after(a, "--tmpfs"), "/tmp"));
  CHECK(has(after(a, "--proc"), "/proc"));
  CHECK(has(after(a, "--dev"), "/dev"));
  CHECK(has(after(a, "--remount-ro"), "/"));
  // The launch's GPU only, plus the driver's control nodes.
  const auto dev = after(a, "--dev-bind-try");
  CHECK(has(dev, "/dev/nvidia1"));
  CHECK(has(dev, "/dev/nvidiactl"));
  CHECK_FALSE(has(dev, "/dev/nvidia0"));
  // Writable: the outputs, the scratch folder and --sandbox-rw; nothing else.
  const auto rw = after(a, "--bind");
  CHECK(rw.size() == 3);
  CHECK(has(rw, (dir / "outputs").string()));
  CHECK(has(rw, (dir / "scratch").string()));
  CHECK(has(rw, (tmp.path() / "extra-rw").string()));
  const auto ro = after(a, "--ro-bind");
  CHECK(has(ro, (dir / "inputs").string()));
  CHECK(has(ro, (tmp.path() / "extra-ro").string()));
  CHECK(has(ro, (tmp.path() / "wd").string()));
  CHECK(has(ro, tmp / "model.json"));  // named in the command
  CHECK(has(ro, "/usr"));
  // The team folder and the folder holding it (named in the command) are not mounted, nor is /etc whole.
  for (const auto& src : ro) {
    CHECK(src != team.string());
    CHECK(src != (tmp.path() / "runs").string());
    CHECK(src != "/etc");
    CHECK(src != "/");
  }
  CHECK_FALSE(has(after(a, "--ro-bind-try"), "/etc/shadow"));
  // The command itself comes last, unchanged, in the working folder.
  const auto dash = std::find(a.begin(), a.end(), "--");
  REQUIRE(dash != a.end());
  CHECK(std::vector<std::string>(dash + 1, a.end()) == l.argv);
  CHECK(after(a, "--chdir") == std::vector<std::string>{(tmp.path() / "wd").string()});
}

TEST_CASE("sandbox mounts: what would show the team folder is refused, parents come before children", "[sandbox]") {
  lb::test::TempDir tmp("sbmounts");
  const fs::path team = tmp.path() / "team";
  fs::create_directories(team / ".work" / "L" / "outputs");
  fs::create_directories(tmp.path() / "data" / "sub");
  SandboxLaunch l;
  l.hidden = team;
  l.outputs_dir = team / ".work" / "L" / "outputs";
  SECTION("--sandbox-ro of a folder holding the team folder") {
    l.ro = {tmp.path()};
    CHECK_THROWS_WITH(sandbox_mounts(l), Catch::Contains("would show the team folder"));
  }
  SECTION("--sandbox-rw of the journal itself") {
    std::ofstream(team / "records.jsonl") << "\n";
    l.rw = {team / "records.jsonl"};
    CHECK_THROWS_WITH(sandbox_mounts(l), Catch::Contains("would show the team folder"));
  }
  SECTION("--workdir inside the team folder") {
    l.workdir = team;
    CHECK_THROWS_WITH(sandbox_mounts(l), Catch::Contains("--workdir"));
  }
  SECTION("a path that does not exist") {
    l.ro = {tmp.path() / "nope"};
    CHECK_THROWS_WITH(sandbox_mounts(l), Catch::Contains("does not exist"));
  }
  SECTION("read-only and writable of one path: writable; a child after its parent") {
    l.rw = {tmp.path() / "data" / "sub"};
    l.ro = {tmp.path() / "data", tmp.path() / "data" / "sub"};
    const auto m = sandbox_mounts(l);
    REQUIRE(m.size() == 3);
    CHECK(m[0].path == tmp.path() / "data");
    CHECK_FALSE(m[0].writable);
    CHECK(m[1].path == tmp.path() / "data" / "sub");
    CHECK(m[1].writable);
    CHECK(m[2].path == l.outputs_dir);
  }
}

TEST_CASE("paths named in a command: quoted words and --flag=/path values", "[sandbox]") {
  const auto p = paths_named_in("PYTHONPATH=/opt/lib exec '/a b/prog' --model=/m.json -x \"/q/r\" rel {inputs}; /c|/d");
  CHECK(p == std::vector<std::string>{"/opt/lib", "/a b/prog", "/m.json", "/q/r", "/c", "/d"});
  CHECK(paths_overlap("/x/y", "/x"));
  CHECK(paths_overlap("/x", "/x/y/z"));
  CHECK_FALSE(paths_overlap("/x/y", "/x/yz"));
}

TEST_CASE("wall time above the limit is a timeout even when lesionbench's timer did not fire", "[sandbox]") {
  // The SIGSTOP attack: lesionbench stopped, continued later; the launch ended "in time" by the timer's
  // account but took 5.3 s of a 2 s limit.
  RunSettings st;
  LaunchExit e;
  e.exit_code = 0;
  const ExitVerdict late = classify_exit(e, KillReason::none, st, 2.0, 0, 5.3);
  CHECK(late.status == RunStatus::timeout);
  CHECK_FALSE(late.check_output);
  CHECK_THAT(late.message, Catch::Contains("5.3 s") && Catch::Contains("2 s"));
  CHECK(classify_exit(e, KillReason::none, st, 2.0, 0, 1.9).status == RunStatus::ok);
  CHECK(classify_exit(e, KillReason::none, st, 0.0, 0, 99).status == RunStatus::ok);  // no limit
}

TEST_CASE("sandbox: lesionbench cannot be seen or stopped from inside", "[sandbox]") {
  REQUIRE_BWRAP();
  Team t;
  const std::string me = std::to_string(::getpid());
  CommandSettings s;
  s.command = "if kill -STOP " + me + " 2>/dev/null || kill -KILL " + me +
              " 2>/dev/null; then echo REACHED; else echo SAFE; fi; n=0; for d in /proc/[0-9]*; do n=$((n+1)); done; "
              "echo procs=$n; cat /proc/1/comm";
  const Launch r = t.run(s);
  INFO(r.out << r.err);
  CHECK(r.exit.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("SAFE\n"));
  // Its own namespace: bwrap's init, the shell and the loop's ls-free count, nothing of the machine.
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("procs=([0-9]+)")));
  CHECK(std::stoi(m[1]) <= 4);
  CHECK_THAT(r.out, Catch::EndsWith("bwrap\n"));
}

TEST_CASE("sandbox: the journal, the ground truth and other teams are invisible, outputs writable", "[sandbox]") {
  REQUIRE_BWRAP();
  Team t;
  const fs::path gt = t.tmp.path() / "gt" / "C1.nii.gz", other = t.tmp.path() / "other-team" / "predictions" / "C1.nii.gz";
  fs::create_directories(gt.parent_path());
  fs::create_directories(other.parent_path());
  std::ofstream(gt) << "labels";
  fs::create_directories(t.team / "predictions");
  std::ofstream(t.team / "predictions" / "C0.nii.gz") << "ours";
  std::ofstream(other) << "theirs";
  const fs::path prog = write_script(
      t.tmp.path() / "prog", "attack.sh",
      "echo '{\"case\":\"forged\",\"status\":\"ok\",\"wall_s\":0.01}' >> ../../../records.jsonl && echo FORGED1\n"
      "echo forged >> " + shell_quote((t.team / "records.jsonl").string()) + " && echo FORGED2\n"
      "cat " + shell_quote(gt.string()) + " && echo READ-GT\n"
      "cat " + shell_quote(other.string()) + " && echo READ-OTHER\n"
      "ls " + shell_quote((t.team / "predictions").string()) + " && echo LISTED-TEAM\n"
      "echo x > \"$2/C1.nii.gz\" && echo WROTE-OUTPUT\n"
      "echo x > \"$1/C1_0000.nii.gz\" || echo INPUTS-READ-ONLY\n"
      "cat \"$1/C1_0000.nii.gz\" > /dev/null && echo READ-INPUT\n"
      "echo t > /tmp/t && echo TMP-OK\n"
      "exit 0");
  CommandSettings s;
  s.command = "/bin/sh " + shell_quote(prog.string()) + " {inputs} {outputs}";
  const Launch r = t.run(s);
  INFO(r.out << r.err);
  CHECK(r.exit.exit_code == 0);
  for (const char* bad : {"FORGED1", "FORGED2", "READ-GT", "READ-OTHER", "LISTED-TEAM"})
    CHECK_THAT(r.out, !Catch::Contains(bad));
  for (const char* good : {"WROTE-OUTPUT", "INPUTS-READ-ONLY", "READ-INPUT", "TMP-OK"}) CHECK_THAT(r.out, Catch::Contains(good));
  CHECK(lb::test::read_text((t.team / "records.jsonl").string()) == "{\"case\":\"real\"}\n");
  CHECK(fs::exists(t.out / "C1.nii.gz"));
}

TEST_CASE("sandbox: no network inside", "[sandbox]") {
  REQUIRE_BWRAP();
  Team t;
  CommandSettings s;
  s.command = contestant_command("net-check");
  const Launch r = t.run(s);
  INFO(r.out << r.err);
  CHECK(r.exit.exit_code == 0);  // 8 when it finds an interface other than loopback
  s.command = "cat /proc/net/dev | tail -n +3 | cut -d: -f1";
  const Launch ifs = t.run(s);
  CHECK(ifs.out.find("lo") != std::string::npos);
  CHECK(ifs.out.find("eth") == std::string::npos);
  CHECK(ifs.out.find("ens") == std::string::npos);
}

TEST_CASE("sandbox: a background process dies with the command, and a GPU launch sees GPU 0", "[sandbox]") {
  REQUIRE_BWRAP();
  Team t;
  const fs::path probe = t.tmp.path() / "probe";
  fs::create_directories(probe);
  CommandSettings s;
  s.sandbox_rw = {probe.string()};
  s.command = "(while :; do echo beat >> " + shell_quote((probe / "beat").string()) +
              "; sleep 0.05; done) & sleep 0.3; echo \"$CUDA_VISIBLE_DEVICES\"";
  const Launch r = t.run(s, 0, 3);
  CHECK(r.exit.exit_code == 0);
  CHECK(r.out == "0\n");  // only /dev/nvidia3 is there: CUDA's device 0
  const auto size = fs::file_size(probe / "beat");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(fs::file_size(probe / "beat") == size);
}

TEST_CASE("a fork chain killed on timeout is noted with the number of processes killed", "[sandbox]") {
  Team t;
  const fs::path probe = t.tmp.path() / "probe", ready = probe / "ready";
  fs::create_directories(probe);
  for (SandboxKind kind : {SandboxKind::none, SandboxKind::bwrap}) {
    if (kind == SandboxKind::bwrap && !bwrap_works()) continue;
    fs::remove(ready);
    CommandSettings s;
    s.sandbox = kind;
    if (kind == SandboxKind::bwrap) s.sandbox_rw = {probe.string()};
    // Three orphans (each started by a subshell that exits at once), the shell and its sleep; killed once
    // they all run (a fixed delay is too short on a loaded machine).
    s.command = "for i in 1 2 3; do (sleep 60 &); done; sleep 0.2; touch " + shell_quote(ready.string()) + "; sleep 60";
    const Launch r = t.run(s, 0, std::nullopt, ready);
    INFO(sandbox_name(kind) << ": " << r.err);
    std::string notes;
    for (const auto& n : r.exit.notes) notes += n + "\n";
    INFO(notes);
    std::smatch m;
    REQUIRE(std::regex_search(notes, m, std::regex("killed ([0-9]+) process\\(es\\) of its tree")));
    CHECK(std::stoi(m[1]) >= 5);
    CHECK(std::stoi(m[1]) <= 6);
  }
}

TEST_CASE("run: without a working bwrap, run exits 2 naming --sandbox none, and --sandbox none is recorded", "[sandbox][cli]") {
  lb::test::TempDir tmp("sbcli");
  write_case(tmp.path() / "cases", "a");
  const std::string base = shell_quote(LB_CLI) + " run --cases " + shell_quote(tmp / "cases") + " --gpu none --command " +
                           shell_quote(contestant_command("predict"));
  // No bwrap on PATH (the contestant is named by its full path, so nothing else needs PATH).
  const auto r = lb::test::run_command("PATH=/nonexistent " + base + " --out " + shell_quote(tmp / "t1"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--sandbox none") && Catch::Contains("bubblewrap"));
  CHECK_FALSE(fs::exists(tmp.path() / "t1" / "records.jsonl"));
  const auto none = lb::test::run_command("PATH=/nonexistent " + base + " --sandbox none --out " + shell_quote(tmp / "t2"));
  INFO(none.out << none.err);
  REQUIRE(none.exit_code == 0);
  std::vector<std::string> warnings;
  const auto recs = read_records_jsonl((tmp.path() / "t2" / "records.jsonl").string(), &warnings);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].status == RunStatus::ok);
  CHECK(recs[0].provenance.sandbox == "none");
  CHECK_THAT(none.out, Catch::Contains("NO sandbox"));
  // A --sandbox-ro that would show the team folder is refused before anything runs.
  const auto shown = run_cli("run --cases " + shell_quote(tmp / "cases") + " --out " + shell_quote(tmp / "t3") +
                             " --gpu none --sandbox-ro " + shell_quote(tmp.path().string()) + " --command true");
  CHECK(shown.exit_code == 2);
  CHECK_THAT(shown.err, Catch::Contains("would show the team folder"));
  const auto container = run_cli("run --cases " + shell_quote(tmp / "cases") + " --out " + shell_quote(tmp / "t4") +
                                 " --image x:1 --sandbox-ro " + shell_quote(tmp.path().string()));
  CHECK(container.exit_code == 2);
  CHECK_THAT(container.err, Catch::Contains("apply to --command"));
}

TEST_CASE("run: a command cannot forge the journal, and every launch has its own work folder", "[sandbox][cli]") {
  REQUIRE_BWRAP();
  lb::test::TempDir tmp("sbforge");
  const fs::path cases = tmp.path() / "cases", team = tmp.path() / "team";
  write_case(cases, "a");
  write_case(cases, "b");
  const fs::path prog = write_script(
      tmp.path() / "prog", "forge.sh",
      "pwd\n"
      "for j in ../../../records.jsonl ../../records.jsonl " + shell_quote((team / "records.jsonl").string()) + "; do\n"
      "  echo '{\"schema_version\":\"1.0\",\"case\":\"zz_forged\",\"status\":\"ok\",\"wall_s\":0.01}' >> $j\n"
      "done\n"
      "exec \"$3\" predict \"$1\" \"$2\"");
  const auto r = run_cli("run --cases " + shell_quote(cases.string()) + " --out " + shell_quote(team.string()) +
                         " --gpu none --command " +
                         shell_quote("/bin/sh " + shell_quote(prog.string()) + " {inputs} {outputs} " + shell_quote(contestant())));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> warnings;
  const auto recs = read_records_jsonl((team / "records.jsonl").string(), &warnings);
  REQUIRE(recs.size() == 2);
  for (const auto& rec : recs) {
    CHECK(rec.case_name != "zz_forged");
    CHECK(rec.status == RunStatus::ok);
    CHECK(rec.provenance.sandbox == "bwrap");
    CHECK(rec.provenance.launch.at(0).find("bwrap") != std::string::npos);
  }
  CHECK(lb::test::read_text((team / "records.jsonl").string()).find("zz_forged") == std::string::npos);
  const std::string wa = lb::test::read_text((team / "logs" / "a.stdout.txt").string());
  const std::string wb = lb::test::read_text((team / "logs" / "b.stdout.txt").string());
  CHECK_THAT(wa, Catch::Contains("/.work/a."));
  CHECK_THAT(wb, Catch::Contains("/.work/b."));
}

TEST_CASE("run: a background process does not survive kill -9 of lesionbench nor spoil the next run", "[sandbox][cli]") {
  REQUIRE_BWRAP();
  lb::test::TempDir tmp("sbkill9");
  const fs::path cases = tmp.path() / "cases", team = tmp.path() / "team", probe = tmp.path() / "probe";
  write_case(cases, "a");
  fs::create_directories(probe);
  // First launch: leaves a worker that, 1.5 s later, writes junk where the outputs were (and notes that it
  // ran), then hangs. Second launch (the resumed run): slow, then a good prediction.
  const fs::path prog = write_script(
      tmp.path() / "prog", "late.sh",
      "if [ ! -e " + shell_quote((probe / "first").string()) + " ]; then\n"
      "  touch " + shell_quote((probe / "first").string()) + "\n"
      "  ( sleep 1.5; echo junk > \"$2/a.nii.gz\"; echo junk > \"$PWD/../outputs/a.nii.gz\"; "
      "echo late >> " + shell_quote((probe / "late").string()) + " ) &\n"
      "  exec sleep 30\n"
      "fi\n"
      "sleep 2.5\n"
      "exec \"$3\" predict \"$1\" \"$2\"");
  const std::string cli = shell_quote(LB_CLI) + " run --cases " + shell_quote(cases.string()) + " --out " +
                          shell_quote(team.string()) + " --gpu none --sandbox-rw " + shell_quote(probe.string()) +
                          " --command " +
                          shell_quote("/bin/sh " + shell_quote(prog.string()) + " {inputs} {outputs} " + shell_quote(contestant()));
  const auto first = lb::test::run_command("( " + cli + " & p=$!; for i in $(seq 200); do [ -e " +
                                           shell_quote((probe / "first").string()) +
                                           " ] && break; sleep 0.05; done; sleep 0.3; kill -KILL $p; wait $p; echo rc=$? )");
  CHECK_THAT(first.out, Catch::Contains("rc=137"));
  const auto second = lb::test::run_command(cli + " --resume");
  INFO(second.out << second.err);
  REQUIRE(second.exit_code == 0);
  std::vector<std::string> warnings;
  const auto recs = read_records_jsonl((team / "records.jsonl").string(), &warnings);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].status == RunStatus::ok);
  CHECK_FALSE(fs::exists(probe / "late"));
}

TEST_CASE("manifest: sandbox, sandbox_ro and sandbox_rw for commands, refused for images", "[sandbox]") {
  lb::test::TempDir tmp("sbmanifest");
  fs::create_directories(tmp.path() / "models");
  fs::create_directories(tmp.path() / "cache");
  const fs::path m = tmp.path() / "m.json";
  ContestantSpec defaults;
  defaults.command.sandbox_ro = {"/opt/from-the-command-line"};
  std::ofstream(m) << R"({"contestants": [
      {"name": "a", "command": "x {inputs} {outputs}", "sandbox_ro": ["models"], "sandbox_rw": [")"
                   << (tmp.path() / "cache").string() << R"("]},
      {"name": "b", "command": "y", "sandbox": "none"}]})";
  const auto specs = read_manifest(m, defaults);
  REQUIRE(specs.size() == 2);
  CHECK(specs[0].command.sandbox == SandboxKind::bwrap);
  CHECK(specs[0].command.sandbox_ro ==
        std::vector<std::string>{"/opt/from-the-command-line", (tmp.path() / "models").string()});
  CHECK(specs[0].command.sandbox_rw == std::vector<std::string>{(tmp.path() / "cache").string()});
  CHECK(specs[1].command.sandbox == SandboxKind::none);
  std::ofstream(m, std::ios::trunc) << R"({"contestants": [{"name": "c", "image": "i:1", "sandbox": "none"}]})";
  CHECK_THROWS_WITH(read_manifest(m, defaults), Catch::Contains("applies only to commands"));
  std::ofstream(m, std::ios::trunc) << R"({"contestants": [{"name": "d", "command": "z", "sandbox": "firejail"}]})";
  CHECK_THROWS_WITH(read_manifest(m, defaults), Catch::Contains("\"bwrap\" or \"none\""));
  std::ofstream(m, std::ios::trunc) << R"({"contestants": [{"name": "e", "command": "z", "sandbox_ro": ["nope"]}]})";
  CHECK_THROWS_WITH(read_manifest(m, defaults), Catch::Contains("does not exist"));
}

TEST_CASE("run --sandbox none: a command that stops lesionbench and is continued later is a timeout", "[sandbox][cli]") {
  // The attack the sandbox prevents, unconfined: the command SIGSTOPs lesionbench (its pid is the shell's
  // that execs it), writes its prediction and exits; lesionbench is continued 2.5 s later. Its timer never
  // fired, but the measured wall time is above the 1 s limit.
  // The command waits 0.5 s after its SIGSTOP (still well inside the limit): a stop reaches every thread of
  // a process only once the thread the kernel chose for it runs, and on a loaded machine a contestant
  // that exits at once can be reaped, in time, before that. And CONT is sent again every 0.5 s for a
  // while, in case a slow start (a sanitizer build under load) made the first one come before the STOP.
  lb::test::TempDir tmp("sbstop");
  const fs::path cases = tmp.path() / "cases", team = tmp.path() / "team";
  write_case(cases, "a");
  const std::string inner = "kill -STOP $$; sleep 0.5; exec " + contestant_command("predict");
  const std::string lb = "exec " + shell_quote(LB_CLI) + " run --cases " + shell_quote(cases.string()) + " --out " +
                         shell_quote(team.string()) + " --gpu none --timeout-s 1 --sandbox none --command \"" + inner + "\"";
  const auto r = lb::test::run_command(
      "( sh -c " + shell_quote(lb) +
      " & p=$!; ( sleep 2.5; for i in 1 2 3 4 5 6 7 8 9 10; do kill -CONT $p; sleep 0.5; done ) >/dev/null 2>&1 & "
      "wait $p; echo rc=$? )");
  INFO(r.out << r.err);
  CHECK_THAT(r.out, Catch::Contains("rc=0"));
  std::vector<std::string> warnings;
  const auto recs = read_records_jsonl((team / "records.jsonl").string(), &warnings);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].status == RunStatus::timeout);
  CHECK(recs[0].wall_s > 1.0);
  CHECK_FALSE(recs[0].prediction.has_value());
}
