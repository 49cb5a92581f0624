// Placeholder until the compare command lands; see its issue.
#include <iostream>

#include "cli/commands.h"

namespace lb::cli {
int cmd_compare(int, char**) {
  std::cerr << "lesionbench compare: not available in this build yet\n";
  return 2;
}
}  // namespace lb::cli
