#include "metrics/score_set.h"

#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>

#include "metrics/mask_io.h"

namespace fs = std::filesystem;

namespace lb {

const char* status_name(CaseStatus s) {
  switch (s) {
    case CaseStatus::ok: return "ok";
    case CaseStatus::missing: return "missing";
    case CaseStatus::shape_mismatch: return "shape_mismatch";
    case CaseStatus::geometry_mismatch: return "geometry_mismatch";
    case CaseStatus::invalid_labels: return "invalid_labels";
    case CaseStatus::read_error: return "read_error";
  }
  return "read_error";
}

std::optional<CaseStatus> parse_status(const std::string& name) {
  for (CaseStatus s : kAllStatuses)
    if (name == status_name(s)) return s;
  return std::nullopt;
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Label volumes in a folder by case: "X.nii.gz", "X.nii", "X.mha", ... all belong to case X. More than
// one file for a case is kept as a list, so that the case can name them all.
const std::vector<std::string> kVolumeExtensions = {".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr"};

std::map<std::string, std::vector<std::string>> volume_files(const std::string& dir) {
  std::map<std::string, std::vector<std::string>> by_case;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(".")) continue;
    for (const auto& ext : kVolumeExtensions)
      if (ends_with(name, ext) && name.size() > ext.size()) {
        by_case[name.substr(0, name.size() - ext.size())].push_back(name);
        break;
      }
  }
  for (auto& [stem, files] : by_case) std::sort(files.begin(), files.end());
  return by_case;
}

std::string join_names(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? (i + 1 == v.size() ? " and " : ", ") : "") + v[i];
  return s;
}

std::string shape_text(const std::array<int64_t, 3>& d) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]);
}

}  // namespace

std::string geometry_difference(const nifti::Geometry& a, const nifti::Geometry& b, const GeometryTolerance& tol) {
  const std::vector<std::string> what = nifti::grid_differences(a, b, tol);
  if (what.empty()) return {};
  std::string s = "geometry differs (";
  for (size_t i = 0; i < what.size(); ++i) s += (i ? ", " : "") + what[i];
  s += "): ground truth " + a.describe() + "; prediction " + b.describe();
  return s;
}

void mark_unscored(CaseRecord& r, const ScoreSettings& settings) {
  r.dsc = r.nsd = r.nsd_ungated = 0.0;
  if (settings.lesion_wise)
    r.warnings.push_back(std::string("no lesion-wise scores: case status is ") + status_name(r.status));
  if (settings.metrics.any()) {
    r.extra = extra_scores_absent(settings.metrics, std::string("case status is ") + status_name(r.status));
    if (settings.metrics.distances()) r.warnings.push_back("no surface distances: " + r.extra.null_reason);
  }
}

void score_masks(CaseRecord& rec, const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims,
                 const std::array<double, 3>& spacing_mm, const ScoreSettings& settings) {
  const CaseScores s = score_case(gt, pred, dims, spacing_mm, settings.case_settings);
  rec.status = CaseStatus::ok;
  rec.dsc = s.dsc;
  rec.nsd = s.nsd;
  rec.nsd_ungated = s.nsd_ungated;
  rec.rule = rule_name(s.rule);
  rec.gt_voxels = s.overlap.gt_voxels;
  rec.pred_voxels = s.overlap.pred_voxels;
  rec.overlap_voxels = s.overlap.both_voxels;
  const double voxel_ml = spacing_mm[0] * spacing_mm[1] * spacing_mm[2] / 1000.0;
  rec.gt_volume_ml = static_cast<double>(rec.gt_voxels) * voxel_ml;
  rec.pred_volume_ml = static_cast<double>(rec.pred_voxels) * voxel_ml;
  if (s.rule == Rule::computed || s.rule == Rule::below_dsc_gate) rec.surface = s.surface;
  if (settings.metrics.any()) {
    // The distance transform runs over the box of G ∪ P, as surface-distance crops to it.
    const Box& box = s.overlap.union_box;
    try {
      rec.extra = extra_scores(MaskView::of(gt, dims).crop(box), MaskView::of(pred, dims).crop(box), s.overlap.gt_voxels,
                               s.overlap.pred_voxels, s.overlap.both_voxels, spacing_mm, settings.metrics);
    } catch (const std::invalid_argument& e) {
      rec.extra = extra_scores_absent(settings.metrics, e.what());
    }
    if (!rec.extra.null_reason.empty()) rec.warnings.push_back("no surface distances: " + rec.extra.null_reason);
  }
  if (settings.lesion_wise)
    rec.lesion_wise = score_lesions(gt, pred, dims, spacing_mm, settings.case_settings.tolerance_mm, settings.lesion,
                                    settings.metrics);
  if (rec.lesion_wise && settings.metrics.any()) {
    size_t skipped = 0;
    std::string why;
    for (const auto& l : rec.lesion_wise->lesions)
      if (l.extra.null_reason.starts_with("per-lesion")) {
        ++skipped;
        why = l.extra.null_reason;
      }
    if (skipped) rec.warnings.push_back(std::to_string(skipped) + " lesion(s): " + why);
  }
}

