// leaderboard.json writer (see leaderboard_json.h). No NaN: a value that does not exist is null.
#include "reports/leaderboard_json.h"
#include "reports/scores_json.h"

#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>

namespace lb {

using nlohmann::json;

namespace {

json opt(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

json stat_json(const Stat& s) {
  return {{"mean", s.mean}, {"median", s.median}, {"min", s.min}, {"max", s.max}, {"n", s.n}};
}

json placing_json(const Placing& p, const std::vector<std::string>& metrics, bool with_means) {
  json per = json::object();
  for (size_t m = 0; m < metrics.size(); ++m) {
    json v{{"rank", p.metric_rank[m]}};
    if (with_means) v["mean"] = p.metric_mean[m];
    per[metrics[m]] = v;
  }
  return {{"place", p.place}, {"score", p.score}, {"per_metric", per}};
}

json interval_json(const Interval& i) { return {{"q025", i.q025}, {"median", i.median}, {"q975", i.q975}}; }

// The smallest place reached by half of the resamples (as place_range95 reads its percentiles).
int median_place(const std::vector<int>& counts) {
  int total = 0, cum = 0;
  for (int c : counts) total += c;
  for (size_t p = 0; p < counts.size(); ++p) {
    cum += counts[p];
    if (2 * cum >= total) return static_cast<int>(p + 1);
  }
  return static_cast<int>(counts.size());
}

json lesion_summary_json(const LesionSummary& s) {
  json buckets = json::array();
  for (const auto& b : s.buckets)
    buckets.push_back({{"label", b.label},
                       {"min_ml", b.min_ml},
                       {"max_ml", std::isinf(b.max_ml) ? json(nullptr) : json(b.max_ml)},
                       {"n_lesions", b.n_lesions},
                       {"detected", b.detected},
                       {"sensitivity", opt(b.sensitivity)}});
  return {{"n_cases", s.n_cases},         {"mean_dsc", s.mean_dsc},
          {"mean_nsd", s.mean_nsd},       {"n_gt", s.n_gt},
          {"n_pred", s.n_pred},           {"tp", s.tp},
          {"fn", s.fn},                   {"fp", s.fp},
          {"sensitivity", opt(s.sensitivity)}, {"precision", opt(s.precision)},
          {"f1", opt(s.f1)},              {"healthy_cases", s.healthy_cases},
          {"healthy_cases_with_fp", s.healthy_cases_with_fp}, {"fp_on_healthy", s.fp_on_healthy},
          {"rq", opt(s.rq)}, {"sq", opt(s.sq)}, {"pq", opt(s.pq)},
          {"fp_volume_ml", s.fp_volume_ml}, {"fn_volume_ml", s.fn_volume_ml},
          {"buckets", buckets}};
}

json efficiency_json(const Efficiency& e) {
  json counts = json::object();
  for (const auto& [k, v] : e.run_status_counts) counts[k] = v;
  return {{"n_records", e.n_records},
          {"time_s", stat_json(e.time_s)},
          {"time_total_s", opt(e.time_total_s)},
          {"gpu",
           {{"available", e.gpu_available},
            {"name", e.gpu_name},
            {"device", {{"max_mib", opt(e.gpu_device_max_mib)}, {"auc_mean_mib_s", opt(e.gpu_device_auc_mean_mib_s)}}},
            {"own_available", e.gpu_own_available},
            {"own", {{"max_mib", opt(e.gpu_own_max_mib)}, {"auc_mean_mib_s", opt(e.gpu_own_auc_mean_mib_s)}}}}},
          {"cpu_max_pct", opt(e.cpu_max_pct)},
          {"ram_max_mib", opt(e.ram_max_mib)},
          {"run_status_counts", counts}};
}

// The extra metrics of score --metrics (issue 16), as scores.json names them; nothing when none were asked.
void put_extra(json& j, const ExtraScores& e, const MetricChoice& m) {
  if (m.iou) j["iou"] = opt(e.iou);
  if (m.hd) j["hd_mm"] = opt(e.hd_mm);
  if (m.hd95) j["hd95_mm"] = opt(e.hd95_mm);
  if (m.masd) j["masd_mm"] = opt(e.masd_mm);
  if (m.assd) j["assd_mm"] = opt(e.assd_mm);
  if (!m.nsd_at_mm.empty()) {
    json at = json::array();
    for (const auto& [t, v] : e.nsd_at) at.push_back({{"tolerance_mm", t}, {"nsd", v}});
    j["nsd_at_mm"] = at;
  }
}

json case_json(const CaseEntry& e, const MetricChoice& metrics) {
  json j{{"case", e.key},
         {"failed", e.failed},
         {"failure", e.failure.empty() ? json(nullptr) : json(e.failure)},
         {"dsc", e.dsc},
         {"nsd", e.nsd},
         {"time_s", opt(e.time_s)},
         {"gpu_auc_mib_s", opt(e.gpu_auc_mib_s)}};
  if (!e.extra.empty()) j["ranked_extra"] = e.extra;  // only when --weights ranks an extra metric
  if (e.score) {
    const CaseRecord& c = *e.score;
    json s{{"file", c.name},
           {"status", status_name(c.status)},
           {"dsc", c.dsc},
           {"nsd", c.nsd},
           {"dsc_rounded", round4(c.dsc)},
           {"nsd_rounded", round4(c.nsd)},
           {"rule", c.rule.empty() ? json(nullptr) : json(c.rule)},
           {"message", c.message},
           {"warnings", c.warnings},
           {"gt_volume_ml", c.gt_volume_ml < 0 ? json(nullptr) : json(c.gt_volume_ml)},
           {"pred_volume_ml", c.pred_volume_ml < 0 ? json(nullptr) : json(c.pred_volume_ml)}};
    if (c.lesion_wise) {
      const auto& l = *c.lesion_wise;
      s["lesion_wise"] = {{"dsc", l.dsc}, {"nsd", l.nsd}, {"n_gt", l.n_gt}, {"n_pred", l.n_pred},
                          {"tp", l.tp},   {"fn", l.fn},   {"fp", l.fp},
                          {"rq", opt(l.rq)}, {"sq", opt(l.sq)}, {"pq", opt(l.pq)},
                          {"fp_volume_ml", l.fp_volume_ml}, {"fn_volume_ml", l.fn_volume_ml}};
    } else {
      s["lesion_wise"] = nullptr;
    }
    put_extra(s, c.extra, metrics);
    j["score"] = s;
  } else {
    j["score"] = nullptr;
  }
  j["run"] = e.run ? json(*e.run) : json(nullptr);
  return j;
}

}  // namespace

namespace {

json team_json(const Leaderboard& b, const TeamResult& tr) {
  const Summary& s = tr.summary;
  json counts = json::object();
  for (size_t k = 0; k < kAllStatuses.size(); ++k) counts[status_name(kAllStatuses[k])] = s.status_counts[k];
  json cases = json::array();
  for (const auto& e : tr.cases) cases.push_back(case_json(e, b.score_settings.metrics));
  json metrics = json::object();  // summary of the extra metrics over the team's scored cases
  for (const auto& m : summarize_extra(tr.team.scores.cases, b.score_settings.metrics))
    metrics[m.name] = {{"n", m.n}, {"n_null", m.n_null}, {"mean", m.n ? json(m.mean) : json(nullptr)},
                       {"median", m.n ? json(m.median) : json(nullptr)}, {"mean_worst", opt(m.mean_worst)}};
  json stability = nullptr;
  if (b.settings.bootstrap_resamples > 0) {
    json means = json::object(), gaps = json::object();
    for (size_t m = 0; m < b.metrics.size() && m < tr.mean_ci95.size(); ++m) {
      means[b.metrics[m]] = interval_json(tr.mean_ci95[m]);
      gaps[b.metrics[m]] = tr.gap_ci95[m] ? interval_json(*tr.gap_ci95[m]) : json(nullptr);
    }
    stability = {{"keeps_place", tr.keeps_place},
                 {"place_counts", tr.place_counts},
                 {"place_median", median_place(tr.place_counts)},
                 {"place_range95", {tr.place_range95[0], tr.place_range95[1]}},
                 {"ahead_of_next", opt(tr.ahead_of_next)},
                 {"mean_ci95", means},
                 {"gap_to_next_ci95", gaps}};
  }
  return {{"name", tr.team.name},
          {"dir", tr.team.dir},
          {"scores", {{"path", tr.team.scores_path}, {"scored_now", tr.team.scored_now}}},
          {"n_cases", s.n_cases},
          {"failed_cases", tr.failed_cases},
          {"absent_cases", tr.absent_cases},
          {"status_counts", counts},
          {"dsc", {{"mean", s.mean_dsc}, {"median", s.median_dsc}, {"mean_rounded", s.mean_dsc_rounded}}},
          {"nsd", {{"mean", s.mean_nsd}, {"median", s.median_nsd}, {"mean_rounded", s.mean_nsd_rounded}}},
          {"lesion_wise", tr.lesion ? lesion_summary_json(*tr.lesion) : json(nullptr)},
          {"metrics", metrics},
          {"efficiency", tr.efficiency ? efficiency_json(*tr.efficiency) : json(nullptr)},
          {"ranks",
           {{"rank_then_aggregate", placing_json(tr.rank_then_aggregate, b.metrics, false)},
            {"mean_based", placing_json(tr.mean_based, b.metrics, true)},
            {"median_based", placing_json(tr.median_based, b.metrics, false)},
            {"test_then_rank", placing_json(tr.test_then_rank, b.metrics, false)}}},
          {"stability", stability},
          {"warnings", tr.team.warnings},
          {"cases", cases}};
}

// Everything but the teams.
json board_json(const Leaderboard& b, const ToolInfo& tool, const ReportInputs& inputs) {
  const RankSettings& st = b.settings;
  json weights = json::object();
  for (size_t m = 0; m < b.metrics.size(); ++m) weights[b.metrics[m]] = b.weights[m];
  const ScoreSettings& ss = b.score_settings;
  json methods = json::object();
  for (size_t k = 0; k < kAllRankingMethods.size(); ++k) {
    json places = json::object();
    for (const auto& t : b.teams) places[t.team.name] = t.method_place[k];
    methods[ranking_method_name(kAllRankingMethods[k])] = places;
  }
  json significance = json::array();
  for (const auto& s : b.significance)
    significance.push_back({{"metric", s.metric}, {"a", s.a}, {"b", s.b}, {"p", s.p}, {"p_adjusted", s.p_adjusted},
                            {"significant", s.significant}});
  json tau = nullptr;
  if (b.kendall_tau)
    tau = {{"median", b.kendall_tau->median}, {"q025", b.kendall_tau->q025}, {"q975", b.kendall_tau->q975},
           {"n", b.kendall_tau_values.size()}, {"undefined", b.kendall_tau_undefined}};
  return {{"schema_version", kLeaderboardSchemaVersion},
          {"tool", {{"name", tool.name}, {"version", tool.version}, {"git_commit", tool.git_commit}}},
          {"created_utc", utc_now()},
          {"inputs", {{"gt_dir", inputs.gt_dir.empty() ? json(nullptr) : json(inputs.gt_dir)},
                      {"cases_dir", inputs.cases_dir.empty() ? json(nullptr) : json(inputs.cases_dir)}}},
          {"scoring",
           {{"tolerance_mm", ss.case_settings.tolerance_mm},
            {"nsd_gate_dsc", ss.case_settings.nsd_gate_dsc},
            {"lesion_wise", ss.lesion_wise},
            {"connectivity", ss.lesion.connectivity},
            {"matching", ss.lesion.matching.name()},
            {"metrics", ss.metrics.names()},
            {"nsd_at_mm", ss.metrics.nsd_at_mm}}},
          {"ranking",
           {{"method", ranking_method_name(st.method)},
            {"methods", methods},
            {"alpha", st.tests.alpha},
            {"p_adjust", p_adjust_name(st.tests.p_adjust)},
            {"significance", significance},
            {"metrics", b.metrics},
            {"weights", weights},
            {"gpu_measure", st.gpu_measure == GpuMeasure::device ? "device" : "own"},
            {"gpu_allowance_mib", st.gpu_allowance_mib},
            {"time_limit_s", b.time_limit_s},
            {"bootstrap_resamples", st.bootstrap_resamples},
            {"seed", st.seed},
            {"ahead", b.ahead},
            {"notes", b.notes}}},
          // The board-wide side of the bootstrap; each team's own side is teams[].stability.
          {"stability", {{"kendall_tau", tau}}},
          {"cases", b.case_keys},
          {"teams", json::array()},
          {"warnings", b.warnings}};
}

}  // namespace

void write_leaderboard_json(std::ostream& out, const Leaderboard& b, const ToolInfo& tool, const ReportInputs& inputs) {
  // One team at a time: the whole document as a JSON tree would take about ten times its size in memory.
  const json doc = board_json(b, tool, inputs);
  out << "{";
  bool first = true;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    out << (first ? "\n" : ",\n") << json(it.key()).dump() << ": ";
    first = false;
    if (it.key() != "teams") {
      out << it.value().dump();
      continue;
    }
    out << "[";
    for (size_t t = 0; t < b.teams.size(); ++t) out << (t ? ",\n" : "\n") << team_json(b, b.teams[t]).dump();
    out << "\n]";
  }
  out << "\n}\n";
}

}  // namespace lb
