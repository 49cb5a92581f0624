#pragma once
// Captures one output stream of a contestant (the read end of a pipe) into a file, capped: the first
// `head_bytes` are written as they arrive, the last `tail_bytes` are kept and appended at the end with a
// line saying how much was dropped between. A contestant that prints gigabytes cannot fill the disk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace lb::runner {

class LogCapture {
 public:
  // Takes ownership of `fd`. An empty path keeps the text in memory only (text()).
  LogCapture(int fd, std::string path, size_t head_bytes, size_t tail_bytes);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Waits for end of file, or gives up `grace_ms` after being asked (a leftover process may hold the pipe).
  void finish(int grace_ms = 2000);
  // Everything kept (head, marker, tail), for messages and for in-memory captures.
  std::string text() const;
  // The last non-empty line, at most max_len bytes (for the record's message).
  std::string last_line(size_t max_len = 200) const;
  uint64_t total_bytes() const { return total_; }

 private:
  void loop();
  int fd_;
  int stop_pipe_[2] = {-1, -1};
  int file_fd_ = -1;
  std::string path_;
  size_t head_cap_, tail_cap_;
  std::string head_, tail_;  // tail_ is a ring of tail_cap_ bytes once full
  size_t tail_pos_ = 0;
  uint64_t total_ = 0;
  bool finished_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool eof_ = false;
  std::thread thread_;
};

}  // namespace lb::runner
