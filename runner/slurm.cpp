// The Slurm backend: job files and scripts, Slurm's answers, lock files, and the merge of shards; see slurm.h.
#include "runner/slurm.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "runner/efficiency.h"
#include "runner/hmac.h"
#include "runner/journal.h"
#include "runner/spawn.h"
#include "runner/team_state.h"
#include "runner/util.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lb::runner::slurm {

namespace {

std::string env_or(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

std::string read_small(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::optional<int> to_int(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  return std::stoi(s);
}

// "5", "4-9%2", "[4-6,8]" -> the task indices (at most 1,000,000, so a hostile line costs little).
std::vector<int> expand_tasks(std::string spec) {
  std::vector<int> out;
  if (!spec.empty() && spec.front() == '[') spec.erase(0, 1);
  if (!spec.empty() && spec.back() == ']') spec.pop_back();
  if (auto pct = spec.find('%'); pct != std::string::npos) spec = spec.substr(0, pct);
  for (const auto& part : split(spec, ',')) {
    const auto dash = part.find('-');
    const auto a = to_int(part.substr(0, dash));
    const auto b = dash == std::string::npos ? a : to_int(part.substr(dash + 1));
    if (!a || !b || *b < *a) continue;
    for (int i = *a; i <= *b && out.size() < 1000000; ++i) out.push_back(i);
  }
  return out;
}

fs::path shard_dir(const fs::path& sub, size_t task) { return sub / ("task-" + std::to_string(task)); }

// Lines of a JSON-lines file that end in a newline (a torn last line is the task's case in flight).
std::vector<std::string> whole_lines(const fs::path& p) {
  std::vector<std::string> out;
  const std::string text = read_small(p);
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    if (nl > start) out.push_back(text.substr(start, nl - start));
  return out;
}

// What identifies one merged line: a record of a task's journal, or the merge's own for an unfinished case.
std::string merge_key(const json& j) {
  const json s = j.value("slurm", json::object());
  std::string key = j.value("case", "") + "|" + s.value("job_id", "") + "|";
  if (s.contains("task_id") && s["task_id"].is_number_integer()) key += std::to_string(s["task_id"].get<int>());
  key += "|";
  key += s.value("unfinished", false) ? std::string("unfinished") : j.value("started_at", "");
  return key;
}

// Moves a file or folder of a shard into the team folder, replacing what is there.
void move_into(const fs::path& from, const fs::path& to, std::vector<std::string>* notes) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(from, ec))) return;
  fs::create_directories(to.parent_path(), ec);
  fs::remove_all(to, ec);
  fs::rename(from, to, ec);
  if (ec && notes) notes->push_back("could not move " + from.string() + " to " + to.string() + ": " + ec.message());
}

void append_line(int fd, const std::string& line, const fs::path& path) {
  const std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t k = ::write(fd, text.data() + done, text.size() - done);
    if (k < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot append to " + path.string());
    }
    done += static_cast<size_t>(k);
  }
  ::fdatasync(fd);
}

const std::set<std::string>& terminal_states() {
  static const std::set<std::string> s = {"COMPLETED", "CANCELLED", "FAILED",        "TIMEOUT",   "NODE_FAIL",
                                          "PREEMPTED", "BOOT_FAIL", "OUT_OF_MEMORY", "DEADLINE"};
  return s;
}

}  // namespace

std::string find_on_path(const std::string& name) { return boost::process::search_path(name).string(); }

std::optional<SlurmPlacement> placement_from_env() {
  if (std::getenv(kTaskEnv) == nullptr) return std::nullopt;
  SlurmPlacement p;
  p.job_id = env_or("SLURM_ARRAY_JOB_ID", env_or("SLURM_JOB_ID"));
  p.task_id = to_int(env_or("SLURM_ARRAY_TASK_ID"));
  p.node = env_or("SLURMD_NODENAME", host_name());
  p.gpu = env_or("CUDA_VISIBLE_DEVICES");
  return p;
}

std::optional<int> allocated_gpu() {
  if (std::getenv(kTaskEnv) == nullptr) return std::nullopt;
  const std::string gpus = env_or("SLURM_JOB_GPUS", env_or("SLURM_STEP_GPUS"));
  return to_int(gpus.substr(0, gpus.find(',')));
}

