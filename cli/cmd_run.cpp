// Placeholder until the run command lands; see its issue.
#include <iostream>

#include "cli/commands.h"

namespace lb::cli {
int cmd_run(int, char**) {
  std::cerr << "lesionbench run: not available in this build yet\n";
  return 2;
}
}  // namespace lb::cli
