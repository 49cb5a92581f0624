#pragma once
// Training a model from folders of <Case>_0000.nii.gz images and <Case>.nii.gz masks.
//
// 1. Every case is moved to the working grid; its mask becomes a lesion fraction per working voxel.
// 2. Training voxels are drawn per case from the candidates in three strata: lesion, background within
//    near_mm of the lesion (where the boundary is decided) and the rest; each row is weighted by its
//    stratum's size over its sample, and each case carries the same total weight (or, with
//    balance_sources, each source does, shared equally by its cases).
// 3. Stage 1 learns from the image features. With two stages, stage 1 is also trained K times on K-1
//    folds of the cases to give out-of-fold probability maps, and stage 2 learns from the image features
//    plus the context features of those maps (auto-context without the optimism of in-sample maps).
//    With tuning, the last stage's out-of-fold maps choose the threshold and the component rule.
// 4. Cases held out (holdout fraction) are segmented with the final model and scored (DSC) at the end.
// Everything random draws from the seed, so the same command on the same data gives the same model.
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "baseline/model.h"
#include "baseline/segmenter.h"

namespace lb::baseline {

struct TrainSettings {
  std::vector<std::pair<std::string, std::string>> sources;  // (images dir, labels dir) pairs
  std::string classifier = "gbdt";                           // gbdt | logistic
  int stages = 1;
  FeatureSettings features;
  ContextSettings context;
  Postprocess post;
  GbdtParams gbdt;
  int64_t lesion_per_case = 5000, near_per_case = 5000, far_per_case = 5000;
  double near_mm = 10;
  double lesion_share = 0.2;  // minimum share of a case's training weight on its lesion voxels (0: natural)
  // Each source (an --images/--labels pair) carries the same total weight in training and in the tuning
  // objective, whatever its number of cases. Off by default: measured on sts-ct + 40 phantoms it moved
  // real-CT DSC from 0.38 to 0.43 but phantoms from 0.43 to 0.29 (docs/baseline.md).
  bool balance_sources = false;
  int folds = 3;         // for the out-of-fold stage-1 maps
  double holdout = 0.2;  // fraction of cases kept out of training and scored at the end
  // Choose post.threshold and post.keep_relative_mass by the mean DSC of out-of-fold maps of the training
  // cases (nested inside training, so a held-out or cross-validation score stays honest).
  bool tune_post = true;
  // (opening_mm and fill_holes are not tuned; the tuning ignores them.)
  std::vector<double> tune_thresholds{0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  std::vector<double> tune_keep_relative_mass{0.0, 0.1, 0.3};  // never 1: several lesions must stay possible
  std::vector<double> tune_min_volume_ml{0.1, 0.5, 2.0};
  uint64_t seed = 1;
  std::string command_line;  // stored in the model's provenance
};

struct CasePair {
  std::string name, image, label;
  int source = 0;  // index of its (images, labels) pair in TrainSettings::sources
};
// Image/mask pairs of a source; images without a mask are listed in `unmatched`.
std::vector<CasePair> list_pairs(const std::string& images_dir, const std::string& labels_dir,
                                 std::vector<std::string>* unmatched = nullptr);

struct TrainReport {
  std::vector<std::pair<std::string, double>> holdout_dsc;  // case, DSC
  double holdout_mean_dsc = -1;
};

// The steps every training method shares (train_model and the CNN's train_cnn_model):
// every source's pairs (a warning on `log` for images without a mask; sources_json describes each source);
// throws when fewer than 2 pairs are found.
std::vector<CasePair> collect_pairs(const std::vector<std::pair<std::string, std::string>>& sources, std::ostream& log,
                                    nlohmann::json& sources_json);
// Held-out cases: the first `holdout` fraction of a seeded shuffle (at least 1 when holdout > 0, never
// leaving fewer than 2 to train on); `used` sorted by image path.
void split_holdout(const std::vector<CasePair>& pairs, double holdout, uint64_t seed, std::vector<CasePair>& used,
                   std::vector<CasePair>& held);
// A case on the working grid with its mask as a lesion fraction per working voxel.
struct TrainingCase {
  CasePair files;
  Prepared pr;
  imaging::VolumeF y;
  double lesion_ml = 0;
};
// Throws std::runtime_error naming the case and the problem.
TrainingCase load_training_case(const CasePair& files, const std::array<double, 3>& working_spacing_mm);
// DSC of the final model on each held-out case, at native resolution, logged.
TrainReport score_holdout(const std::vector<CasePair>& held, const Model& m, std::ostream& log);
// The held-out DSCs (4 decimals) into a model's provenance: holdout_dsc per case and holdout_mean_dsc; nothing
// when no case was held out.
void add_holdout_provenance(nlohmann::json& provenance, const TrainReport& rep);

Model train_model(const TrainSettings& s, std::ostream& log, TrainReport* report = nullptr);

// Weight of each training case (given the index of its source), summing to 1: the same for every case, or
// with balance_sources the same total for every source, shared equally by its cases.
std::vector<double> case_weights(const std::vector<int>& source_of_case, bool balance_sources);

// Dice of two 0/1 masks of the same size (1 when both are empty).
double dice(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b);

}  // namespace lb::baseline
