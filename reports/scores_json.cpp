#include "reports/scores_json.h"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>

namespace lb {

using nlohmann::json;

namespace {

json optional_number(std::optional<double> v) { return v ? json(*v) : json(nullptr); }
json count_or_null(int64_t v) { return v < 0 ? json(nullptr) : json(v); }
json number_or_null(double v) { return v < 0 ? json(nullptr) : json(v); }

json box_json(const Box& b) {
  return json{{"min", {b.lo[0], b.lo[1], b.lo[2]}}, {"max", {b.hi[0] - 1, b.hi[1] - 1, b.hi[2] - 1}}};
}

// The chosen extra metrics as keys of `j`: absent values are null (the reason is in the case's warnings).
void put_extra(json& j, const ExtraScores& e, const MetricChoice& m) {
  if (!m.any()) return;
  if (m.iou) j["iou"] = optional_number(e.iou);
  if (m.hd) j["hd_mm"] = optional_number(e.hd_mm);
  if (m.hd95) j["hd95_mm"] = optional_number(e.hd95_mm);
  if (m.masd) j["masd_mm"] = optional_number(e.masd_mm);
  if (m.assd) j["assd_mm"] = optional_number(e.assd_mm);
  if (!m.nsd_at_mm.empty()) {
    json at = json::array();
    for (const auto& [t, v] : e.nsd_at) at.push_back({{"tolerance_mm", t}, {"nsd", v}});
    j["nsd_at_mm"] = at;
  }
}

json lesion_wise_json(const LesionWise& lw, const MetricChoice& m) {
  json lesions = json::array();
  for (const auto& l : lw.lesions) {
    lesions.push_back({{"id", l.id},
                       {"voxels", l.voxels},
                       {"volume_ml", l.volume_ml},
                       {"bbox", box_json(l.bbox)},
                       {"dsc", l.dsc},
                       {"nsd", l.nsd},
                       {"detected", l.detected},
                       {"linked_pred", l.linked_pred},
                       {"pred_voxels", l.pred_voxels}});
    put_extra(lesions.back(), l.extra, m);
  }
  return json{{"dsc", lw.dsc},
              {"nsd", lw.nsd},
              {"n_gt", lw.n_gt},
              {"n_pred", lw.n_pred},
              {"tp", lw.tp},
              {"fn", lw.fn},
              {"fp", lw.fp},
              {"sensitivity", optional_number(lw.sensitivity)},
              {"precision", optional_number(lw.precision)},
              {"f1", optional_number(lw.f1)},
              {"linked_pred", lw.linked_pred},
              {"fp_voxels", lw.fp_voxels},
              {"fp_volume_ml", lw.fp_volume_ml},
              {"fn_volume_ml", lw.fn_volume_ml},
              {"rq", optional_number(lw.rq)},
              {"sq", optional_number(lw.sq)},
              {"pq", optional_number(lw.pq)},
              {"lesions", lesions}};
}

json case_json(const CaseRecord& c, const MetricChoice& m) {
  json j{{"case", c.name},
         {"status", status_name(c.status)},
         {"dsc", c.dsc},
         {"nsd", c.nsd},
         {"nsd_ungated", c.nsd_ungated},
         {"dsc_rounded", round4(c.dsc)},
         {"nsd_rounded", round4(c.nsd)},
         {"rule", c.rule.empty() ? json(nullptr) : json(c.rule)},
         {"message", c.message},
         {"warnings", c.warnings},
         {"gt_voxels", count_or_null(c.gt_voxels)},
         {"pred_voxels", count_or_null(c.pred_voxels)},
         {"overlap_voxels", count_or_null(c.overlap_voxels)},
         {"gt_volume_ml", number_or_null(c.gt_volume_ml)},
         {"pred_volume_ml", number_or_null(c.pred_volume_ml)},
         {"seconds", c.seconds}};
  if (c.dims[0] > 0) {
    j["dims"] = c.dims;
    j["spacing_mm"] = c.spacing_mm;
  } else {
    j["dims"] = nullptr;
    j["spacing_mm"] = nullptr;
  }
  if (c.surface)
    j["surface"] = {{"gt_area_mm2", c.surface->gt_area_mm2},
                    {"pred_area_mm2", c.surface->pred_area_mm2},
                    {"gt_within_mm2", c.surface->gt_within_mm2},
                    {"pred_within_mm2", c.surface->pred_within_mm2}};
  else
    j["surface"] = nullptr;
  j["lesion_wise"] = c.lesion_wise ? lesion_wise_json(*c.lesion_wise, m) : json(nullptr);
  put_extra(j, c.extra, m);
  return j;
}

json lesion_summary_json(const std::vector<CaseRecord>& cases, const LesionSettings& settings) {
  const LesionSummary s = summarize_lesions(cases, settings.bucket_edges_ml);
  json buckets = json::array();
  for (const auto& b : s.buckets)
    buckets.push_back({{"label", b.label},
                       {"min_ml", b.min_ml},
                       {"max_ml", std::isinf(b.max_ml) ? json(nullptr) : json(b.max_ml)},
                       {"n_lesions", b.n_lesions},
                       {"detected", b.detected},
                       {"sensitivity", optional_number(b.sensitivity)}});
  return json{{"n_cases", s.n_cases},
              {"mean_dsc", s.mean_dsc},
              {"mean_nsd", s.mean_nsd},
              {"n_gt", s.n_gt},
              {"n_pred", s.n_pred},
              {"tp", s.tp},
              {"fn", s.fn},
              {"fp", s.fp},
              {"sensitivity", optional_number(s.sensitivity)},
              {"precision", optional_number(s.precision)},
              {"f1", optional_number(s.f1)},
              {"healthy_cases", s.healthy_cases},
              {"healthy_cases_with_fp", s.healthy_cases_with_fp},
              {"fp_on_healthy", s.fp_on_healthy},
              {"fp_volume_ml", s.fp_volume_ml},
              {"fn_volume_ml", s.fn_volume_ml},
              {"rq", optional_number(s.rq)},
              {"sq", optional_number(s.sq)},
              {"pq", optional_number(s.pq)},
              {"buckets", buckets}};
}

}  // namespace

json scores_to_json(const ScoreSet& set, const ToolInfo& tool) {
  const ScoreSettings& st = set.settings;
  json cases = json::array();
  for (const auto& c : set.cases) cases.push_back(case_json(c, st.metrics));
  const Summary s = summarize(set.cases);
  json counts = json::object();
  for (size_t k = 0; k < kAllStatuses.size(); ++k) counts[status_name(kAllStatuses[k])] = s.status_counts[k];
  json summary{{"n_cases", s.n_cases},
               {"mean_dsc", s.mean_dsc},
               {"mean_nsd", s.mean_nsd},
               {"median_dsc", s.median_dsc},
               {"median_nsd", s.median_nsd},
               {"mean_dsc_rounded", s.mean_dsc_rounded},
               {"mean_nsd_rounded", s.mean_nsd_rounded},
               {"mean_nsd_ungated", s.mean_nsd_ungated},
               {"status_counts", counts}};
  if (st.lesion_wise) summary["lesion_wise"] = lesion_summary_json(set.cases, st.lesion);
  if (st.metrics.any()) {
    json metrics = json::object();
    for (const auto& m : summarize_extra(set.cases, st.metrics)) {
      json v{{"n", m.n}, {"n_null", m.n_null}, {"mean", m.n ? json(m.mean) : json(nullptr)},
             {"median", m.n ? json(m.median) : json(nullptr)}};
      if (m.name.ends_with("_mm") && m.name.find("nsd") == std::string::npos) v["mean_worst"] = optional_number(m.mean_worst);
      metrics[m.name] = v;
    }
    summary["metrics"] = metrics;
  }
  json settings{{"gt_dir", st.gt_dir},
                {"pred_dir", st.pred_dir},
                {"tolerance_mm", st.case_settings.tolerance_mm},
                {"nsd_gate_dsc", st.case_settings.nsd_gate_dsc},
                {"geometry", st.geometry == GeometryMode::strict ? "strict" : "warn"},
                {"missing", st.missing == MissingMode::skip ? "skip" : "zero"},
                {"geometry_tolerance",
                 {{"spacing_rel", st.geometry_tolerance.spacing_rel},
                  {"origin_voxels", st.geometry_tolerance.origin_voxels},
                  {"direction", st.geometry_tolerance.direction}}},
                {"threads", st.threads},
                {"lesion_wise", st.lesion_wise},
                {"connectivity", st.lesion.connectivity},
                {"matching", st.lesion.matching.name()},
                {"volume_buckets_ml", st.lesion.bucket_edges_ml},
                {"metrics", st.metrics.names()},
                {"nsd_at_mm", st.metrics.nsd_at_mm}};
  return json{{"schema_version", kScoresSchemaVersion},
              {"tool", {{"name", tool.name}, {"version", tool.version}, {"git_commit", tool.git_commit}}},
              {"created_utc", utc_now()},
              {"settings", settings},
              {"cases", cases},
              {"summary", summary},
              {"warnings", set.warnings},
              {"wall_s", set.wall_s}};
}

namespace {

template <class T>
T get_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

ExtraScores extra_from_json(const json& j) {
  ExtraScores e;
  auto opt = [&](const char* key) -> std::optional<double> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return it->get<double>();
  };
  e.iou = opt("iou");
  e.hd_mm = opt("hd_mm");
  e.hd95_mm = opt("hd95_mm");
  e.masd_mm = opt("masd_mm");
  e.assd_mm = opt("assd_mm");
  if (j.contains("nsd_at_mm") && j["nsd_at_mm"].is_array())
    for (const auto& a : j["nsd_at_mm"]) e.nsd_at.push_back({a.at("tolerance_mm").get<double>(), a.at("nsd").get<double>()});
  return e;
}

LesionWise lesion_wise_from_json(const json& j) {
  LesionWise lw;
  lw.dsc = j.at("dsc").get<double>();
  lw.nsd = j.at("nsd").get<double>();
  lw.n_gt = j.at("n_gt").get<int>();
  lw.n_pred = j.at("n_pred").get<int>();
  lw.tp = j.at("tp").get<int>();
  lw.fn = j.at("fn").get<int>();
  lw.fp = j.at("fp").get<int>();
  if (!j.at("sensitivity").is_null()) lw.sensitivity = j["sensitivity"].get<double>();
  if (!j.at("precision").is_null()) lw.precision = j["precision"].get<double>();
  if (!j.at("f1").is_null()) lw.f1 = j["f1"].get<double>();
  lw.linked_pred = get_or<int>(j, "linked_pred", 0);
  lw.fp_voxels = get_or<int64_t>(j, "fp_voxels", 0);
  lw.fp_volume_ml = get_or<double>(j, "fp_volume_ml", 0.0);
  lw.fn_volume_ml = get_or<double>(j, "fn_volume_ml", 0.0);
  for (auto [key, field] : {std::pair{"rq", &lw.rq}, std::pair{"sq", &lw.sq}, std::pair{"pq", &lw.pq}})
    if (j.contains(key) && !j[key].is_null()) *field = j[key].get<double>();
  lw.sum_tp_iou = lw.sq ? *lw.sq * lw.tp : 0.0;
  for (const auto& l : j.at("lesions")) {
    Lesion les;
    les.id = l.at("id").get<int>();
    les.voxels = l.at("voxels").get<int64_t>();
    les.volume_ml = l.at("volume_ml").get<double>();
    const auto lo = l.at("bbox").at("min").get<std::array<int64_t, 3>>();
    const auto hi = l.at("bbox").at("max").get<std::array<int64_t, 3>>();
    les.bbox = Box{lo, {hi[0] + 1, hi[1] + 1, hi[2] + 1}};
    les.dsc = l.at("dsc").get<double>();
    les.nsd = l.at("nsd").get<double>();
    les.detected = l.at("detected").get<bool>();
    les.linked_pred = l.at("linked_pred").get<int>();
    les.pred_voxels = get_or<int64_t>(l, "pred_voxels", 0);
    les.extra = extra_from_json(l);
    lw.lesions.push_back(les);
  }
  return lw;
}

}  // namespace

