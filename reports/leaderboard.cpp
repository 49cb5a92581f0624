// Lining teams up on cases, deciding failures, ranking (see leaderboard.h).
#include "reports/leaderboard.h"
#include "reports/timing_conditions.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "reports/names.h"

namespace lb {

Stat stat_of(std::vector<double> v) {
  Stat s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.min = v.front();
  s.max = v.back();
  return s;
}

double auc_above_allowance(const std::vector<double>& t, const std::vector<double>& mib, double allowance) {
  double area = 0;
  for (size_t i = 1; i < t.size() && i < mib.size(); ++i) {
    const double dt = t[i] - t[i - 1];
    if (!(dt > 0) || !std::isfinite(mib[i]) || !std::isfinite(mib[i - 1])) continue;
    const double p = mib[i - 1] - allowance, q = mib[i] - allowance;
    if (p >= 0 && q >= 0) area += 0.5 * (p + q) * dt;
    else if (p > 0) area += 0.5 * dt * p * p / (p - q);  // the line crosses the allowance: keep the triangle above it
    else if (q > 0) area += 0.5 * dt * q * q / (q - p);
  }
  return area;
}

namespace {

std::optional<double> gpu_auc(const runner::RunRecord& r, GpuMeasure m) {
  return m == GpuMeasure::device ? r.gpu.device_auc_mib_s : r.gpu.own_auc_mib_s;
}
std::optional<double> gpu_max(const runner::RunRecord& r, GpuMeasure m) {
  return m == GpuMeasure::device ? r.gpu.device_max_mib : r.gpu.own_max_mib;
}

// GPU AUC with the allowance off: exact from the samples when they can be read; otherwise a lower bound from
// the figures (0 when the peak stayed under the allowance, else AUC - allowance x wall time, at least 0).
std::optional<double> gpu_auc_for_ranking(const Team& team, const runner::RunRecord& r, const RankSettings& st,
                                          bool* approximated) {
  const auto auc = gpu_auc(r, st.gpu_measure);
  if (!auc) return std::nullopt;
  if (st.gpu_allowance_mib <= 0) return auc;
  if (!r.files.samples.empty() && r.mode == "per_case") {
    try {
      const SampleSeries s = read_samples(relative_path_in(team.dir, r.files.samples, "files.samples").string());
      const auto& series = st.gpu_measure == GpuMeasure::device ? s.device_mib : s.own_mib;
      if (!series.empty()) return auc_above_allowance(s.t_s, series, st.gpu_allowance_mib);
    } catch (const std::exception&) {
      // fall through to the bound
    }
  }
  *approximated = true;
  const auto peak = gpu_max(r, st.gpu_measure);
  if (peak && *peak <= st.gpu_allowance_mib) return 0.0;
  return std::max(0.0, *auc - st.gpu_allowance_mib * r.wall_s);
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// "a, b, c" for the first few names, then "and N more".
std::string name_list(const std::vector<std::string>& names, size_t shown = 5) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < shown; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > shown) s += " and " + std::to_string(names.size() - shown) + " more";
  return s;
}

void check_unique_names(const std::vector<Team>& teams) {
  std::set<std::string> names;
  for (const auto& t : teams)
    if (!names.insert(t.name).second)
      throw std::invalid_argument("two teams are named '" + t.name + "'; team names come from the folder names");
}

// The case list: the one given (the ground truth's cases), else the union of every team's scored cases.
std::vector<std::string> choose_cases(const std::vector<Team>& teams,
                                      const std::optional<std::vector<std::string>>& given) {
  std::set<std::string> keys;
  if (given) {
    keys.insert(given->begin(), given->end());
    if (keys.empty()) throw std::invalid_argument("the ground truth has no case");
  } else {
    for (const auto& t : teams)
      for (const auto& c : t.scores.cases) keys.insert(case_key(c.name));
    if (keys.empty()) throw std::invalid_argument("no scored case in any team");
  }
  return {keys.begin(), keys.end()};
}

// Time of a failed case: --time-limit-s, else the largest limit the records ran under, else 600 s.
double failure_time_limit(const std::vector<Team>& teams, const RankSettings& st) {
  double limit = 0;
  for (const auto& t : teams)
    for (const auto& r : t.records) limit = std::max(limit, r.timeout_s);
  return st.time_limit_s.value_or(limit > 0 ? limit : 600.0);
}

// The --metrics name of a rankable key ("hd95_mm" -> "hd95"), and whether a team's scores hold it.
std::string metric_flag(const std::string& key) { return key.ends_with("_mm") ? key.substr(0, key.size() - 3) : key; }
bool scored_with(const MetricChoice& m, const std::string& key) {
  return key == "iou" ? m.iou : key == "hd_mm" ? m.hd : key == "hd95_mm" ? m.hd95 : key == "masd_mm" ? m.masd
                                                                                    : key == "assd_mm" && m.assd;
}
std::optional<double> extra_value(const ExtraScores& e, const std::string& key) {
  return key == "iou" ? e.iou : key == "hd_mm" ? e.hd_mm : key == "hd95_mm" ? e.hd95_mm : key == "masd_mm" ? e.masd_mm
                                                                                                   : e.assd_mm;
}

// Which metrics are ranked, with their weights, and a note for each one left out and why.
void choose_metrics(const std::vector<Team>& teams, const RankSettings& st, Leaderboard& lb) {
  bool all_records = true, all_gpu = true;
  std::string batch_team;
  for (const auto& t : teams) {
    all_records = all_records && t.has_records;
    for (const auto& r : t.records)
      if (r.mode != "per_case" && batch_team.empty()) batch_team = t.name;
    bool gpu = false;
    for (const auto& r : t.records) gpu = gpu || gpu_auc(r, st.gpu_measure).has_value();
    all_gpu = all_gpu && gpu;
  }
  const char* gpu_word = st.gpu_measure == GpuMeasure::device ? "device-wide" : "own";
  if (st.weight_dsc > 0) lb.metrics.push_back("dsc"), lb.weights.push_back(st.weight_dsc);
  if (st.weight_nsd > 0) lb.metrics.push_back("nsd"), lb.weights.push_back(st.weight_nsd);
  for (const auto& [key, w] : st.extra_weights)
    if (std::find_if(kRankableExtraMetrics.begin(), kRankableExtraMetrics.end(),
                     [&](const char* k) { return key == k; }) == kRankableExtraMetrics.end())
      throw std::invalid_argument("'" + key + "' cannot be ranked (iou, hd_mm, hd95_mm, masd_mm, assd_mm can)");
  for (const char* key : kRankableExtraMetrics) {
    const auto it = st.extra_weights.find(key);
    if (it == st.extra_weights.end() || !(it->second > 0)) continue;
    for (const auto& t : teams)
      if (!scored_with(t.scores.settings.metrics, key))
        throw std::invalid_argument(std::string("--weights asks to rank ") + key + ", but " + t.name +
                                    "'s scores do not have it: score with --metrics dsc,nsd," + metric_flag(key) +
                                    " (or report --gt ... --metrics dsc,nsd," + metric_flag(key) + ")");
    lb.metrics.push_back(key), lb.weights.push_back(it->second);
    if (std::string(key) != "iou")
      lb.notes.push_back(std::string(key) + " is ranked (lower is better); a failed case, or one where a mask is empty, "
                         "counts as the ground truth's volume diagonal, the worst distance it allows");
  }
  // Why time and GPU cannot be ranked, if they cannot: one note for both.
  std::string efficiency_missing;
  if (!all_records) efficiency_missing = "not every team has run records (records.jsonl)";
  else if (!batch_team.empty())
    efficiency_missing = batch_team + " ran in batch mode (one launch for all cases), so it has no per-case figures";
  if (st.weight_time > 0) {
    if (efficiency_missing.empty()) lb.metrics.push_back("time_s"), lb.weights.push_back(st.weight_time);
    else lb.notes.push_back("time is not ranked: " + efficiency_missing);
  }
  if (st.weight_gpu > 0) {
    if (efficiency_missing.empty() && all_gpu) lb.metrics.push_back("gpu_auc_mib_s"), lb.weights.push_back(st.weight_gpu);
    else if (efficiency_missing.empty())
      lb.notes.push_back(std::string("GPU memory is not ranked: not every team has a ") + gpu_word + " GPU measurement");
    else
      lb.notes.push_back("GPU memory is not ranked: " + efficiency_missing);
  }
  if (lb.metrics.empty()) throw std::invalid_argument("every ranked metric has weight 0");
}

bool ranks_on(const Leaderboard& lb, const char* metric) {
  return std::find(lb.metrics.begin(), lb.metrics.end(), metric) != lb.metrics.end();
}

// The failure policy: why a case counts as failed, or empty when it does not. The first cause is named: a
// failed run explains a missing prediction, not the other way round. A run that failed after writing a valid
// prediction (kept by the runner, `prediction` set) is judged by the score of that prediction, as the
// organisers score whatever file the container left.
std::string failure_of(const CaseEntry& e, const Team& t) {
  const bool scored_ok = e.score && e.score->status == CaseStatus::ok;
  if (e.run && e.run->status != runner::RunStatus::ok && !(e.run->prediction && scored_ok))
    return std::string("run ") + runner::status_name(e.run->status) + (e.run->message.empty() ? "" : ": " + e.run->message);
  if (t.has_records && !e.run) {
    if (auto it = t.refused_records.find(e.key); it != t.refused_records.end())
      return "run record refused by --verify-key: " + it->second;
    return "no run record for this case";
  }
  if (!e.score) return "no score for this case in " + (t.scores_path.empty() ? t.dir : t.scores_path);
  if (e.score->status != CaseStatus::ok)
    return std::string("scored ") + status_name(e.score->status) + (e.score->message.empty() ? "" : ": " + e.score->message);
  return "";
}

// One team lined up on the leaderboard's cases: its score and run record per case, failures decided and
// replaced by the values the ranking uses.
void line_up(TeamResult& tr, const Leaderboard& lb, bool cases_given, const RankSettings& st, bool* approximated,
             std::vector<std::string>& warnings) {
  const Team& t = tr.team;
  const std::set<std::string> keys(lb.case_keys.begin(), lb.case_keys.end());
  std::map<std::string, const CaseRecord*> score_of;
  std::vector<std::string> scores_outside, records_outside;
  for (const auto& c : t.scores.cases) {
    if (keys.count(case_key(c.name))) score_of[case_key(c.name)] = &c;
    else scores_outside.push_back(case_key(c.name));
  }
  std::map<std::string, const runner::RunRecord*> run_of;
  for (const auto& r : t.records) {
    if (keys.count(r.case_name)) run_of[r.case_name] = &r;
    else records_outside.push_back(r.case_name);
  }
  if (cases_given) {
    // What a team says about cases the ground truth does not have is a claim nobody checked: left out.
    if (!scores_outside.empty())
      tr.team.warnings.push_back("scores for " + std::to_string(scores_outside.size()) +
                                 " case(s) not in the ground truth ignored: " + name_list(scores_outside));
    if (!records_outside.empty())
      tr.team.warnings.push_back("run records for " + std::to_string(records_outside.size()) +
                                 " case(s) not in the ground truth ignored: " + name_list(records_outside));
  } else {
    for (const auto& name : records_outside)
      tr.team.warnings.push_back("run record for " + name + " has no score in any team; left out");
  }
  for (const auto& key : lb.case_keys) {
    CaseEntry e;
    e.key = key;
    if (auto it = score_of.find(key); it != score_of.end()) e.score = *it->second;
    if (auto it = run_of.find(key); it != run_of.end()) e.run = *it->second;
    if (!e.score) ++tr.absent_cases;
    e.failure = failure_of(e, t);
    e.failed = !e.failure.empty();
    if (e.failed) ++tr.failed_cases;
    e.dsc = e.failed ? 0.0 : e.score->dsc;
    e.nsd = e.failed ? 0.0 : e.score->nsd;
    for (const char* key : kRankableExtraMetrics)
      if (ranks_on(lb, key)) {
        const auto v = e.failed ? std::nullopt : extra_value(e.score->extra, key);
        // NaN marks a value to be replaced by the case's worst once every team is lined up.
        e.extra[key] = v ? *v : std::numeric_limits<double>::quiet_NaN();
      }
    if (ranks_on(lb, "time_s")) e.time_s = e.failed ? lb.time_limit_s : e.run->wall_s;
    if (ranks_on(lb, "gpu_auc_mib_s") && !e.failed) e.gpu_auc_mib_s = gpu_auc_for_ranking(t, *e.run, st, approximated);
    tr.cases.push_back(std::move(e));
  }
  if (tr.absent_cases)
    warnings.push_back(t.name + ": " + std::to_string(tr.absent_cases) + " of " + std::to_string(lb.case_keys.size()) +
                       " cases have no score (counted as failed)");
}

// GPU of failed cases (and of cases without a measurement): the worst any team had on that case.
void fill_unmeasured_gpu(std::vector<TeamResult>& results, const RankSettings& st, bool* approximated, Leaderboard& lb) {
  int unmeasured = 0;
  const size_t n_cases = lb.case_keys.size();
  for (size_t c = 0; c < n_cases; ++c) {
    double worst = 0;
    for (const auto& tr : results) {
      const auto& e = tr.cases[c];
      if (e.gpu_auc_mib_s) worst = std::max(worst, *e.gpu_auc_mib_s);
      else if (e.run)  // a failed run's measurement up to the failure counts towards the worst too
        if (auto a = gpu_auc_for_ranking(tr.team, *e.run, st, approximated)) worst = std::max(worst, *a);
    }
    for (auto& tr : results) {
      auto& e = tr.cases[c];
      if (!e.gpu_auc_mib_s) {
        if (!e.failed) ++unmeasured;
        e.gpu_auc_mib_s = worst;
      }
    }
  }
  if (unmeasured)
    lb.notes.push_back(std::to_string(unmeasured) +
                       " successful case runs had no GPU measurement and count with the worst GPU AUC of their case");
  if (*approximated)
    lb.notes.push_back("GPU allowance: some sample series were unavailable; their AUC above the allowance is the "
                       "bound max(0, AUC - allowance x wall time)");
  if (st.gpu_allowance_mib > 0)
    lb.notes.push_back("GPU AUC ranked above an allowance of " + fmt(st.gpu_allowance_mib) + " MiB per sample");
}

// Absent extra values (failed case, one mask empty) as the worst the case allows: iou 0; a distance the diagonal
// of the ground truth's volume in mm (as summary.metrics' mean_worst), from any team's record of the case, else
// the largest diagonal of the board.
void fill_absent_extra(std::vector<TeamResult>& results, Leaderboard& lb) {
  const size_t n_cases = lb.case_keys.size();
  std::vector<double> diagonal(n_cases, 0.0);
  double largest = 0;
  for (size_t c = 0; c < n_cases; ++c) {
    for (const auto& tr : results) {
      const auto& s = tr.cases[c].score;
      if (!s || s->dims[0] <= 0) continue;
      double d2 = 0;
      for (int a = 0; a < 3; ++a) d2 += std::pow(static_cast<double>(s->dims[a]) * s->spacing_mm[a], 2);
      diagonal[c] = std::sqrt(d2);
      break;
    }
    largest = std::max(largest, diagonal[c]);
  }
  int replaced = 0;
  for (size_t c = 0; c < n_cases; ++c)
    for (auto& tr : results)
      for (auto& [key, v] : tr.cases[c].extra)
        if (std::isnan(v)) {
          v = key == "iou" ? 0.0 : diagonal[c] > 0 ? diagonal[c] : largest;
          ++replaced;
        }
  if (replaced)
    lb.notes.push_back(std::to_string(replaced) + " ranked extra value(s) were absent (failed case, or a mask empty) "
                       "and count as the worst: iou 0, a distance the ground truth's volume diagonal");
}

}  // namespace