json job_to_json(const JobFile& job) {
  json shards = json::array();
  for (const auto& s : job.shards) {
    json cases = json::array();
    for (const auto& c : s) cases.push_back({{"case", c.name}, {"image", c.image}});
    shards.push_back(cases);
  }
  return {{"schema_version", kJobSchemaVersion}, {"submission", job.submission},
          {"contestant", job.contestant},        {"lesionbench", job.lesionbench_version},
          {"lesionbench_path", job.lesionbench_path}, {"cases_dir", job.cases_dir},
          {"team_dir", job.team_dir},            {"run_args", job.run_args},
          {"shards", shards},                    {"sbatch_args", job.sbatch_args},
          {"max_running", job.max_running},      {"job_id", job.job_id},
          {"work_dir", job.work_dir},            {"signed_records", job.signed_records}};
}

JobFile read_job_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot read the job file");
  JobFile job;
  try {
    const json j = json::parse(in);
    if (j.value("schema_version", "").rfind("1.", 0) != 0)
      throw std::runtime_error("schema_version " + j.value("schema_version", "(none)") + " is not 1.x");
    job.submission = j.at("submission").get<int>();
    job.contestant = j.at("contestant").get<std::string>();
    job.lesionbench_version = j.at("lesionbench").get<std::string>();
    job.lesionbench_path = j.at("lesionbench_path").get<std::string>();
    job.cases_dir = j.at("cases_dir").get<std::string>();
    job.team_dir = j.at("team_dir").get<std::string>();
    job.run_args = j.at("run_args").get<std::vector<std::string>>();
    for (const auto& s : j.at("shards")) {
      std::vector<ShardCase> cases;
      for (const auto& c : s) cases.push_back({c.at("case").get<std::string>(), c.at("image").get<std::string>()});
      job.shards.push_back(cases);
    }
    job.sbatch_args = j.at("sbatch_args").get<std::vector<std::string>>();
    job.max_running = j.at("max_running").get<int>();
    job.job_id = j.value("job_id", "");
    job.work_dir = j.value("work_dir", "");
    job.signed_records = j.value("signed_records", false);
  } catch (const json::exception& e) {
    throw std::runtime_error(path.string() + ": not a lesionbench job file: " + e.what());
  }
  return job;
}

void write_job_file(const fs::path& path, const JobFile& job) {
  write_file_atomic(path.string(), job_to_json(job).dump(1) + "\n");
}

std::vector<std::vector<ShardCase>> make_shards(const std::vector<ShardCase>& cases, int per_task) {
  std::vector<std::vector<ShardCase>> out;
  const size_t k = static_cast<size_t>(std::max(1, per_task));
  for (size_t i = 0; i < cases.size(); i += k)
    out.emplace_back(cases.begin() + static_cast<std::ptrdiff_t>(i),
                     cases.begin() + static_cast<std::ptrdiff_t>(std::min(cases.size(), i + k)));
  return out;
}

std::string job_script(const JobFile& job, const fs::path& job_file) {
  const fs::path sub = job_file.parent_path();
  std::string array = "0-" + std::to_string(job.shards.empty() ? 0 : job.shards.size() - 1);
  if (job.max_running > 0) array += "%" + std::to_string(job.max_running);
  size_t cases = 0;
  for (const auto& s : job.shards) cases += s.size();
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# lesionbench " << job.lesionbench_version << ": contestant " << job.contestant << ", submission "
    << job.submission << ", " << cases << " case(s) in " << job.shards.size() << " task(s).\n"
    << "# Each array task runs `lesionbench run` on its shard (" << job_file.filename().string()
    << ") into its own folder task-<N>/;\n# the submitter (or `lesionbench collect`) merges them into the team folder.\n"
    << "# Options given with --slurm-arg are on sbatch's command line and win over these lines.\n"
    << "#SBATCH --job-name=lb-" << job.contestant << "\n"
    << "#SBATCH --array=" << array << "\n"
    << "# (--output and --chdir are on sbatch's command line: paths with spaces do not survive #SBATCH lines)\n"
    << "set -u\n"
    << "export " << kTaskEnv << "=1\n"
    << "LB=" << shell_quote(job.lesionbench_path) << "\n"
    << "JOB=" << shell_quote(job_file.string()) << "\n"
    << "task=${SLURM_ARRAY_TASK_ID:-?}\n"
    << "if [ ! -r \"$JOB\" ]; then\n"
    << "  echo \"lesionbench task $task on $(hostname): cannot read $JOB: this node does not see the team folder;"
       " the Slurm backend needs it on a filesystem shared by the submitting machine and the nodes\" >&2\n"
    << "  exit 96\nfi\n"
    << "if [ ! -x \"$LB\" ]; then\n"
    << "  msg=\"lesionbench task $task on $(hostname): cannot run $LB: this node does not see the lesionbench binary;"
       " install it (or the runner-only bundle) at the same path on every node, or on a shared filesystem\"\n"
    << "  echo \"$msg\" >&2; echo \"$msg\" > \"$(dirname \"$JOB\")/task-$task.error\"\n"
    << "  exit 97\nfi\n"
    << "# exec: scancel's and the time limit's SIGTERM reach lesionbench, which stops the contestant (a container\n"
    << "# is removed) before Slurm's SIGKILL.\n"
    << "exec \"$LB\" run --slurm-task \"$JOB\"\n";
  return s.str();
}

