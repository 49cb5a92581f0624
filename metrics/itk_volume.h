#pragma once
// Label volumes in the formats ITK reads: MetaImage (.mha, .mhd + data file) and NRRD (.nrrd, .nhdr + data
// file). mask_io's load_mask() hands these paths here, so callers never see the difference. No ITK in this
// header: itk_volume.cpp holds all of it, and the runner-only build compiles itk_volume_absent.cpp instead.
//
// Geometry: ITK's physical space is LPS, NIfTI's (and lesionbench's) is RAS, so x and y of the origin and
// the first two rows of the direction matrix change sign; spacing is rounded to float32 as a NIfTI header
// would hold it. A .mha written from a .nii.gz therefore has the same Geometry as the .nii.gz.
//
// Before any voxel is read: a header naming a separate data file may only name a plain file in the header's
// own folder (no path separator, no LIST or file pattern, not a symbolic link), so a "prediction" cannot point
// at the ground truth or at /dev/zero; and the size the header claims must fit the data that is there.
#include <string>

#include "metrics/mask_io.h"

namespace lb {

// Whether the name ends in .mha, .mhd, .nrrd or .nhdr (any case).
bool is_itk_volume_path(const std::string& path);

// Reads one of those into a MaskLoad with mask_from_image's label checks. Never throws.
MaskLoad load_itk_volume(const std::string& path);

// The largest volume accepted, in voxels (a 1024 x 1024 x 1024 cube; FLARE's largest is 796 x 512 x 1059).
inline constexpr long long kItkMaxVoxels = 1024LL * 1024 * 1024;

}  // namespace lb
