#pragma once
// A contestant that is a command line: `{inputs}` and `{outputs}` are replaced by the folders (quoted for
// the shell) and the string is run by `/bin/sh -c`, as docker's shell form does, in its own process group
// and working folder. By default it runs in the bubblewrap sandbox of sandbox.h (own PID namespace, no
// network, an allow-list of folders); `sandbox = none` runs it as this user, unconfined. This process
// becomes the subreaper of the contestant's orphans, so nothing it starts escapes: on timeout, on Ctrl-C
// and after it exits, every process left of its tree is killed (in the sandbox, the PID namespace also
// ends with the command, and with lesionbench).
#include <string>
#include <utility>
#include <vector>

#include "runner/launcher.h"
#include "runner/sandbox.h"

namespace lb::runner {

struct CommandSettings {
  std::string command;                                   // with {inputs} and {outputs}
  std::string workdir;                                   // empty: a fresh scratch folder per launch
  std::vector<std::pair<std::string, std::string>> env;  // extra environment
  SandboxKind sandbox = SandboxKind::bwrap;
  std::vector<std::string> sandbox_ro, sandbox_rw;       // absolute paths added to the sandbox's allow-list
};

class ProcessLauncher : public Launcher {
 public:
  explicit ProcessLauncher(CommandSettings settings);
  std::string kind() const override { return "command"; }
  void prepare(Provenance& provenance) override;
  std::unique_ptr<Launched> launch(const LaunchRequest& request) override;

  // The argv for a request (exposed for tests): with the sandbox, bwrap's (after prepare()).
  std::vector<std::string> argv_for(const LaunchRequest& request) const;

 private:
  CommandSettings settings_;
  std::string bwrap_;  // found by prepare()
};

}  // namespace lb::runner
