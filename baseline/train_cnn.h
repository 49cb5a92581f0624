#pragma once
// `lesionbench-baseline train --method cnn`: the U-Net (cnn_net.h, cnn_train.h) trained on the same cases,
// working grid, hold-out split and held-out scoring as the other methods (train.h), written as a model of
// method "cnn" that `predict` runs with the usual post-processing.
#include <array>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "baseline/cnn_train.h"
#include "baseline/train.h"

namespace lb::baseline {

struct CnnRunSettings {
  std::vector<std::pair<std::string, std::string>> sources;  // (images dir, labels dir) pairs
  cnn::CnnTrainSettings train;
  double holdout = 0.2;  // fraction of cases held out: the progress line's DSC and the final held-out score
  std::array<double, 3> working_spacing_mm{2, 2, 3};
  // Stored in the model. The recipe's rules, chosen on the hyper-parameter split (docs/baseline.md): the
  // border at p = 0.7 and only the component of largest probability mass (one tumour per case, as in
  // sts-ct; pass keep_relative_mass 0 for cases with several lesions).
  Postprocess post = [] {
    Postprocess p;
    p.threshold = p.seed_threshold = 0.7f;
    p.keep_relative_mass = 1.0;
    return p;
  }();
  std::string resume_from;    // a checkpoint of an interrupted run with the same settings
  std::string command_line;   // stored in the model's provenance
};

Model train_cnn_model(const CnnRunSettings& s, std::ostream& log, TrainReport* report = nullptr);

}  // namespace lb::baseline