std::vector<std::string> sbatch_argv(const JobFile& job, const fs::path& sub_dir, const fs::path& script) {
  std::string sbatch = boost::process::search_path("sbatch").string();
  if (sbatch.empty()) sbatch = "sbatch";
  std::vector<std::string> argv = {sbatch, "--parsable", "--output=" + (sub_dir / "slurm-%A_%a.out").string()};
  if (!job.work_dir.empty()) argv.push_back("--chdir=" + job.work_dir);
  for (const auto& a : job.sbatch_args) argv.push_back(a);
  argv.push_back(script.string());
  return argv;
}

std::string parse_sbatch_job_id(const std::string& out) {
  std::string id = trim(out);
  if (auto nl = id.rfind('\n'); nl != std::string::npos) id = id.substr(nl + 1);
  if (auto semi = id.find(';'); semi != std::string::npos) id = id.substr(0, semi);
  return to_int(id) ? id : std::string();
}

std::map<int, TaskState> parse_squeue(const std::string& text, const std::string& job_id) {
  std::map<int, TaskState> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto f = split(trim(line), '|');
    if (f.size() < 4 || trim(f[0]) != job_id) continue;
    TaskState s{trim(f[2]), trim(f[3]), f.size() > 4 ? trim(f[4]) : ""};
    for (int t : expand_tasks(trim(f[1]))) out[t] = s;
  }
  return out;
}

std::map<int, TaskState> parse_sacct(const std::string& text, const std::string& job_id) {
  std::map<int, TaskState> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto f = split(trim(line), '|');
    if (f.size() < 2 || f[0].rfind(job_id + "_", 0) != 0) continue;
    const std::string state_text = trim(f[1]);
    TaskState s;
    s.state = state_text.substr(0, state_text.find(' '));  // "CANCELLED by 0"
    s.reason = state_text.size() > s.state.size() ? trim(state_text.substr(s.state.size())) : "";
    s.node = f.size() > 2 ? trim(f[2]) : "";
    for (int t : expand_tasks(f[0].substr(job_id.size() + 1))) out[t] = s;
  }
  return out;
}

bool is_active(const std::string& state) { return !state.empty() && terminal_states().count(state) == 0; }

QueryResult query_job(const std::string& job_id, size_t tasks) {
  QueryResult q;
  const std::string squeue = boost::process::search_path("squeue").string();
  if (squeue.empty()) {
    q.error = "squeue is not on PATH: cannot ask Slurm about job " + job_id;
    return q;
  }
  const HelperResult r = run_helper({squeue, "-h", "-r", "-t", "all", "-j", job_id, "-o", "%F|%K|%T|%r|%N"}, 60);
  if (r.exit_code == 0) {
    q.tasks = parse_squeue(r.out, job_id);
  } else if (r.err.find("Invalid job id") == std::string::npos) {
    q.error = "squeue failed for job " + job_id + ": " + printable(trim(r.err + r.error), 300);
    return q;
  }
  // Tasks squeue no longer lists (finished some minutes ago): accounting, where a cluster keeps it.
  if (q.tasks.size() < tasks) {
    const std::string sacct = boost::process::search_path("sacct").string();
    if (!sacct.empty()) {
      const HelperResult a = run_helper({sacct, "-n", "-P", "-X", "-j", job_id, "-o", "JobID,State,NodeList"}, 60);
      if (a.exit_code == 0)
        for (const auto& [t, s] : parse_sacct(a.out, job_id)) q.tasks.emplace(t, s);
    }
  }
  q.known = !q.tasks.empty();
  return q;
}

