// leaderboard.html writer (see html_report.h).
#include "reports/html_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "reports/png.h"
#include "reports/slice_picture.h"

namespace lb {

using nlohmann::json;

const std::string& team_colour(size_t index) {
  // Tableau 10, reordered so that the first few are far apart; readable on white and for most colour vision.
  static const std::vector<std::string> palette = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                                   "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"};
  return palette[index % palette.size()];
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  return out;
}

namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string grouped(double v) {  // 12345.6 -> "12,346"
  const long long n = std::llround(v);
  std::string s = std::to_string(std::llabs(n)), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string opt_text(const std::optional<double>& v, int digits, bool group = false) {
  if (!v) return "–";
  return group ? grouped(*v) : fixed(*v, digits);
}

std::string data_v(const std::optional<double>& v) { return v ? fixed(*v, 6) : std::string(); }

// A numeric cell: shown text, sort value, optional second line.
std::string num_td(const std::string& shown, const std::string& sort_value, const std::string& sub = "",
                   const std::string& title = "") {
  std::string td = "<td data-v=\"" + html_escape(sort_value) + "\"";
  if (!title.empty()) td += " title=\"" + html_escape(title) + "\"";
  td += ">" + shown;
  if (!sub.empty()) td += "<span class=\"sub\">" + sub + "</span>";
  return td + "</td>";
}

std::string th(const std::string& label, bool text = false, const char* first = "ascending", const std::string& title = "") {
  std::string s = "<th class=\"sortable" + std::string(text ? " text" : "") + "\" data-first=\"" + first + "\"";
  if (!title.empty()) s += " title=\"" + html_escape(title) + "\"";
  return s + " scope=\"col\">" + label + "</th>";
}

std::string metric_label(const std::string& m) {
  if (m == "dsc") return "DSC";
  if (m == "nsd") return "NSD";
  if (m == "time_s") return "time";
  if (m == "gpu_auc_mib_s") return "GPU AUC";
  if (m == "iou") return "IoU";
  if (m == "hd_mm") return "HD (mm)";
  if (m == "hd95_mm") return "HD95 (mm)";
  if (m == "masd_mm") return "MASD (mm)";
  if (m == "assd_mm") return "ASSD (mm)";
  return m;
}

// Columns of the extra metrics (score --metrics, --nsd-at-mm): header, tooltip, and the value of a case.
struct ExtraColumn {
  std::string label, title;
  bool lower_is_better;
  std::function<std::optional<double>(const ExtraScores&)> get;
};
std::vector<ExtraColumn> extra_columns(const MetricChoice& m) {
  std::vector<ExtraColumn> c;
  if (m.iou) c.push_back({"IoU", "|G∩P| / |G∪P|", false, [](const ExtraScores& e) { return e.iou; }});
  if (m.hd) c.push_back({"HD (mm)", "Hausdorff distance (surface-distance's); – when a mask is empty", true,
                         [](const ExtraScores& e) { return e.hd_mm; }});
  if (m.hd95) c.push_back({"HD95 (mm)", "95th-percentile Hausdorff distance (surface-distance's)", true,
                           [](const ExtraScores& e) { return e.hd95_mm; }});
  if (m.masd) c.push_back({"MASD (mm)", "Mean of the two directed average surface distances", true,
                           [](const ExtraScores& e) { return e.masd_mm; }});
  if (m.assd) c.push_back({"ASSD (mm)", "Average symmetric surface distance", true,
                           [](const ExtraScores& e) { return e.assd_mm; }});
  for (size_t t = 0; t < m.nsd_at_mm.size(); ++t) {
    std::ostringstream label;
    label << "NSD@" << m.nsd_at_mm[t] << "mm";
    c.push_back({label.str(), "NSD at this tolerance, without the 0.2 DSC gate", false, [t](const ExtraScores& e) {
                   return t < e.nsd_at.size() ? std::optional<double>(e.nsd_at[t].second) : std::nullopt;
                 }});
  }
  return c;
}

double jitter_of(const std::string& a, const std::string& b) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a: the same points every time the page is written
  for (char c : a + "\x1f" + b) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return (static_cast<double>(h % 20001) / 10000.0) - 1.0;
}

std::string page_time_utc() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

std::string inline_script(const std::string& code) {
  // Nothing inside may close the element or open an HTML comment there.
  std::string out;
  out.reserve(code.size());
  for (size_t i = 0; i < code.size(); ++i) {
    if (code[i] == '<' && i + 1 < code.size() && code[i + 1] == '/' && i + 7 < code.size()) {
      std::string next = code.substr(i + 2, 6);
      std::transform(next.begin(), next.end(), next.begin(), [](unsigned char c) { return std::tolower(c); });
      if (next == "script") {
        out += "<\\/";
        ++i;
        continue;
      }
    }
    if (code.compare(i, 4, "<!--") == 0) {
      out += "<\\!--";
      i += 3;
      continue;
    }
    out += code[i];
  }
  return "<script>" + out + "</script>\n";
}