bool higher_is_better(const std::string& metric) { return metric == "dsc" || metric == "nsd" || metric == "iou"; }

double ranked_value(const CaseEntry& e, const std::string& metric) {
  if (metric == "dsc") return e.dsc;
  if (metric == "nsd") return e.nsd;
  if (metric == "time_s") return e.time_s.value_or(0);
  if (metric == "gpu_auc_mib_s") return e.gpu_auc_mib_s.value_or(0);
  const auto it = e.extra.find(metric);
  return it == e.extra.end() ? 0.0 : it->second;
}

namespace {

// The ranking inputs (per metric, per case, per team: the values as ranked).
std::vector<MetricColumn> ranking_columns(const std::vector<TeamResult>& results, const Leaderboard& lb) {
  const size_t n_cases = lb.case_keys.size(), n_teams = results.size();
  std::vector<MetricColumn> cols;
  for (size_t m = 0; m < lb.metrics.size(); ++m) {
    MetricColumn col;
    col.name = lb.metrics[m];
    col.weight = lb.weights[m];
    col.direction = higher_is_better(col.name) ? Direction::higher_is_better : Direction::lower_is_better;
    col.values.assign(n_cases, std::vector<double>(n_teams, 0.0));
    for (size_t c = 0; c < n_cases; ++c)
      for (size_t t = 0; t < n_teams; ++t) {
        col.values[c][t] = ranked_value(results[t].cases[c], col.name);
      }
    cols.push_back(std::move(col));
  }
  return cols;
}

// The table's order: place by the chosen method, then name.
std::vector<size_t> table_order(const std::vector<TeamResult>& results) {
  std::vector<size_t> order(results.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (results[a].placing.place != results[b].placing.place) return results[a].placing.place < results[b].placing.place;
    return results[a].team.name < results[b].team.name;
  });
  return order;
}