Progress progress_of(const fs::path& sub, const JobFile& job, const QueryResult& q) {
  Progress p;
  for (size_t i = 0; i < job.shards.size(); ++i) {
    p.cases_total += job.shards[i].size();
    std::error_code ec;
    const fs::path journal = shard_dir(sub, i) / "records.jsonl";
    if (fs::exists(journal, ec)) {
      std::set<std::string> seen;
      for (const auto& line : whole_lines(journal)) {
        try {
          seen.insert(json::parse(line).value("case", ""));
        } catch (const json::exception&) {
        }
      }
      p.cases_recorded += seen.size();
    }
    const auto it = q.tasks.find(static_cast<int>(i));
    const fs::path end = sub / ("task-" + std::to_string(i) + ".end");
    if (it != q.tasks.end()) {
      const std::string& s = it->second.state;
      if (s == "PENDING" || s == "REQUEUED" || s == "REQUEUE_HOLD" || s == "REQUEUE_FED" || s == "SUSPENDED" ||
          s == "RESV_DEL_HOLD")
        ++p.queued;
      else if (is_active(s))
        ++p.running;
      else if (s == "COMPLETED" && trim(read_small(end)) == "0")
        ++p.done;
      else
        ++p.failed;
    } else if (fs::exists(end, ec)) {
      (trim(read_small(end)) == "0" ? p.done : p.failed)++;
    } else {
      ++p.unknown;
    }
  }
  return p;
}

std::string progress_line(const std::string& job_id, const Progress& p) {
  std::ostringstream s;
  s << "slurm job " << job_id << ": " << p.queued << " queued, " << p.running << " running, " << p.done << " done, "
    << p.failed << " failed";
  if (p.unknown) s << ", " << p.unknown << " state unknown";
  s << " (tasks); " << p.cases_recorded << "/" << p.cases_total << " case(s) recorded";
  return s.str();
}

LockFile::LockFile(fs::path path, const std::string& extra, std::vector<std::string>* notes,
                   const std::string& same_task)
    : path_(std::move(path)) {
  const std::string me = host_name() + " " + std::to_string(::getpid()) + (extra.empty() ? "" : " " + extra);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const std::string text = me + "\n";
      const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) {
        std::error_code ec;
        fs::remove(path_, ec);
        throw SetupError("cannot write the lock file " + path_.string());
      }
      return;
    }
    if (errno != EEXIST) throw SetupError("cannot create the lock file " + path_.string() + ": " + std::strerror(errno));
    const std::string held = trim(read_small(path_));
    std::istringstream in(held);
    std::string host, pid_text;
    in >> host >> pid_text;
    std::string rest;
    std::getline(in, rest);
    rest = trim(rest);
    const auto pid = to_int(pid_text);
    const bool dead_here = host == host_name() && pid && ::kill(*pid, 0) != 0 && errno == ESRCH;
    const bool requeued = !same_task.empty() && rest == same_task;
    if (attempt == 0 && (dead_here || requeued)) {
      if (notes)
        notes->push_back(path_.string() + ": took over a lock left by " + printable(held, 120) +
                         (dead_here ? " (that process is gone)" : " (the same Slurm task, requeued)"));
      std::error_code ec;
      fs::remove(path_, ec);
      continue;
    }
    throw SetupError(path_.string() + " is held by lesionbench " + printable(held, 120) +
                     " (host pid ...): another lesionbench is working in this folder; if that process is gone "
                     "(another host, or a reboot), remove the file");
  }
  throw SetupError("cannot take the lock " + path_.string());
}

LockFile::~LockFile() {
  std::error_code ec;
  fs::remove(path_, ec);
}

