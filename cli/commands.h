#pragma once
// Each subcommand is one function over its own arguments (argv after the subcommand name).
// Exit codes, the same for all: 0 done, 1 a check failed (compare, check), 2 unusable input or bad flags.
#include "args/args.h"

namespace lb::cli {
using args::Args;
using args::UsageError;

int cmd_score(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_check(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_synth(int argc, char** argv);
int cmd_collect(int argc, char** argv);
}  // namespace lb::cli
