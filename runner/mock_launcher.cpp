// The process-free launcher for tests; see mock_launcher.h.
#include "runner/mock_launcher.h"

#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace lb::runner {

namespace {

class MockLaunched : public Launched {
 public:
  MockLaunched(const MockLauncher::Play& play, const LaunchRequest& request) : started_(Clock::now()) {
    thread_ = std::thread([this, play, request] {
      MockOutcome o = play(request, killed_);
      const auto until = started_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, until, [this] { return killed_.load(); });
      if (killed_.load()) {
        o.exit_code = 128 + SIGKILL;
        o.signal = SIGKILL;
      }
      outcome_ = o;
      ended_ = Clock::now();
      done_ = true;
      cv_.notify_all();
    });
  }
  ~MockLaunched() override {
    kill();
    thread_.join();
  }
  Clock::time_point started() const override { return started_; }
  const TreeRoots& tree() const override { return tree_; }
  std::vector<std::string> argv() const override { return {"mock"}; }
  bool wait_for(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return done_; });
  }
  void kill() override {
    std::lock_guard<std::mutex> lock(mu_);
    killed_.store(true);
    cv_.notify_all();
  }
  LaunchExit finish() override {
    wait_for(std::chrono::hours(24));
    LaunchExit e;
    e.end = ended_;
    e.exit_code = outcome_.exit_code;
    e.signal = outcome_.signal;
    e.oom_killed = outcome_.oom_killed;
    e.stderr_last_line = outcome_.stderr_last_line;
    e.launch_error = outcome_.launch_error;
    return e;
  }

 private:
  Clock::time_point started_, ended_;
  TreeRoots tree_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> killed_{false};
  bool done_ = false;
  MockOutcome outcome_;
};

}  // namespace

MockLauncher::MockLauncher(Play play, std::optional<std::string> prepare_error)
    : play_(std::move(play)), prepare_error_(std::move(prepare_error)) {}

void MockLauncher::prepare(Provenance& p) {
  p.kind = kind();
  if (prepare_error_) throw LaunchError(*prepare_error_);
}

std::unique_ptr<Launched> MockLauncher::launch(const LaunchRequest& request) {
  ++launches_;
  return std::make_unique<MockLaunched>(play_, request);
}

void MockLauncher::cleanup(std::vector<std::string>* notes) {
  cleaned_up_ = true;
  if (notes) notes->push_back("mock cleanup");
}

}  // namespace lb::runner
