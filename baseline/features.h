#pragma once
// Voxel features that do not depend on position: what a voxel and its surroundings look like at several
// scales, never where the voxel is. Computed on the working grid (see resample.h), every column in parallel
// with TBB, every scale in millimetres so anisotropic spacing is honoured.
//
// Stage 1 (FeatureSettings), from the image:
//   hu              HU clamped to [-1000, 1500]
//   smooth_<s>mm    Gaussian of the soft-tissue-clipped image S = clamp(HU, soft_lo, soft_hi)
//   grad_<s>mm      |∇ G_s * S| per mm
//   log_<s>mm       s² ∇²(G_s * S), the scale-normalised Laplacian of Gaussian (blob detector)
//   std_<s>mm       local standard deviation sqrt(G_s*S² - (G_s*S)²)
//   dog_<a>_<b>mm   smooth_<a>mm - smooth_<b>mm (a < b): brighter or darker than the surroundings
//   edge_<s>mm      Gaussian average of |∇ G_1mm * S|: how many edges (fat septa, texture) are around
//   hess<n>_<s>mm   eigenvalues n = 1..3 (ascending) of s² × the Hessian of G_s*S: blob, tube or sheet
//   fat|bone|air_<s>mm  fraction of fat / bone / air voxels around (Gaussian-weighted), classes from G_1mm*HU
//   dist_fat|dist_bone|dist_air  distance in mm to the nearest voxel of that class (capped)
//   rel_<s>mm       smooth_<s>mm minus the scan's median soft-tissue value (contrast to the scan's muscle)
//   scan_soft_hu, scan_bright_fraction, scan_lung_fraction  one value per scan: its median soft-tissue HU
//                   and the share of its non-air voxels that are enhanced tissue (80-250 HU) or lung
//                   (-950 to -500 HU); they let one model hold rules for different kinds of scan
//                   (a limb crop without contrast, a contrast-enhanced trunk)
// Stage 2 (ContextSettings), from the stage-1 probability map p (auto-context):
//   p, p_<s>mm (Gaussian of p), and for the connected components of p >= 0.5: the component's volume
//   (log10 ml), its mean p, its volume relative to the scan's largest component, and the signed
//   distance to the component border (mm, positive inside); core_diff_<s>mm: smooth_<s>mm minus its
//   p-weighted mean over the voxels with p >= 0.5 (how much a voxel looks like what stage 1 found).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "imaging/volume.h"

namespace lb::baseline {

// The segmenter works on the shared imaging volumes (imaging/).
using namespace lb::imaging;

struct FeatureSettings {
  std::array<double, 3> working_spacing_mm{2.0, 2.0, 3.0};  // target of the working grid (integer factors)
  double soft_lo_hu = -150, soft_hi_hu = 250;
  double fat_lo_hu = -190, fat_hi_hu = -30, bone_hu = 250, air_hu = -500;
  std::vector<double> smooth_mm{1, 2, 4, 8, 16};
  std::vector<double> gradient_mm{1, 2, 4};
  std::vector<double> log_mm{2, 4, 8};
  std::vector<double> std_mm{2, 4, 8};
  std::vector<double> hessian_mm{4, 8, 16};
  std::vector<double> edge_mm{};  // measured: no gain on sts-ct (docs/baseline.md)
  std::vector<std::array<double, 2>> dog_mm{{1, 4}, {2, 8}, {4, 16}, {2, 16}};
  bool scan_features = false;  // measured: lets trees memorise the few training scans (docs/baseline.md)
  std::vector<double> fat_mm{4, 16};
  std::vector<double> bone_mm{8, 16};
  std::vector<double> air_mm{16};
  bool distances = true;
  double distance_cap_mm = 60;
  std::vector<double> relative_mm{2, 8};

  std::vector<std::string> names() const;
};

struct ContextSettings {
  std::vector<double> smooth_mm{2, 4, 8, 16};
  bool components = true;
  double distance_cap_mm = 30;
  std::vector<double> core_diff_mm{};  // needs smooth_<s>mm among the stage-1 features

  std::vector<std::string> names() const;
};

void to_json(nlohmann::json& j, const FeatureSettings& s);
void from_json(const nlohmann::json& j, FeatureSettings& s);
void to_json(nlohmann::json& j, const ContextSettings& s);
void from_json(const nlohmann::json& j, ContextSettings& s);

// Feature columns over one grid, each column a full volume (index as in Grid::index).
struct FeatureStack {
  Grid grid;
  std::vector<std::string> names;
  std::vector<std::vector<float>> cols;

  void add(std::string name, std::vector<float> col) {
    names.push_back(std::move(name));
    cols.push_back(std::move(col));
  }
};

// `work` holds HU on the working grid. Also returns G_1mm*HU in `smooth_hu_1mm` when asked (the candidate test).
FeatureStack compute_features(const VolumeF& work, const FeatureSettings& s, VolumeF* smooth_hu_1mm = nullptr);

// Appends the stage-2 columns computed from `p` (same grid as `stack`).
void add_context_features(const VolumeF& p, const ContextSettings& s, FeatureStack& stack);

// "4mm", "0.5mm": scale names as the columns carry them.
std::string scale_name(double mm);

}  // namespace lb::baseline