CaseRecord score_files(const std::string& name, const std::string& gt_path, const std::string& pred_path,
                       const ScoreSettings& settings) {
  const auto t0 = std::chrono::steady_clock::now();
  CaseRecord rec;
  rec.name = name;
  auto finish = [&](CaseRecord& r) -> CaseRecord& {
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.status != CaseStatus::ok) mark_unscored(r, settings);
    return r;
  };
  if (!fs::exists(pred_path)) {
    rec.status = CaseStatus::missing;
    rec.message = "no prediction: " + pred_path + " does not exist (scored 0, 0)";
    return finish(rec);
  }
  MaskLoad gt, pred;
  // The prediction's shape is checked against the ground truth's from the headers alone, so a prediction
  // on another grid never has its voxels allocated or inflated.
  std::optional<std::array<int64_t, 3>> pred_other_shape;
  auto load_pred = [&] {
    try {
      const nifti::Header gh = nifti::read_header(gt_path), ph = nifti::read_header(pred_path);
      if (gh.is_volume3d() && ph.is_volume3d() && gh.dims3() != ph.dims3()) {
        pred_other_shape = ph.dims3();
        return;
      }
    } catch (const std::exception&) {
      // load_mask reports the problem with its reason
    }
    pred = load_mask(pred_path);
  };
  // Both files at once: inflate is single-threaded, and the other core is otherwise idle on small sets.
  tbb::parallel_invoke([&] { gt = load_mask(gt_path); }, load_pred);
  for (auto& w : gt.warnings) rec.warnings.push_back("ground truth: " + w);
  for (auto& w : pred.warnings) rec.warnings.push_back("prediction: " + w);
  if (gt.status == MaskStatus::ok || gt.status == MaskStatus::invalid_labels) {
    rec.dims = gt.mask.dims;
    rec.spacing_mm = gt.mask.spacing_mm;
  }
  if (gt.status == MaskStatus::read_error) {
    rec.status = CaseStatus::read_error;
    rec.message = "ground truth " + gt_path + ": " + gt.message;
    return finish(rec);
  }
  if (gt.status == MaskStatus::invalid_labels) {
    rec.status = CaseStatus::invalid_labels;
    rec.message = "ground truth " + gt_path + " is invalid: " + gt.message;
    return finish(rec);
  }
  if (pred.status == MaskStatus::read_error) {
    rec.status = CaseStatus::read_error;
    rec.message = "prediction " + pred_path + ": " + pred.message;
    return finish(rec);
  }
  if (pred.status == MaskStatus::invalid_labels) {
    rec.status = CaseStatus::invalid_labels;
    rec.message = "prediction " + pred_path + ": " + pred.message + " (scored 0, 0)";
    return finish(rec);
  }
  if (pred_other_shape || gt.mask.dims != pred.mask.dims) {
    rec.status = CaseStatus::shape_mismatch;
    rec.message = "prediction shape " + shape_text(pred_other_shape ? *pred_other_shape : pred.mask.dims) +
                  " differs from ground truth shape " + shape_text(gt.mask.dims) + " (scored 0, 0)";
    return finish(rec);
  }
  const std::string geo = geometry_difference(gt.mask.geometry, pred.mask.geometry, settings.geometry_tolerance);
  if (!geo.empty()) {
    if (settings.geometry == GeometryMode::strict) {
      rec.status = CaseStatus::geometry_mismatch;
      rec.message = "prediction " + geo + " (scored 0, 0 under --geometry strict)";
      return finish(rec);
    }
    rec.warnings.push_back("prediction " + geo + "; scored on the ground truth's grid as the official scorer does");
  }
  const Mask& g = gt.mask;
  score_masks(rec, g.voxels.data(), pred.mask.voxels.data(), g.dims, g.spacing_mm, settings);
  return finish(rec);
}

