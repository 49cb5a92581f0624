#pragma once
// Moving between a scan's own grid and the coarser working grid the segmenter computes on.
// The working grid groups f0 x f1 x f2 native voxels (integer factors), so going down is an exact
// block mean, and going up is trilinear interpolation between block centres.
#include <array>
#include <cstdint>

#include "imaging/volume.h"

namespace lb::imaging {

using Factors = std::array<int, 3>;

// Per axis: the integer nearest target/native (halves round up), at least 1: native 0.8 mm with a
// 2 mm target gives 3 (2.4 mm), 0.977 mm gives 2, 3.27 mm with a 3 mm target gives 1.
Factors working_factors(const std::array<double, 3>& native_spacing_mm, const std::array<double, 3>& target_mm);
Grid working_grid(const Grid& native, const Factors& f);

// Block means of `native` (values of a grid `native_grid`): a partial block at the far border averages
// the voxels it has. `T` is any arithmetic voxel type; each value is first passed through clamp [lo, hi].
template <class T>
VolumeF downsample_mean(const T* native, const Grid& native_grid, const Factors& f, float lo, float hi);

// Trilinear interpolation of `coarse` at every voxel centre of `fine` (fine = coarse refined by f).
VolumeF upsample_linear(const VolumeF& coarse, const Factors& f, const Grid& fine);

// Trilinear interpolation of `work` at every native voxel centre (edge values held beyond the outer
// block centres); writes out[i] = 1 where the value >= threshold, else 0.
void upsample_threshold(const VolumeF& work, const Factors& f, const Grid& native, float threshold, uint8_t* out);

}  // namespace lb::imaging
