#pragma once
// Gradient-boosted decision trees for a binary target with logistic loss (histogram method: every
// feature is cut into at most 255 quantile bins, splits are chosen from per-node gradient histograms).
// Trees are complete binary trees of a fixed depth stored as heaps, so prediction is a branch-free walk:
// node = 2*node + 1 + (x[feature] > threshold). A node that did not split sends everything left.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

namespace lb::baseline {

// Training rows, column-major: cols[f][row]. y in [0, 1] (soft targets allowed), w > 0.
struct Dataset {
  std::vector<std::vector<float>> cols;
  std::vector<float> y, w;
  int64_t rows() const { return static_cast<int64_t>(y.size()); }
  int features() const { return static_cast<int>(cols.size()); }
};

struct GbdtParams {
  int trees = 200;
  int depth = 6;
  double learning_rate = 0.1;
  double l2 = 1.0;                  // λ on leaf values
  double min_child_hessian = 1.0;   // Σ w·p(1-p) a child must hold
  double subsample = 0.7;           // rows per tree, drawn without replacement
  int bins = 64;                    // at most 255
  uint64_t seed = 1;
};

class Gbdt {
 public:
  int depth = 0;
  double base_logit = 0;
  std::vector<std::vector<float>> edges;  // per feature: split candidates, ascending
  std::vector<int32_t> split_feature;     // trees × (2^depth - 1); -1: no split (all go left)
  std::vector<int32_t> split_bin;         // left when x <= edges[feature][split_bin]
  std::vector<float> leaf;                // trees × 2^depth
  std::vector<float> threshold;           // derived from edges and split_bin (+inf where no split)
  std::vector<int32_t> feature_index;     // split_feature with -1 replaced by 0

  int trees() const;
  int internal_nodes() const { return (1 << depth) - 1; }
  // Log-odds for `n` rows stored row-major with `stride` floats per row; adds to out[r].
  void add_logits(const float* rows, int64_t n, int64_t stride, float* out) const;
  double logit(const float* row) const;
  // Gain summed over the splits that use each feature (for reports).
  std::vector<double> importance(int features) const;

  nlohmann::json to_json() const;
  static Gbdt from_json(const nlohmann::json& j);
  void finalize();  // fills threshold and feature_index
  std::vector<double> gains;  // per internal node, training only (not stored)
};

// Called every `every` trees: trees so far, weighted log-loss on the training rows and on `valid` (or -1).
using GbdtProgress = std::function<void(int trees, double train_loss, double valid_loss)>;

Gbdt train_gbdt(const Dataset& train, const GbdtParams& params, const Dataset* valid = nullptr,
                const GbdtProgress& progress = {}, int every = 25);

// A float written to JSON as the shortest decimal that reads back to the same float.
double json_float(float v);

}  // namespace lb::baseline
