#pragma once
// Whether the teams of a leaderboard were timed under the same conditions: the host their records name and
// how many launches ran at once on it (runner/slots.h; record field placement). Concurrent launches share
// disk and memory bandwidth, so times taken alone, taken 4 at a time, or taken on another machine do not
// compare; `report` says so rather than rank them silently.
#include <optional>
#include <string>
#include <vector>

#include "reports/team.h"

namespace lb {

// A team's conditions as text, e.g. "on node1, one launch at a time" or "on node1, node2, up to 4 launches
// at once"; empty when it has no run records.
std::string timing_conditions(const Team& team);

// A warning naming each team's conditions when they differ between teams (teams without records are
// left out); nullopt when they agree.
std::optional<std::string> timing_conditions_warning(const std::vector<const Team*>& teams);

}  // namespace lb
