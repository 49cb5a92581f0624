// Placeholder until the synth command lands; see its issue.
#include <iostream>

#include "cli/commands.h"

namespace lb::cli {
int cmd_synth(int, char**) {
  std::cerr << "lesionbench synth: not available in this build yet\n";
  return 2;
}
}  // namespace lb::cli
