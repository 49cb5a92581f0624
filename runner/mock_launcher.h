#pragma once
// A launcher that starts no process: a function plays the contestant (writes into the outputs folder,
// says how it ended, takes some time). For testing the scheduler, journal and output checks alone.
#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "runner/launcher.h"

namespace lb::runner {

struct MockOutcome {
  std::optional<int> exit_code = 0;
  std::optional<int> signal;
  double duration_s = 0;                   // how long the launch takes unless killed
  bool oom_killed = false;
  std::optional<std::string> launch_error;  // the launcher could not run it (like an engine's exit 125)
  std::string stderr_last_line;
};

class MockLauncher : public Launcher {
 public:
  // `play` runs on the launch's own thread; `killed` turns true when the scheduler kills the launch.
  using Play = std::function<MockOutcome(const LaunchRequest&, const std::atomic<bool>& killed)>;
  explicit MockLauncher(Play play, std::optional<std::string> prepare_error = std::nullopt);
  std::string kind() const override { return "mock"; }
  void prepare(Provenance& provenance) override;
  std::unique_ptr<Launched> launch(const LaunchRequest& request) override;
  void cleanup(std::vector<std::string>* notes) override;
  int launches() const { return launches_; }
  bool cleaned_up() const { return cleaned_up_; }

 private:
  Play play_;
  std::optional<std::string> prepare_error_;
  int launches_ = 0;
  bool cleaned_up_ = false;
};

}  // namespace lb::runner
