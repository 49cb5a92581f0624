// lesionbench run: launch contestants (commands or containers) on cases, measure them, record every case.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include "args/args.h"
#include "cli/commands.h"
#include "cli/slurm_run.h"
#include "cli/version.h"
#include "runner/contestant.h"
#include "runner/hmac.h"
#include "runner/journal.h"
#include "runner/nvml.h"
#include "runner/sandbox.h"
#include "runner/proc.h"
#include "runner/scheduler.h"
#include "runner/slots.h"
#include "runner/slurm.h"

namespace fs = std::filesystem;
using namespace lb::runner;

namespace lb::cli {

namespace {

std::atomic<bool> g_stop{false};

// The disk under a team folder filled up (docs/runner.md, "Exit codes").
constexpr int kExitDiskFull = 3;

extern "C" void on_stop_signal(int) { g_stop.store(true); }

// Ctrl-C (or SIGTERM) asks the run to stop: the contestant is killed and the journal stays complete.
// A second Ctrl-C ends lesionbench at once (SA_RESETHAND).
void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  // A closed stdout (`| head`) must not kill lesionbench in the middle of a case; contestants get the
  // default back (spawn.cpp).
  ::signal(SIGPIPE, SIG_IGN);
}

std::string fixed(double v, int decimals) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(decimals) << v;
  return s.str();
}

std::string duration_text(double s) {
  if (s < 120) return fixed(s, 1) + " s";
  const int total = static_cast<int>(std::lround(s));
  return std::to_string(total / 60) + " min " + std::to_string(total % 60) + " s";
}

std::string mib_text(double mib) {
  if (mib >= 1024) return fixed(mib / 1024, 2) + " GiB";
  return fixed(mib, 0) + " MiB";
}

// A default name from the image ("registry/team-a:latest" -> "team-a") or the command's program.
std::string default_name(const ContestantSpec& s) {
  std::string base;
  if (s.is_container) {
    base = s.container.image.empty() ? fs::path(s.container.image_archive).filename().string() : s.container.image;
    if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
    if (auto colon = base.find(':'); colon != std::string::npos) base = base.substr(0, colon);
    if (auto dot = base.find('.'); dot != std::string::npos && s.container.image.empty()) base = base.substr(0, dot);
  } else {
    std::istringstream in(s.command.command);
    in >> base;
    base = fs::path(base).filename().string();
  }
  std::string clean;
  for (char c : base)
    clean += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  while (!clean.empty() && (clean[0] == '.' || clean[0] == '-')) clean.erase(0, 1);
  return clean.empty() ? "contestant" : clean;
}

struct GpuChoice {
  std::optional<int> index;
  std::string text;  // for the settings line
};

GpuChoice resolve_gpu(const std::string& gpu, const Nvml& nvml) {
  if (gpu == "none") return {std::nullopt, "none (--gpu none)"};
  if (gpu == "auto") {
    if (nvml.available() && nvml.device_count() > 0) return {0, "0 (the first of " + std::to_string(nvml.device_count()) + ")"};
    return {std::nullopt, "none (" + nvml.error() + ")"};
  }
  int idx = -1;
  try {
    size_t used = 0;
    idx = std::stoi(gpu, &used);
    if (used != gpu.size()) idx = -1;
  } catch (const std::exception&) {
  }
  if (idx < 0) throw UsageError("--gpu must be auto, none or a device index, not '" + gpu + "'");
  std::string text = std::to_string(idx);
  if (!nvml.available()) text += " (not measured: " + nvml.error() + ")";
  else if (idx >= nvml.device_count()) text += " (NVML sees only " + std::to_string(nvml.device_count()) + " GPU(s): not measured)";
  return {idx, text};
}

// Teams of a manifest run side by side over slots: one line at a time on the terminal.
std::mutex g_out_mu;

void print_record(const RunRecord& r, size_t index, size_t total, bool quiet, const std::string& prefix) {
  if (quiet && r.status == RunStatus::ok) return;
  const int width = static_cast<int>(std::to_string(total).size());
  std::ostringstream line;
  line << prefix << "[" << std::setw(width) << index + 1 << "/" << total << "] " << std::left << std::setw(22) << r.case_name << " "
       << std::setw(13) << status_name(r.status) << std::right << std::setw(9) << (fixed(r.wall_s, 1) + " s");
  if (r.gpu.available && r.gpu.device_max_mib) {
    line << "  GPU " << mib_text(*r.gpu.device_max_mib);
    if (r.gpu.own_max_mib) line << " (own " << mib_text(*r.gpu.own_max_mib) << ")";
  }
  if (r.cpu.max_pct) line << "  CPU " << fixed(*r.cpu.max_pct, 0) << "%";
  if (r.ram.max_mib) line << "  RSS " << mib_text(*r.ram.max_mib);
  if (r.placement && r.placement->slots > 1) {
    line << "  slot " << r.placement->slot;
    if (r.gpu.index) line << " (GPU " << *r.gpu.index << ")";
  }
  line << "\n";
  if (r.status != RunStatus::ok && !r.message.empty()) line << "      " << r.message << "\n";
  for (const auto& n : r.notes) line << "      note: " << n << "\n";
  std::lock_guard<std::mutex> lock(g_out_mu);
  std::cout << line.str();
  std::cout.flush();
}

