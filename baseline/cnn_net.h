#pragma once
// The baseline's 3-D U-Net (issue 17): an encoder of L levels (two 3x3x3 convolutions each, instance norm
// and leaky ReLU after every one; levels 1.. start with a stride-2 convolution), a decoder that upsamples by
// 2 (nearest), convolves, joins the skip connection of its level and convolves twice, and a 1x1x1 head
// giving one lesion logit per voxel. Channels 12-24-48-96 by default (about 0.9 M weights).
//
// Stored in the model file (baseline/model.h, method "cnn") as JSON: the architecture, the input
// normalisation, the sliding-window settings and every weight as base64 of little-endian float32, in the
// order of params(); see docs/baseline.md.
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "baseline/cnn_layers.h"

namespace lb::baseline::cnn {

struct NetConfig {
  std::vector<int> channels{12, 24, 48, 96};
  float slope = 0.01f;  // leaky ReLU
  // Input: HU clipped to [hu_lo, hu_hi], then (hu - hu_mean) / hu_std.
  float hu_lo = -200, hu_hi = 300, hu_mean = 50, hu_std = 150;
  bool operator==(const NetConfig&) const = default;
};
void to_json(nlohmann::json& j, const NetConfig& c);
void from_json(const nlohmann::json& j, NetConfig& c);

// A convolution followed by instance norm + leaky ReLU, with what backward needs.
struct Block {
  Conv3d conv;
  NormAct norm;
  Block() = default;
  Block(int in, int out, int stride, float slope);
  struct Cache {
    Tensor x;  // the convolution's input
    NormAct::Cache norm;
  };
  Tensor forward(const Tensor& x, Cache* cache) const;
  Tensor backward(const Cache& cache, const Tensor& dy);
  // The same on x upsampled by 2 onto `to` (the decoder's first block); the cache keeps the coarse x.
  Tensor forward_up2(const Tensor& x, const std::array<int64_t, 3>& to, Cache* cache) const;
  Tensor backward_up2(const Cache& cache, const Tensor& dy);  // dL/dx on the coarse grid
};

class UNet {
 public:
  UNet() = default;
  // Weights drawn from `seed` (He initialisation for leaky ReLU), the same on every platform.
  UNet(const NetConfig& config, uint64_t seed);

  const NetConfig& config() const { return config_; }
  // Every learnable array in a fixed order (the order of the model file).
  std::vector<Param*> params();
  std::vector<const Param*> params() const;
  size_t weight_count() const;
  void zero_grad();

  // One logit channel on the input's dims. Input: 1 channel, already normalised (normalise()).
  // The dims must be divisible by 2^(levels-1) for the skip connections to line up exactly; others work
  // too (the decoder crops nothing: upsampling lands on the skip's dims).
  Tensor forward(const Tensor& x);          // keeps what backward needs
  Tensor infer(const Tensor& x) const;      // keeps nothing
  void backward(const Tensor& dlogits);     // after forward: adds to every Param's g

  // HU -> the network's input scale (config's clip and standardisation).
  float normalise(float hu) const;

  nlohmann::json to_json() const;
  static UNet from_json(const nlohmann::json& j);  // throws std::runtime_error saying what is wrong

 private:
  struct Caches {
    std::vector<Block::Cache> enc_a, enc_b, up, dec_a, dec_b;
    Tensor head_in;
  };
  NetConfig config_;
  std::vector<Block> enc_a_, enc_b_;       // per level
  std::vector<Block> up_, dec_a_, dec_b_;  // per level 0..L-2 (the decoder of that level)
  Conv3d head_;
  Caches caches_;
  Tensor run(const Tensor& x, Caches* caches) const;
};

// base64 of float32 values (little-endian bytes) and back.
std::string floats_to_base64(const std::vector<float>& v);
std::vector<float> base64_to_floats(const std::string& s);

}  // namespace lb::baseline::cnn
