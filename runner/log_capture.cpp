// Capped capture of a contestant's stdout or stderr; see log_capture.h.
#include "runner/log_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace lb::runner {

namespace {
void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t k = ::write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return;  // a full disk loses log text, never the run
    }
    p += k;
    n -= static_cast<size_t>(k);
  }
}
}  // namespace

LogCapture::LogCapture(int fd, std::string path, size_t head_bytes, size_t tail_bytes)
    : fd_(fd), path_(std::move(path)), head_cap_(head_bytes), tail_cap_(tail_bytes) {
  if (!path_.empty()) file_fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
  thread_ = std::thread([this] { loop(); });
}

LogCapture::~LogCapture() {
  finish(0);
  for (int f : stop_pipe_)
    if (f >= 0) ::close(f);
}

void LogCapture::loop() {
  char buf[65536];
  pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  const nfds_t nfds = stop_pipe_[0] >= 0 ? 2 : 1;
  for (;;) {
    if (::poll(fds, nfds, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // end of file: every writer is gone
      total_ += static_cast<uint64_t>(n);
      size_t used = 0;
      if (head_.size() < head_cap_) {
        used = std::min(static_cast<size_t>(n), head_cap_ - head_.size());
        head_.append(buf, used);
        if (file_fd_ >= 0) write_all(file_fd_, buf, used);
      }
      for (size_t i = used; i < static_cast<size_t>(n) && tail_cap_ > 0; ++i) {
        if (tail_.size() < tail_cap_) {
          tail_.push_back(buf[i]);
        } else {
          tail_[tail_pos_] = buf[i];
          tail_pos_ = (tail_pos_ + 1) % tail_cap_;
        }
      }
    }
    if (nfds == 2 && fds[1].revents) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

void LogCapture::finish(int grace_ms) {
  if (finished_) return;
  if (thread_.joinable()) {
    // The reader ends by itself at end of file; a leftover process holding the pipe must not hold us up.
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(grace_ms), [this] { return eof_; });
    }
    if (stop_pipe_[1] >= 0) {
      const char c = 0;
      (void)!::write(stop_pipe_[1], &c, 1);
    }
    thread_.join();
  }
  ::close(fd_);
  fd_ = -1;
  const std::string tail = [&] {
    std::string t = tail_.substr(tail_pos_) + tail_.substr(0, tail_pos_);
    return t;
  }();
  tail_ = tail;
  tail_pos_ = 0;
  const uint64_t kept = head_.size() + tail_.size();
  if (file_fd_ >= 0) {
    if (total_ > kept) {
      const std::string marker = "\n[lesionbench: " + std::to_string(total_ - kept) + " bytes dropped here; the log is capped at " +
                                 std::to_string(head_cap_) + " + " + std::to_string(tail_cap_) + " bytes]\n";
      write_all(file_fd_, marker.data(), marker.size());
    }
    write_all(file_fd_, tail_.data(), tail_.size());
    ::close(file_fd_);
    file_fd_ = -1;
  }
  finished_ = true;
}

std::string LogCapture::text() const {
  const uint64_t kept = head_.size() + tail_.size();
  std::string t = head_;
  if (total_ > kept) t += "\n[... " + std::to_string(total_ - kept) + " bytes dropped ...]\n";
  return t + tail_;
}

std::string LogCapture::last_line(size_t max_len) const {
  const std::string t = text();
  size_t end = t.size();
  while (end > 0 && (t[end - 1] == '\n' || t[end - 1] == '\r' || t[end - 1] == ' ')) --end;
  const size_t start = t.rfind('\n', end == 0 ? 0 : end - 1);
  std::string line = t.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1));
  if (line.size() > max_len) line = line.substr(0, max_len) + "...";
  return line;
}

}  // namespace lb::runner