ScoreSet score_folders(const ScoreSettings& settings, const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto* dir : {&settings.gt_dir, &settings.pred_dir}) {
    std::error_code ec;
    if (!fs::is_directory(*dir, ec))
      throw UnusableInput((dir == &settings.gt_dir ? "ground-truth folder " : "prediction folder ") + *dir +
                          " does not exist or is not a folder");
  }
  const double tol = settings.case_settings.tolerance_mm;
  if (!std::isfinite(tol) || tol < 0)
    throw UnusableInput("the NSD tolerance must be a finite number >= 0 mm, not " + std::to_string(tol));
  ScoreSet set;
  set.settings = settings;
  // Cases are named by the ground truth's files; a prediction may be in another format. The record keeps
  // the official CSV's Name, <Case>.nii.gz, whatever the files' formats.
  const auto gt_files = volume_files(settings.gt_dir);
  if (gt_files.empty())
    throw UnusableInput("no *.nii.gz files (nor .nii, .mha, .mhd, .nrrd, .nhdr) in the ground-truth folder " +
                        settings.gt_dir);
  const auto pred_files = volume_files(settings.pred_dir);
  for (const auto& [stem, files] : pred_files)
    if (!gt_files.count(stem))
      for (const auto& p : files)
        set.warnings.push_back("prediction " + p + " has no ground truth in " + settings.gt_dir + "; not scored");

  std::vector<std::string> names;              // <Case>.nii.gz
  std::vector<std::string> gt_paths, pred_paths;
  std::vector<std::string> duplicate;          // non-empty: why the case cannot be scored
  for (const auto& [stem, files] : gt_files) {
    const auto pf = pred_files.find(stem);
    if (settings.missing == MissingMode::skip && pf == pred_files.end()) {
      set.warnings.push_back("prediction " + stem + ".nii.gz is missing; skipped (--missing skip, as the official scorer does)");
      continue;
    }
    names.push_back(stem + ".nii.gz");
    gt_paths.push_back((fs::path(settings.gt_dir) / files[0]).string());
    pred_paths.push_back((fs::path(settings.pred_dir) / (pf == pred_files.end() ? stem + ".nii.gz" : pf->second[0])).string());
    std::string why;
    if (files.size() > 1) why = "two ground truths for case " + stem + ": " + join_names(files) + " in " + settings.gt_dir;
    else if (pf != pred_files.end() && pf->second.size() > 1)
      why = "two predictions for case " + stem + ": " + join_names(pf->second) + "; keep one (scored 0, 0)";
    duplicate.push_back(why);
  }
  set.cases.resize(names.size());
  // Largest files first keeps both cores busy to the end.
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<uintmax_t> bytes(names.size(), 0);
  for (size_t i = 0; i < names.size(); ++i) {
    std::error_code ec;
    bytes[i] = fs::file_size(gt_paths[i], ec);
    const auto pb = fs::file_size(pred_paths[i], ec);
    if (!ec) bytes[i] += pb;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return bytes[a] > bytes[b]; });

  std::mutex lock;
  size_t done = 0;
  const int threads = settings.threads > 0 ? settings.threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, order.size(), [&](size_t oi) {
      const size_t i = order[oi];
      CaseRecord rec;
      // Isolation: a thread waiting inside one case must not pick up another whole case,
      // which would hold more volumes in memory than there are threads.
      tbb::this_task_arena::isolate([&] {
        try {
          if (!duplicate[i].empty()) {
            rec = CaseRecord{};
            rec.name = names[i];
            rec.status = CaseStatus::read_error;
            rec.message = duplicate[i];
          } else {
            rec = score_files(names[i], gt_paths[i], pred_paths[i], settings);
          }
        } catch (const std::exception& e) {
          rec = CaseRecord{};
          rec.name = names[i];
          rec.status = CaseStatus::read_error;
          rec.message = std::string("could not be scored: ") + e.what();
        }
      });
      std::lock_guard<std::mutex> g(lock);
      set.cases[i] = std::move(rec);
      ++done;
      if (progress) progress(set.cases[i], done, names.size());
    });
  });
  set.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return set;
}