bool any_lesion(const Leaderboard& b) {
  return std::any_of(b.teams.begin(), b.teams.end(), [](const TeamResult& t) { return t.lesion.has_value(); });
}
bool any_efficiency(const Leaderboard& b) {
  return std::any_of(b.teams.begin(), b.teams.end(), [](const TeamResult& t) { return t.efficiency.has_value(); });
}
bool any_gpu(const Leaderboard& b, GpuMeasure m) {
  return std::any_of(b.teams.begin(), b.teams.end(), [&](const TeamResult& t) {
    if (!t.efficiency) return false;
    return m == GpuMeasure::device ? t.efficiency->gpu_device_max_mib.has_value() : t.efficiency->gpu_own_max_mib.has_value();
  });
}

std::optional<double> gpu_peak(const TeamResult& t, GpuMeasure m) {
  if (!t.efficiency) return std::nullopt;
  return m == GpuMeasure::device ? t.efficiency->gpu_device_max_mib : t.efficiency->gpu_own_max_mib;
}
std::optional<double> gpu_auc_mean(const TeamResult& t, GpuMeasure m) {
  if (!t.efficiency) return std::nullopt;
  return m == GpuMeasure::device ? t.efficiency->gpu_device_auc_mean_mib_s : t.efficiency->gpu_own_auc_mean_mib_s;
}
std::optional<double> time_median(const TeamResult& t) {
  if (!t.efficiency || t.efficiency->time_s.n == 0) return std::nullopt;
  return t.efficiency->time_s.median;
}

json page_data(const HtmlPage& page) {
  const Leaderboard& b = *page.board;
  const GpuMeasure m = b.settings.gpu_measure;
  json teams = json::array(), points = json::array(), cases = json::array(), stability = json::array();
  json buckets = json::array(), healthy = json::array(), series = json::array();
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  for (size_t i = 0; i < b.teams.size(); ++i) {
    const TeamResult& t = b.teams[i];
    const std::string& name = t.team.name;
    teams.push_back({{"name", name}, {"colour", team_colour(i)}, {"place", t.rank_then_aggregate.place}});
    points.push_back({{"team", name},
                      {"place", t.rank_then_aggregate.place},
                      {"dsc", t.summary.mean_dsc},
                      {"nsd", t.summary.mean_nsd},
                      {"time_median_s", opt(time_median(t))},
                      {"gpu_peak_mib", opt(gpu_peak(t, m))},
                      {"gpu_auc_mean_mib_s", opt(gpu_auc_mean(t, m))}});
    for (const auto& e : t.cases) {
      std::string status = e.failed ? e.failure : "ok";
      cases.push_back({{"team", name}, {"case", e.key}, {"dsc", e.dsc}, {"nsd", e.nsd}, {"failed", e.failed},
                       {"status", status}, {"jitter", jitter_of(name, e.key)}});
    }
    if (b.settings.bootstrap_resamples > 0)
      for (size_t p = 0; p < t.place_counts.size(); ++p)
        if (t.place_counts[p] > 0)
          stability.push_back({{"team", name}, {"place", static_cast<int>(p + 1)},
                               {"fraction", static_cast<double>(t.place_counts[p]) / b.settings.bootstrap_resamples}});
    if (t.lesion) {
      for (const auto& bk : t.lesion->buckets)
        buckets.push_back({{"team", name}, {"bucket", bk.label}, {"sensitivity", opt(bk.sensitivity)},
                           {"detected", bk.detected}, {"n", bk.n_lesions}});
      healthy.push_back({{"team", name},
                         {"healthy_cases", t.lesion->healthy_cases},
                         {"with_fp", t.lesion->healthy_cases_with_fp},
                         {"fp", t.lesion->fp_on_healthy},
                         {"label", std::to_string(t.lesion->healthy_cases_with_fp) + "/" +
                                       std::to_string(t.lesion->healthy_cases) + " cases"}});
    }
  }
  for (const auto& s : page.gpu_series) {
    // At most ~400 points a line: enough for the shape, small enough for the page.
    const size_t step = std::max<size_t>(1, s.t_s.size() / 400);
    json t = json::array(), v = json::array();
    for (size_t i = 0; i < s.t_s.size(); i += step) {
      if (!std::isfinite(s.t_s[i]) || !std::isfinite(s.mib[i])) continue;
      t.push_back(std::round(s.t_s[i] * 1000) / 1000);
      v.push_back(std::round(s.mib[i] * 10) / 10);
    }
    series.push_back({{"team", s.team}, {"case", s.case_key}, {"wall_s", s.wall_s}, {"t", t}, {"mib", v}});
  }
  // Ranking methods, significance, bootstrap intervals and the podium.
  json metrics = json::array(), method_names = json::array(), method_places = json::array(), significance = json::array();
  json place_summary = json::array(), intervals = json::array(), podium = json::array(), tau = nullptr;
  for (const auto& name : b.metrics) metrics.push_back({{"name", name}, {"label", metric_label(name)}, {"lower", !higher_is_better(name)}});
  for (RankingMethod rm : kAllRankingMethods) method_names.push_back(ranking_method_name(rm));
  for (const auto& t : b.teams)
    for (size_t k = 0; k < kAllRankingMethods.size(); ++k)
      method_places.push_back({{"team", t.team.name}, {"method", ranking_method_name(kAllRankingMethods[k])},
                               {"place", t.method_place[k]}});
  for (const auto& sg : b.significance)
    significance.push_back({{"metric", sg.metric}, {"a", sg.a}, {"b", sg.b}, {"p", sg.p}, {"p_adjusted", sg.p_adjusted},
                            {"significant", sg.significant}});
  if (b.settings.bootstrap_resamples > 0) {
    for (size_t i = 0; i < b.teams.size(); ++i) {
      const TeamResult& t = b.teams[i];
      int cum = 0, total = 0, median = 0;
      for (int c : t.place_counts) total += c;
      for (size_t p = 0; p < t.place_counts.size() && !median; ++p)
        if (2 * (cum += t.place_counts[p]) >= total) median = static_cast<int>(p + 1);
      place_summary.push_back({{"team", t.team.name}, {"median", median}, {"lo", t.place_range95[0]},
                               {"hi", t.place_range95[1]}, {"place", t.placing.place}});
      for (size_t m = 0; m < b.metrics.size() && m < t.mean_ci95.size(); ++m) {
        json row{{"team", t.team.name}, {"metric", b.metrics[m]}, {"mean", t.placing.metric_mean[m]},
                 {"lo", t.mean_ci95[m].q025}, {"hi", t.mean_ci95[m].q975}};
        if (t.gap_ci95[m] && i + 1 < b.teams.size()) {
          row["next"] = b.teams[i + 1].team.name;
          row["gap"] = t.placing.metric_mean[m] - b.teams[i + 1].placing.metric_mean[m];
          row["gap_lo"] = t.gap_ci95[m]->q025;
          row["gap_hi"] = t.gap_ci95[m]->q975;
        }
        intervals.push_back(row);
      }
    }
    if (b.kendall_tau) {
      json values = json::array();
      for (double v : b.kendall_tau_values) values.push_back(std::round(v * 10000) / 10000);
      tau = {{"values", values}, {"median", b.kendall_tau->median}, {"q025", b.kendall_tau->q025},
             {"q975", b.kendall_tau->q975}, {"undefined", b.kendall_tau_undefined}};
    }
  }
  // Podium of the first ranked metric: every case's value of every team at the place the team took on that case
  // (ties to the best place, as challengeR's podium).
  if (!b.metrics.empty() && b.teams.size() > 1) {
    const std::string& pm = b.metrics.front();
    const bool higher = higher_is_better(pm);
    auto value_of = [&](const CaseEntry& e) { return ranked_value(e, pm); };
    for (size_t c = 0; c < b.case_keys.size(); ++c)
      for (size_t i = 0; i < b.teams.size(); ++i) {
        const double v = value_of(b.teams[i].cases[c]);
        int rank = 1;
        for (const auto& u : b.teams) rank += higher ? value_of(u.cases[c]) > v : value_of(u.cases[c]) < v;
        podium.push_back({{"case", b.case_keys[c]}, {"team", b.teams[i].team.name}, {"value", v}, {"rank", rank}});
      }
  }

  std::string missing;
  if (page.charts && !page.charts->found) {
    missing = "Charts are not included: the charting library (Vega-Lite from npm) was not found when this page was "
              "written. Run scripts/setup.sh (npm ci in reports/web) or pass --web-modules DIR, then write the report "
              "again. Looked in: ";
    for (size_t i = 0; i < page.charts->looked_in.size(); ++i) missing += (i ? ", " : "") + page.charts->looked_in[i];
  }
  return {{"teams", teams},
          {"points", points},
          {"cases", cases},
          {"stability", stability},
          {"gpu", {{"measure", m == GpuMeasure::device ? "device" : "own"}, {"series", series}}},
          {"lesion", {{"buckets", buckets}, {"healthy", healthy}}},
          {"ranking", {{"method", ranking_method_name(b.settings.method)},
                       {"methods", method_names},
                       {"metrics", metrics},
                       {"places", method_places},
                       {"significance", significance},
                       {"placeSummary", place_summary},
                       {"intervals", intervals},
                       {"tau", tau},
                       {"podium", podium},
                       {"podiumMetric", b.metrics.empty() ? "" : metric_label(b.metrics.front())}}},
          {"chartsMissing", missing}};
}

