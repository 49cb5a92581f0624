// `run --backend slurm`: submit one job array per contestant, wait, merge; the array task's side of `run`;
// the merge that `collect` shares. See slurm_run.h.
#include "cli/slurm_run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/version.h"
#include "runner/journal.h"
#include "runner/slurm.h"
#include "runner/spawn.h"
#include "runner/team_state.h"
#include "runner/util.h"

namespace fs = std::filesystem;
using namespace lb::runner;
using namespace lb::runner::slurm;

namespace lb::cli {

namespace {

SlurmTaskContext g_task;
bool g_in_task = false;

std::string our_version() { return std::string(lb::version()) + " (" + lb::git_commit() + ")"; }

std::string self_path() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("lesionbench") : p.string();
}

// Status counts and the failed cases of one job's records, as a local run prints them.
void print_job_summary(const fs::path& team, const std::string& job_id, std::ostream& out) {
  std::vector<std::string> warnings;
  std::map<std::string, int> counts;
  size_t unfinished = 0, total = 0;
  for (const auto& r : read_records_jsonl((team / "records.jsonl").string(), &warnings)) {
    if (!r.slurm || r.slurm->job_id != job_id) continue;
    ++total;
    if (r.slurm->unfinished) ++unfinished;
    ++counts[status_name(r.status)];
    if (r.status != RunStatus::ok) out << "   " << r.case_name << " " << status_name(r.status) << ": " << r.message << "\n";
  }
  out << "   slurm job " << job_id << ": " << total << " case(s) recorded";
  bool first = true;
  for (RunStatus s : kAllRunStatuses) {
    auto it = counts.find(status_name(s));
    if (it == counts.end()) continue;
    out << (first ? ": " : ", ") << it->first << " " << it->second;
    first = false;
  }
  out << "\n";
  if (unfinished)
    out << "   " << unfinished << " case(s) unfinished (Slurm ended their task): continue with run --resume --backend slurm\n";
  out << "   wrote " << (team / "records.jsonl").string() << ", efficiency.csv, predictions/\n";
}

// Merges one ended submission and marks it merged.
void merge_one(const fs::path& team, const fs::path& sub, const JobFile& job, const QueryResult& q,
               const std::string& sign_key, std::ostream& out, bool quiet) {
  const MergeSummary m = merge_submission(team, sub, job, q, sign_key);
  write_file_atomic((sub / "merged").string(), iso_time_utc(std::chrono::system_clock::now()) + "\n");
  for (const auto& n : m.notes) out << "   note: " << n << "\n";
  if (!quiet)
    out << "   merged slurm job " << job.job_id << " (" << sub.filename().string() << "): " << m.merged
        << " record(s) from its tasks, " << m.unfinished << " unfinished case(s)\n";
}

// Ended submissions are merged; an active one is reported. Returns false (with `why`) when Slurm cannot be
// asked or a job file is unusable.
struct TeamScan {
  std::vector<std::pair<std::string, std::string>> active;  // job id, progress line
};
bool scan_and_merge(const fs::path& team, const std::string& sign_key, bool merge, TeamScan* scan, std::string* why,
                    std::ostream& out, bool quiet) {
  for (const auto& sub : submissions(team)) {
    std::error_code ec;
    if (fs::exists(sub / "merged", ec)) continue;
    JobFile job;
    try {
      job = read_job_file(sub / "job.json");
    } catch (const std::exception& e) {
      *why = e.what();
      return false;
    }
    if (job.job_id.empty()) continue;  // sbatch refused it: nothing ran
    const QueryResult q = query_job(job.job_id, job.shards.size());
    if (!q.error.empty()) {
      *why = q.error + " (nothing was merged; try again when the controller answers)";
      return false;
    }
    const Progress p = progress_of(sub, job, q);
    if (p.active()) {
      scan->active.emplace_back(job.job_id, progress_line(job.job_id, p));
      continue;
    }
    if (!merge) continue;
    if (job.signed_records && sign_key.empty()) {
      *why = "the records of slurm job " + job.job_id + " are signed: give the same --sign-key FILE";
      return false;
    }
    merge_one(team, sub, job, q, sign_key, out, quiet);
  }
  return true;
}

}  // namespace

const SlurmTaskContext* slurm_task_context() { return g_in_task ? &g_task : nullptr; }

std::vector<std::string> task_run_args(int argc, char** argv) {
  static const std::set<std::string> with_value = {"--backend", "--slurm-arg", "--cases-per-task", "--max-running"};
  static const std::set<std::string> flags = {"--no-wait", "--resume", "--fresh"};
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string name = a.substr(0, a.find('='));
    if (with_value.count(name)) {
      if (a.find('=') == std::string::npos) ++i;  // its value follows
      continue;
    }
    if (flags.count(a)) continue;
    out.push_back(a);
  }
  return out;
}

