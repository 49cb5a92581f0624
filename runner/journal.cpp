// records.jsonl; see journal.h.
#include "runner/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <system_error>

#include "runner/hmac.h"

namespace fs = std::filesystem;

namespace lb::runner {

namespace {
// What a run writes into a team folder; --fresh removes exactly these.
const char* kRunOutputs[] = {"records.jsonl", "efficiency.csv", "efficiency-own.csv", "predictions", "samples",
                             "logs",          "rejected",       ".work"};

// Cuts a torn last line (no newline: the write was interrupted) so appends start on a fresh line.
bool cut_torn_tail(int fd, std::string* cut) {
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size <= 0) return false;
  char last = '\n';
  if (::pread(fd, &last, 1, size - 1) != 1 || last == '\n') return false;
  // Find the last newline.
  off_t pos = size;
  char buf[4096];
  while (pos > 0) {
    const off_t start = pos > static_cast<off_t>(sizeof buf) ? pos - static_cast<off_t>(sizeof buf) : 0;
    const ssize_t n = ::pread(fd, buf, static_cast<size_t>(pos - start), start);
    if (n <= 0) break;
    for (ssize_t i = n - 1; i >= 0; --i)
      if (buf[i] == '\n') {
        const off_t keep = start + i + 1;
        cut->assign(static_cast<size_t>(size - keep), '\0');
        (void)!::pread(fd, cut->data(), cut->size(), keep);
        return ::ftruncate(fd, keep) == 0;
      }
    pos = start;
  }
  cut->assign(static_cast<size_t>(size), '\0');
  (void)!::pread(fd, cut->data(), cut->size(), 0);
  return ::ftruncate(fd, 0) == 0;
}
}  // namespace

Journal::Journal(const fs::path& team_dir, JournalMode mode) : path_(team_dir / "records.jsonl") {
  std::error_code ec;
  fs::create_directories(team_dir, ec);
  if (ec) throw SetupError("cannot create " + team_dir.string() + ": " + ec.message());
  const fs::path lock_path = team_dir / ".lesionbench.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw SetupError("cannot write in " + team_dir.string() + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw SetupError(team_dir.string() + " is in use by another lesionbench run (locked)");
  }
  if (mode == JournalMode::start_over)
    for (const char* name : kRunOutputs) fs::remove_all(team_dir / name, ec);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    ::close(lock_fd_);
    throw SetupError("cannot write " + path_.string() + ": " + std::strerror(errno));
  }
  std::string cut;
  if (cut_torn_tail(fd_, &cut))
    warnings_.push_back(path_.string() + ": removed an incomplete last line (" + std::to_string(cut.size()) +
                        " bytes) left by an interrupted run; that case runs again");
  records_ = read_records_jsonl(path_.string(), &warnings_);
  if (!records_.empty() && mode == JournalMode::fresh_only) {
    ::close(fd_);
    ::close(lock_fd_);
    fd_ = lock_fd_ = -1;
    throw SetupError(team_dir.string() + " already holds " + std::to_string(records_.size()) +
                     " recorded case(s): pass --resume to continue that run (recorded cases are skipped), "
                     "or --fresh to start over (removes its records, predictions, samples and logs)");
  }
  for (const auto& r : records_) recorded_.insert(r.case_name);
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void Journal::append(const RunRecord& record) {
  std::string line = nlohmann::json(record).dump();
  if (!sign_key_.empty()) line = sign_record_line(line, sign_key_);
  line += "\n";
  // One write of the whole line (O_APPEND): a crash leaves either the line or a torn tail we cut next time.
  // A failed write (a full disk) is taken back to the last whole line: the journal stays consistent, and
  // std::system_error carries the cause (ENOSPC) for the caller.
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t k = ::write(fd_, line.data() + done, line.size() - done);
    if (k < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      if (before >= 0) (void)!::ftruncate(fd_, before);
      throw std::system_error(e, std::generic_category(), "cannot append to " + path_.string());
    }
    done += static_cast<size_t>(k);
  }
  ::fdatasync(fd_);
  if (recorded_.insert(record.case_name).second) {
    records_.push_back(record);
  } else {
    for (auto& r : records_)
      if (r.case_name == record.case_name) r = record;
  }
}

}  // namespace lb::runner
