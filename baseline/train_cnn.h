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
  Postprocess post;           // stored in the model
  std::string resume_from;    // a checkpoint of an interrupted run with the same settings
  std::string command_line;   // stored in the model's provenance
};

Model train_cnn_model(const CnnRunSettings& s, std::ostream& log, TrainReport* report = nullptr);

}  // namespace lb::baseline
