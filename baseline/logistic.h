#pragma once
// L2-regularised logistic regression fitted by Newton's method (IRLS) with Eigen: the floor the
// boosted trees must beat. Features are standardised for the fit; the stored weights act on raw values.
#include <nlohmann/json.hpp>
#include <vector>

#include "baseline/gbdt.h"

namespace lb::baseline {

struct Logistic {
  std::vector<double> weights;  // per feature, on raw feature values
  double bias = 0;

  void add_logits(const float* rows, int64_t n, int64_t stride, float* out) const;
  nlohmann::json to_json() const;
  static Logistic from_json(const nlohmann::json& j);
};

Logistic train_logistic(const Dataset& train, double l2 = 1e-3, int iterations = 25);

}  // namespace lb::baseline
