#pragma once
// Normalised surface Dice (NSD) with the surfel method: exact, anisotropic, and bounded by the tolerance.
//
// Border points are corner points of the voxel grid whose 2x2x2 neighbourhood code is neither 0 nor 255
// (see surface_table.h); each carries the area of its code's surfels. A border point of one mask is
// "within tolerance" when some border point of the other mask lies at a Euclidean distance (mm) <= the
// tolerance, the distance computed as the official scorer computes it:
//   sqrt( ((di*s_i)^2 + (dj*s_j)^2) + (dk*s_k)^2 ).
// Because only "<= tolerance" matters, no full distance transform is needed:
//  1. per row (axis i), the distance in voxels to the nearest border point of the other mask (two scans);
//  2. a point is within tolerance when, for some row offset (dj, dk) inside the tolerance ellipsoid,
//     that row distance is <= the largest di that still passes the exact test above for (dj, dk).
// The per-(dj, dk) limits are worked out once with the same floating-point expression, so the answer is
// identical to taking the minimum over all border points. Work runs in slabs along k on TBB, with a halo
// of as many slices as the tolerance reaches; memory is a few slices per thread, whatever the volume.
// Counts are kept per neighbour code, so the areas are summed exactly once per code at the end.
#include <array>
#include <cstdint>
#include <vector>

namespace lb {

// A 3-D box of voxels [lo, hi) in some volume.
struct Box {
  std::array<int64_t, 3> lo{}, hi{};
  bool empty() const { return hi[0] <= lo[0] || hi[1] <= lo[1] || hi[2] <= lo[2]; }
  int64_t size(int axis) const { return hi[axis] - lo[axis]; }
  int64_t voxels() const { return empty() ? 0 : size(0) * size(1) * size(2); }
};

// A region of a 0/1 byte volume; everything outside the region counts as 0.
struct MaskView {
  const uint8_t* data = nullptr;  // voxel (0,0,0) of the region
  std::array<int64_t, 3> dims{};  // region size
  int64_t stride_j = 0;           // elements between rows of the underlying volume
  int64_t stride_k = 0;           // elements between slices of the underlying volume

  static MaskView of(const uint8_t* volume, const std::array<int64_t, 3>& volume_dims);
  MaskView crop(const Box& box) const;
  uint8_t at(int64_t i, int64_t j, int64_t k) const { return data[i + j * stride_j + k * stride_k]; }
};

// Which voxel rows (j, k) of a view hold any voxel, one byte per row at j + dims[1] * k (TBB-parallel). Lets the
// surface passes of NSD and the distances skip empty space, most of a crop that spans the volume because of
// scattered false positives.
std::vector<uint8_t> occupied_rows(const MaskView& m);

// Border points per neighbour code, and how many of them are within tolerance of the other mask's border.
struct SurfelCounts {
  std::array<uint64_t, 256> gt{}, gt_within{}, pred{}, pred_within{};
  SurfelCounts& operator+=(const SurfelCounts& o);
  uint64_t gt_points() const;
  uint64_t pred_points() const;
};

struct ToleranceStencil;

// Both views must have the same dims. Runs in parallel in the current TBB arena.
// Throws std::invalid_argument when the tolerance is NaN, infinite or negative, or a spacing is not finite and > 0.
SurfelCounts count_surfels(const MaskView& gt, const MaskView& pred, const std::array<double, 3>& spacing_mm,
                           double tolerance_mm);
// The same with a stencil built once (for every lesion of a case): it must come from the same spacing and
// tolerance and a bound at least as large as these views.
SurfelCounts count_surfels(const MaskView& gt, const MaskView& pred, const ToleranceStencil& stencil);
// Border points per neighbour code of one mask (SurfelCounts::gt; nothing is compared).
SurfelCounts border_counts(const MaskView& mask);

// Throws std::invalid_argument unless the tolerance is finite and >= 0 and every spacing finite and > 0.
void check_nsd_inputs(const std::array<double, 3>& spacing_mm, double tolerance_mm);

struct SurfaceDice {
  double gt_area_mm2 = 0, pred_area_mm2 = 0;
  double gt_within_mm2 = 0, pred_within_mm2 = 0;
  // (gt_within + pred_within) / (gt_area + pred_area); 0 when both surfaces are empty.
  double nsd() const;
};
SurfaceDice surface_dice(const SurfelCounts& counts, const std::array<double, 3>& spacing_mm);

// For each row offset (dj, dk), the largest offset di along axis i whose distance still passes the
// exact "<= tolerance" test; offsets where even di = 0 fails are left out. Exposed for tests.
// Offsets are bounded by `bound_points` (the point grid of the largest region it will serve: voxels + 1 per
// axis): two points of a region are never further apart, so any finite tolerance gives a stencil no larger
// than the region, and max_di is found by bisection (the test is monotone in di), not by a scan.
struct ToleranceStencil {
  std::array<double, 3> spacing_mm{};
  double tolerance_mm = 0;
  std::array<int64_t, 3> bound_points{};
  int64_t ri = 0, rj = 0, rk = 0;  // reach per axis in points, at most bound - 1
  struct Offset {
    int32_t dj, dk, max_di;
  };
  std::vector<Offset> offsets;  // only those with max_di >= 0, the nearest first
  int32_t max_di = -1;          // the largest max_di of all
};
inline constexpr std::array<int64_t, 3> kUnboundedStencil = {1 << 16, 1 << 16, 1 << 16};
ToleranceStencil tolerance_stencil(const std::array<double, 3>& spacing_mm, double tolerance_mm,
                                   const std::array<int64_t, 3>& bound_points = kUnboundedStencil);
// Reach of a stencil in voxels along each axis (no offset beyond it passes), for margins around a region.
std::array<int64_t, 3> stencil_reach(const ToleranceStencil& stencil);

}  // namespace lb
