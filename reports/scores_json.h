#pragma once
// scores.json (schemas/scores.schema.json) and the official FLARE24 CSV, written and read back.
#include <iosfwd>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "metrics/score_set.h"

namespace lb {

struct ToolInfo {
  std::string name = "lesionbench";
  std::string version;
  std::string git_commit;
};

inline constexpr const char* kScoresSchemaVersion = "1.1";

nlohmann::json scores_to_json(const ScoreSet& set, const ToolInfo& tool);
// Throws std::runtime_error naming the problem when the document is not a scores file this version can read.
ScoreSet scores_from_json(const nlohmann::json& doc);
ScoreSet read_scores_file(const std::string& path);
void write_json_file(const std::string& path, const nlohmann::json& doc);  // atomic (write, then rename)

// The organisers' CSV: Name,Lesion_DSC,Lesion_NSD, values rounded to 4 decimals and printed as Python prints.
void write_official_csv(std::ostream& out, const std::vector<CaseRecord>& cases);
// The same into a file, as write_json_file writes: a temporary beside it, every write checked, then renamed
// into place; throws std::runtime_error (and leaves no partial file) when the disk is full or the folder absent.
void write_official_csv_file(const std::string& path, const std::vector<CaseRecord>& cases);
// Python's repr of a float: shortest round-trip digits, "1.0" for integers, exponent below 1e-4.
std::string python_float(double x);

// The current time as ISO 8601 UTC to the second ("2026-11-26T23:04:15Z"), as every file we write stamps it.
std::string utc_now();

}  // namespace lb
