// Reading team folders (see team.h).
#include "reports/team.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "reports/scores_json.h"
#include "runner/samples.h"

namespace fs = std::filesystem;

namespace lb {

std::string case_key(const std::string& file_name) {
  for (const char* ext : {".nii.gz", ".nii"}) {
    const std::string e = ext;
    if (file_name.size() > e.size() && file_name.compare(file_name.size() - e.size(), e.size(), e) == 0)
      return file_name.substr(0, file_name.size() - e.size());
  }
  return file_name;
}

std::string team_name_of(const std::string& dir) {
  fs::path p = fs::absolute(fs::path(dir)).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // a trailing slash
  return p.filename().string();
}

std::string scoring_settings_difference(const ScoreSettings& a, const ScoreSettings& b) {
  std::ostringstream d;
  auto differ = [&](const char* what, double x, double y) {
    if (x != y) d << (d.tellp() > 0 ? "; " : "") << what << " " << x << " vs " << y;
  };
  differ("tolerance_mm", a.case_settings.tolerance_mm, b.case_settings.tolerance_mm);
  differ("nsd_gate_dsc", a.case_settings.nsd_gate_dsc, b.case_settings.nsd_gate_dsc);
  if (a.lesion_wise && b.lesion_wise) {
    differ("connectivity", a.lesion.connectivity, b.lesion.connectivity);
    if (a.lesion.bucket_edges_ml != b.lesion.bucket_edges_ml)
      d << (d.tellp() > 0 ? "; " : "") << "volume_buckets_ml differ";
  }
  return d.str();
}

namespace {

void read_records(Team& t) {
  const fs::path records = fs::path(t.dir) / "records.jsonl";
  if (fs::exists(records)) {
    t.has_records = true;
    t.records = runner::read_records_jsonl(records.string(), &t.warnings);
  }
  const fs::path eff = fs::path(t.dir) / "efficiency.csv";
  if (fs::exists(eff)) t.efficiency_csv = eff.string();
}

}  // namespace

Team load_team(const std::string& dir, const TeamLoadOptions& opt) {
  Team t;
  const fs::path d(dir);
  if (!fs::is_directory(d)) throw std::runtime_error(dir + ": not a folder");
  t.dir = dir;
  t.name = team_name_of(dir);
  const fs::path scores = d / "scores.json";
  if (fs::exists(scores) && !opt.rescore) {
    t.scores_path = scores.string();
    t.scores = read_scores_file(t.scores_path);
  } else if (!opt.gt_dir.empty()) {
    const fs::path preds = d / "predictions";
    if (!fs::is_directory(preds))
      throw std::runtime_error(dir + ": no predictions/ folder to score (and no scores.json)");
    ScoreSettings st = opt.score_settings;
    st.gt_dir = opt.gt_dir;
    st.pred_dir = preds.string();
    try {
      t.scores = score_folders(st);
    } catch (const UnusableInput& e) {
      throw std::runtime_error(dir + ": cannot score: " + e.what());
    }
    t.scored_now = true;
    if (!opt.scores_out.empty()) {
      write_json_file(opt.scores_out, scores_to_json(t.scores, opt.tool));
      t.scores_path = opt.scores_out;
    }
  } else {
    throw std::runtime_error(dir + ": no scores.json; score it first (lesionbench score --json " + scores.string() +
                             ") or pass --gt to score it now");
  }
  read_records(t);
  return t;
}

Team load_scored(const std::string& path) {
  Team t;
  fs::path p(path);
  if (fs::is_directory(p)) {
    t.dir = path;
    p /= "scores.json";
    if (!fs::exists(p)) throw std::runtime_error(path + ": no scores.json in this folder");
  } else {
    if (!fs::exists(p)) throw std::runtime_error(path + ": no such file or folder");
    t.dir = p.has_parent_path() ? p.parent_path().string() : ".";
  }
  t.scores_path = p.string();
  t.scores = read_scores_file(t.scores_path);
  t.name = team_name_of(t.dir);
  read_records(t);
  return t;
}

SampleSeries read_samples(const std::string& path) {
  SampleSeries s;
  for (const auto& x : runner::read_samples_csv(path)) {
    s.t_s.push_back(x.t_s);
    s.device_mib.push_back(x.gpu_device_mib);  // NaN where not measured
    s.own_mib.push_back(x.gpu_own_mib);
  }
  return s;
}

}  // namespace lb
