// The report command's work (see report.h): load, rank, write every output.
#include "reports/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "metrics/case_scores.h"
#include "reports/html_report.h"
#include "reports/leaderboard_json.h"
#include "reports/names.h"
#include "reports/png.h"
#include "reports/slice_picture.h"
#include "reports/web_assets.h"
#include "runner/efficiency.h"

namespace fs = std::filesystem;

namespace lb {

std::string file_safe(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  if (s.empty() || s == "." || s == "..") s = "team";
  return s;
}

namespace {

void write_file_atomic(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

std::string fixed4(double v) { return format_rounded(v, 4); }

// The worst cases of a team that have something to show (not a healthy case predicted empty, not perfect).
std::vector<const CaseEntry*> worst_cases(const TeamResult& t, int k) {
  std::vector<const CaseEntry*> rows;
  for (const auto& e : t.cases) {
    if (e.score && e.score->rule == "both_empty") continue;
    if (!e.failed && e.dsc >= 1 && e.nsd >= 1) continue;
    rows.push_back(&e);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const CaseEntry* x, const CaseEntry* y) {
    if (x->dsc != y->dsc) return x->dsc < y->dsc;
    if (x->nsd != y->nsd) return x->nsd < y->nsd;
    return x->key < y->key;
  });
  if (static_cast<int>(rows.size()) > k) rows.resize(static_cast<size_t>(k));
  return rows;
}

void make_pictures(const ReportOptions& opt, const Leaderboard& b, HtmlPage& page, ReportResult& result) {
  if (opt.pictures_per_team <= 0) return;
  // The ground truth is --gt only: a folder named in a team's scores.json is not opened (docs/security.md).
  const std::string& gt_dir = opt.gt_dir;
  if (opt.cases_dir.empty() || gt_dir.empty()) {
    page.picture_notes.push_back(std::string("No pictures: they need the CT images (--cases CASES_DIR)") +
                                 (gt_dir.empty() ? " and the ground truth (--gt GT_DIR)" : "") + ".");
    return;
  }
  // Jobs grouped by case, so that each CT is read once for all teams.
  std::map<std::string, std::vector<std::pair<size_t, const CaseEntry*>>> by_case;
  for (size_t t = 0; t < b.teams.size(); ++t)
    for (const CaseEntry* e : worst_cases(b.teams[t], opt.pictures_per_team)) by_case[e->key].push_back({t, e});
  std::map<std::pair<size_t, std::string>, CasePicture> made;
  for (const auto& [key, jobs] : by_case) {
    if (opt.log) opt.log("picture " + key);
    CaseVolumes vol;
    try {
      const std::string ct = path_in(opt.cases_dir, key + "_0000.nii.gz", "case").string();
      const std::string gt = path_in(gt_dir, key + ".nii.gz", "case").string();
      vol = load_case_volumes(ct, gt);
    } catch (const std::exception& e) {
      const std::string w = "no picture of " + key + ": " + e.what();
      page.picture_notes.push_back(w);
      result.warnings.push_back(w);
      continue;
    }
    for (const auto& [t, e] : jobs) {
      const TeamResult& team = b.teams[t];
      try {
        // The team's predictions/ only: a folder named in its scores.json is not opened.
        std::string pred;
        if (e->score) {
          const fs::path p = path_in(fs::path(team.team.dir) / "predictions", e->score->name, "prediction");
          if (fs::is_regular_file(p)) pred = p.string();
        }
        SliceView v = render_case_slice(vol, pred);
        CasePicture pic;
        pic.team = team.team.name;
        pic.case_key = key;
        pic.png = encode_png(v.image);
        pic.width = v.image.width;
        pic.height = v.image.height;
        pic.caption = "<strong>" + html_escape(key) + "</strong> · DSC " + fixed4(e->dsc) + " · NSD " + fixed4(e->nsd) +
                      "<br>slice " + std::to_string(v.slice_index) + " · " + std::to_string(v.gt_pixels) +
                      " GT / " + std::to_string(v.pred_pixels) + " predicted voxels on it" +
                      (pred.empty() ? "<br>no prediction file" : "") +
                      (e->failed ? "<br>" + html_escape(e->failure) : "");
        const fs::path dir = path_in(fs::path(opt.out_dir) / "pictures", file_safe(team.team.name), "team");
        const fs::path file = path_in(dir, key + ".png", "case");
        fs::create_directories(dir);
        write_file_atomic(file, std::string(pic.png.begin(), pic.png.end()));
        result.written.push_back(file.string());
        made[{t, key}] = std::move(pic);
      } catch (const std::exception& ex) {
        const std::string w = "no picture of " + team.team.name + " " + key + ": " + ex.what();
        page.picture_notes.push_back(w);
        result.warnings.push_back(w);
      }
    }
  }
  // On the page: by team, worst first.
  for (size_t t = 0; t < b.teams.size(); ++t)
    for (const CaseEntry* e : worst_cases(b.teams[t], opt.pictures_per_team))
      if (auto it = made.find({t, e->key}); it != made.end()) page.pictures.push_back(std::move(it->second));
}

void collect_gpu_series(const ReportOptions& opt, const Leaderboard& b, HtmlPage& page, ReportResult& result) {
  bool any_records = false;
  for (const auto& t : b.teams) {
    if (!t.team.has_records) continue;
    any_records = true;
    std::vector<const runner::RunRecord*> runs;
    for (const auto& e : t.cases)
      if (e.run && !e.run->files.samples.empty()) runs.push_back(&*e.run);
    std::stable_sort(runs.begin(), runs.end(),
                     [](const runner::RunRecord* x, const runner::RunRecord* y) { return x->wall_s > y->wall_s; });
    std::set<std::string> files_seen;  // a batch run shares one series among its cases
    int taken = 0;
    for (const auto* r : runs) {
      if (taken >= opt.gpu_cases_per_team) break;
      if (!files_seen.insert(r->files.samples).second) continue;
      try {
        const std::string path = relative_path_in(t.team.dir, r->files.samples, "files.samples of " + r->case_name).string();
        SampleSeries s = read_samples(path);
        auto& mib = b.settings.gpu_measure == GpuMeasure::device ? s.device_mib : s.own_mib;
        const bool measured = std::any_of(mib.begin(), mib.end(), [](double v) { return std::isfinite(v); });
        if (!measured) continue;
        page.gpu_series.push_back({t.team.name, r->case_name, r->wall_s, std::move(s.t_s), std::move(mib)});
        ++taken;
      } catch (const std::exception& e) {
        result.warnings.push_back(t.team.name + ": " + e.what());
      }
    }
  }
  if (page.gpu_series.empty())
    page.gpu_series_note = any_records ? "No GPU memory was sampled (no NVIDIA GPU where the teams ran, or no sample files)."
                                       : "No team has run records (records.jsonl) with sample series.";
}

// Team names come from folder names and become file names: two teams that would share one are refused
// before anything is written (their CSVs, scores and pictures would overwrite each other).
void check_team_file_names(const std::vector<std::string>& dirs) {
  std::map<std::string, std::string> dir_of_file_name;
  std::map<std::string, std::string> dir_of_name;
  for (const auto& dir : dirs) {
    const std::string name = team_name_of(dir);
    if (auto [it, inserted] = dir_of_name.emplace(name, dir); !inserted)
      throw std::runtime_error("two team folders are named '" + name + "' (" + it->second + " and " + dir +
                               "); team names come from the folder names");
    const std::string safe = file_safe(name);
    if (auto [it, inserted] = dir_of_file_name.emplace(safe, dir); !inserted)
      throw std::runtime_error("teams '" + team_name_of(it->second) + "' (" + it->second + ") and '" + name + "' (" + dir +
                               ") would both be written as '" + safe +
                               "' (DSC_NSD_" + safe + ".csv, pictures/" + safe + "/); rename one of the folders");
  }
}

// With --gt: the ground truth's cases (every team was scored on all of them), after saying loudly when a
// team's predictions match none of them. Throws when no team matches any: the wrong --gt, most likely.
std::vector<std::string> check_matches(std::vector<Team>& teams, const std::string& gt_dir,
                                       std::vector<std::string>& warnings) {
  std::vector<std::string> keys;
  for (const auto& c : teams.front().scores.cases) keys.push_back(case_key(c.name));
  size_t teams_matching = 0;
  for (auto& t : teams) {
    size_t matched = 0, unmatched = 0;
    for (const auto& c : t.scores.cases) matched += c.status != CaseStatus::missing;
    for (const auto& w : t.scores.warnings) unmatched += w.find("has no ground truth") != std::string::npos;
    if (unmatched)
      t.warnings.push_back(std::to_string(unmatched) + " prediction(s) in predictions/ have no ground truth in " + gt_dir +
                           "; not scored");
    if (matched) {
      ++teams_matching;
      continue;
    }
    warnings.push_back("NOTHING MATCHED for " + t.name + ": none of the " + std::to_string(keys.size()) + " cases of --gt " +
                       gt_dir + " has a prediction in " + (fs::path(t.dir) / "predictions").string() +
                       (unmatched ? " (its " + std::to_string(unmatched) + " prediction(s) are named otherwise)" : "") +
                       "; every case counts as failed");
  }
  if (teams_matching == 0)
    throw std::runtime_error("nothing matched: no team has a prediction for any of the " + std::to_string(keys.size()) +
                             " cases of --gt " + gt_dir + " (is it the right ground truth?)");
  return keys;
}

}  // namespace

ReportResult write_report(const ReportOptions& opt) {
  if (opt.team_dirs.empty()) throw std::runtime_error("no team folder given");
  ReportResult result;
  check_team_file_names(opt.team_dirs);
  fs::create_directories(opt.out_dir);

  std::vector<Team> teams;
  for (const auto& dir : opt.team_dirs) {
    TeamLoadOptions lo;
    lo.gt_dir = opt.gt_dir;
    lo.score_settings = opt.score;
    lo.tool = opt.tool;
    lo.verify_key = opt.verify_key;
    const std::string name = team_name_of(dir);
    if (!opt.gt_dir.empty()) {
      fs::create_directories(fs::path(opt.out_dir) / "scores");
      lo.scores_out = path_in(fs::path(opt.out_dir) / "scores", file_safe(name) + ".json", "team").string();
    }
    if (opt.log) opt.log("reading " + dir);
    Team t = load_team(dir, lo);
    if (t.scored_now && !t.scores_path.empty()) result.written.push_back(t.scores_path);
    teams.push_back(std::move(t));
  }
  std::optional<std::vector<std::string>> gt_cases;
  if (!opt.gt_dir.empty()) gt_cases = check_matches(teams, opt.gt_dir, result.warnings);
  for (size_t i = 1; i < teams.size(); ++i) {
    const std::string d = scoring_settings_difference(teams[0].scores.settings, teams[i].scores.settings);
    if (d.empty()) continue;
    const std::string msg = teams[0].name + " and " + teams[i].name + " were scored with different settings (" + d + ")";
    if (!opt.allow_different_settings)
      throw SettingsMismatch(msg + "; score them alike, or pass --allow-different-settings");
    result.warnings.push_back(msg);
  }

  result.board = build_leaderboard(std::move(teams), opt.rank, gt_cases);
  Leaderboard& b = result.board;
  for (const auto& w : result.warnings) b.warnings.push_back(w);
  result.warnings = b.warnings;

  // Official CSVs.
  for (const auto& t : b.teams) {
    const std::string safe = file_safe(t.team.name);
    const fs::path dsc = path_in(opt.out_dir, "DSC_NSD_" + safe + ".csv", "team");
    std::ostringstream csv;
    write_official_csv(csv, t.team.scores.cases);
    write_file_atomic(dsc, csv.str());
    result.written.push_back(dsc.string());
    if (!opt.verify_key.empty() && t.team.has_records) {
      // The team's efficiency.csv is not signed: written again from the records that were, on the leaderboard's cases.
      std::vector<runner::RunRecord> verified;
      for (const auto& e : t.cases)
        if (e.run) verified.push_back(*e.run);
      const fs::path eff = path_in(opt.out_dir, safe + "_Efficiency.csv", "team");
      std::ostringstream bytes;
      runner::write_efficiency_csv(bytes, verified, runner::EfficiencyView::flare);
      write_file_atomic(eff, bytes.str());
      result.written.push_back(eff.string());
    } else if (!t.team.efficiency_csv.empty()) {
      const fs::path eff = path_in(opt.out_dir, safe + "_Efficiency.csv", "team");
      std::ifstream in(t.team.efficiency_csv, std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      write_file_atomic(eff, bytes.str());
      result.written.push_back(eff.string());
    } else if (t.team.has_records) {
      result.warnings.push_back(t.team.name + ": records.jsonl but no efficiency.csv; no " + safe + "_Efficiency.csv written");
    }
  }

  const ReportInputs inputs{opt.gt_dir, opt.cases_dir};
  const fs::path json_path = fs::path(opt.out_dir) / "leaderboard.json";
  {
    const fs::path tmp = json_path.string() + ".tmp";
    std::ofstream text(tmp, std::ios::binary | std::ios::trunc);
    if (!text) throw std::runtime_error("cannot write " + tmp.string());
    write_leaderboard_json(text, b, opt.tool, inputs);
    if (!text.flush()) throw std::runtime_error("cannot write " + tmp.string());
    text.close();
    fs::rename(tmp, json_path);
  }
  result.written.push_back(json_path.string());

  HtmlPage page;
  page.board = &b;
  page.tool = opt.tool;
  page.inputs = inputs;
  make_pictures(opt, b, page, result);
  collect_gpu_series(opt, b, page, result);
  const ChartLibrary charts = find_chart_library(opt.web_modules);
  result.charts_found = charts.found;
  if (!charts.found) {
    std::string where;
    for (const auto& l : charts.looked_in) where += (where.empty() ? "" : ", ") + l;
    result.warnings.push_back("the charting library was not found (looked in " + where +
                              "); leaderboard.html has tables and pictures but no charts. Run scripts/setup.sh or pass --web-modules DIR");
  }
  page.charts = &charts;
  const fs::path html = fs::path(opt.out_dir) / "leaderboard.html";
  write_file_atomic(html, render_html(page));
  result.written.push_back(html.string());
  return result;
}

}  // namespace lb
