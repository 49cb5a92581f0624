#pragma once
// Label volumes for scoring: read once, checked once, held as 0/1 bytes.
// Problems become a status and a message, never an exception, so one bad file cannot end a run.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/nifti.h"

namespace lb {

struct Mask {
  std::array<int64_t, 3> dims{};
  std::array<double, 3> spacing_mm{};  // |pixdim[1..3]|, float32 values as nibabel's get_zooms() gives them
  nifti::Geometry geometry;
  std::vector<uint8_t> voxels;         // 0 or 1, index i + n_i*(j + n_j*k)
  int64_t size() const { return dims[0] * dims[1] * dims[2]; }
};

// Spacings outside this range get a warning (a ground truth in metres, a corrupt pixdim); still scored.
inline constexpr std::array<double, 2> kPlausibleSpacingMm = {0.01, 100.0};

enum class MaskStatus { ok, read_error, invalid_labels };

struct MaskLoad {
  MaskStatus status = MaskStatus::ok;
  std::string message;                // why it is not ok, without the file name
  std::vector<std::string> warnings;  // ok but worth knowing (singleton axes dropped, scaling applied)
  Mask mask;
};

// Reads a label file: .nii/.nii.gz with the NIfTI reader, .mha/.mhd/.nrrd/.nhdr through ITK (itk_volume.h;
// full build only), with the same label rules and LPS mapped to NIfTI's RAS. Accepted: any supported datatype
// whose values (after scl_slope and scl_inter) are exactly 0 or 1, with ndim >= 3 and every axis beyond the
// third of size 1 (5x5x1 and 5x5x1x1 are 3-D volumes; 5x5 and 5x5x5x2 are not). Anything else is invalid_labels
// (with the offending values listed) or read_error (with the reason).
MaskLoad load_mask(const std::string& path);

// Why a header is not a 3-D label volume (ndim >= 3, every axis beyond the third 1), or "" when it is.
std::string shape_problem(const nifti::Header& header);

// Converts decoded voxels to 0/1, listing the values that are neither. Exposed for tests.
MaskLoad mask_from_image(nifti::Image&& image);

}  // namespace lb
