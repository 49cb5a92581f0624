// Reading team folders (see team.h).
#include "reports/team.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "reports/names.h"
#include "reports/scores_json.h"
#include "runner/hmac.h"
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
  if (a.metrics.names() != b.metrics.names()) {
    auto list = [](const MetricChoice& m) {
      std::string t;
      for (const auto& n : m.names()) t += (t.empty() ? "" : ",") + n;
      return t;
    };
    d << (d.tellp() > 0 ? "; " : "") << "metrics " << list(a.metrics) << " vs " << list(b.metrics);
  }
  if (a.metrics.nsd_at_mm != b.metrics.nsd_at_mm) d << (d.tellp() > 0 ? "; " : "") << "nsd_at_mm differ";
  if (a.lesion_wise && b.lesion_wise) {
    differ("connectivity", a.lesion.connectivity, b.lesion.connectivity);
    if (!(a.lesion.matching == b.lesion.matching))
      d << (d.tellp() > 0 ? "; " : "") << "matching " << a.lesion.matching.name() << " vs " << b.lesion.matching.name();
    if (a.lesion.bucket_edges_ml != b.lesion.bucket_edges_ml)
      d << (d.tellp() > 0 ? "; " : "") << "volume_buckets_ml differ";
  }
  return d.str();
}

namespace {

// records.jsonl with --verify-key: a line is kept only when its signature matches; the others are named in
// t.refused_records. Otherwise as runner::read_records_jsonl reads it (a re-run case: the later line wins).
std::vector<runner::RunRecord> read_verified_records(const std::string& path, const std::string& key, Team& t) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<runner::RunRecord> records;
  std::map<std::string, size_t> index;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const runner::LineSignature sig = runner::check_record_line(line, key);
    if (sig != runner::LineSignature::valid) {
      // The case it claims to be, for the message; the line itself is not used.
      std::string who = "line " + std::to_string(line_no);
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("case") && j["case"].is_string() && file_name_problem(j["case"]).empty())
        who = j["case"].get<std::string>();
      t.refused_records[who] = runner::signature_word(sig);
      continue;
    }
    try {
      runner::RunRecord r = nlohmann::json::parse(line).get<runner::RunRecord>();
      auto [it, inserted] = index.emplace(r.case_name, records.size());
      if (inserted) records.push_back(std::move(r));
      else records[it->second] = std::move(r);
    } catch (const std::exception& e) {
      t.warnings.push_back(path + " line " + std::to_string(line_no) + " skipped: " + e.what());
    }
  }
  return records;
}

void read_records(Team& t, const std::string& verify_key) {
  const fs::path records = fs::path(t.dir) / "records.jsonl";
  if (fs::exists(records)) {
    t.has_records = true;
    t.records = verify_key.empty() ? runner::read_records_jsonl(records.string(), &t.warnings)
                                   : read_verified_records(records.string(), verify_key, t);
  }
  if (!t.refused_records.empty()) {
    std::string which;
    for (const auto& [name, why] : t.refused_records) {
      const bool has_signed = std::any_of(t.records.begin(), t.records.end(),
                                          [&](const runner::RunRecord& r) { return r.case_name == name; });
      which += (which.empty() ? "" : ", ") + name + " (" + why + (has_signed ? "; a signed record of it is used" : "") + ")";
    }
    t.warnings.push_back(std::to_string(t.refused_records.size()) + " run record(s) in " + records.string() +
                         " refused by --verify-key (unsigned, or altered since they were signed): " + which);
  }
  // Names from the file become paths only when they are file names (reports/names.h).
  std::vector<runner::RunRecord> kept;
  for (auto& r : t.records) {
    if (const std::string why = file_name_problem(r.case_name); !why.empty()) {
      t.warnings.push_back("run record for case '" + r.case_name + "' left out: the name cannot be a file name (" + why + ")");
      continue;
    }
    if (!r.files.samples.empty()) {
      try {
        (void)relative_path_in(t.dir, r.files.samples, "files.samples of " + r.case_name);
      } catch (const UnsafeName& e) {
        t.warnings.push_back(std::string(e.what()) + "; its sample series is not read");
        r.files.samples.clear();
      }
    }
    kept.push_back(std::move(r));
  }
  t.records = std::move(kept);
  const fs::path eff = fs::path(t.dir) / "efficiency.csv";
  if (fs::exists(eff)) t.efficiency_csv = eff.string();
}

// Scores whose case name cannot be a file name are left out (they would become picture paths).
void drop_unsafe_scores(Team& t) {
  std::vector<CaseRecord> kept;
  for (auto& c : t.scores.cases) {
    std::string why = file_name_problem(c.name);
    if (why.empty()) why = file_name_problem(case_key(c.name));
    if (!why.empty()) {
      t.warnings.push_back(t.scores_path + ": case '" + c.name + "' left out: the name cannot be a file name (" + why + ")");
      continue;
    }
    kept.push_back(std::move(c));
  }
  t.scores.cases = std::move(kept);
}

// With --gt the folder's scores.json is not used; what it says about cases the ground truth lacks is named.
void warn_about_claims(Team& t, const fs::path& scores_json) {
  if (!fs::exists(scores_json)) return;
  std::set<std::string> known;
  for (const auto& c : t.scores.cases) known.insert(case_key(c.name));
  std::vector<std::string> extra;
  try {
    for (const auto& c : read_scores_file(scores_json.string()).cases)
      if (!known.count(case_key(c.name))) extra.push_back(case_key(c.name));
  } catch (const std::exception&) {
    return;  // not used anyway
  }
  if (extra.empty()) return;
  std::string list;
  for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", " : "") + extra[i];
  if (extra.size() > 5) list += " and " + std::to_string(extra.size() - 5) + " more";
  t.warnings.push_back(scores_json.string() + " (not used: scored now from --gt) claims " + std::to_string(extra.size()) +
                       " case(s) that are not in the ground truth, ignored: " + list);
}

}  // namespace

Team load_team(const std::string& dir, const TeamLoadOptions& opt) {
  Team t;
  const fs::path d(dir);
  if (!fs::is_directory(d)) throw std::runtime_error(dir + ": not a folder");
  t.dir = dir;
  t.name = team_name_of(dir);
  const fs::path scores = d / "scores.json";
  if (!opt.gt_dir.empty()) {
    const fs::path preds = d / "predictions";
    if (!fs::is_directory(preds)) throw std::runtime_error(dir + ": no predictions/ folder to score");
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
    warn_about_claims(t, scores);
  } else if (fs::exists(scores)) {
    t.scores_path = scores.string();
    t.scores = read_scores_file(t.scores_path);
    drop_unsafe_scores(t);
  } else {
    throw std::runtime_error(dir + ": no scores.json; score it first (lesionbench score --json " + scores.string() +
                             ") or pass --gt to score it now");
  }
  read_records(t, opt.verify_key);
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
  read_records(t, "");
  drop_unsafe_scores(t);
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
