// lesionbench: run contestants, score their predictions, report leaderboards.
#include <cstring>
#include <iostream>
#include <string>

#include "args/args.h"
#include "cli/commands.h"
#include "cli/version.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int, char**);
};

const Command kCommands[] = {
#ifndef LESIONBENCH_RUNNER_ONLY
    {"score", "score predictions against ground truth (FLARE24 DSC and NSD, lesion-wise)", lb::cli::cmd_score},
#endif
    {"run", "run contestants (containers or commands) on cases, measuring time, GPU, CPU and RAM", lb::cli::cmd_run},
    {"collect", "merge the Slurm array tasks of `run --backend slurm` into their team folders", lb::cli::cmd_collect},
    {"check", "before uploading: check predictions (and zip them), or dry-run a container", lb::cli::cmd_check},
#ifndef LESIONBENCH_RUNNER_ONLY
    {"report", "build JSON and HTML leaderboards and the official CSVs from team folders", lb::cli::cmd_report},
    {"compare", "compare two scored runs; exit 1 when the new one is worse (for CI)", lb::cli::cmd_compare},
    {"synth", "generate CT-like phantoms with lesion masks", lb::cli::cmd_synth},
#endif
};

void usage(std::ostream& out) {
  out << "Usage: lesionbench <command> [options]\n\n"
         "Evaluation and benchmarking for 3D lesion segmentation in CT (FLARE24 Task 1).\n\nCommands:\n";
  for (const auto& c : kCommands) {
    std::string name = c.name;
    out << "  " << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\n  lesionbench <command> --help   options of one command\n"
         "  lesionbench --version          version and git commit\n\n"
         "Exit codes: 0 done, 1 a check failed (compare, check), 2 unusable input or bad options;\n"
         "run also 3 (disk full, resumable) and 130 (interrupted); collect 4 (a Slurm array still running).\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string first = argv[1];
  if (first == "--version" || first == "version") {
    std::cout << "lesionbench " << lb::version() << " (commit " << lb::git_commit() << ")\n";
    return 0;
  }
  if (first == "-h" || first == "--help" || first == "help") {
    if (argc >= 3) {
      for (const auto& c : kCommands)
        if (argv[2] == std::string(c.name)) {
          char help[] = "--help";
          char* args[] = {help};
          return c.run(1, args);
        }
    }
    usage(std::cout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (first != c.name) continue;
    try {
      return c.run(argc - 2, argv + 2);
    } catch (const lb::cli::UsageError& e) {
      std::cerr << "lesionbench " << c.name << ": " << e.what() << "\n"
                << "Try 'lesionbench " << c.name << " --help'.\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "lesionbench " << c.name << ": error: " << e.what() << "\n";
      return 2;
    }
  }
  std::cerr << "lesionbench: unknown command '" << first << "'\n\n";
  usage(std::cerr);
  return 2;
}
