// lesionbench collect TEAM_DIR: progress and merge of a run submitted with `run --backend slurm --no-wait`
// (or whose submitter was stopped). Idempotent: what is merged already is not merged again.
#include <iostream>

#include "args/args.h"
#include "cli/commands.h"
#include "cli/slurm_run.h"
#include "runner/hmac.h"

namespace lb::cli {

int cmd_collect(int argc, char** argv) {
  std::vector<std::string> teams;
  std::string sign_key_file;
  bool quiet = false;
  Args args("collect", "lesionbench collect TEAM_DIR... [--sign-key FILE]",
            "Merges the Slurm array tasks of `run --backend slurm` into each team folder: their records into\n"
            "records.jsonl, their predictions, samples and logs, and rewrites efficiency.csv. Cases a task did not\n"
            "finish (cancelled, time limit, node failure, out of memory) get a record with Slurm's state and\n"
            "reason, marked unfinished, which `run --resume --backend slurm` runs again. While an array is still\n"
            "queued or running, nothing of it is merged: collect prints its progress and exits 4. Running it again\n"
            "changes nothing.");
  args.positional("TEAM_DIR", "team folder of a run with --backend slurm", &teams, 1, 1000)
      .option("--sign-key", "FILE", "the run's --sign-key (the records collect writes for unfinished cases are signed too)",
              &sign_key_file)
      .flag("--quiet", "print only the progress and the summary", &quiet)
      .epilog("Exit codes: 0 merged (or nothing to merge), 2 unusable folder or Slurm cannot be asked,\n"
              "4 an array is still queued or running (run collect again later).");
  if (!args.parse(argc, argv)) return 0;
  std::string key;
  if (!sign_key_file.empty()) {
    try {
      key = runner::read_sign_key(sign_key_file);
    } catch (const std::exception& e) {
      std::cerr << "lesionbench collect: --sign-key: " << e.what() << "\n";
      return 2;
    }
  }
  int rc = 0;
  for (const auto& t : teams) {
    const int r = collect_team(t, key, std::cout, quiet);
    if (r == 2) rc = 2;
    else if (r == 4 && rc == 0) rc = 4;
  }
  return rc;
}

}  // namespace lb::cli