ScoreSet scores_from_json(const json& doc) {
  if (!doc.is_object() || !doc.contains("schema_version") || !doc.contains("cases"))
    throw std::runtime_error("not a lesionbench scores file (no schema_version or cases)");
  const std::string version = doc["schema_version"].is_string() ? doc["schema_version"].get<std::string>() : "";
  if (version.empty() || version.substr(0, version.find('.')) != "1")
    throw std::runtime_error("scores schema_version '" + version + "' is not supported by this version (1.x)");
  try {
    ScoreSet set;
    const json& st = doc.at("settings");
    set.settings.gt_dir = get_or<std::string>(st, "gt_dir", "");
    set.settings.pred_dir = get_or<std::string>(st, "pred_dir", "");
    set.settings.case_settings.tolerance_mm = st.at("tolerance_mm").get<double>();
    set.settings.case_settings.nsd_gate_dsc = get_or<double>(st, "nsd_gate_dsc", 0.2);
    set.settings.geometry = get_or<std::string>(st, "geometry", "warn") == "strict" ? GeometryMode::strict : GeometryMode::warn;
    set.settings.missing = get_or<std::string>(st, "missing", "zero") == "skip" ? MissingMode::skip : MissingMode::zero;
    set.settings.threads = get_or<int>(st, "threads", 0);
    set.settings.lesion_wise = get_or<bool>(st, "lesion_wise", false);
    set.settings.lesion.connectivity = get_or<int>(st, "connectivity", 26);
    if (const std::string why = parse_matching(get_or<std::string>(st, "matching", "overlap"), set.settings.lesion.matching);
        !why.empty())
      throw std::runtime_error("settings.matching: " + why);
    if (st.contains("volume_buckets_ml")) set.settings.lesion.bucket_edges_ml = st["volume_buckets_ml"].get<std::vector<double>>();
    // Files from before --metrics hold dsc and nsd only: the default choice.
    if (st.contains("metrics") && st["metrics"].is_array()) {
      std::string list;
      for (const auto& m : st["metrics"]) list += (list.empty() ? "" : ",") + m.get<std::string>();
      const std::string why = parse_metric_list(list, set.settings.metrics);
      if (!why.empty()) throw std::runtime_error("settings.metrics: " + why);
    }
    set.settings.metrics.nsd_at_mm = get_or<std::vector<double>>(st, "nsd_at_mm", {});
    for (const auto& c : doc.at("cases")) {
      CaseRecord r;
      r.name = c.at("case").get<std::string>();
      const auto status = parse_status(c.at("status").get<std::string>());
      if (!status) throw std::runtime_error("case " + r.name + " has an unknown status '" + c["status"].get<std::string>() + "'");
      r.status = *status;
      r.dsc = c.at("dsc").get<double>();
      r.nsd = c.at("nsd").get<double>();
      r.nsd_ungated = get_or<double>(c, "nsd_ungated", r.nsd);
      r.rule = get_or<std::string>(c, "rule", "");
      r.message = get_or<std::string>(c, "message", "");
      r.warnings = get_or<std::vector<std::string>>(c, "warnings", {});
      r.gt_voxels = get_or<int64_t>(c, "gt_voxels", -1);
      r.pred_voxels = get_or<int64_t>(c, "pred_voxels", -1);
      r.overlap_voxels = get_or<int64_t>(c, "overlap_voxels", -1);
      r.gt_volume_ml = get_or<double>(c, "gt_volume_ml", -1);
      r.pred_volume_ml = get_or<double>(c, "pred_volume_ml", -1);
      r.dims = get_or<std::array<int64_t, 3>>(c, "dims", {});
      r.spacing_mm = get_or<std::array<double, 3>>(c, "spacing_mm", {});
      if (c.contains("surface") && !c["surface"].is_null()) {
        const json& s = c["surface"];
        r.surface = SurfaceDice{s.at("gt_area_mm2").get<double>(), s.at("pred_area_mm2").get<double>(),
                                s.at("gt_within_mm2").get<double>(), s.at("pred_within_mm2").get<double>()};
      }
      if (c.contains("lesion_wise") && !c["lesion_wise"].is_null()) r.lesion_wise = lesion_wise_from_json(c["lesion_wise"]);
      r.extra = extra_from_json(c);
      r.seconds = get_or<double>(c, "seconds", 0.0);
      set.cases.push_back(std::move(r));
    }
    set.warnings = get_or<std::vector<std::string>>(doc, "warnings", {});
    set.wall_s = get_or<double>(doc, "wall_s", 0.0);
    return set;
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("malformed scores file: ") + e.what());
  }
}

