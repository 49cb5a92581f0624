#pragma once
// Segmenting one scan with a model: native image -> working grid -> features -> stage probabilities ->
// post-processing -> a uint8 0/1 mask on the native grid. And the same for a folder of FLARE cases.
#include <cstdint>
#include <string>
#include <vector>

#include "baseline/features.h"
#include "baseline/model.h"
#include "imaging/resample.h"
#include "metrics/nifti.h"

namespace lb::baseline {

// The segmenter works on the shared imaging volumes (imaging/).
using namespace lb::imaging;

// Raised for an image the segmenter cannot use (not 3-D, no spacing, unsupported type); the message says why.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Prepared {
  Grid native;
  Factors factors{1, 1, 1};
  Grid full;                          // the whole working grid
  std::array<int64_t, 3> crop_lo{};   // where `work` starts in it
  VolumeF work;  // HU (scaling applied, clamped to [-1024, 3071]) as block means on the working grid,
                 // cropped to the box around everything denser than air (plus a margin): features do not
                 // depend on position, and air far from the body holds no lesion.
};
// Checks the image is 3-D with a usable spacing and moves it to the working grid.
Prepared prepare(const nifti::Image& image, const std::array<double, 3>& working_spacing_mm);

// A box [lo, lo + part.dims) of `full` cut out of / put back into a volume.
VolumeF crop(const VolumeF& v, const std::array<int64_t, 3>& lo, const std::array<int64_t, 3>& dims);
VolumeF embed(const VolumeF& part, const std::array<int64_t, 3>& lo, const Grid& full, float fill);

// Stage-1 feature stack, the candidate voxels (G_1mm*HU inside candidate_hu) and G_1mm*HU itself.
struct StageInputs {
  FeatureStack stack;
  VolumeF smooth_hu_1mm;
  std::vector<int64_t> candidates;
};
StageInputs stage1_inputs(const VolumeF& work, const Model& m);

// Probability of every voxel of the stack's grid (0 where it is not a candidate).
VolumeF classify(const Classifier& c, const FeatureStack& stack, const std::vector<int64_t>& candidates);

// The model's probability map on the working grid (after its last stage, before post-processing).
VolumeF probability_map(const Model& m, const VolumeF& work);

struct PostInfo {
  int components_found = 0, components_kept = 0;
  double kept_ml = 0;
};
// Threshold, opening, components with the keep rules, hole filling. Returns a map whose threshold crossing
// follows the kept components: p inside them and in their one-voxel rim (held below the threshold), 1 in
// filled holes, 0 elsewhere; upsample_threshold() of it with the same threshold gives the native mask.
VolumeF postprocess(const VolumeF& p, const Postprocess& post, PostInfo* info = nullptr);

struct SegmentInfo {
  std::array<int64_t, 3> working_dims{};
  Factors factors{1, 1, 1};
  PostInfo post;
  double seconds_features = 0, seconds_total = 0;
  bool keep_probability = false;  // set by the caller to receive the map below
  VolumeF probability;            // the last stage's map on the working grid
};
// The whole pipeline for one image; mask has the image's voxel count, 0/1.
std::vector<uint8_t> segment(const nifti::Image& image, const Model& m, SegmentInfo* info = nullptr);

struct PredictSummary {
  int cases = 0, written = 0, failed = 0;
  std::vector<std::string> errors;  // "<file>: <problem>"
};
// Every <Case>_0000.nii.gz of input_dir -> output_dir/<Case>.nii.gz with the input's geometry.
// A case that fails is reported (log and summary) and the others go on. Throws only when the folders
// themselves are unusable (no input folder, no cases, output not writable).
// With probability_dir, also writes <Case>_probability.nii.gz: the last stage's map (float32) on the working grid.
PredictSummary predict_folder(const std::string& input_dir, const std::string& output_dir, const Model& m,
                              std::ostream& log, const std::string& probability_dir = "");

}  // namespace lb::baseline
