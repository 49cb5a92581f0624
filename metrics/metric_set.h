#pragma once
// Metrics beyond the official DSC and NSD (`score --metrics`, `--nsd-at-mm`): which were asked for, and their
// values for one pair of masks (a case, or a lesion against its prediction) with the empty-mask rules.
//
//  - iou = |G∩P| / |G∪P|.
//  - hd_mm, hd95_mm, masd_mm, assd_mm: surface distances (distances.h) on the border points and surfel areas of
//    NSD; hd95 = surface-distance's compute_robust_hausdorff(d, 95), hd its 100th percentile, masd the mean of
//    the two directed averages of compute_average_surface_distance, assd the area-weighted mean over both
//    surfaces together.
//  - nsd_at_mm: NSD at each extra tolerance, never gated by DSC (unlike the official `nsd`).
// Empty masks: both empty -> iou 1, distances 0, NSD 1; one empty -> iou 0, NSD 0, distances absent (null in
// JSON) with the reason in `null_reason`.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/surface_dice.h"

namespace lb {

struct MetricChoice {
  bool hd = false, hd95 = false, masd = false, assd = false, iou = false;
  std::vector<double> nsd_at_mm;  // extra tolerances, in the order given
  bool distances() const { return hd || hd95 || masd || assd; }
  bool any() const { return distances() || iou || !nsd_at_mm.empty(); }
  // The --metrics list as given back: "dsc,nsd" then the extra ones in a fixed order.
  std::vector<std::string> names() const;
  bool operator==(const MetricChoice&) const = default;
};
inline constexpr const char* kMetricNames = "dsc, nsd, iou, hd, hd95, masd, assd";

// "dsc,nsd,hd95,iou" -> the choice; an empty string on success, else what is wrong.
std::string parse_metric_list(const std::string& text, MetricChoice& out);
// "1,5" -> tolerances in mm (finite, >= 0); an empty string on success, else what is wrong.
std::string parse_tolerance_list(const std::string& text, std::vector<double>& out);

struct ExtraScores {
  std::optional<double> iou, hd_mm, hd95_mm, masd_mm, assd_mm;
  std::vector<std::pair<double, double>> nsd_at;  // (tolerance_mm, nsd)
  std::string null_reason;                        // why the distances are absent; empty when they are not
};

// The chosen metrics for two masks of the same dims inside `box` (the region that holds both; the distance
// transform runs over it). Voxel counts are those of the two masks and their overlap inside the box.
ExtraScores extra_scores(const MaskView& gt, const MaskView& pred, int64_t gt_voxels, int64_t pred_voxels,
                         int64_t both_voxels, const std::array<double, 3>& spacing_mm, const MetricChoice& choice);
// The values when nothing could be compared (status not ok, a missed lesion): iou 0, NSD 0, distances absent.
ExtraScores extra_scores_absent(const MetricChoice& choice, const std::string& reason);

}  // namespace lb
