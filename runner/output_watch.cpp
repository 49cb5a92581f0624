// inotify watch of the outputs folder; see output_watch.h.
#include "runner/output_watch.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace lb::runner {

OutputWatch::~OutputWatch() { stop(); }

void OutputWatch::start(const std::string& dir, const std::vector<std::string>& names,
                        std::chrono::steady_clock::time_point t0) {
  stop();
  dir_ = dir;
  t0_ = t0;
  t0_wall_ = std::chrono::system_clock::now() -
             std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::steady_clock::now() - t0);
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.clear();
    for (const auto& n : names) seen_.emplace(n, std::nullopt);
  }
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ >= 0 && ::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (fd_ < 0) return;  // stop() falls back to modification times
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  thread_ = std::thread([this] { loop(); });
}

void OutputWatch::loop() {
  alignas(inotify_event) char buf[16384];
  pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents & POLLIN) {
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
      for (;;) {
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) break;
        std::lock_guard<std::mutex> lock(mu_);
        for (ssize_t off = 0; off < n;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
          off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
          if (ev->len == 0) continue;
          auto it = seen_.find(std::string(ev->name));
          if (it != seen_.end() && !it->second) it->second = t;
        }
      }
    }
    if (fds[1].revents) return;
  }
}

void OutputWatch::stop() {
  if (thread_.joinable()) {
    const char c = 0;
    (void)!::write(stop_pipe_[1], &c, 1);
    thread_.join();
  }
  for (int& f : stop_pipe_)
    if (f >= 0) {
      ::close(f);
      f = -1;
    }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (dir_.empty()) return;
  // Anything present but unseen (no inotify, or its queue overflowed): fall back to the modification time.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, t] : seen_) {
    if (t) continue;
    struct stat st {};
    if (::lstat((dir_ + "/" + name).c_str(), &st) != 0) continue;
    const auto mtime = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                                        std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    t = std::max(0.0, std::chrono::duration<double>(mtime - t0_wall_).count());
  }
  dir_.clear();
}

std::optional<double> OutputWatch::appeared_s(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find(name);
  return it == seen_.end() ? std::nullopt : it->second;
}

}  // namespace lb::runner
