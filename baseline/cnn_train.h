#pragma once
// Training the baseline's 3-D U-Net and predicting with it (issue 17).
//
// Training: patches drawn from the cases' working grids (baseline/segmenter.h: block means towards
// 2 x 2 x 3 mm), a share of them centred on lesion voxels; flips and intensity jitter; Dice + cross-entropy
// (cnn_layers.h); AdamW with polynomial decay of the learning rate. Every draw of iteration i comes from a
// generator seeded by (seed, i), and every layer gives the same result on any number of threads, so a run is
// reproducible bit for bit on one machine and build, whatever the thread count, and a run resumed from a
// checkpoint continues exactly as the uninterrupted run would have.
//
// Prediction: sliding windows of the training patch size with overlap, each window's probabilities weighted
// by a Gaussian centred on it (edges count less), optionally averaged with the left-right mirrored input.
#include <array>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "baseline/cnn_net.h"
#include "imaging/volume.h"

namespace lb::baseline::cnn {

struct InferSettings {
  std::array<int64_t, 3> patch{64, 64, 32};  // window dims on the working grid (divisible by 2^(levels-1))
  double overlap = 0.5;                      // fraction of a window shared with the next
  bool mirror_x = false;                     // also predict the left-right mirror and average
  bool operator==(const InferSettings&) const = default;
};
void to_json(nlohmann::json& j, const InferSettings& s);
void from_json(const nlohmann::json& j, InferSettings& s);

// What a model file of method "cnn" holds besides the post-processing: the network and how it is run.
struct CnnModel {
  UNet net;
  InferSettings infer;
  nlohmann::json to_json() const;
  static CnnModel from_json(const nlohmann::json& j);  // throws std::runtime_error saying what is wrong
};

// Lesion probability of every voxel of `hu` (HU on the working grid).
imaging::VolumeF predict_probability(const UNet& net, const imaging::VolumeF& hu, const InferSettings& s);

// One training case: the network's input (HU on the working grid) and the lesion fraction per voxel.
struct TrainCase {
  std::string name;
  imaging::VolumeF hu, target;
};

struct AdamW {
  double lr = 2e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-4;
  int64_t steps = 0;
  std::vector<std::vector<float>> m, v;  // per Param, as UNet::params()
  void step(const std::vector<Param*>& params, double lr_now);
  nlohmann::json to_json() const;
  static AdamW from_json(const nlohmann::json& j);
};

struct CnnTrainSettings {
  NetConfig net;
  // The recipe's prediction (chosen on the hyper-parameter split, docs/baseline.md): 50% overlap, mirror.
  InferSettings infer{{64, 64, 32}, 0.5, true};
  int64_t iterations = 4000;
  int batch = 2;
  double lr = 2e-3, lr_power = 0.9;  // lr x (1 - i / iterations)^power
  double lesion_fraction = 0.67;     // patches centred on a lesion voxel (of a case that has one)
  bool flips = true;                 // random mirror along each axis
  // Rotation in the axial plane (about z, where the working grid's x and y spacings are equal) by up to
  // ±rotation_deg, and zoom by a factor in [zoom_min, zoom_max] (> 1: the patch shows a smaller region),
  // each drawn for a share of the patches; such patches are resampled trilinearly (the target too: soft edges).
  double rotation_deg = 15, rotation_share = 0.2;
  double zoom_min = 0.85, zoom_max = 1.25, zoom_share = 0.2;
  double intensity_scale = 0.1, intensity_shift = 0.1;  // x U(1 ± scale) + U(± shift), in normalised units
  uint64_t seed = 1;
  int64_t checkpoint_every = 200;    // iterations; 0: never
  std::string checkpoint_path;       // written atomically (temporary file, then rename)
  int64_t progress_every = 20;
  int64_t validate_every = 0;        // iterations between held-out DSC checks (0: only at the end)
};

struct TrainProgress {
  int64_t iteration = 0, iterations = 0;
  double loss = 0, seconds_per_iteration = 0;
  double heldout_dsc = -1;           // mean DSC (threshold 0.5) on the validation cases; -1 when not measured
};

// State of an interrupted run: the network, the optimiser and the iteration reached.
struct Checkpoint {
  UNet net;
  AdamW opt;
  int64_t iteration = 0;
  nlohmann::json settings;  // the settings the run started with (a resumed run must match them)
  nlohmann::json to_json() const;
  static Checkpoint from_json(const nlohmann::json& j);
  void save(const std::string& path) const;
  static Checkpoint load(const std::string& path);
};

nlohmann::json settings_json(const CnnTrainSettings& s);

// Where a training patch comes from: its centre in the case's voxel coordinates, then, in the patch's own
// frame, mirrors, an axial rotation and a zoom; and the intensity jitter (x scale + offset, normalised units).
struct PatchDraw {
  std::array<double, 3> centre{};
  std::array<bool, 3> flip{};
  double angle_rad = 0, zoom = 1;
  float scale = 1, offset = 0;
};
// Fills x (1 channel, the patch dims) with the network's input and `target` (one value per voxel) with the
// lesion fraction, sampled trilinearly at centre + R(angle) (patch position - patch centre) / zoom; outside the
// volume, air and no lesion. With no rotation and zoom 1 and a centre on the voxel grid, the values are the
// volume's own, unblended.
void extract_patch(const UNet& net, const TrainCase& c, const PatchDraw& d, Tensor& x, std::vector<float>& target);

// Trains from scratch, or from `resume` (whose settings must equal s's, except the checkpoint path and
// progress cadence). `progress` is called every progress_every iterations and at every validation.
UNet train_unet(const std::vector<TrainCase>& train, const std::vector<TrainCase>& validation,
                const CnnTrainSettings& s, const std::function<void(const TrainProgress&)>& progress,
                const Checkpoint* resume = nullptr);

// Mean DSC at probability 0.5 of the network's sliding-window prediction over cases (1 when both empty).
double mean_dice(const UNet& net, const std::vector<TrainCase>& cases, const InferSettings& s);

}  // namespace lb::baseline::cnn
