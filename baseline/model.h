#pragma once
// The model file: JSON with a schema_version, the feature settings, the classifier weights of each stage
// and the post-processing settings. Everything predict needs is in it; nothing is implied by the program.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "baseline/features.h"
#include "baseline/gbdt.h"
#include "baseline/logistic.h"

namespace lb::baseline {

namespace cnn {
struct CnnModel;
}

// Readers accept any 1.x: fields are only added within a major version (schemas/baseline-model.schema.json).
inline constexpr const char* kModelSchemaVersion = "1.0";

// One classifier over a fixed list of feature columns (by name, checked against the computed stack).
struct Classifier {
  enum class Type { gbdt, logistic };
  Type type = Type::gbdt;
  Gbdt gbdt;
  Logistic logistic;
  std::vector<std::string> features;

  // Log-odds for rows stored row-major (features.size() floats each).
  void logits(const float* rows, int64_t n, float* out) const;
  nlohmann::json to_json() const;
  static Classifier from_json(const nlohmann::json& j);
};

struct Postprocess {
  float threshold = 0.5f;            // on the probability map: where the mask's border lies
  float seed_threshold = 0.5f;       // a component is kept only if some voxel reaches this (hysteresis)
  double opening_mm = 0;             // radius of a ball opening before components (0: none)
  int connectivity = 26;
  double min_volume_ml = 0.1;        // smaller components are dropped
  double min_mean_probability = 0;   // components whose mean probability is lower are dropped
  double keep_relative_mass = 0;     // drop components with probability mass (Σp·ml) below this × the largest
  bool fill_holes = true;            // enclosed background inside a kept component becomes lesion
};
void to_json(nlohmann::json& j, const Postprocess& p);
void from_json(const nlohmann::json& j, Postprocess& p);

struct Model {
  // "classifier": stages of classifiers; "hu_window": probability 1 where G_1mm*HU lies in [lo, hi]
  // (the fixed-threshold reference segmenter); "cnn": the 3-D U-Net of `cnn` (baseline/cnn_net.h) on the
  // working grid. All with the same post-processing.
  std::string method = "classifier";
  FeatureSettings features;
  ContextSettings context;
  std::array<double, 2> candidate_hu{-300, 400};  // voxels whose G_1mm*HU lies outside are background
  std::array<double, 2> hu_window{0, 100};        // method hu_window only
  std::vector<Classifier> stages;                 // stage 2 sees stage 1's features plus the context columns
  std::shared_ptr<const cnn::CnnModel> cnn;       // method cnn only
  Postprocess post;
  nlohmann::json provenance = nlohmann::json::object();  // how it was trained (command, data, seed, scores)

  nlohmann::json to_json() const;
  static Model from_json(const nlohmann::json& j);
  static Model load(const std::string& path);  // throws std::runtime_error naming the file and the problem
  void save(const std::string& path) const;    // atomic (write to a temporary, then rename)
};

}  // namespace lb::baseline