namespace {
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

Summary summarize(const std::vector<CaseRecord>& cases) {
  Summary s;
  s.n_cases = cases.size();
  if (cases.empty()) return s;
  std::vector<double> dsc, nsd;
  double sum_dsc = 0, sum_nsd = 0, sum_dsc_r = 0, sum_nsd_r = 0, sum_ung = 0;
  for (const auto& c : cases) {
    dsc.push_back(c.dsc);
    nsd.push_back(c.nsd);
    sum_dsc += c.dsc;
    sum_nsd += c.nsd;
    sum_dsc_r += round4(c.dsc);
    sum_nsd_r += round4(c.nsd);
    sum_ung += c.nsd_ungated;
    for (size_t k = 0; k < kAllStatuses.size(); ++k)
      if (kAllStatuses[k] == c.status) ++s.status_counts[k];
  }
  const double n = static_cast<double>(cases.size());
  s.mean_dsc = sum_dsc / n;
  s.mean_nsd = sum_nsd / n;
  s.mean_dsc_rounded = sum_dsc_r / n;
  s.mean_nsd_rounded = sum_nsd_r / n;
  s.mean_nsd_ungated = sum_ung / n;
  s.median_dsc = median(dsc);
  s.median_nsd = median(nsd);
  return s;
}

namespace {
std::string ml_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
}  // namespace

LesionSummary summarize_lesions(const std::vector<CaseRecord>& cases, const std::vector<double>& edges) {
  LesionSummary s;
  std::vector<double> lo{0.0}, hi;
  for (double e : edges) {
    hi.push_back(e);
    lo.push_back(e);
  }
  hi.push_back(std::numeric_limits<double>::infinity());
  for (size_t b = 0; b < lo.size(); ++b) {
    LesionBucket bucket;
    bucket.min_ml = lo[b];
    bucket.max_ml = hi[b];
    if (b == 0) bucket.label = "<" + ml_text(hi[b]) + " ml";
    else if (b + 1 == lo.size()) bucket.label = ">=" + ml_text(lo[b]) + " ml";
    else bucket.label = ml_text(lo[b]) + "-" + ml_text(hi[b]) + " ml";
    s.buckets.push_back(bucket);
  }
  double sum_dsc = 0, sum_nsd = 0, sum_tp_iou = 0;
  bool with_pq = false;
  for (const auto& c : cases) {
    if (!c.lesion_wise) continue;
    const LesionWise& lw = *c.lesion_wise;
    ++s.n_cases;
    sum_tp_iou += lw.sum_tp_iou;
    s.fp_volume_ml += lw.fp_volume_ml;
    s.fn_volume_ml += lw.fn_volume_ml;
    with_pq = with_pq || lw.pq.has_value();
    sum_dsc += lw.dsc;
    sum_nsd += lw.nsd;
    s.n_gt += lw.n_gt;
    s.n_pred += lw.n_pred;
    s.tp += lw.tp;
    s.fn += lw.fn;
    s.fp += lw.fp;
    s.linked_pred += lw.linked_pred;
    if (lw.n_gt == 0) {
      ++s.healthy_cases;
      if (lw.fp > 0) ++s.healthy_cases_with_fp;
      s.fp_on_healthy += lw.fp;
    }
    for (const auto& l : lw.lesions)
      for (auto& b : s.buckets)
        if (l.volume_ml >= b.min_ml && l.volume_ml < b.max_ml) {
          ++b.n_lesions;
          if (l.detected) ++b.detected;
          break;
        }
  }
  for (auto& b : s.buckets)
    if (b.n_lesions) b.sensitivity = static_cast<double>(b.detected) / b.n_lesions;
  if (s.n_cases) {
    s.mean_dsc = sum_dsc / static_cast<double>(s.n_cases);
    s.mean_nsd = sum_nsd / static_cast<double>(s.n_cases);
  }
  if (s.n_gt) s.sensitivity = static_cast<double>(s.tp) / s.n_gt;
  if (s.n_pred) s.precision = static_cast<double>(s.linked_pred) / s.n_pred;
  if (s.tp + s.fn + s.fp) s.f1 = 2.0 * s.tp / (2.0 * s.tp + s.fn + s.fp);
  if (s.n_gt + s.n_pred > 0) {
    s.rq = s.tp == 0 ? 0.0 : s.tp / (s.tp + 0.5 * s.fp + 0.5 * s.fn);
    s.sq = s.tp == 0 ? 0.0 : sum_tp_iou / s.tp;
    if (with_pq) s.pq = *s.sq * *s.rq;
  }
  return s;
}

std::vector<MetricSummary> summarize_extra(const std::vector<CaseRecord>& cases, const MetricChoice& choice) {
  struct Column {
    std::string name;
    bool distance;
    std::function<std::optional<double>(const ExtraScores&)> get;
  };
  std::vector<Column> cols;
  if (choice.iou) cols.push_back({"iou", false, [](const ExtraScores& e) { return e.iou; }});
  if (choice.hd) cols.push_back({"hd_mm", true, [](const ExtraScores& e) { return e.hd_mm; }});
  if (choice.hd95) cols.push_back({"hd95_mm", true, [](const ExtraScores& e) { return e.hd95_mm; }});
  if (choice.masd) cols.push_back({"masd_mm", true, [](const ExtraScores& e) { return e.masd_mm; }});
  if (choice.assd) cols.push_back({"assd_mm", true, [](const ExtraScores& e) { return e.assd_mm; }});
  for (size_t t = 0; t < choice.nsd_at_mm.size(); ++t) {
    std::ostringstream name;
    name << "nsd_at_" << choice.nsd_at_mm[t] << "mm";
    cols.push_back({name.str(), false, [t](const ExtraScores& e) {
                      return t < e.nsd_at.size() ? std::optional<double>(e.nsd_at[t].second) : std::nullopt;
                    }});
  }
  std::vector<MetricSummary> out;
  for (const auto& col : cols) {
    MetricSummary m;
    m.name = col.name;
    std::vector<double> values;
    double worst_sum = 0;
    size_t worst_n = 0;
    for (const auto& c : cases) {
      const auto v = col.get(c.extra);
      if (v) {
        values.push_back(*v);
        worst_sum += *v;
        ++worst_n;
        continue;
      }
      ++m.n_null;
      if (c.dims[0] > 0) {
        double d2 = 0;
        for (int a = 0; a < 3; ++a) d2 += std::pow(static_cast<double>(c.dims[a]) * c.spacing_mm[a], 2);
        worst_sum += std::sqrt(d2);
        ++worst_n;
      }
    }
    m.n = values.size();
    if (!values.empty()) {
      double sum = 0;
      for (double v : values) sum += v;
      m.mean = sum / static_cast<double>(values.size());
      m.median = median(values);
    }
    if (col.distance && worst_n > 0) m.mean_worst = worst_sum / static_cast<double>(worst_n);
    out.push_back(m);
  }
  return out;
}

}  // namespace lb
