// Timing conditions of the teams of a leaderboard; see timing_conditions.h.
#include "reports/timing_conditions.h"

#include <algorithm>
#include <set>

namespace lb {

std::string timing_conditions(const Team& team) {
  std::set<std::string> hosts;
  int most = 0;
  for (const auto& r : team.records) {
    if (r.status == runner::RunStatus::launch_error) continue;  // nothing ran, nothing was timed
    hosts.insert(r.provenance.host.empty() ? "an unnamed host" : r.provenance.host);
    // Records from before slots (no placement) ran one at a time.
    most = std::max(most, r.placement ? r.placement->concurrent_max : 1);
  }
  if (hosts.empty()) return {};
  std::string text = "on ";
  bool first = true;
  for (const auto& h : hosts) {
    if (!first) text.append(", ");
    text.append(h);
    first = false;
  }
  if (most <= 1) text.append(", one launch at a time");
  else text.append(", up to " + std::to_string(most) + " launches at once");
  return text;
}

std::optional<std::string> timing_conditions_warning(const std::vector<const Team*>& teams) {
  std::set<std::string> distinct;
  std::string list;
  for (const Team* t : teams) {
    const std::string c = timing_conditions(*t);
    if (c.empty()) continue;
    distinct.insert(c);
    if (!list.empty()) list.append("; ");
    list.append(t->name + " " + c);
  }
  if (distinct.size() <= 1) return std::nullopt;
  return "the teams were timed under different conditions (" + list +
         "): concurrent launches share disk and memory bandwidth, and hosts differ, so times and efficiency do not "
         "compare; for official timings run every team on one host with --parallel 1 (docs/runner.md)";
}

}  // namespace lb