void write_ranking_table(std::ostringstream& h, const Leaderboard& b) {
  const bool lesion = any_lesion(b), eff = any_efficiency(b), gpu = any_gpu(b, b.settings.gpu_measure);
  const bool boot = b.settings.bootstrap_resamples > 0 && b.teams.size() > 1;
  const std::string gpu_word = b.settings.gpu_measure == GpuMeasure::device ? "device" : "own";
  h << "<div class=\"table-wrap\"><table class=\"leaderboard sortable\" id=\"leaderboard-table\"><thead><tr>"
    << th("Place", false, "ascending", std::string("Place by ") + ranking_method_name(b.settings.method))
    << th("Team", true)
    << th("Rank score", false, "ascending", "Weighted mean over metrics of the per-metric ranks; lower is better")
    << th("Mean-based", false, "ascending", "Place when teams are ranked on their means instead (aggregate-then-rank)")
    << th("DSC", false, "descending", "Mean case DSC (median below); failed cases count 0")
    << th("NSD", false, "descending", "Mean case NSD at the tolerance (median below); failed cases count 0");
  const auto extra = extra_columns(b.score_settings.metrics);
  for (const auto& c : extra)
    h << th(c.label, false, c.lower_is_better ? "ascending" : "descending",
            "Mean over the team's scored cases (median below; cases without a value are left out and counted). " + c.title);
  if (lesion) h << th("Lesions found", false, "descending", "Lesion-wise sensitivity (false-positive components below)");
  if (eff) h << th("Time (s)", false, "ascending", "Median wall time per case, container start and model loading included (mean below)");
  if (gpu)
    h << th("GPU peak (MiB)", false, "ascending", "Largest " + gpu_word + " GPU memory over the cases")
      << th("GPU AUC (MiB·s)", false, "ascending", "Mean per case of the " + gpu_word + " GPU memory-time area");
  h << th("Failed", false, "ascending", "Cases that failed (no valid prediction, a run that did not end ok)");
  if (boot)
    h << th("Keeps place", false, "descending",
            "Share of " + std::to_string(b.settings.bootstrap_resamples) + " bootstrap resamples of the cases in which the team keeps its place (95% range of places below)")
      << th("Ahead of next", false, "descending", "Share of resamples in which the team scores strictly better than the next one in this table");
  h << "</tr></thead><tbody>\n";
  for (size_t i = 0; i < b.teams.size(); ++i) {
    const TeamResult& t = b.teams[i];
    const auto& rta = t.placing;
    std::string per_metric;
    for (size_t m = 0; m < b.metrics.size(); ++m)
      per_metric += (m ? ", " : "") + metric_label(b.metrics[m]) + " " + fixed(rta.metric_rank[m], 2);
    h << "<tr" << (rta.place == 1 ? " class=\"first\"" : "") << ">"
      << num_td(std::to_string(rta.place), std::to_string(rta.place)).insert(3, " class=\"place\"")
      << "<td class=\"text team\" data-v=\"" << html_escape(t.team.name) << "\"><span class=\"swatch\" style=\"background:"
      << team_colour(i) << "\"></span>" << html_escape(t.team.name) << "</td>"
      << num_td(fixed(rta.score, 3), fixed(rta.score, 9), "", "Mean rank per metric: " + per_metric)
      << num_td(std::to_string(t.mean_based.place), std::to_string(t.mean_based.place))
      << num_td(fixed(t.summary.mean_dsc, 4), fixed(t.summary.mean_dsc, 9), "median " + fixed(t.summary.median_dsc, 4))
      << num_td(fixed(t.summary.mean_nsd, 4), fixed(t.summary.mean_nsd, 9), "median " + fixed(t.summary.median_nsd, 4));
    if (!extra.empty()) {
      const auto sums = summarize_extra(t.team.scores.cases, b.score_settings.metrics);
      for (size_t k = 0; k < extra.size() && k < sums.size(); ++k) {
        const auto& m = sums[k];
        std::string sub = m.n ? "median " + fixed(m.median, 4) : "";
        if (m.n_null) sub += (sub.empty() ? "" : ", ") + std::to_string(m.n_null) + " without";
        h << (m.n ? num_td(fixed(m.mean, 4), fixed(m.mean, 9), sub) : num_td("–", "", sub));
      }
    }
    if (lesion) {
      if (t.lesion && t.lesion->sensitivity)
        h << num_td(fixed(*t.lesion->sensitivity * 100, 1) + "%", fixed(*t.lesion->sensitivity, 6),
                    std::to_string(t.lesion->tp) + "/" + std::to_string(t.lesion->n_gt) + ", " +
                        std::to_string(t.lesion->fp) + " FP");
      else
        h << num_td("–", "");
    }
    if (eff) {
      const auto med = time_median(t);
      h << num_td(opt_text(med, 1), data_v(med), t.efficiency ? "mean " + fixed(t.efficiency->time_s.mean, 1) : "");
    }
    if (gpu) {
      const auto peak = gpu_peak(t, b.settings.gpu_measure), auc = gpu_auc_mean(t, b.settings.gpu_measure);
      h << num_td(opt_text(peak, 0, true), data_v(peak)) << num_td(opt_text(auc, 0, true), data_v(auc));
    }
    const std::string failed = std::to_string(t.failed_cases) + " / " + std::to_string(t.cases.size());
    h << num_td(t.failed_cases ? "<span class=\"badge bad\">" + failed + "</span>" : failed, std::to_string(t.failed_cases));
    if (boot) {
      h << num_td(fixed(t.keeps_place * 100, 1) + "%", fixed(t.keeps_place, 6),
                  t.place_range95[0] == t.place_range95[1]
                      ? "always " + std::to_string(t.place_range95[0])
                      : "places " + std::to_string(t.place_range95[0]) + "–" + std::to_string(t.place_range95[1]));
      h << (t.ahead_of_next ? num_td(fixed(*t.ahead_of_next * 100, 1) + "%", fixed(*t.ahead_of_next, 6)) : num_td("–", ""));
    }
    h << "</tr>\n";
  }
  h << "</tbody></table></div>\n";
}