// Every method's ranking, the pairwise tests, and the bootstrap of the chosen method.
std::optional<Stability> rank(std::vector<TeamResult>& results, Leaderboard& lb, const RankSettings& st) {
  const size_t n_teams = results.size();
  const auto cols = ranking_columns(results, lb);
  std::vector<PairTest> tests;
  const Ranking rta = rank_then_aggregate(cols, n_teams);
  const Ranking mean = aggregate_then_rank(cols, n_teams);
  const Ranking median = aggregate_then_rank_median(cols, n_teams);
  const Ranking ttr = test_then_rank(cols, n_teams, st.tests, &tests);
  const auto placing = [](const Ranking& r, size_t t) { return Placing{r.place[t], r.score[t], r.metric_rank[t], r.metric_mean[t]}; };
  for (size_t t = 0; t < n_teams; ++t) {
    TeamResult& tr = results[t];
    tr.rank_then_aggregate = placing(rta, t);
    tr.mean_based = placing(mean, t);
    tr.median_based = placing(median, t);
    tr.test_then_rank = placing(ttr, t);
    for (size_t k = 0; k < kAllRankingMethods.size(); ++k) {
      const RankingMethod m = kAllRankingMethods[k];
      const Placing& p = m == RankingMethod::rank_then_aggregate        ? tr.rank_then_aggregate
                         : m == RankingMethod::aggregate_then_rank_mean ? tr.mean_based
                         : m == RankingMethod::aggregate_then_rank_median ? tr.median_based
                                                                          : tr.test_then_rank;
      tr.method_place[k] = p.place;
      if (m == st.method) tr.placing = p;
    }
  }
  for (const auto& pt : tests)
    lb.significance.push_back({cols[pt.metric].name, results[pt.a].team.name, results[pt.b].team.name, pt.p,
                               pt.p_adjusted, pt.significant});
  if (st.bootstrap_resamples <= 0) return std::nullopt;
  const auto order = table_order(results);
  std::vector<size_t> next(n_teams, n_teams);
  for (size_t i = 0; i + 1 < n_teams; ++i) next[order[i]] = order[i + 1];
  BootstrapAnalysis boot = bootstrap_analysis(cols, n_teams, st.method, st.tests, st.bootstrap_resamples, st.seed, next);
  for (size_t t = 0; t < n_teams; ++t) {
    TeamResult& tr = results[t];
    tr.keeps_place = boot.stability.keeps_place[t];
    tr.place_counts = boot.stability.place_counts[t];
    tr.place_range95 = boot.stability.place_range95[t];
    tr.mean_ci95 = boot.mean[t];
    tr.gap_ci95 = boot.gap_to_next[t];
  }
  lb.kendall_tau = boot.tau;
  lb.kendall_tau_values = std::move(boot.kendall_tau);
  lb.kendall_tau_undefined = boot.tau_undefined;
  return std::move(boot.stability);
}

