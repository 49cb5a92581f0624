// Parsing --metrics / --nsd-at-mm and the extra metrics of one pair of masks (see metric_set.h).
#include "metrics/metric_set.h"

#include <cmath>
#include <sstream>

#include "metrics/distances.h"

namespace lb {

std::vector<std::string> MetricChoice::names() const {
  std::vector<std::string> n = {"dsc", "nsd"};
  if (iou) n.push_back("iou");
  if (hd) n.push_back("hd");
  if (hd95) n.push_back("hd95");
  if (masd) n.push_back("masd");
  if (assd) n.push_back("assd");
  return n;
}

std::string parse_metric_list(const std::string& text, MetricChoice& out) {
  MetricChoice c;
  c.nsd_at_mm = out.nsd_at_mm;
  std::stringstream s(text);
  std::string item;
  bool any = false;
  while (std::getline(s, item, ',')) {
    any = true;
    if (item == "dsc" || item == "nsd") continue;  // always computed: the official columns
    if (item == "iou") c.iou = true;
    else if (item == "hd") c.hd = true;
    else if (item == "hd95") c.hd95 = true;
    else if (item == "masd") c.masd = true;
    else if (item == "assd") c.assd = true;
    else return "unknown metric '" + item + "' (known: " + kMetricNames + ")";
  }
  if (!any) return std::string("no metric named (known: ") + kMetricNames + ")";
  out = c;
  return "";
}

std::string parse_tolerance_list(const std::string& text, std::vector<double>& out) {
  std::vector<double> v;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    try {
      size_t used = 0;
      const double t = std::stod(item, &used);
      if (used != item.size() || !std::isfinite(t) || t < 0) throw std::invalid_argument("");
      v.push_back(t);
    } catch (const std::exception&) {
      return "'" + item + "' is not a finite tolerance >= 0 in mm";
    }
  }
  if (v.empty()) return "no tolerance given";
  out = v;
  return "";
}

ExtraScores extra_scores_absent(const MetricChoice& choice, const std::string& reason) {
  ExtraScores e;
  if (choice.iou) e.iou = 0.0;
  for (double t : choice.nsd_at_mm) e.nsd_at.push_back({t, 0.0});
  if (choice.distances()) e.null_reason = reason;
  return e;
}

ExtraScores extra_scores(const MaskView& gt, const MaskView& pred, int64_t gt_voxels, int64_t pred_voxels,
                         int64_t both_voxels, const std::array<double, 3>& spacing_mm, const MetricChoice& choice) {
  if (gt_voxels == 0 && pred_voxels == 0) {
    ExtraScores e;
    if (choice.iou) e.iou = 1.0;
    for (double t : choice.nsd_at_mm) e.nsd_at.push_back({t, 1.0});
    if (choice.hd) e.hd_mm = 0.0;
    if (choice.hd95) e.hd95_mm = 0.0;
    if (choice.masd) e.masd_mm = 0.0;
    if (choice.assd) e.assd_mm = 0.0;
    return e;
  }
  if (gt_voxels == 0 || pred_voxels == 0)
    return extra_scores_absent(choice, gt_voxels == 0 ? "ground truth is empty: no surface distance"
                                                      : "prediction is empty: no surface distance");
  ExtraScores e;
  if (choice.iou)
    e.iou = static_cast<double>(both_voxels) / static_cast<double>(gt_voxels + pred_voxels - both_voxels);
  if (choice.distances()) {
    const SurfaceDistances d = surface_distances(gt, pred, spacing_mm);
    if (choice.hd) e.hd_mm = robust_hausdorff_mm(d, 100);
    if (choice.hd95) e.hd95_mm = robust_hausdorff_mm(d, 95);
    if (choice.masd) {
      const auto a = average_surface_distance_mm(d);
      e.masd_mm = (a[0] + a[1]) / 2;
    }
    if (choice.assd) e.assd_mm = symmetric_surface_distance_mm(d);
    // The distances are there: NSD at any tolerance is a count over them (identical to count_surfels').
    for (double t : choice.nsd_at_mm) e.nsd_at.push_back({t, nsd_from_distances(d, spacing_mm, t)});
  } else {
    for (double t : choice.nsd_at_mm)
      e.nsd_at.push_back({t, surface_dice(count_surfels(gt, pred, spacing_mm, t), spacing_mm).nsd()});
  }
  return e;
}

}  // namespace lb
