#pragma once
// Connected components of a 0/1 volume, held as runs along axis i (no label volume is built, so a
// sparse mask costs memory in proportion to its runs, not to the volume).
// Runs are found per row, joined with the runs of the already-scanned neighbour rows through a
// union-find, and components are numbered in scan order of their first voxel (k, then j, then i).
#include <array>
#include <cstdint>
#include <vector>

#include "metrics/surface_dice.h"

namespace lb {

struct Run {
  int64_t row;     // j + n_j * k
  int32_t x0, x1;  // voxels [x0, x1) along i
};

struct Components {
  std::array<int64_t, 3> dims{};
  std::vector<Run> runs;              // in scan order
  std::vector<int32_t> run_label;     // component of each run, 0-based
  int32_t count = 0;
  std::vector<int64_t> voxels;        // per component
  std::vector<Box> boxes;             // per component
  std::vector<int64_t> first_index;   // linear index of each component's first voxel
  std::vector<int64_t> run_start;     // runs of component c: run_order[run_start[c] .. run_start[c+1])
  std::vector<int32_t> run_order;
};

// connectivity: 6 (faces), 18 (faces and edges) or 26 (faces, edges and corners).
Components label_components(const uint8_t* mask, const std::array<int64_t, 3>& dims, int connectivity);

// Writes component c's voxels as 1 into `out`, a volume of box.size() placed at box.lo.
void rasterize(const Components& comps, int32_t c, const Box& box, uint8_t* out);

}  // namespace lb