// The ground-truth lesions of each case, from any team that has lesion-wise scores for it: a failed case of
// another team counts them as missed (the ground truth is the same for every team).
std::map<std::string, const LesionWise*> known_lesions(const std::vector<TeamResult>& results) {
  std::map<std::string, const LesionWise*> gt_lesions;
  for (const auto& tr : results)
    for (const auto& e : tr.cases)
      if (!e.failed && e.score && e.score->lesion_wise && !gt_lesions.count(e.key)) gt_lesions[e.key] = &*e.score->lesion_wise;
  return gt_lesions;
}

// A failed case as the lesion-wise totals see it: every lesion missed, no component predicted, scores 0.
CaseRecord all_lesions_missed(const CaseRecord& r, const LesionWise& gt) {
  CaseRecord missed = r;
  LesionWise lw;
  lw.n_gt = lw.fn = gt.n_gt;
  for (Lesion l : gt.lesions) {
    l.dsc = l.nsd = 0;
    l.detected = false;
    l.linked_pred = 0;
    l.pred_voxels = 0;
    lw.lesions.push_back(l);
  }
  if (lw.n_gt > 0) lw.sensitivity = lw.f1 = 0.0;
  missed.lesion_wise = lw;
  return missed;
}

// Case-wise and lesion-wise summaries over the leaderboard's cases, with the values as ranked (failures as 0).
// Returns whether a failed case's lesions were counted as missed.
bool summarize_team(TeamResult& tr, const std::map<std::string, const LesionWise*>& gt_lesions) {
  bool missed_added = false;
  std::vector<CaseRecord> as_ranked;
  std::vector<CaseRecord> lesion_cases;
  for (const auto& e : tr.cases) {
    CaseRecord r;
    if (e.score) r = *e.score;
    else {
      r.name = e.key + ".nii.gz";
      r.status = CaseStatus::missing;
      r.message = e.failure;
    }
    if (!e.failed && e.score && e.score->lesion_wise) {
      lesion_cases.push_back(*e.score);
    } else if (auto it = gt_lesions.find(e.key); e.failed && it != gt_lesions.end()) {
      lesion_cases.push_back(all_lesions_missed(r, *it->second));
      missed_added = true;
    }
    r.dsc = e.dsc;
    r.nsd = e.nsd;
    if (e.failed) r.nsd_ungated = 0;
    as_ranked.push_back(std::move(r));
  }
  tr.summary = summarize(as_ranked);
  if (tr.team.scores.settings.lesion_wise && !lesion_cases.empty())
    // Totals over the leaderboard's cases: failed cases count their lesions as missed.
    tr.lesion = summarize_lesions(lesion_cases, tr.team.scores.settings.lesion.bucket_edges_ml);
  return missed_added;
}

