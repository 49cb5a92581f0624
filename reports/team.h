#pragma once
// A team's folder as `lesionbench run` lays it out, read for reports and compare:
//   TEAM_DIR/predictions/<case>.nii.gz   the masks
//   TEAM_DIR/scores.json                 `lesionbench score --json` (or scored now when --gt is given)
//   TEAM_DIR/records.jsonl               run records, one per case (absent for predictions made elsewhere)
//   TEAM_DIR/efficiency.csv              the official efficiency CSV written by the runner
//   TEAM_DIR/<record.files.samples>      per-case sample series (CSV) for the plots
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics/score_set.h"
#include "reports/scores_json.h"
#include "runner/record.h"

namespace lb {

// "FLARE24Val_0001.nii.gz" -> "FLARE24Val_0001" (the key shared by score records and run records).
std::string case_key(const std::string& file_name);

// A team is named after its folder: "results/team-a/" -> "team-a".
std::string team_name_of(const std::string& dir);

struct Team {
  std::string name;           // the folder's name unless given
  std::string dir;
  std::string scores_path;    // where the scores were read from (or written to when scored now)
  bool scored_now = false;    // scored by this run from --gt (the folder's scores.json, if any, not used)
  ScoreSet scores;
  bool has_records = false;   // records.jsonl present
  std::vector<runner::RunRecord> records;  // with --verify-key: only the lines whose signature matched
  std::map<std::string, std::string> refused_records;  // case -> why (--verify-key: "unsigned", "altered")
  std::string efficiency_csv;  // path of the runner's efficiency.csv, empty when absent
  std::vector<std::string> warnings;  // records lines skipped, names refused, and similar
};

struct TeamLoadOptions {
  // The ground truth: when given, the team's predictions/ are scored now against it and its scores.json is
  // not used (a team's own scores are a claim; see docs/security.md). Empty: scores.json is read.
  std::string gt_dir;
  std::string scores_out;                  // where to write scores made now (empty: do not write)
  ScoreSettings score_settings;            // for scoring now; gt_dir/pred_dir are filled in
  ToolInfo tool;                           // written into scores made now
  std::string verify_key;                  // --verify-key: keep only records signed with it (empty: all)
};

// Throws std::runtime_error with the folder and the problem when it cannot be used (no such folder,
// no scores.json and no --gt, a malformed scores.json or records.jsonl that cannot be opened).
// Case names and sample paths read from the folder's files are checked (reports/names.h): a score or record
// with an unusable name is left out with a warning.
Team load_team(const std::string& dir, const TeamLoadOptions& options);

// BASE or NEW of compare: a scores.json file (its folder's records.jsonl is used when present) or a team
// folder. Never scores.
Team load_scored(const std::string& path);

// The scoring settings that change scores (tolerance, NSD gate, lesion connectivity and volume buckets when
// both are lesion-wise), as readable text; empty when they agree.
std::string scoring_settings_difference(const ScoreSettings& a, const ScoreSettings& b);

// The GPU memory series of one launch, from the runner's sample CSV (runner/samples.h).
struct SampleSeries {
  std::vector<double> t_s;         // seconds since the launch
  std::vector<double> device_mib;  // device-wide used GPU memory; NaN where not measured
  std::vector<double> own_mib;     // the contestant's own; NaN where not measured
};
// Throws std::runtime_error naming the file when it is not a samples CSV.
SampleSeries read_samples(const std::string& path);

}  // namespace lb