std::vector<fs::path> submissions(const fs::path& team_dir) {
  std::vector<std::pair<int, fs::path>> found;
  std::error_code ec;
  for (fs::directory_iterator it(team_dir / kSlurmDir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("sub-", 0) != 0) continue;
    if (auto k = to_int(name.substr(4))) found.emplace_back(*k, it->path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& [k, p] : found) out.push_back(p);
  return out;
}

std::vector<std::string> final_cases(const fs::path& team_dir) {
  std::vector<std::string> warnings, out;
  for (const auto& r : read_records_jsonl((team_dir / "records.jsonl").string(), &warnings))
    if (!(r.slurm && r.slurm->unfinished)) out.push_back(r.case_name);
  return out;
}

MergeSummary merge_submission(const fs::path& team_dir, const fs::path& sub, const JobFile& job, const QueryResult& q,
                              const std::string& sign_key) {
  MergeSummary m;
  const fs::path journal = team_dir / "records.jsonl";
  std::set<std::string> merged_keys;
  for (const auto& line : whole_lines(journal)) {
    try {
      merged_keys.insert(merge_key(json::parse(line)));
    } catch (const json::exception&) {
    }
  }
  const int fd = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw SetupError("cannot write " + journal.string() + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  for (size_t i = 0; i < job.shards.size(); ++i) {
    const fs::path shard = shard_dir(sub, i);
    std::set<std::string> recorded;
    std::error_code ec;
    for (const auto& line : whole_lines(shard / "records.jsonl")) {
      json j;
      RunRecord r;
      try {
        j = json::parse(line);
        r = j.get<RunRecord>();
      } catch (const std::exception& e) {
        m.notes.push_back((shard / "records.jsonl").string() + ": skipped a line that is not a run record: " + e.what());
        continue;
      }
      recorded.insert(r.case_name);
      if (!merged_keys.insert(merge_key(j)).second) continue;  // merged by an earlier collect
      // Names come from a record lesionbench wrote; still, only plain names under the expected folders move.
      auto inside = [](const std::string& rel, const char* folder) {
        return !rel.empty() && rel.rfind(std::string(folder) + "/", 0) == 0 && rel.find("..") == std::string::npos;
      };
      if (r.prediction && inside(*r.prediction, "predictions")) move_into(shard / *r.prediction, team_dir / *r.prediction, &m.notes);
      else fs::remove(team_dir / "predictions" / (r.case_name + ".nii.gz"), ec);
      if (inside(r.files.samples, "samples")) move_into(shard / r.files.samples, team_dir / r.files.samples, &m.notes);
      if (inside(r.files.stdout_log, "logs")) move_into(shard / r.files.stdout_log, team_dir / r.files.stdout_log, &m.notes);
      if (inside(r.files.stderr_log, "logs")) move_into(shard / r.files.stderr_log, team_dir / r.files.stderr_log, &m.notes);
      if (r.case_name.find('/') == std::string::npos && r.case_name.find("..") == std::string::npos)
        move_into(shard / "rejected" / r.case_name, team_dir / "rejected" / r.case_name, &m.notes);
      append_line(fd, line, journal);
      ++m.merged;
    }
    // Cases the task did not finish: Slurm's word on the task, or "state unknown".
    const auto it = q.tasks.find(static_cast<int>(i));
    const std::string error = trim(read_small(sub / ("task-" + std::to_string(i) + ".error")));
    const std::string end = trim(read_small(sub / ("task-" + std::to_string(i) + ".end")));
    for (const auto& c : job.shards[i]) {
      if (recorded.count(c.name)) continue;
      RunRecord r;
      r.case_name = c.name;
      r.image = c.image;
      r.status = RunStatus::launch_error;
      r.started_at = iso_time_utc(std::chrono::system_clock::now());
      r.gpu.note = "not launched";
      r.provenance.contestant = job.contestant;
      r.provenance.lesionbench = job.lesionbench_version;
      SlurmPlacement s;
      s.job_id = job.job_id;
      s.task_id = static_cast<int>(i);
      s.unfinished = true;
      if (it != q.tasks.end()) {
        s.state = it->second.state;
        s.reason = it->second.reason;
        s.node = it->second.node;
      } else {
        s.state = "state unknown";
        s.reason = end.empty() ? "Slurm no longer knows the task and it left no end mark (killed, or it never ran)"
                               : "Slurm no longer knows the task; it ended with exit code " + end;
      }
      r.provenance.host = s.node;
      std::string msg = "Slurm job " + job.job_id + " task " + std::to_string(i) + " ended (" + s.state +
                        (s.reason.empty() || s.reason == "None" ? "" : ", " + s.reason) +
                        ") before this case was recorded";
      if (!error.empty()) msg += "; the task could not start: " + printable(error, 300);
      if (!s.node.empty())  // it ran: what it printed is in Slurm's output file
        msg += "; its output: " + (fs::path(kSlurmDir) / sub.filename() /
                                   ("slurm-" + job.job_id + "_" + std::to_string(i) + ".out")).string();
      r.message = msg + "; `lesionbench run --resume` (with --backend slurm) runs it again";
      r.slurm = s;
      json j = r;
      if (!merged_keys.insert(merge_key(j)).second) continue;
      std::string line = j.dump();
      if (!sign_key.empty()) line = sign_record_line(line, sign_key);
      append_line(fd, line, journal);
      ++m.unfinished;
    }
    // A task killed outright leaves its container named here; the task's own SIGTERM handling removes it
    // otherwise. Only an engine on this machine can be asked (see docs/runner.md on clusters).
    if (fs::exists(shard / kInFlightFile, ec)) InFlightContainers(shard).remove_leftovers(&m.notes);
  }
  return m;
}

void rewrite_efficiency(const fs::path& team_dir) {
  std::vector<std::string> warnings;
  const auto records = read_records_jsonl((team_dir / "records.jsonl").string(), &warnings);
  write_efficiency_file((team_dir / "efficiency.csv").string(), records, EfficiencyView::flare);
  write_efficiency_file((team_dir / "efficiency-own.csv").string(), records, EfficiencyView::own);
}

}  // namespace lb::runner::slurm