// Efficiency figures over the team's run records of the leaderboard's cases, as measured (failures included).
Efficiency efficiency_of(const TeamResult& tr) {
  Efficiency ef;
  std::vector<double> times;
  auto max_opt = [](std::optional<double>& acc, const std::optional<double>& v) {
    if (v) acc = acc ? std::max(*acc, *v) : *v;
  };
  double dev_auc = 0, own_auc = 0;
  size_t n_dev = 0, n_own = 0;
  for (const auto& e : tr.cases) {
    if (!e.run) continue;
    const auto& r = *e.run;
    ++ef.n_records;
    times.push_back(r.wall_s);
    ++ef.run_status_counts[runner::status_name(r.status)];
    ef.gpu_available = ef.gpu_available || r.gpu.available;
    ef.gpu_own_available = ef.gpu_own_available || r.gpu.own_available;
    if (ef.gpu_name.empty()) ef.gpu_name = r.gpu.name;
    max_opt(ef.gpu_device_max_mib, r.gpu.device_max_mib);
    max_opt(ef.gpu_own_max_mib, r.gpu.own_max_mib);
    max_opt(ef.cpu_max_pct, r.cpu.max_pct);
    max_opt(ef.ram_max_mib, r.ram.max_mib);
    if (r.gpu.device_auc_mib_s) dev_auc += *r.gpu.device_auc_mib_s, ++n_dev;
    if (r.gpu.own_auc_mib_s) own_auc += *r.gpu.own_auc_mib_s, ++n_own;
  }
  ef.time_s = stat_of(times);
  if (!times.empty()) {
    double total = 0;
    for (double x : times) total += x;
    ef.time_total_s = total;
  }
  if (n_dev) ef.gpu_device_auc_mean_mib_s = dev_auc / static_cast<double>(n_dev);
  if (n_own) ef.gpu_own_auc_mean_mib_s = own_auc / static_cast<double>(n_own);
  return ef;
}