std::string status_badges(const CaseEntry& e) {
  std::string s;
  if (!e.score) s += "<span class=\"badge bad\">absent</span>";
  else if (e.score->status == CaseStatus::ok) s += "<span class=\"badge ok\">ok</span>";
  else s += std::string("<span class=\"badge bad\">") + status_name(e.score->status) + "</span>";
  if (e.run && e.run->status != runner::RunStatus::ok)
    s += std::string(" <span class=\"badge bad\">run ") + runner::status_name(e.run->status) + "</span>";
  return s;
}

std::string case_notes(const CaseEntry& e) {
  std::vector<std::string> notes;
  if (e.failed) notes.push_back(e.failure);
  if (e.score) {
    const auto& c = *e.score;
    if (c.status == CaseStatus::ok) {
      if (c.rule == "false_positive_on_healthy") notes.push_back("false positive on a healthy case");
      else if (c.rule == "empty_prediction") notes.push_back("empty prediction");
      else if (c.rule == "below_dsc_gate") notes.push_back("DSC < 0.2: NSD set to 0 (ungated " + fixed(c.nsd_ungated, 4) + ")");
      else if (c.rule == "both_empty") notes.push_back("healthy case, empty prediction");
    }
    for (const auto& w : c.warnings) notes.push_back("warning: " + w);
  }
  if (e.run)
    for (const auto& n : e.run->notes) notes.push_back(n);
  std::string out;
  for (size_t i = 0; i < notes.size(); ++i) out += (i ? "<br>" : "") + html_escape(notes[i]);
  return out;
}

