#pragma once
// The layers of the baseline's 3-D CNN (issue 17), forward and backward, on CPUs with TBB and Eigen.
//
// A feature map is C channels of one volume, channel after channel, each in NIfTI order (x fastest, z
// slowest). One sample at a time: a batch is several forward/backward passes whose gradients add up.
//
// Determinism: every result is independent of the number of threads. Work is cut into chunks whose
// boundaries depend on the shapes only (never on the thread count); each output element is written by one
// chunk, and sums over chunks (weight gradients, the overlapping input gradients of a convolution) are
// added in chunk order. So a prediction is the same on 1, 2 or 16 cores, in a container or a CPU-limited slot.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lb::baseline::cnn {

struct Tensor {
  int channels = 0;
  std::array<int64_t, 3> dims{};
  std::vector<float> v;

  Tensor() = default;
  Tensor(int c, const std::array<int64_t, 3>& d, float fill = 0.0f)
      : channels(c), dims(d), v(static_cast<size_t>(c * d[0] * d[1] * d[2]), fill) {}
  int64_t spatial() const { return dims[0] * dims[1] * dims[2]; }
  float* channel(int c) { return v.data() + static_cast<size_t>(c) * static_cast<size_t>(spatial()); }
  const float* channel(int c) const { return v.data() + static_cast<size_t>(c) * static_cast<size_t>(spatial()); }
  float& at(int c, int64_t i, int64_t j, int64_t k) { return channel(c)[i + dims[0] * (j + dims[1] * k)]; }
  float at(int c, int64_t i, int64_t j, int64_t k) const { return channel(c)[i + dims[0] * (j + dims[1] * k)]; }
};

// splitmix64: the CNN's random source, the same stream on every platform (std::normal_distribution and
// friends are not specified bit for bit).
struct SplitMix64 {
  uint64_t state = 0;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }  // (0, 1)
  int64_t below(int64_t n) { return n <= 1 ? 0 : static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
  double normal();  // Box-Muller, one value per call
};

// A learnable array and its gradient (same size), which the optimiser walks.
struct Param {
  std::vector<float> w, g;
  void resize(size_t n) { w.assign(n, 0.0f), g.assign(n, 0.0f); }
};

// 3-D convolution: kernel k (same on every axis), stride s, zero padding p. Weights [out][in][kz][ky][kx].
struct Conv3d {
  int in = 0, out = 0, k = 3, stride = 1, pad = 1;
  Param weight, bias;

  Conv3d() = default;
  Conv3d(int in_channels, int out_channels, int kernel, int stride_, int pad_);
  std::array<int64_t, 3> out_dims(const std::array<int64_t, 3>& in_dims) const;
  Tensor forward(const Tensor& x) const;
  // Adds to weight.g and bias.g; returns dL/dx. `x` is the input of the forward pass.
  Tensor backward(const Tensor& x, const Tensor& dy);
  // forward(upsample2(x, to)) and its backward (dL/dx on x's coarse grid; dy has dims `to`). Where `to` is
  // exactly twice x's dims and the direct kernels run, computed on the coarse grid with 8 taps per output
  // instead of 27 (the same values up to rounding); otherwise by upsampling first.
  Tensor forward_up2(const Tensor& x, const std::array<int64_t, 3>& to) const;
  Tensor backward_up2(const Tensor& x, const Tensor& dy);
};

// The same convolution as a plain loop over every output and kernel tap: the reference of the tests.
Tensor conv3d_naive(const Conv3d& c, const Tensor& x);

// Instance normalisation (per channel over the volume, with a learnt scale and shift) fused with a leaky ReLU.
struct NormAct {
  int channels = 0;
  float slope = 0.01f, eps = 1e-5f;
  Param gamma, beta;
  // What backward needs from forward.
  struct Cache {
    Tensor xhat;
    std::vector<float> inv_std;
  };

  NormAct() = default;
  explicit NormAct(int c);
  Tensor forward(const Tensor& x, Cache* cache) const;
  Tensor backward(const Cache& cache, const Tensor& dy);
};

// Nearest-neighbour upsampling by 2 onto `to` (the skip connection's dims; an odd size takes the last voxel).
Tensor upsample2(const Tensor& x, const std::array<int64_t, 3>& to);
// Its adjoint: each coarse voxel gets the sum of the gradients of the fine voxels copied from it.
Tensor upsample2_backward(const Tensor& dy, const std::array<int64_t, 3>& from);

// Channels of a, then of b (same dims); and back.
Tensor concat(const Tensor& a, const Tensor& b);
void split(const Tensor& ab, int a_channels, Tensor& da, Tensor& db);

// Binary segmentation loss on one logit channel: mean binary cross-entropy plus soft Dice loss
// 1 - (2 Σ p t + 1) / (Σ p + Σ t + 1), p = sigmoid(logit), t in [0, 1]. Returns the loss; fills dL/dlogit.
struct LossParts {
  double bce = 0, dice = 0;
  double total() const { return bce + dice; }
};
LossParts dice_bce(const Tensor& logits, const std::vector<float>& target, Tensor* dlogits);

}  // namespace lb::baseline::cnn
