// Placeholder until the report command lands; see its issue.
#include <iostream>

#include "cli/commands.h"

namespace lb::cli {
int cmd_report(int, char**) {
  std::cerr << "lesionbench report: not available in this build yet\n";
  return 2;
}
}  // namespace lb::cli
