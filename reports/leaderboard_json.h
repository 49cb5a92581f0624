#pragma once
// leaderboard.json (schemas/leaderboard.schema.json): the leaderboard as data, for scripts and for the page.
#include <iosfwd>

#include "reports/leaderboard.h"
#include "reports/scores_json.h"

namespace lb {

inline constexpr const char* kLeaderboardSchemaVersion = "1.2";

struct ReportInputs {
  std::string gt_dir, cases_dir;  // as given (empty when not)
};

// Written team by team: the whole document as one JSON tree would take about ten times its size in memory.
void write_leaderboard_json(std::ostream& out, const Leaderboard& board, const ToolInfo& tool, const ReportInputs& inputs);

}  // namespace lb