int run_slurm_task(const std::string& job_file) {
  JobFile job;
  try {
    job = read_job_file(job_file);
  } catch (const std::exception& e) {
    std::cerr << "lesionbench run --slurm-task: " << e.what() << "\n";
    return 2;
  }
  const char* task_env = std::getenv("SLURM_ARRAY_TASK_ID");
  int task = -1;
  try {
    task = task_env ? std::stoi(task_env) : -1;
  } catch (const std::exception&) {
  }
  if (task < 0 || static_cast<size_t>(task) >= job.shards.size()) {
    std::cerr << "lesionbench run --slurm-task: SLURM_ARRAY_TASK_ID is " << (task_env ? task_env : "unset")
              << ", not a task of " << job_file << " (0-" << job.shards.size() - 1 << ")\n";
    return 2;
  }
  const fs::path sub = fs::path(job_file).parent_path();
  const std::string tag = "task-" + std::to_string(task);
  auto fail = [&](const std::string& why) {
    const std::string msg = "lesionbench task " + std::to_string(task) + " of slurm job " + job.job_id + " on " +
                            host_name() + ": " + why;
    std::cerr << msg << "\n";
    try {
      write_file_atomic((sub / (tag + ".error")).string(), msg + "\n");
      write_file_atomic((sub / (tag + ".end")).string(), "2\n");
    } catch (const std::exception&) {
    }
    return 2;
  };
  if (our_version() != job.lesionbench_version)
    return fail("this node runs lesionbench " + our_version() + ", the submitter " + job.lesionbench_version +
                ": install the same build on every node (or point the job at a shared copy)");
  std::error_code ec;
  if (!fs::is_directory(job.team_dir, ec))
    return fail("cannot see the team folder " + job.team_dir + ": it must be on a filesystem shared by the nodes");
  // The job file must be the team folder's own: its shards are written next to it.
  if (!fs::equivalent(fs::path(job.team_dir) / kSlurmDir, sub.parent_path(), ec))
    return fail(job_file + " names the team folder " + job.team_dir + " but lies elsewhere: it was moved or copied");
  std::vector<std::string> missing;
  for (const auto& c : job.shards[static_cast<size_t>(task)])
    if (::access((fs::path(job.cases_dir) / c.image).c_str(), R_OK) != 0) missing.push_back(c.image);
  if (!missing.empty())
    return fail("cannot read " + std::to_string(missing.size()) + " case(s) in " + job.cases_dir + " (" + missing[0] +
                (missing.size() > 1 ? ", ..." : "") + "): the cases must be on a filesystem shared by the nodes");
  std::vector<std::string> notes;
  std::unique_ptr<LockFile> lock;
  const std::string me = "job " + job.job_id + " task " + std::to_string(task);
  try {
    lock = std::make_unique<LockFile>(sub / (tag + ".lock"), me, &notes, me);
  } catch (const SetupError& e) {
    return fail(e.what());
  }
  for (const auto& n : notes) std::cerr << "note: " << n << "\n";
  g_task.contestant = job.contestant;
  g_task.shard_dir = sub / tag;
  for (const auto& c : job.shards[static_cast<size_t>(task)]) g_task.cases.insert(c.name);
  g_in_task = true;
  if (!job.work_dir.empty() && ::chdir(job.work_dir.c_str()) != 0)
    return fail("cannot enter the submitter's working folder " + job.work_dir);

  std::vector<std::string> args = job.run_args;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = cmd_run(static_cast<int>(args.size()), argv.data());
  try {
    write_file_atomic((sub / (tag + ".end")).string(), std::to_string(rc) + "\n");
  } catch (const std::exception& e) {
    std::cerr << "lesionbench task: cannot write " << (sub / (tag + ".end")).string() << ": " << e.what() << "\n";
  }
  return rc;
}

