#pragma once
// Direct AVX2 + FMA kernels for the CNN's most common convolution, 3x3x3 with stride 1 and padding 1 (issue 17):
// no im2col copy, weights broadcast from registers, and chosen at run time (__builtin_cpu_supports), so the
// portable build runs them on any CPU that has AVX2 and falls back to im2col + Eigen elsewhere.
//
// Determinism: every output of forward() and input_grad() is one fixed sequence of FMAs, whatever the
// thread count or the split of the work; weight_grad() sums per chunk of z slices (chunks fixed by the
// shapes) and adds the chunks in order. So results depend on the CPU's instruction set, never on threads.
#include <array>
#include <cstdint>

namespace lb::baseline::cnn::direct {

// Whether the kernels can run here (x86-64 with AVX2 and FMA) and are not switched off.
bool enabled();
// For tests and comparisons: off forces the im2col path. Not thread-safe: set it before any work starts.
void set_enabled(bool on);

// y[out] = bias + W * x for a 3x3x3 kernel, stride 1, padding 1. x: `in` channels of dims; y: `out` channels
// of the same dims; w: [out][in][27] (kz, ky, kx); bias may be null.
void forward(const float* x, int in, const std::array<int64_t, 3>& dims, const float* w, const float* bias, int out,
             float* y);
// dx = the adjoint of forward() applied to dy (a fresh result, not added).
void input_grad(const float* dy, int out, const std::array<int64_t, 3>& dims, const float* w, int in, float* dx);
// dw += dL/dW and db += dL/db for the input x and the output gradient dy.
void weight_grad(const float* x, int in, const std::array<int64_t, 3>& dims, const float* dy, int out, float* dw,
                 float* db);

// The same convolution applied to x upsampled by 2 (nearest) on every axis, without forming the upsampled
// volume (the polyphase form: each fine output is 8 taps of the coarse input with summed weights, not 27).
// x: `in` channels of the coarse dims c; y: `out` channels of dims 2 c.
void forward_up2(const float* x, int in, const std::array<int64_t, 3>& c, const float* w, const float* bias, int out,
                 float* y);
// Its backward for the output gradient dy (dims 2 c): dx (coarse, a fresh result) and dw, db (added to).
void backward_up2(const float* x, int in, const std::array<int64_t, 3>& c, const float* dy, int out, const float* w,
                  float* dx, float* dw, float* db);

}  // namespace lb::baseline::cnn::direct
