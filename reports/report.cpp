// The report command's work (see report.h): load, rank, write every output.
#include "reports/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "metrics/case_scores.h"
#include "reports/html_report.h"
#include "reports/leaderboard_json.h"
#include "reports/png.h"
#include "reports/slice_picture.h"
#include "reports/web_assets.h"

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
  std::string gt_dir = opt.gt_dir;
  if (gt_dir.empty() && !b.teams.empty() && fs::is_directory(b.score_settings.gt_dir)) gt_dir = b.score_settings.gt_dir;
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
    const std::string ct = (fs::path(opt.cases_dir) / (key + "_0000.nii.gz")).string();
    const std::string gt = (fs::path(gt_dir) / (key + ".nii.gz")).string();
    if (opt.log) opt.log("picture " + key);
    CaseVolumes vol;
    try {
      vol = load_case_volumes(ct, gt);
    } catch (const std::exception& e) {
      const std::string w = "no picture of " + key + ": " + e.what();
      page.picture_notes.push_back(w);
      result.warnings.push_back(w);
      continue;
    }
    for (const auto& [t, e] : jobs) {
      const TeamResult& team = b.teams[t];
      std::string pred;
      if (e->score) {
        const fs::path p = fs::path(team.team.dir) / "predictions" / e->score->name;
        const fs::path q = fs::path(team.team.scores.settings.pred_dir) / e->score->name;
        if (fs::is_regular_file(p)) pred = p.string();
        else if (!team.team.scores.settings.pred_dir.empty() && fs::is_regular_file(q)) pred = q.string();
      }
      try {
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
        const fs::path dir = fs::path(opt.out_dir) / "pictures" / file_safe(team.team.name);
        fs::create_directories(dir);
        const fs::path file = dir / (key + ".png");
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
      const std::string path = (fs::path(t.team.dir) / r->files.samples).string();
      try {
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

}  // namespace

ReportResult write_report(const ReportOptions& opt) {
  if (opt.team_dirs.empty()) throw std::runtime_error("no team folder given");
  ReportResult result;
  fs::create_directories(opt.out_dir);

  std::vector<Team> teams;
  std::set<std::string> names;
  for (const auto& dir : opt.team_dirs) {
    TeamLoadOptions lo;
    lo.gt_dir = opt.gt_dir;
    lo.score_settings = opt.score;
    lo.rescore = opt.rescore;
    lo.tool = opt.tool;
    const std::string name = team_name_of(dir);
    if (!names.insert(name).second)
      throw std::runtime_error("two team folders are named '" + name + "' (" + dir + "); team names come from the folder names");
    if (!opt.gt_dir.empty()) {
      fs::create_directories(fs::path(opt.out_dir) / "scores");
      lo.scores_out = (fs::path(opt.out_dir) / "scores" / (file_safe(name) + ".json")).string();
    }
    if (opt.log) opt.log("reading " + dir);
    Team t = load_team(dir, lo);
    if (t.scored_now && !t.scores_path.empty()) result.written.push_back(t.scores_path);
    if (!t.scored_now && !opt.gt_dir.empty() && !t.scores.settings.gt_dir.empty()) {
      std::error_code e1, e2;
      const auto a = fs::weakly_canonical(opt.gt_dir, e1), b = fs::weakly_canonical(t.scores.settings.gt_dir, e2);
      if (e1 || e2 || a != b)
        result.warnings.push_back(t.name + ": " + t.scores_path + " was scored against " + t.scores.settings.gt_dir +
                                  ", not --gt " + opt.gt_dir + " (pass --rescore to score it against --gt)");
    }
    teams.push_back(std::move(t));
  }
  for (size_t i = 1; i < teams.size(); ++i) {
    const std::string d = scoring_settings_difference(teams[0].scores.settings, teams[i].scores.settings);
    if (d.empty()) continue;
    const std::string msg = teams[0].name + " and " + teams[i].name + " were scored with different settings (" + d + ")";
    if (!opt.allow_different_settings)
      throw SettingsMismatch(msg + "; score them alike, or pass --allow-different-settings");
    result.warnings.push_back(msg);
  }

  result.board = build_leaderboard(std::move(teams), opt.rank);
  Leaderboard& b = result.board;
  for (const auto& w : result.warnings) b.warnings.push_back(w);
  result.warnings = b.warnings;

  // Official CSVs.
  for (const auto& t : b.teams) {
    const std::string safe = file_safe(t.team.name);
    const fs::path dsc = fs::path(opt.out_dir) / ("DSC_NSD_" + safe + ".csv");
    std::ostringstream csv;
    write_official_csv(csv, t.team.scores.cases);
    write_file_atomic(dsc, csv.str());
    result.written.push_back(dsc.string());
    if (!t.team.efficiency_csv.empty()) {
      const fs::path eff = fs::path(opt.out_dir) / (safe + "_Efficiency.csv");
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
