#pragma once
// A contestant that is a command line: `{inputs}` and `{outputs}` are replaced by the folders (quoted for
// the shell) and the string is run by `/bin/sh -c`, as docker's shell form does, in its own process group
// and working folder. This process becomes the subreaper of the contestant's orphans, so nothing it starts
// escapes: on timeout, on Ctrl-C and after it exits, every process left of its tree is killed.
#include <string>
#include <utility>
#include <vector>

#include "runner/launcher.h"

namespace lb::runner {

struct CommandSettings {
  std::string command;                                   // with {inputs} and {outputs}
  std::string workdir;                                   // empty: a fresh scratch folder per launch
  std::vector<std::pair<std::string, std::string>> env;  // extra environment
};

class ProcessLauncher : public Launcher {
 public:
  explicit ProcessLauncher(CommandSettings settings);
  std::string kind() const override { return "command"; }
  void prepare(Provenance& provenance) override;
  std::unique_ptr<Launched> launch(const LaunchRequest& request) override;

  // The argv for a request (exposed for tests).
  std::vector<std::string> argv_for(const LaunchRequest& request) const;

 private:
  CommandSettings settings_;
};

}  // namespace lb::runner