ScoreSet read_scores_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  json doc;
  try {
    in >> doc;
  } catch (const json::exception& e) {
    throw std::runtime_error(path + " is not valid JSON: " + e.what());
  }
  try {
    return scores_from_json(doc);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

void write_json_file(const std::string& path, const json& doc) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << doc.dump(1) << "\n";
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot rename " + tmp + " to " + path);
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string python_float(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  const double ax = std::fabs(x);
  const bool fixed = ax == 0 || (ax >= 1e-4 && ax < 1e16);
  auto res = std::to_chars(buf, buf + sizeof buf, x, fixed ? std::chars_format::fixed : std::chars_format::scientific);
  std::string s(buf, res.ptr);
  if (fixed) {
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  // Python writes 1e-05, not 1e-5.
  const auto e = s.find('e');
  std::string mant = s.substr(0, e), exp = s.substr(e + 1);
  const char sign = exp[0] == '-' ? '-' : '+';
  if (exp[0] == '-' || exp[0] == '+') exp = exp.substr(1);
  if (exp.size() < 2) exp = "0" + exp;
  return mant + "e" + sign + exp;
}

void write_official_csv(std::ostream& out, const std::vector<CaseRecord>& cases) {
  out << "Name,Lesion_DSC,Lesion_NSD\n";
  for (const auto& c : cases) out << c.name << "," << python_float(round4(c.dsc)) << "," << python_float(round4(c.nsd)) << "\n";
}

void write_official_csv_file(const std::string& path, const std::vector<CaseRecord>& cases) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    write_official_csv(out, cases);
    out.flush();
    if (!out) {
      const std::string why = std::strerror(errno);
      out.close();
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp + ": " + why);
    }
    out.close();
    if (out.fail()) {
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + why);
  }
}

}  // namespace lb
