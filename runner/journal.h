#pragma once
// The journal: TEAM_DIR/records.jsonl, append-only, one record a line, each line written with a single
// write() and flushed to disk before the next case starts, so a crash loses at most the case in flight.
// An exclusive lock (TEAM_DIR/.lesionbench.lock) keeps two runs from writing the same team folder.
//
// Opening: a folder with records needs --resume (continue: recorded cases are skipped) or --fresh (the
// previous records, predictions, samples and logs are removed); a torn last line from a crash is cut off.
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "runner/record.h"

namespace lb::runner {

// The run cannot start (bad folders, a locked or non-empty team folder): exit code 2, nothing recorded.
struct SetupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class JournalMode { fresh_only, resume, start_over };

class Journal {
 public:
  // Throws SetupError.
  Journal(const std::filesystem::path& team_dir, JournalMode mode);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Every record, read back on resume plus those appended since (a re-run case: the later one).
  const std::vector<RunRecord>& records() const { return records_; }
  bool has(const std::string& case_name) const { return recorded_.count(case_name) > 0; }
  // Appends one line and flushes it to disk. Throws std::runtime_error when the disk refuses.
  void append(const RunRecord& record);
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Lines appended from now on carry an HMAC-SHA256 signature with this key (runner/hmac.h); empty: none.
  void set_sign_key(std::string key) { sign_key_ = std::move(key); }
  std::filesystem::path path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1, lock_fd_ = -1;
  std::vector<RunRecord> records_;
  std::set<std::string> recorded_;
  std::vector<std::string> warnings_;
  std::string sign_key_;
};

}  // namespace lb::runner
