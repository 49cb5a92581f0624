#pragma once
// leaderboard.json (schemas/leaderboard.schema.json): the leaderboard as data, for scripts and for the page.
#include <iosfwd>
#include <nlohmann/json.hpp>

#include "reports/leaderboard.h"
#include "reports/scores_json.h"

namespace lb {

inline constexpr const char* kLeaderboardSchemaVersion = "1.0";

struct ReportInputs {
  std::string gt_dir, cases_dir;  // as given (empty when not)
};

nlohmann::json leaderboard_to_json(const Leaderboard& board, const ToolInfo& tool, const ReportInputs& inputs);
// The same document written team by team (memory: one team's part at a time).
void write_leaderboard_json(std::ostream& out, const Leaderboard& board, const ToolInfo& tool, const ReportInputs& inputs);

}  // namespace lb