void write_case_tables(std::ostringstream& h, const Leaderboard& b) {
  const bool lesion = any_lesion(b), eff = any_efficiency(b);
  const GpuMeasure gm = b.settings.gpu_measure;
  for (size_t i = 0; i < b.teams.size(); ++i) {
    const TeamResult& t = b.teams[i];
    std::vector<const CaseEntry*> rows;
    for (const auto& e : t.cases) rows.push_back(&e);
    // Worst first: lowest DSC, then lowest NSD, failures before equal scores.
    std::stable_sort(rows.begin(), rows.end(), [](const CaseEntry* x, const CaseEntry* y) {
      if (x->dsc != y->dsc) return x->dsc < y->dsc;
      if (x->nsd != y->nsd) return x->nsd < y->nsd;
      if (x->failed != y->failed) return x->failed;
      return x->key < y->key;
    });
    h << "<details class=\"team-cases\" id=\"cases-" << html_escape(t.team.name) << "\"><summary><span class=\"swatch\" style=\"background:"
      << team_colour(i) << "\"></span>" << html_escape(t.team.name) << "<span class=\"sub\">" << t.cases.size() << " cases, "
      << t.failed_cases << " failed";
    if (!rows.empty()) h << "; worst " << html_escape(rows.front()->key) << " (DSC " << fixed(rows.front()->dsc, 4) << ")";
    h << "</span></summary>\n<div class=\"table-wrap\"><table class=\"sortable cases\"><thead><tr>"
      << th("Case", true) << th("Status", true) << th("DSC", false, "ascending") << th("NSD", false, "ascending");
    if (lesion) h << th("Lesion DSC", false, "ascending") << th("Found", false, "ascending", "Lesions found of lesions") << th("FP", false, "descending", "False-positive components");
    const bool pq = lesion && b.score_settings.lesion.matching.one_to_one();
    if (pq) h << th("PQ", false, "ascending", "Panoptic quality under --matching " + b.score_settings.lesion.matching.name());
    const auto extra = extra_columns(b.score_settings.metrics);
    for (const auto& c : extra) h << th(c.label, false, c.lower_is_better ? "descending" : "ascending", c.title);
    if (eff) h << th("Time (s)", false, "descending") << th("GPU peak (MiB)", false, "descending");
    h << th("Notes", true) << "</tr></thead><tbody>\n";
    for (const CaseEntry* e : rows) {
      h << "<tr><td class=\"text\">" << html_escape(e->key) << "</td><td class=\"text\" data-v=\""
        << (e->failed ? "1" : "0") << "\">" << status_badges(*e) << "</td>"
        << num_td(fixed(e->dsc, 4), fixed(e->dsc, 9)) << num_td(fixed(e->nsd, 4), fixed(e->nsd, 9));
      if (lesion) {
        if (e->score && e->score->lesion_wise) {
          const auto& l = *e->score->lesion_wise;
          h << num_td(fixed(l.dsc, 4), fixed(l.dsc, 9))
            << num_td(std::to_string(l.tp) + "/" + std::to_string(l.n_gt), l.n_gt ? fixed(double(l.tp) / l.n_gt, 6) : "")
            << num_td(std::to_string(l.fp), std::to_string(l.fp));
        } else {
          h << num_td("–", "") << num_td("–", "") << num_td("–", "");
        }
      }
      if (pq) {
        const auto v = e->score && e->score->lesion_wise ? e->score->lesion_wise->pq : std::nullopt;
        h << num_td(opt_text(v, 4), data_v(v));
      }
      for (const auto& c : extra) {
        const auto v = e->score ? c.get(e->score->extra) : std::nullopt;
        h << num_td(opt_text(v, 4), data_v(v));
      }
      if (eff) {
        if (e->run) {
          const auto peak = gm == GpuMeasure::device ? e->run->gpu.device_max_mib : e->run->gpu.own_max_mib;
          h << num_td(fixed(e->run->wall_s, 1), fixed(e->run->wall_s, 6)) << num_td(opt_text(peak, 0, true), data_v(peak));
        } else {
          h << num_td("–", "") << num_td("–", "");
        }
      }
      h << "<td class=\"text wrap\">" << case_notes(*e) << "</td></tr>\n";
    }
    h << "</tbody></table></div></details>\n";
  }
}

