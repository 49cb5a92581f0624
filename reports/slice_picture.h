#pragma once
// Pictures for the report: one axial slice of the CT through the lesion, in a soft-tissue window, with the
// ground-truth outline (sky blue, drawn just inside the mask) and the prediction outline (orange, drawn just
// outside it), so that a perfect prediction shows both lines side by side. Radiological orientation (the
// patient's right on the left of the picture, anterior up), read from the image's direction cosines.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/nifti.h"
#include "reports/png.h"

namespace lb {

struct SliceOptions {
  double window_center_hu = 40, window_width_hu = 400;  // soft tissue
  int max_side_px = 320;                                 // longer side of the picture
  double min_field_mm = 80;                              // smallest field of view around the lesion
  double margin_mm = 20;                                 // around the lesion's box on the slice
};

// Colours of the outlines, also used by the page's legend.
inline constexpr std::array<uint8_t, 3> kGtColour = {0x38, 0xbd, 0xf8};
inline constexpr std::array<uint8_t, 3> kPredColour = {0xfb, 0x92, 0x3c};

struct SliceView {
  RgbImage image;
  int slice_axis = 2;        // voxel axis across the slices (the one closest to world z)
  int64_t slice_index = 0;   // along slice_axis
  int64_t gt_pixels = 0, pred_pixels = 0;  // mask voxels on the chosen slice
  std::string centred_on;    // "ground truth", "prediction" or "middle" (both masks empty)
};

// From volumes in memory: ct in HU (any layout-compatible size), masks nonzero = inside, all on the grid of
// `geometry` (index i + n_i*(j + n_j*k)). The slice is the one with most ground truth, else the one with the
// most prediction. Throws std::invalid_argument when sizes disagree.
SliceView render_axial_slice(const std::vector<float>& ct_hu, const std::vector<uint8_t>& gt,
                             const std::vector<uint8_t>& pred, const nifti::Geometry& geometry,
                             const SliceOptions& options = {});

// Voxel values after scaling (scl_slope, scl_inter) as float, and as a nonzero mask.
std::vector<float> image_as_float(const nifti::Image& image);
std::vector<uint8_t> image_as_mask(const nifti::Image& image);

// A case's CT and ground truth, read once for the pictures of every team.
struct CaseVolumes {
  std::string ct_path;
  nifti::Image ct;
  nifti::Geometry geometry;
  std::vector<uint8_t> gt;  // nonzero = lesion
};
// Throws std::runtime_error naming the file and the problem (unreadable, or not on the CT's grid).
CaseVolumes load_case_volumes(const std::string& ct_path, const std::string& gt_path);

// Renders with the prediction read from `pred_path` (empty: no prediction, e.g. a failed case).
// Throws std::runtime_error naming the file when the prediction cannot be read or is not on the CT's grid.
SliceView render_case_slice(const CaseVolumes& volumes, const std::string& pred_path, const SliceOptions& options = {});

}  // namespace lb