// Teams in the order of their place, then name; the bootstrap's pairwise table follows the same order.
void order_teams(std::vector<TeamResult>& results, const std::optional<Stability>& stab, Leaderboard& lb) {
  const size_t n_teams = results.size();
  const std::vector<size_t> order = table_order(results);
  for (size_t i = 0; i < n_teams; ++i) lb.teams.push_back(std::move(results[order[i]]));
  if (stab) {
    lb.ahead.assign(n_teams, std::vector<double>(n_teams, 0.0));
    for (size_t i = 0; i < n_teams; ++i)
      for (size_t j = 0; j < n_teams; ++j) lb.ahead[i][j] = stab->ahead[order[i]][order[j]];
    for (size_t i = 0; i + 1 < n_teams; ++i) lb.teams[i].ahead_of_next = lb.ahead[i][i + 1];
  }
}

}  // namespace

Leaderboard build_leaderboard(std::vector<Team> teams, const RankSettings& st,
                              const std::optional<std::vector<std::string>>& case_keys) {
  if (teams.empty()) throw std::invalid_argument("no team to rank");
  check_unique_names(teams);
  Leaderboard lb;
  lb.settings = st;
  lb.score_settings = teams.front().scores.settings;
  lb.case_keys = choose_cases(teams, case_keys);
  lb.time_limit_s = failure_time_limit(teams, st);
  choose_metrics(teams, st, lb);

  bool approximated = false;
  std::vector<TeamResult> results(teams.size());
  for (size_t ti = 0; ti < teams.size(); ++ti) {
    results[ti].team = std::move(teams[ti]);
    line_up(results[ti], lb, case_keys.has_value(), st, &approximated, lb.warnings);
  }
  if (ranks_on(lb, "gpu_auc_mib_s")) fill_unmeasured_gpu(results, st, &approximated, lb);
  if (!st.extra_weights.empty()) fill_absent_extra(results, lb);
  if (ranks_on(lb, "gpu_auc_mib_s"))
    lb.notes.push_back(std::string("GPU memory measure: ") +
                       (st.gpu_measure == GpuMeasure::device ? "device-wide (as FLARE measures it)"
                                                             : "own (the contestant's own processes)"));

  const std::optional<Stability> stab = rank(results, lb, st);

  const auto gt_lesions = known_lesions(results);
  bool missed_added = false;
  for (auto& tr : results) {
    missed_added = summarize_team(tr, gt_lesions) || missed_added;
    if (tr.team.has_records) tr.efficiency = efficiency_of(tr);
  }
  if (missed_added)
    lb.notes.push_back("lesion-wise totals count every lesion of a failed case as missed (lesions known from the teams "
                       "that have lesion-wise scores for that case)");

  order_teams(results, stab, lb);
  for (const auto& tr : lb.teams)
    for (const auto& w : tr.team.warnings) lb.warnings.push_back(tr.team.name + ": " + w);
  std::vector<const Team*> timed;
  for (const auto& tr : lb.teams) timed.push_back(&tr.team);
  if (auto w = timing_conditions_warning(timed)) lb.warnings.push_back(*w);
  return lb;
}

}  // namespace lb