int submit_slurm(const SlurmSubmit& s, const std::atomic<bool>& stop) {
  if (find_on_path("sbatch").empty() || find_on_path("squeue").empty()) {
    std::cerr << "lesionbench run: --backend slurm needs sbatch and squeue on PATH (Slurm's client commands)\n";
    return 2;
  }
  struct Submitted {
    fs::path team, sub;
    JobFile job;
    std::unique_ptr<LockFile> lock;
    std::unique_ptr<Journal> journal;
    std::string last_line;
  };
  std::vector<Submitted> subs;
  const JournalMode mode = s.resume ? JournalMode::resume : (s.fresh ? JournalMode::start_over : JournalMode::fresh_only);
  std::error_code cwd_ec;
  const std::string work_dir = fs::current_path(cwd_ec).string();
  int exit_code = 0;
  for (size_t i = 0; i < s.contestants.size(); ++i) {
    const auto& spec = s.contestants[i];
    Submitted out;
    out.team = fs::absolute(s.team_dirs[i]).lexically_normal();
    std::vector<std::string> notes;
    try {
      fs::create_directories(out.team / kSlurmDir);
      out.lock = std::make_unique<LockFile>(out.team / kSlurmDir / "submitter.lock", "submitter", &notes);
      TeamScan scan;
      std::string why;
      // --resume merges what ended; every mode refuses while an earlier array of this folder is active.
      if (!scan_and_merge(out.team, s.sign_key, s.resume, &scan, &why, std::cout, false)) throw SetupError(why);
      if (!scan.active.empty())
        throw SetupError(scan.active[0].second + ": an earlier submission into this folder is still queued or running; "
                         "wait for it (lesionbench collect " + out.team.string() + ") or cancel it (scancel " +
                         scan.active[0].first + ")");
      if (s.fresh)
        for (const auto& sub : submissions(out.team)) fs::remove_all(sub);
      out.journal = std::make_unique<Journal>(out.team, mode);
      if (s.fresh) fs::remove(out.team / kHeaderFile);
      for (const auto& w : out.journal->warnings()) notes.push_back(w);
      // One team folder, one contestant (contestant.json), as a local run checks it; the image's ID is
      // resolved on the nodes, so it is not compared here.
      nlohmann::json current = s.headers[i];
      nlohmann::json stored = read_header(out.team);
      if (!stored.is_null()) {
        nlohmann::json a = stored, b = current;
        a.erase("image_id");
        b.erase("image_id");
        const auto diffs = header_differences(a, b);
        if (!diffs.empty() && !s.force) {
          std::string list;
          for (const auto& d : diffs) list += "\n  " + d;
          throw SetupError((out.team / kHeaderFile).string() + " describes another contestant than this run's:" + list +
                           "\none team folder holds one contestant: use another --out, --fresh to start over, or "
                           "--force to mix them anyway");
        }
        if (!diffs.empty()) write_header(out.team, current);
      } else {
        write_header(out.team, current);
      }
    } catch (const std::exception& e) {
      std::cerr << "lesionbench run: " << spec.name << ": " << e.what() << "\n";
      exit_code = 2;
      continue;
    }
    for (const auto& n : notes) std::cout << "   note: " << n << "\n";

    const auto done = final_cases(out.team);
    const std::set<std::string> recorded(done.begin(), done.end());
    std::vector<ShardCase> pending;
    for (const auto& c : s.cases)
      if (!recorded.count(c.name)) pending.push_back({c.name, c.image_file});
    std::cout << "== " << spec.name << ": " << pending.size() << " case(s) to run on Slurm";
    if (recorded.size()) std::cout << " (" << recorded.size() << " already recorded)";
    std::cout << " -> " << out.team.string() << "\n";
    if (pending.empty()) {
      rewrite_efficiency(out.team);
      continue;
    }
    const auto existing = submissions(out.team);
    int k = 1;
    if (!existing.empty()) k = std::stoi(existing.back().filename().string().substr(4)) + 1;
    out.sub = out.team / kSlurmDir / ("sub-" + std::to_string(k));
    JobFile& job = out.job;
    job.submission = k;
    job.contestant = spec.name;
    job.lesionbench_version = our_version();
    job.lesionbench_path = self_path();
    job.cases_dir = fs::absolute(s.cases_dir).lexically_normal().string();
    job.team_dir = out.team.string();
    job.run_args = s.run_args;
    job.shards = make_shards(pending, s.cases_per_task);
    job.sbatch_args = s.sbatch_args;
    job.max_running = s.max_running;
    job.work_dir = work_dir;
    job.signed_records = !s.sign_key.empty();
    try {
      fs::create_directories(out.sub);
      write_job_file(out.sub / "job.json", job);
      const fs::path script = out.sub / "job.sh";
      write_file_atomic(script.string(), job_script(job, out.sub / "job.json"));
      fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
      const auto argv = sbatch_argv(job, out.sub, script);
      const HelperResult r = run_helper(argv, 120);
      job.job_id = r.exit_code == 0 ? parse_sbatch_job_id(r.out) : "";
      if (job.job_id.empty()) {
        std::string cmd;
        for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
        std::error_code ec;
        fs::remove_all(out.sub, ec);
        throw SetupError("sbatch refused the job (exit " + std::to_string(r.exit_code) + "): " +
                         printable(r.err + r.error + r.out, 400) + "\n  command: " + cmd);
      }
      write_job_file(out.sub / "job.json", job);
      write_file_atomic((out.sub / "job-id").string(), job.job_id + "\n");
    } catch (const std::exception& e) {
      std::cerr << "lesionbench run: " << spec.name << ": " << e.what() << "\n";
      exit_code = 2;
      continue;
    }
    std::cout << "   submitted slurm job " << job.job_id << ": " << job.shards.size() << " task(s) of at most "
              << s.cases_per_task << " case(s)" << (s.max_running > 0 ? ", at most " + std::to_string(s.max_running) + " at once" : "")
              << "; job script " << (out.sub / "job.sh").string() << "\n";
    if (s.no_wait) std::cout << "   --no-wait: lesionbench collect " << out.team.string() << " merges it when it has ended\n";
    std::cout.flush();
    subs.push_back(std::move(out));
  }
  if (s.no_wait || subs.empty()) return exit_code;

  // Wait: one progress line per change, from Slurm's states and the shard journals. squeue is asked every
  // 0.5 s at first and less often as the run goes on (at most every 15 s): a busy controller serves many.
  const auto wait_start = std::chrono::steady_clock::now();
  for (;;) {
    bool active = false;
    for (auto& x : subs) {
      if (!x.sub.empty() && fs::exists(x.sub / "merged")) continue;
      const QueryResult q = query_job(x.job.job_id, x.job.shards.size());
      if (!q.error.empty()) {
        // The controller may be restarting: keep waiting rather than merge what may still be running.
        if (x.last_line != q.error) std::cout << "   " << q.error << " (still waiting)\n";
        x.last_line = q.error;
        active = true;
        continue;
      }
      const Progress p = progress_of(x.sub, x.job, q);
      const std::string line = progress_line(x.job.job_id, p);
      if (line != x.last_line) std::cout << "   " << line << "\n" << std::flush;
      x.last_line = line;
      if (p.active()) {
        active = true;
        continue;
      }
      try {
        merge_one(x.team, x.sub, x.job, q, s.sign_key, std::cout, false);
        rewrite_efficiency(x.team);
        print_job_summary(x.team, x.job.job_id, std::cout);
      } catch (const std::exception& e) {
        std::cerr << "lesionbench run: merging slurm job " << x.job.job_id << " into " << x.team.string() << ": "
                  << e.what() << "\n";
        exit_code = 2;  // not marked merged: collect can be run again
      }
    }
    if (!active) break;
    if (stop.load()) {
      std::cout << "   stopped waiting (Ctrl-C): the jobs keep running; lesionbench collect TEAM_DIR merges them later "
                   "(scancel JOB_ID stops them)\n";
      return 130;
    }
    const double waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count();
    const double pause_s = std::min(15.0, 0.5 + waited_s / 20);
    // In steps, so that Ctrl-C is answered at once.
    for (double slept = 0; slept < pause_s && !stop.load(); slept += 0.1)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return exit_code;
}

int collect_team(const fs::path& team_in, const std::string& sign_key, std::ostream& out, bool quiet) {
  const fs::path team = fs::absolute(team_in).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(team / kSlurmDir, ec)) {
    std::cerr << "lesionbench collect: " << team.string() << " holds no Slurm submission (" << kSlurmDir
              << "/ is missing): it was not run with --backend slurm\n";
    return 2;
  }
  try {
    std::vector<std::string> notes;
    LockFile lock(team / kSlurmDir / "submitter.lock", "collect", &notes);
    Journal journal(team, JournalMode::resume);
    for (const auto& w : journal.warnings()) notes.push_back(w);
    for (const auto& n : notes) out << "   note: " << n << "\n";
    TeamScan scan;
    std::string why;
    if (!scan_and_merge(team, sign_key, true, &scan, &why, out, quiet)) {
      std::cerr << "lesionbench collect: " << team.string() << ": " << why << "\n";
      return 2;
    }
    rewrite_efficiency(team);
    for (const auto& [job, line] : scan.active) out << "   " << line << "\n";
    std::vector<std::string> warnings;
    const auto records = read_records_jsonl((team / "records.jsonl").string(), &warnings);
    size_t unfinished = 0;
    for (const auto& r : records) unfinished += r.slurm && r.slurm->unfinished;
    out << "   " << team.string() << ": " << records.size() << " case(s) recorded";
    if (unfinished) out << ", " << unfinished << " unfinished (continue with run --resume --backend slurm)";
    out << "\n";
    if (!scan.active.empty()) {
      out << "   still queued or running: nothing of it was merged; run collect again when it has ended\n";
      return 4;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "lesionbench collect: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace lb::cli
