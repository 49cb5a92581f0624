#pragma once
// When did each expected prediction file appear in the outputs folder? inotify on the folder (created or
// moved in), timestamped by a small thread blocked in poll(), so the time is exact to a millisecond and
// costs nothing while nothing happens. Works for bind-mounted folders written from inside a container.
// Where inotify is unavailable, the file's modification time is used instead.
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace lb::runner {

class OutputWatch {
 public:
  OutputWatch() = default;
  ~OutputWatch();
  OutputWatch(const OutputWatch&) = delete;
  OutputWatch& operator=(const OutputWatch&) = delete;

  // Watches `dir` (not its subfolders) for the given names; times are seconds since t0.
  void start(const std::string& dir, const std::vector<std::string>& names, std::chrono::steady_clock::time_point t0);
  void stop();
  // Seconds from t0 until `name` appeared; nullopt when it never did.
  std::optional<double> appeared_s(const std::string& name) const;

 private:
  void loop();
  std::string dir_;
  std::chrono::steady_clock::time_point t0_;
  std::chrono::system_clock::time_point t0_wall_;
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::optional<double>> seen_;
};

}  // namespace lb::runner