// "28g", "512m", "1024k", "2147483648" (bytes) as MiB, the way engines read -m; nullopt when unreadable.
std::optional<double> size_mib(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  if (unit.empty() || unit == "b") return v / (1024.0 * 1024.0);
  if (unit == "k" || unit == "K") return v / 1024.0;
  if (unit == "m" || unit == "M") return v;
  if (unit == "g" || unit == "G") return v * 1024.0;
  return std::nullopt;
}

struct Options {
  std::string cases_dir, out_dir, manifest;
  std::string name, image, image_archive, engine = "auto", entry, memory = "28g", shm_size = "28g", network = "none";
  std::vector<std::string> engine_args, gpu_args, env;
  std::string command, workdir, sandbox = "bwrap";
  std::vector<std::string> sandbox_ro, sandbox_rw;
  bool per_case = false, batch = false, resume = false, fresh = false, quiet = false;
  double timeout_s = 600, sample_ms = 100, memory_limit_mib = 0;
  int pids_limit = 4096;
  bool allow_new_privileges = false;
  std::vector<std::string> cap_add;
  std::string geometry = "warn";
  double max_output_mib = 16384, keep_rejected_mib = 64;
  int max_output_files = 10000;
  bool force = false;
  int log_cap_kib = 1024;
  std::string gpu;             // empty: not given (auto)
  std::string gpus;            // --gpus: one slot per GPU
  int parallel = 0;            // --parallel: slots without GPU; 0: not given
  int cpus_per_slot = 0;       // --cpus-per-slot; 0: an even split
  std::string sign_key_file;  // --sign-key
  // --backend slurm (cli/slurm_run.h)
  std::string backend = "local";
  std::vector<std::string> slurm_args;
  int cases_per_task = 1, max_running = 0;
  bool no_wait = false;
};

}  // namespace

