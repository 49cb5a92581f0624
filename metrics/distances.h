#pragma once
// Exact surface distances between two masks, on the same border points and surfel areas as NSD
// (surface_dice.h), for the Hausdorff distance, its robust percentile and the average surface distances.
//
// Definitions follow google-deepmind/surface-distance (compute_surface_distances and the functions on its
// result): for each border point of one mask, the Euclidean distance (mm) to the nearest border point of the
// other mask, evaluated as sqrt(((di*s_i)^2 + (dj*s_j)^2) + (dk*s_k)^2) like scipy's EDT; the points sorted by
// (distance, area); percentiles by the cumulative area; sums as numpy sums them (pairwise), so the values are
// those of surface-distance to the last bit on the masks tested (tests/metrics/reference/).
//
// Unlike NSD, a distance is not bounded by a tolerance, so this runs a distance transform over the whole
// region (the point grid of the crop, nothing outside it): separable, exact lower envelopes of parabolas
// (Felzenszwalb & Huttenlocher) along i, j, then k, carrying the integer offsets to the nearest point so the
// final distance is computed with the exact expression above. Slices run in parallel on TBB; the result of
// the first two passes is kept only for the (i, j) columns that hold a border point of the mask being measured,
// in ranges of i small enough that it never takes more than 64 MiB (8 Mi entries), whatever the prediction.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "metrics/surface_dice.h"

namespace lb {

struct SurfelDistance {
  double distance_mm;  // to the nearest border point of the other mask; +inf when it has none
  double area_mm2;     // this border point's surfel area
  uint8_t code;        // its neighbour code (surface_table.h)
};

struct SurfaceDistances {
  // Sorted by (distance, area), as surface-distance sorts them. Empty when the mask has no border point.
  std::vector<SurfelDistance> gt_to_pred, pred_to_gt;
};

// Both views must have the same dims. Throws std::invalid_argument for a spacing that is not finite and > 0,
// or a region whose point slice exceeds 2^31 points (a volume no CT has; the caller reports it).
// plane_entries: how many pass-two entries to hold at once (0: the default 8 Mi); small values are for tests.
SurfaceDistances surface_distances(const MaskView& gt, const MaskView& pred, const std::array<double, 3>& spacing_mm,
                                   size_t plane_entries = 0);

// surface-distance's compute_robust_hausdorff(d, percent): per direction the distance at which the cumulative
// area reaches percent/100 (numpy's searchsorted, left), the larger of the two; +inf when a side is empty.
double robust_hausdorff_mm(const SurfaceDistances& d, double percent);
// compute_average_surface_distance: the area-weighted mean distance of each direction (gt->pred, pred->gt);
// NaN for a side without border points.
std::array<double, 2> average_surface_distance_mm(const SurfaceDistances& d);
// The area-weighted mean over both surfaces together (ASSD).
double symmetric_surface_distance_mm(const SurfaceDistances& d);
// NSD at a tolerance from the distances: per-code counts of the points within it, summed as surface_dice()
// sums them, so at the case's tolerance it equals count_surfels' NSD bit for bit.
double nsd_from_distances(const SurfaceDistances& d, const std::array<double, 3>& spacing_mm, double tolerance_mm);

// numpy's float64 sum (pairwise summation in blocks of 8 under 128 elements), for sums that match numpy's bits.
double numpy_sum(const double* values, size_t n);

}  // namespace lb
