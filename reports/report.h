#pragma once
// `lesionbench report`: team folders in, REPORT_DIR out —
//   leaderboard.json, leaderboard.html, DSC_NSD_<team>.csv, <team>_Efficiency.csv,
//   pictures/<team>/<case>.png (also inside the page), scores/<team>.json (teams scored now).
#include <functional>
#include <string>
#include <vector>

#include "reports/leaderboard.h"
#include "reports/scores_json.h"

namespace lb {

struct ReportOptions {
  std::vector<std::string> team_dirs;
  std::string out_dir;
  std::string gt_dir;     // the case list and every team's scores, made now; also the ground truth of the pictures
  std::string cases_dir;  // <case>_0000.nii.gz images, for the pictures
  RankSettings rank;
  ScoreSettings score;    // for teams scored now (lesion-wise on by default in the command)
  std::string verify_key;  // --verify-key: bytes of the organiser's key; records not signed with it are refused
  bool allow_different_settings = false;
  int pictures_per_team = 3;
  int gpu_cases_per_team = 3;
  std::string web_modules;  // node_modules folder with the charting library (empty: look in the usual places)
  ToolInfo tool;
  std::function<void(const std::string&)> log;  // progress lines; may be empty
};

struct ReportResult {
  Leaderboard board;
  std::vector<std::string> written;   // files, in the order written
  std::vector<std::string> warnings;  // about the inputs and about what could not be drawn
  bool charts_found = false;
};

// Thrown when the teams were scored with different settings and that was not allowed (exit code 2).
struct SettingsMismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws std::runtime_error (unusable input: also two teams with one file name, and --gt that no team's
// prediction matches) or SettingsMismatch; a missing picture or sample series is a warning, not an error.
ReportResult write_report(const ReportOptions& options);

// Team names become file names: anything but letters, digits, '-', '_' and '.' becomes '_'. Two teams whose
// names map to one file name are refused by write_report (their files would overwrite each other).
std::string file_safe(const std::string& name);

}  // namespace lb