void write_pictures(std::ostringstream& h, const HtmlPage& page) {
  const Leaderboard& b = *page.board;
  char gt[8], pred[8];
  std::snprintf(gt, sizeof gt, "#%02x%02x%02x", kGtColour[0], kGtColour[1], kGtColour[2]);
  std::snprintf(pred, sizeof pred, "#%02x%02x%02x", kPredColour[0], kPredColour[1], kPredColour[2]);
  h << "<p class=\"legend\">Axial slice through the lesion (soft-tissue window, radiological view: patient's right on "
       "the left)<span class=\"line\" style=\"background:"
    << gt << "\"></span>ground truth (inner line)<span class=\"line\" style=\"background:" << pred
    << "\"></span>prediction (outer line)</p>\n";
  if (page.pictures.empty()) h << "<div class=\"empty\">No pictures.</div>\n";
  for (size_t i = 0; i < b.teams.size(); ++i) {
    const std::string& name = b.teams[i].team.name;
    std::vector<const CasePicture*> mine;
    for (const auto& p : page.pictures)
      if (p.team == name) mine.push_back(&p);
    if (mine.empty()) continue;
    h << "<h3><span class=\"swatch\" style=\"background:" << team_colour(i) << "\"></span>" << html_escape(name) << "</h3>\n<div class=\"gallery\">\n";
    for (const CasePicture* p : mine)
      h << "<figure><img alt=\"" << html_escape(name + " " + p->case_key) << "\" width=\"" << p->width << "\" height=\""
        << p->height << "\" src=\"data:image/png;base64," << base64_encode(p->png) << "\"><figcaption>"
        << p->caption << "</figcaption></figure>\n";
    h << "</div>\n";
  }
  if (!page.picture_notes.empty()) {
    h << "<ul class=\"notes\">";
    for (const auto& n : page.picture_notes) h << "<li>" << html_escape(n) << "</li>";
    h << "</ul>\n";
  }
}

std::string method_description(const RankSettings& st) {
  switch (st.method) {
    case RankingMethod::rank_then_aggregate:
      return "Rank-then-aggregate as FLARE ranks: on every case each team is ranked on each metric (ties share the "
             "average rank) and the ranks are averaged over the cases.";
    case RankingMethod::aggregate_then_rank_mean:
      return "Aggregate-then-rank on means: per metric the mean over the cases, teams ranked on it (ties share the "
             "average rank).";
    case RankingMethod::aggregate_then_rank_median:
      return "Aggregate-then-rank on medians: per metric the median over the cases, teams ranked on it (ties share the "
             "average rank).";
    case RankingMethod::test_then_rank:
      return "Test-then-rank as challengeR defines it: per metric, every ordered pair of teams is compared with a "
             "one-sided paired Wilcoxon signed-rank test over the cases (normal approximation with continuity "
             "correction; p adjustment " + std::string(p_adjust_name(st.tests.p_adjust)) + "; significant at p &le; " +
             fixed(st.tests.alpha, 3) + "); a team's rank is 1 + the number of teams with more significant wins.";
  }
  return "";
}

void write_methods_section(std::ostringstream& h, const Leaderboard& b) {
  h << "<section class=\"card\" id=\"methods\"><h2>Ranking methods and significance</h2><p class=\"lead\">The places "
       "every ranking method gives (this page is ordered by "
    << ranking_method_name(b.settings.method)
    << "); lines that cross mark teams whose order depends on the method. Below, per metric, the one-sided paired "
       "Wilcoxon tests of test-then-rank: a filled cell means the row's team is significantly better than the "
       "column's (p adjustment "
    << p_adjust_name(b.settings.tests.p_adjust) << ", &alpha; = " << fixed(b.settings.tests.alpha, 3)
    << ").</p><div class=\"chart\" data-chart=\"methods\"></div><div class=\"grid\">";
  for (const auto& m : b.metrics)
    h << "<div class=\"panel\"><h3>Significance map: " << html_escape(metric_label(m)) << "</h3><div class=\"chart\" "
      << "data-chart=\"significance\" data-metric=\"" << html_escape(m) << "\"></div></div>";
  h << "</div>";
  h << "<h3>Podium: " << html_escape(metric_label(b.metrics.front()))
    << "</h3><p class=\"note\">Every case's value for every team, drawn in the column of the place the team took on that "
       "case (ties to the best place); the grey lines join the teams' values on one case.</p>"
       "<div class=\"chart\" data-chart=\"podium\"></div></section>\n";
}

void write_intervals_section(std::ostringstream& h, const Leaderboard& b) {
  h << "<section class=\"card\" id=\"intervals\"><h2>Bootstrap intervals</h2><p class=\"lead\">From the same "
    << b.settings.bootstrap_resamples
    << " draws: each team's mean of every ranked metric (point: on all cases; line: 95% of the draws), and the gap "
       "to the next team in the table (its mean minus the next team's). A gap interval that crosses 0 means the "
       "cases do not tell the two apart on that metric.</p><div class=\"grid\">";
  for (const auto& m : b.metrics) {
    h << "<div class=\"panel\"><h3>Mean " << html_escape(metric_label(m)) << "</h3><div class=\"chart\" data-chart=\"mean-ci\" "
      << "data-metric=\"" << html_escape(m) << "\"></div></div>";
    if (b.teams.size() > 1)
      h << "<div class=\"panel\"><h3>Gap to the next team: " << html_escape(metric_label(m))
        << "</h3><div class=\"chart\" data-chart=\"gap-ci\" data-metric=\"" << html_escape(m) << "\"></div></div>";
  }
  h << "</div></section>\n";
}

}  // namespace