int cmd_run(int argc, char** argv) {
  // An array task of the Slurm backend (the job script's command line; not for people).
  if (argc == 2 && std::string(argv[0]) == "--slurm-task") return run_slurm_task(argv[1]);
  const SlurmTaskContext* task = slurm_task_context();
  Options o;
  Args args("run",
            "lesionbench run --cases CASES_DIR --out TEAM_DIR (--command CMD | --image IMAGE) [options]\n"
            "       lesionbench run --cases CASES_DIR --out RESULTS_DIR --manifest contestants.json [options]",
            "Runs a contestant on every <case>_0000.nii.gz of CASES_DIR as FLARE does (one launch per case, fresh\n"
            "inputs and outputs folders), measuring wall time, GPU memory (device-wide as FLARE reads it, and the\n"
            "contestant's own), CPU and RAM. Every case gets a record in TEAM_DIR/records.jsonl (status ok,\n"
            "nonzero_exit, signal, timeout, oom, no_output, bad_output or launch_error), its prediction in\n"
            "TEAM_DIR/predictions/, its samples and logs; TEAM_DIR/efficiency.csv has the official columns.\n"
            "With --manifest, each contestant gets RESULTS_DIR/<name>/.");
  args.option("--cases", "DIR", "input images, <case>_0000.nii.gz", &o.cases_dir, true)
      .option("--out", "DIR", "team folder (or, with --manifest, the folder of team folders)", &o.out_dir, true)
      .option("--manifest", "FILE", "run several contestants (schemas/manifest.schema.json)", &o.manifest)
      .option("--name", "NAME", "contestant name (default: from the image or the command)", &o.name)
      .option("--command", "CMD", "a command line with {inputs} and {outputs}, run by /bin/sh -c", &o.command)
      .option("--workdir", "DIR", "working folder of --command (default: a fresh scratch folder per launch)", &o.workdir)
      .choice("--sandbox", {"bwrap", "none"},
              "commands run in a bubblewrap sandbox (default bwrap: own PID namespace, no network, only the "
              "allow-list of docs/runner.md visible); none: unconfined, as your user",
              &o.sandbox)
      .repeated("--sandbox-ro", "PATH", "also show PATH read-only in the sandbox (repeatable)", &o.sandbox_ro)
      .repeated("--sandbox-rw", "PATH", "also show PATH writable in the sandbox (repeatable)", &o.sandbox_rw)
      .repeated("--env", "KEY=VALUE", "extra environment for the contestant (repeatable)", &o.env)
      .option("--image", "IMAGE", "a container image following the FLARE contract (predict.sh)", &o.image)
      .option("--image-archive", "FILE", "load this `docker save` archive first; the image is removed after", &o.image_archive)
      .choice("--engine", {"auto", "docker", "podman"}, "container engine (default auto: docker if on PATH, else podman)",
              &o.engine)
      .repeated("--engine-arg", "ARG", "extra argument for `ENGINE run`, before the image (repeatable)", &o.engine_args)
      .option("--entry", "CMD", "command run in the container by /bin/bash -c (default: sh predict.sh)", &o.entry)
      .option("--memory", "SIZE", "container memory limit, -m (default 28g; '' for none)", &o.memory)
      .option("--shm-size", "SIZE", "container shared memory, --shm-size (default 28g; '' for the engine's)", &o.shm_size)
      .option("--network", "NET", "container network (default none)", &o.network)
      .option("--pids-limit", "N", "most processes a container may hold, --pids-limit (default 4096; 0: the engine's)",
              &o.pids_limit)
      .flag("--allow-new-privileges", "leave out --security-opt no-new-privileges (setuid binaries in the image work)",
            &o.allow_new_privileges)
      .repeated("--cap-add", "CAP", "give the container this capability (repeatable; containers start with none, "
                                    "--cap-drop ALL; ALL: the engine's default set)",
                &o.cap_add)
      .repeated("--gpu-arg", "ARG", "GPU flags for the engine with {gpu} for the index (default docker: --gpus "
                                    "device={gpu}; podman: --device nvidia.com/gpu={gpu})",
                &o.gpu_args)
      .flag("--per-case", "one launch per case, FLARE's protocol (default)", &o.per_case)
      .flag("--batch", "one launch for all cases (faster local validation; timed as a whole)", &o.batch)
      .option("--timeout-s", "S", "time limit per case, the whole tree killed after it (default 600; 0: none)", &o.timeout_s)
      .option("--gpu", "auto|none|N", "GPU to give and to measure (default auto: 0 when NVML finds one)", &o.gpu)
      .option("--gpus", "all|0,1,..", "one slot per GPU (NVML indices or UUIDs), a launch on each at once; with a "
                                      "manifest, the teams' cases share the slots (excludes --gpu)",
              &o.gpus)
      .option("--parallel", "N", "N slots without a GPU: N launches at once (CPU contestants); --parallel 1 or none "
                                 "for official timings",
              &o.parallel)
      .option("--cpus-per-slot", "N", "CPUs of each slot: affinity for commands, --cpuset-cpus for containers "
                                      "(default an even split of the CPUs lesionbench may use)",
              &o.cpus_per_slot)
      .option("--sample-ms", "MS", "sampling interval (default 100, FLARE's)", &o.sample_ms)
      .option("--memory-limit-mib", "MIB", "kill a command whose processes' resident memory exceeds this (status oom)",
              &o.memory_limit_mib)
      .option("--max-output-mib", "MIB", "stop a launch that writes more than this into its outputs and working "
                                          "folders, per case (status bad_output; default 16384; 0: no cap)",
              &o.max_output_mib)
      .option("--max-output-files", "N", "the same for the number of files and folders (default 10000; 0: no cap)",
              &o.max_output_files)
      .option("--keep-rejected-mib", "MIB", "most of a failed case's outputs kept in rejected/<case>/ (default 64)",
              &o.keep_rejected_mib)
      .choice("--geometry", {"warn", "strict"}, "a prediction whose spacing, origin or direction differs from its "
                                                "image: warn (default, kept with a note, as `score` does) or strict "
                                                "(bad_output)",
              &o.geometry)
      .option("--log-cap-kib", "KIB", "keep this much of the start of each stdout/stderr, plus a quarter of it from "
                                      "the end (default 1024)",
              &o.log_cap_kib)
      .option("--sign-key", "FILE", "sign every record with HMAC-SHA256 and this key (the organiser's; report "
                                    "--verify-key FILE refuses records that are unsigned or altered)",
              &o.sign_key_file)
      .flag("--resume", "continue a run: cases already in records.jsonl are skipped", &o.resume)
      .flag("--fresh", "start over: remove the team folder's records, predictions, samples and logs first", &o.fresh)
      .flag("--force", "run even though the team folder was started with another contestant (contestant.json)",
            &o.force)
      .flag("--quiet", "print only failed cases and the summary", &o.quiet)
      .choice("--backend", {"local", "slurm"}, "local (default): run here; slurm: submit one sbatch job array per "
                                               "contestant, each task running lesionbench on its cases, and merge",
              &o.backend)
      .repeated("--slurm-arg", "ARG", "with --backend slurm: an sbatch option, e.g. --slurm-arg=--partition=gpu "
                                      "--slurm-arg=--gres=gpu:1 (repeatable)",
                &o.slurm_args)
      .option("--cases-per-task", "K", "with --backend slurm: cases per array task (default 1)", &o.cases_per_task)
      .option("--max-running", "M", "with --backend slurm: at most M tasks at once (sbatch --array=...%M; default: no "
                                    "limit)",
              &o.max_running)
      .flag("--no-wait", "with --backend slurm: print the job id and return; `lesionbench collect TEAM_DIR` merges later",
            &o.no_wait)
      .epilog(
          "Examples:\n"
          "  lesionbench run --cases imagesTs/ --out runs/baseline --command 'lesionbench-baseline predict --input "
          "{inputs} --output {outputs}'\n"
          "  lesionbench run --cases imagesTs/ --out runs/team-a --image-archive team-a.tar.gz --gpu 0\n"
          "  lesionbench run --cases imagesTs/ --out runs/ --manifest contestants.json --resume\n"
          "  lesionbench run --cases imagesTs/ --out runs/ --manifest contestants.json --gpus all\n\n"
          "Exit codes: 0 the run completed (failed cases are recorded with their status), 2 it could not start,\n"
          "3 the disk is full (the case in flight was not recorded; free space and continue with --resume),\n"
          "130 interrupted (the journal holds every finished case; continue with --resume).");
  if (!args.parse(argc, argv)) return 0;

  if (o.per_case && o.batch) throw UsageError("--per-case and --batch exclude each other");
  if (o.resume && o.fresh) throw UsageError("--resume and --fresh exclude each other");
  if (o.timeout_s < 0) throw UsageError("--timeout-s must be >= 0");
  if (!(o.sample_ms >= 1)) throw UsageError("--sample-ms must be at least 1");
  if (o.memory_limit_mib < 0) throw UsageError("--memory-limit-mib must be >= 0");
  if (o.pids_limit < 0) throw UsageError("--pids-limit must be >= 0");
  if (o.log_cap_kib < 1) throw UsageError("--log-cap-kib must be at least 1");
  if (o.max_output_mib < 0) throw UsageError("--max-output-mib must be >= 0");
  if (o.max_output_files < 0) throw UsageError("--max-output-files must be >= 0");
  if (o.keep_rejected_mib < 0) throw UsageError("--keep-rejected-mib must be >= 0");
  if (!o.gpus.empty() && args.given("--parallel"))
    throw UsageError("--gpus and --parallel exclude each other: --gpus makes one slot per GPU, --parallel N slots "
                     "without a GPU");
  if ((!o.gpus.empty() || args.given("--parallel")) && args.given("--gpu"))
    throw UsageError("--gpu gives one GPU to one launch at a time; with slots use --gpus 0,1,... (or --gpus N for "
                     "one slot on GPU N)");
  if (args.given("--parallel") && o.parallel < 1) throw UsageError("--parallel must be at least 1");
  if (args.given("--cpus-per-slot") && o.cpus_per_slot < 1) throw UsageError("--cpus-per-slot must be at least 1");
  if (o.backend != "slurm" && (!o.slurm_args.empty() || args.given("--cases-per-task") || args.given("--max-running") || o.no_wait))
    throw UsageError("--slurm-arg, --cases-per-task, --max-running and --no-wait need --backend slurm");
  if (o.backend == "slurm" && o.batch) throw UsageError("--batch and --backend slurm exclude each other (each task runs its cases one by one)");
  if (o.cases_per_task < 1) throw UsageError("--cases-per-task must be at least 1");
  if (o.max_running < 0) throw UsageError("--max-running must be >= 0");
  if (o.backend == "slurm" && (!o.gpus.empty() || args.given("--parallel") || args.given("--cpus-per-slot")))
    throw UsageError("--gpus, --parallel and --cpus-per-slot exclude --backend slurm: Slurm gives each task its GPU "
                     "(--slurm-arg=--gres=gpu:1)");
  const bool single = !o.command.empty() || !o.image.empty() || !o.image_archive.empty();
  if (o.manifest.empty() && !single) throw UsageError("give a contestant: --command, --image or --image-archive, or --manifest");
  if (!o.manifest.empty() && single) throw UsageError("--manifest replaces --command/--image; give one or the other");
  if (!o.command.empty() && (!o.image.empty() || !o.image_archive.empty()))
    throw UsageError("--command and --image/--image-archive exclude each other");
  if (!o.manifest.empty() && !o.name.empty()) throw UsageError("--name is taken from the manifest's entries");
  if (o.manifest.empty() && o.command.empty() && (!o.sandbox_ro.empty() || !o.sandbox_rw.empty()))
    throw UsageError("--sandbox-ro/--sandbox-rw apply to --command contestants; a container sees only its volumes");
  if (o.sandbox == "none" && (!o.sandbox_ro.empty() || !o.sandbox_rw.empty()))
    throw UsageError("--sandbox-ro/--sandbox-rw need the sandbox; they make no sense with --sandbox none");

  // Defaults every contestant starts from; a manifest entry overrides them.
  ContestantSpec defaults;
  defaults.container.engine = o.engine;
  defaults.container.engine_args = o.engine_args;
  if (!o.entry.empty()) defaults.container.entry = {"/bin/bash", "-c", o.entry};
  defaults.container.memory = o.memory;
  defaults.container.shm_size = o.shm_size;
  defaults.container.network = o.network;
  defaults.container.pids_limit = o.pids_limit;
  defaults.container.no_new_privileges = !o.allow_new_privileges;
  defaults.container.cap_add = o.cap_add;
  defaults.container.gpu_args = o.gpu_args;
  defaults.command.sandbox = *parse_sandbox(o.sandbox);
  for (const auto& [flag, in, out] : {std::tuple{"--sandbox-ro", &o.sandbox_ro, &defaults.command.sandbox_ro},
                                      std::tuple{"--sandbox-rw", &o.sandbox_rw, &defaults.command.sandbox_rw}}) {
    for (const auto& p : *in) {
      std::error_code ec;
      if (p.empty() || !fs::exists(p, ec)) throw UsageError(std::string(flag) + " " + p + ": no such file or folder");
      out->push_back(fs::absolute(p).lexically_normal().string());
    }
  }
  for (const auto& kv : o.env) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--env needs KEY=VALUE, not '" + kv + "'");
    defaults.command.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }

  std::vector<ContestantSpec> contestants;
  ManifestSlots manifest_slots;
  try {
    if (!o.manifest.empty()) {
      contestants = read_manifest(o.manifest, defaults, &manifest_slots);
    } else {
      ContestantSpec s = defaults;
      s.is_container = o.command.empty();
      if (s.is_container) {
        s.container.image = o.image;
        s.container.image_archive = o.image_archive;
        for (const auto& [k, v] : s.command.env) s.container.engine_args.insert(s.container.engine_args.end(), {"-e", k + "=" + v});
      } else {
        s.command.command = o.command;
        s.command.workdir = o.workdir.empty() ? "" : fs::absolute(o.workdir).string();
      }
      s.name = o.name.empty() ? default_name(s) : o.name;
      if (const std::string bad = check_contestant_name(s.name); !bad.empty()) throw UsageError(bad);
      contestants.push_back(s);
    }
  } catch (const SetupError& e) {
    std::cerr << "lesionbench run: " << e.what() << "\n";
    return 2;
  }

  std::vector<CaseInput> cases;
  std::vector<std::string> ignored;
  try {
    cases = find_cases(o.cases_dir, &ignored);
  } catch (const SetupError& e) {
    std::cerr << "lesionbench run: " << e.what() << "\n";
    return 2;
  }
  if (task) {
    // This task's shard only.
    std::vector<CaseInput> mine;
    for (const auto& c : cases)
      if (task->cases.count(c.name)) mine.push_back(c);
    cases = mine;
  }
  if (!ignored.empty() && !task) {
    std::cerr << "lesionbench run: note: " << ignored.size() << " file(s) in " << o.cases_dir
              << " are not <case>_0000.nii.gz images and are ignored: " << ignored[0]
              << (ignored.size() > 1 ? ", ..." : "") << "\n";
  }

  std::string sign_key;
  if (!o.sign_key_file.empty()) {
    try {
      sign_key = read_sign_key(o.sign_key_file);
    } catch (const std::exception& e) {
      std::cerr << "lesionbench run: --sign-key: " << e.what() << "\n";
      return 2;
    }
  }

  // The sandbox must work before anything runs: a run that silently went unconfined, or recorded every
  // case as launch_error, would be worse than stopping here.
  bool need_bwrap = false;
  for (const auto& spec : contestants) need_bwrap = need_bwrap || (!spec.is_container && spec.command.sandbox == SandboxKind::bwrap);
  // Under Slurm the tasks probe on their nodes; the submitting machine need not have bwrap.
  if (need_bwrap && o.backend != "slurm") {
    std::string bwrap;
    if (const std::string why = probe_bwrap(&bwrap); !why.empty()) {
      std::cerr << "lesionbench run: " << why << "\n";
      return 2;
    }
  }
  for (const auto& spec : contestants) {
    if (spec.is_container || spec.command.sandbox != SandboxKind::bwrap) continue;
    const fs::path team = fs::absolute(o.manifest.empty() ? fs::path(o.out_dir) : fs::path(o.out_dir) / spec.name);
    std::vector<std::pair<std::string, std::string>> given;
    for (const auto& p : spec.command.sandbox_ro) given.emplace_back("--sandbox-ro", p);
    for (const auto& p : spec.command.sandbox_rw) given.emplace_back("--sandbox-rw", p);
    if (!spec.command.workdir.empty()) given.emplace_back("--workdir", spec.command.workdir);
    for (const auto& [flag, p] : given)
      if (paths_overlap(p, team)) {
        std::cerr << "lesionbench run: " << spec.name << ": " << flag << " " << p << " would show the team folder "
                  << team.string() << " (its journal and predictions) to the contestant; give a folder outside it\n";
        return 2;
      }
  }

  const auto nvml = Nvml::load();

  // Slots (runner/slots.h): the command line's --gpus/--parallel, else the manifest's.
  std::string gpus_text = o.gpus;
  int parallel = o.parallel;
  int cpus_per_slot = o.cpus_per_slot;
  if (o.gpus.empty() && !args.given("--parallel")) {
    gpus_text = manifest_slots.gpus.value_or("");
    parallel = manifest_slots.parallel.value_or(0);
  }
  if (!args.given("--cpus-per-slot")) cpus_per_slot = manifest_slots.cpus_per_slot.value_or(0);
  // Under Slurm each task runs its shard on the GPU Slurm gave it: the manifest's slots are for local runs.
  if (o.backend == "slurm" || task) {
    gpus_text.clear();
    parallel = 0;
  }
  std::shared_ptr<SlotPool> pool;
  if (!gpus_text.empty() || parallel > 0) {
    if (args.given("--gpu"))
      throw UsageError("--gpu gives one GPU to one launch at a time, but the manifest asks for slots (gpus/parallel)");
    for (const auto& spec : contestants)
      if (spec.gpu) {
        std::cerr << "lesionbench run: " << spec.name << ": \"gpu\" in the manifest cannot be used with slots "
                  << "(--gpus/--parallel): each launch gets its slot's GPU\n";
        return 2;
      }
    std::vector<std::optional<int>> slot_gpus;
    if (!gpus_text.empty()) {
      std::string err;
      const std::vector<int> list = parse_gpu_list(gpus_text, nvml.get(), &err);
      if (!err.empty()) throw UsageError(err);
      slot_gpus.assign(list.begin(), list.end());
    } else {
      slot_gpus.assign(static_cast<size_t>(parallel), std::nullopt);
    }
    SlotPlan plan = plan_slots(slot_gpus, cpus_per_slot, allowed_cpus());
    for (auto& sl : plan.slots) {
      GpuDeviceInfo info;
      if (sl.gpu_index && nvml->available() && nvml->device_info(*sl.gpu_index, &info)) sl.gpu_uuid = info.uuid;
    }
    for (const auto& w : plan.warnings) std::cerr << "lesionbench run: warning: " << w << "\n";
    std::cout << "slots: " << plan.slots.size() << " (";
    for (const auto& sl : plan.slots) {
      std::cout << (sl.index ? "; " : "") << sl.index << ": ";
      if (sl.gpu_index) std::cout << "GPU " << *sl.gpu_index << (sl.gpu_uuid.empty() ? "" : " " + sl.gpu_uuid) << ", ";
      std::cout << "CPUs " << cpu_list_text(sl.cpus);
    }
    std::cout << ")";
    if (!gpus_text.empty() && !nvml->available()) std::cout << "; GPU memory not measured: " << nvml->error();
    std::cout << "\n";
    pool = std::make_shared<SlotPool>(std::move(plan.slots));
  } else if (args.given("--cpus-per-slot")) {
    throw UsageError("--cpus-per-slot needs slots: --gpus or --parallel");
  }
  const size_t n_slots = pool ? pool->size() : 1;
  proc::MemInfo meminfo;
  const double ram_mib = proc::read_meminfo(&meminfo) ? meminfo.total_mib : 0;
  // Each slot's share of the node's memory: the default limit per launch when several run at once.
  const double share_mib = n_slots > 1 && ram_mib > 0 ? std::floor(ram_mib / static_cast<double>(n_slots)) : 0;

  const JournalMode mode = task || o.resume ? JournalMode::resume : (o.fresh ? JournalMode::start_over : JournalMode::fresh_only);
  install_stop_handler();
  const std::string version_text = std::string(lb::version()) + " (" + lb::git_commit() + ")";
  if (o.backend == "slurm") {
    SlurmSubmit sub;
    sub.contestants = contestants;
    for (const auto& spec : contestants) {
      if (spec.batch.value_or(false))
        throw UsageError(spec.name + ": mode batch and --backend slurm exclude each other (each task runs its cases one by one)");
      sub.team_dirs.push_back(o.manifest.empty() ? fs::path(o.out_dir) : fs::path(o.out_dir) / spec.name);
      RunSettings st;
      st.batch = false;
      st.timeout_s = spec.timeout_s.value_or(o.timeout_s);
      st.memory_limit_mib = spec.memory_limit_mib.value_or(o.memory_limit_mib);
      st.strict_geometry = o.geometry == "strict";
      st.max_output_mib = o.max_output_mib;
      st.max_output_files = static_cast<uint64_t>(o.max_output_files);
      sub.headers.push_back(contestant_header(spec, st));
    }
    sub.cases = cases;
    sub.cases_dir = o.cases_dir;
    sub.run_args = task_run_args(argc, argv);
    sub.sbatch_args = o.slurm_args;
    sub.cases_per_task = o.cases_per_task;
    sub.max_running = o.max_running;
    sub.no_wait = o.no_wait;
    sub.resume = o.resume;
    sub.fresh = o.fresh;
    sub.force = o.force;
    sub.sign_key = sign_key;
    return submit_slurm(sub, g_stop);
  }

  // One team: its result code (0, 2 setup, 3 disk full, 130 interrupted).
  const bool side_by_side = pool && pool->size() > 1 && contestants.size() > 1;
  auto run_team = [&](const ContestantSpec& given_spec) -> int {
    ContestantSpec spec = given_spec;
    std::ostringstream out;  // the team's lines, printed whole
    if (task && spec.name != task->contestant) return 0;
    RunSettings st;
    st.team_dir = o.manifest.empty() ? fs::path(o.out_dir) : fs::path(o.out_dir) / spec.name;
    if (task) {
      st.team_dir = task->shard_dir;
      st.slurm = runner::slurm::placement_from_env();
    }
    st.contestant = spec.name;
    st.batch = spec.batch.value_or(o.batch);
    st.timeout_s = spec.timeout_s.value_or(o.timeout_s);
    st.sample_ms = o.sample_ms;
    st.memory_limit_mib = spec.memory_limit_mib.value_or(o.memory_limit_mib);
    st.log_head_bytes = static_cast<size_t>(o.log_cap_kib) * 1024;
    st.log_tail_bytes = st.log_head_bytes / 4;
    st.lesionbench_version = version_text;
    st.sign_key = sign_key;
    st.strict_geometry = o.geometry == "strict";
    st.max_output_mib = o.max_output_mib;
    st.max_output_files = static_cast<uint64_t>(o.max_output_files);
    st.keep_rejected_mib = o.keep_rejected_mib;
    st.force = o.force;
    std::string gpu_flag = spec.gpu.value_or(o.gpu.empty() ? "auto" : o.gpu);
    // A Slurm task takes the GPU Slurm allocated to it, not the node's first.
    if (task && gpu_flag == "auto")
      if (const auto g = runner::slurm::allocated_gpu()) gpu_flag = std::to_string(*g);
    const GpuChoice gpu = pool ? GpuChoice{std::nullopt, "per slot"} : resolve_gpu(gpu_flag, *nvml);
    st.gpu_index = gpu.index;
    st.slots = pool;
    // What defines the contestant is what was asked for, before the per-slot memory default below: a
    // --resume with another number of slots is the same contestant.
    st.header = contestant_header(spec, st);
    std::vector<std::string> warnings;
    if (share_mib > 0) {
      const std::string why = " (the node's " + fixed(ram_mib, 0) + " MiB of RAM / " + std::to_string(n_slots) + " slots)";
      if (spec.is_container) {
        const bool default_memory = !args.given("--memory") && spec.container.memory == "28g";
        const auto asked = size_mib(spec.container.memory);
        if (default_memory && asked && *asked > share_mib) {
          spec.container.memory = fixed(share_mib, 0) + "m";
          warnings.push_back("container memory limit lowered to " + spec.container.memory + why);
        } else if (asked && *asked * static_cast<double>(n_slots) > ram_mib) {
          warnings.push_back("memory limit " + spec.container.memory + " × " + std::to_string(n_slots) +
                             " slots exceeds the node's " + fixed(ram_mib, 0) + " MiB of RAM");
        }
      } else if (st.memory_limit_mib <= 0) {
        st.memory_limit_mib = share_mib;
      } else if (st.memory_limit_mib * static_cast<double>(n_slots) > ram_mib) {
        warnings.push_back("--memory-limit-mib " + fixed(st.memory_limit_mib, 0) + " × " + std::to_string(n_slots) +
                           " slots exceeds the node's " + fixed(ram_mib, 0) + " MiB of RAM");
      }
    }

    const std::string what = spec.is_container
                                 ? "container " + (spec.container.image.empty() ? spec.container.image_archive : spec.container.image)
                                 : "command " + spec.command.command;
    for (const auto& w : warnings) out << "lesionbench run: " << spec.name << ": warning: " << w << "\n";
    out << "== " << spec.name << ": " << what << "\n"
              << "   " << cases.size() << " case(s) from " << o.cases_dir << " -> " << st.team_dir.string() << "; "
              << (st.batch ? "one launch for all cases" : "one launch per case") << ", time limit "
              << (st.timeout_s > 0 ? fixed(st.timeout_s, 0) + " s" : std::string("none"))
              << (st.batch ? " per case" : "") << ", GPU " << gpu.text << ", sampling every " << fixed(st.sample_ms, 0)
              << " ms";
    if (st.memory_limit_mib > 0 && !spec.is_container) out << ", memory limit " << fixed(st.memory_limit_mib, 0) << " MiB";
    if (spec.is_container && !spec.container.memory.empty()) out << ", memory limit " << spec.container.memory;
    if (pool) out << ", " << pool->size() << " slot(s)";
    if (!spec.is_container)
      out << (spec.command.sandbox == SandboxKind::bwrap ? ", sandbox bwrap"
                                                               : ", NO sandbox (--sandbox none: it sees what you see)");
    out << "\n";
    {
      std::lock_guard<std::mutex> lock(g_out_mu);
      std::cout << out.str();
      std::cout.flush();
    }
    out.str("");

    const auto launcher = make_launcher(spec);
    Scheduler scheduler(*launcher, st, nvml, &g_stop);
    RunCallbacks cb;
    const bool quiet = o.quiet;
    const std::string prefix = side_by_side ? spec.name + " " : "";
    cb.on_record = [quiet, prefix](const RunRecord& r, size_t i, size_t n) { print_record(r, i, n, quiet, prefix); };
    const auto t0 = std::chrono::steady_clock::now();
    RunSummary summary;
    try {
      summary = scheduler.run(cases, mode, cb);
    } catch (const SetupError& e) {
      std::lock_guard<std::mutex> lock(g_out_mu);
      std::cerr << "lesionbench run: " << spec.name << ": " << e.what() << "\n";
      return 2;
    } catch (const DiskFull& e) {
      std::lock_guard<std::mutex> lock(g_out_mu);
      // Nothing more can be written anywhere in this folder: stop the whole run, resumably.
      std::cerr << "lesionbench run: " << spec.name << ": " << e.what() << "\n"
                << "lesionbench run: disk full: every case recorded so far is in " << (st.team_dir / "records.jsonl").string()
                << "; the case in flight left nothing behind. Free space, then run again with --resume.\n";
      g_stop.store(true);  // the other teams write to the same disk: stop them too
      return kExitDiskFull;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& n : summary.notes) out << "   note: " << n << "\n";
    std::map<std::string, int> counts;
    for (const auto& r : summary.records) ++counts[status_name(r.status)];
    out << (side_by_side ? "== " + spec.name + ": " : "   ") << summary.records.size() << " case(s) run in " << duration_text(elapsed);
    if (!counts.empty()) {
      out << ":";
      bool first = true;
      for (RunStatus s : kAllRunStatuses) {
        auto it = counts.find(status_name(s));
        if (it == counts.end()) continue;
        out << (first ? " " : ", ") << it->first << " " << it->second;
        first = false;
      }
    }
    if (summary.skipped) out << "; " << summary.skipped << " already recorded (skipped)";
    out << "\n   wrote " << (st.team_dir / "records.jsonl").string() << ", efficiency.csv, predictions/\n";
    if (summary.interrupted) out << "   interrupted: the cases in flight were not recorded; continue with --resume\n";
    {
      std::lock_guard<std::mutex> lock(g_out_mu);
      std::cout << out.str();
      std::cout.flush();
    }
    return summary.interrupted ? 130 : 0;
  };

  // Teams one after another; with several slots, as many teams side by side as there are slots, their
  // cases sharing the pool (a finished slot takes the next launch of any of them), so that no slot idles
  // while one team's last cases run. One team's failure does not stop the others.
  std::vector<int> results(contestants.size(), 0);
  std::mutex next_mu;
  size_t next_team = 0;
  auto team_worker = [&] {
    for (;;) {
      size_t i = 0;
      {
        std::lock_guard<std::mutex> lock(next_mu);
        if (g_stop.load() || next_team >= contestants.size()) return;
        i = next_team++;
      }
      results[i] = run_team(contestants[i]);
      // Ctrl-C (or a full disk) ends the run, as it always did.
      if (results[i] == 130 || results[i] == kExitDiskFull) return;
    }
  };
  const size_t n_team_threads = side_by_side ? std::min(contestants.size(), pool->size()) : 1;
  if (n_team_threads <= 1) {
    team_worker();
  } else {
    std::vector<std::thread> threads;
    for (size_t t = 0; t < n_team_threads; ++t) threads.emplace_back(team_worker);
    for (auto& t : threads) t.join();
  }
  int exit_code = 0;
  for (int r : results) {
    if (r == kExitDiskFull) return kExitDiskFull;
    if (r == 130) exit_code = 130;
    else if (r == 2 && exit_code == 0) exit_code = 2;
  }
  if (g_stop.load() && exit_code == 0) exit_code = 130;
  return exit_code;
}

}  // namespace lb::cli