std::string render_html(const HtmlPage& page) {
  const Leaderboard& b = *page.board;
  const PageAssets& assets = page_assets();
  const bool lesion = any_lesion(b), eff = any_efficiency(b), gpu = any_gpu(b, b.settings.gpu_measure);
  const bool boot = b.settings.bootstrap_resamples > 0 && b.teams.size() > 1;
  std::ostringstream h;
  h << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<meta name=\"generator\" content=\"lesionbench "
    << html_escape(page.tool.version) << "\">\n<title>Leaderboard · " << b.teams.size() << " teams · lesionbench</title>\n<style>\n"
    << assets.css << "</style>\n</head>\n<body>\n";

  std::string metrics;
  for (size_t m = 0; m < b.metrics.size(); ++m) metrics += (m ? ", " : "") + metric_label(b.metrics[m]);
  h << "<header class=\"page\"><div class=\"inner\"><h1>Leaderboard</h1><div class=\"meta\"><span>" << b.teams.size()
    << (b.teams.size() == 1 ? " team" : " teams") << "</span><span>" << b.case_keys.size() << " cases</span><span>ranked on "
    << html_escape(metrics) << "</span><span>NSD at " << fixed(b.score_settings.case_settings.tolerance_mm, 1)
    << " mm</span><span>" << page_time_utc() << "</span><span>lesionbench " << html_escape(page.tool.version)
    << (page.tool.git_commit.empty() ? "" : " (" + html_escape(page.tool.git_commit) + ")") << "</span></div>\n"
    << "<nav class=\"toc\"><a href=\"#ranking\">Ranking</a>" << (b.teams.size() > 1 ? "<a href=\"#methods\">Methods</a>" : "")
    << (boot ? "<a href=\"#stability\">Stability</a><a href=\"#intervals\">Intervals</a>" : "")
    << "<a href=\"#distributions\">Distributions</a><a href=\"#efficiency\">Efficiency</a><a href=\"#gpu-time\">GPU over time</a>"
    << "<a href=\"#lesions\">Lesions</a><a href=\"#pictures\">Worst cases</a><a href=\"#cases\">Per case</a></nav></div></header>\n";
  h << "<main>\n<ul id=\"lb-errors\" hidden></ul>\n";
  h << inline_script(assets.errors_js);

  // Ranking
  h << "<section class=\"card\" id=\"ranking\"><h2>Ranking</h2><p class=\"lead\">" << method_description(b.settings)
    << " The per-metric ranks are combined with weights ";
  for (size_t m = 0; m < b.metrics.size(); ++m)
    h << (m ? ", " : "") << metric_label(b.metrics[m]) << " " << fixed(b.weights[m], 2);
  h << ". A failed case counts as DSC 0, NSD 0";
  if (std::find(b.metrics.begin(), b.metrics.end(), "time_s") != b.metrics.end())
    h << ", time " << fixed(b.time_limit_s, 0) << " s (the limit)";
  if (std::find(b.metrics.begin(), b.metrics.end(), "gpu_auc_mib_s") != b.metrics.end())
    h << ", GPU AUC the worst any team had on that case";
  h << ". Click a column to sort.</p>\n";
  write_ranking_table(h, b);
  if (!b.notes.empty() || !b.warnings.empty()) {
    h << "<ul class=\"notes\">";
    for (const auto& n : b.notes) h << "<li>" << html_escape(n) << "</li>";
    for (const auto& w : b.warnings) h << "<li><span class=\"badge warn\">warning</span> " << html_escape(w) << "</li>";
    h << "</ul>\n";
  }
  h << "</section>\n";

  if (b.teams.size() > 1) write_methods_section(h, b);

  if (boot) {
    h << "<section class=\"card\" id=\"stability\"><h2>Rank stability</h2><p class=\"lead\">The cases drawn with "
         "replacement "
      << b.settings.bootstrap_resamples << " times (seed " << b.settings.seed
      << ") and the teams placed again by " << ranking_method_name(b.settings.method)
      << " on each draw: the share of draws that put each team in each place. "
         "Two teams whose places swap often are not told apart by these cases.</p>"
         "<div class=\"chart\" data-chart=\"stability\"></div>"
         "<div class=\"grid\"><div class=\"panel\"><h3>Places per draw (blob plot)</h3><p class=\"note\">Area: share of "
         "draws with that place; black: the median place and its 95% interval.</p><div class=\"chart\" data-chart=\"blob\">"
         "</div></div><div class=\"panel\"><h3>Kendall's &tau; with the full ranking</h3>";
    if (b.kendall_tau)
      h << "<p class=\"note\">&tau;-b between the places on all cases and on each draw: median " << fixed(b.kendall_tau->median, 3)
        << ", 95% interval " << fixed(b.kendall_tau->q025, 3) << " to " << fixed(b.kendall_tau->q975, 3)
        << ". 1: every draw ranks the teams as all cases do.</p><div class=\"chart\" data-chart=\"tau\"></div>";
    else
      h << "<div class=\"empty\">No draw ranks two teams apart, so Kendall's &tau; is not defined.</div>";
    h << "</div></div></section>\n";
    write_intervals_section(h, b);
  }

  h << "<section class=\"card\" id=\"distributions\"><h2>Case scores</h2><p class=\"lead\">Every case of every team "
       "(crosses are failed cases), with the box of the middle half and the median.</p><div class=\"grid\">"
       "<div class=\"panel\"><h3>DSC</h3><div class=\"chart\" data-chart=\"dsc-box\"></div></div>"
       "<div class=\"panel\"><h3>NSD</h3><div class=\"chart\" data-chart=\"nsd-box\"></div></div></div></section>\n";

  h << "<section class=\"card\" id=\"efficiency\"><h2>Accuracy and cost</h2>";
  if (eff) {
    h << "<p class=\"lead\">One point per team: mean DSC against the median time per case";
    if (gpu) h << " and against the peak " << (b.settings.gpu_measure == GpuMeasure::device ? "device-wide" : "own") << " GPU memory";
    h << ". Up and to the left is better.</p><div class=\"grid\"><div class=\"panel\"><h3>DSC against time</h3>"
         "<div class=\"chart\" data-chart=\"dsc-time\"></div></div>";
    if (gpu) h << "<div class=\"panel\"><h3>DSC against GPU memory</h3><div class=\"chart\" data-chart=\"dsc-gpu\"></div></div>";
    else h << "<div class=\"panel\"><h3>DSC against GPU memory</h3><div class=\"empty\">No GPU was measured (no NVIDIA driver on the machine that ran the teams, or no records).</div></div>";
    h << "</div>";
  } else {
    h << "<div class=\"empty\">No team has run records (records.jsonl): the predictions were made elsewhere, so there "
         "is no time or memory to show.</div>";
  }
  h << "</section>\n";

  h << "<section class=\"card\" id=\"gpu-time\"><h2>GPU memory over time</h2>";
  if (!page.gpu_series.empty()) {
    h << "<p class=\"lead\">The slowest cases of each team, from the runner's samples ("
      << (b.settings.gpu_measure == GpuMeasure::device ? "device-wide, as FLARE measures it" : "the team's own processes")
      << ").</p><div class=\"grid3\">";
    for (size_t i = 0; i < b.teams.size(); ++i) {
      const std::string& name = b.teams[i].team.name;
      if (std::none_of(page.gpu_series.begin(), page.gpu_series.end(), [&](const GpuSeries& s) { return s.team == name; }))
        continue;
      h << "<div class=\"panel\"><h3><span class=\"swatch\" style=\"background:" << team_colour(i) << "\"></span>"
        << html_escape(name) << "</h3><div class=\"chart\" data-chart=\"gpu-series\" data-team=\"" << html_escape(name)
        << "\"></div></div>";
    }
    h << "</div>";
  } else {
    h << "<div class=\"empty\">" << html_escape(page.gpu_series_note.empty() ? "No GPU samples." : page.gpu_series_note) << "</div>";
  }
  h << "</section>\n";

  h << "<section class=\"card\" id=\"lesions\"><h2>Lesions</h2>";
  if (lesion) {
    h << "<p class=\"lead\">Lesion-wise detection: the share of ground-truth lesions found (a predicted component "
         "overlaps them) by lesion volume, and the false-positive components on healthy cases (no lesion in the ground "
         "truth).</p><div class=\"grid\"><div class=\"panel\"><h3>Sensitivity by lesion volume</h3><div class=\"chart\" "
         "data-chart=\"lesion-sensitivity\"></div></div><div class=\"panel\"><h3>False positives on healthy cases</h3>";
    const bool healthy = std::any_of(b.teams.begin(), b.teams.end(),
                                     [](const TeamResult& t) { return t.lesion && t.lesion->healthy_cases > 0; });
    if (healthy) h << "<div class=\"chart\" data-chart=\"lesion-healthy\"></div>";
    else h << "<div class=\"empty\">No healthy case: every case has a lesion in the ground truth.</div>";
    h << "</div></div>";
  } else {
    h << "<div class=\"empty\">The scores have no lesion-wise values: score with <code>--lesion-wise</code> (or let "
         "report score them with <code>--gt</code>).</div>";
  }
  h << "</section>\n";

  h << "<section class=\"card\" id=\"pictures\"><h2>Worst cases</h2>";
  write_pictures(h, page);
  h << "</section>\n";

  h << "<section class=\"card\" id=\"cases\"><h2>Per case</h2><p class=\"lead\">Every case of every team, worst first. "
       "Open a team to see its cases.</p>\n";
  write_case_tables(h, b);
  h << "</section>\n</main>\n";

  h << "<footer>Written by lesionbench " << html_escape(page.tool.version);
  if (page.charts && page.charts->found) h << " · charts by " << html_escape(page.charts->versions);
  h << " · the same data is in leaderboard.json</footer>\n";

  std::string data = page_data(page).dump();
  std::string safe;
  safe.reserve(data.size());
  for (char c : data) {
    if (c == '<') safe += "\\u003c";  // '<' only occurs inside JSON strings, where the escape means the same
    else safe += c;
  }
  h << "<script type=\"application/json\" id=\"lb-data\">" << safe << "</script>\n";
  if (page.charts && page.charts->found) {
    h << inline_script(page.charts->vega) << inline_script(page.charts->vega_lite) << inline_script(page.charts->vega_embed);
  }
  h << inline_script(assets.page_js) << "</body>\n</html>\n";
  return h.str();
}

}  // namespace lb
