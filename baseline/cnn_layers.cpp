// The CNN's layers (see cnn_layers.h): convolution as im2col + Eigen GEMM per chunk of output slices, in
// blocks of output rows that keep the im2col columns in cache.
#include "baseline/cnn_layers.h"

#include "baseline/cnn_direct.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lb::baseline::cnn {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Strided = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;
using ConstStrided = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;

// Output slices per chunk: about 4096 columns for the GEMM, and at least enough that chunks two apart never
// touch the same input slice (cz * stride >= k - stride), so the col2im of one parity can run in parallel.
// A function of the shapes only: never of the thread count.
int64_t slices_per_chunk(const std::array<int64_t, 3>& od, int k, int s) {
  const int64_t plane = std::max<int64_t>(1, od[0] * od[1]);
  int64_t cz = std::max<int64_t>(1, 4096 / plane);
  if (k > s) cz = std::max<int64_t>(cz, (k - s + s - 1) / s);
  return std::max<int64_t>(1, std::min(cz, od[2]));
}

bool is_pointwise(const Conv3d& c) { return c.k == 1 && c.stride == 1 && c.pad == 0; }
// 3x3x3, stride 1, padding 1 on a CPU with AVX2 + FMA: the direct kernels (cnn_direct.h).
bool is_direct(const Conv3d& c) { return c.k == 3 && c.stride == 1 && c.pad == 1 && direct::enabled(); }

// Output rows (z, y) are numbered z * od[1] + y; a block is a range of them, od[0] columns each.
// Rows (ci, kz, ky, kx) x columns (the output voxels of rows r0..r1) of the input values each tap sees.
void im2col(const Tensor& x, const Conv3d& c, const std::array<int64_t, 3>& od, int64_t r0, int64_t r1, float* col) {
  const int64_t nx = x.dims[0], ny = x.dims[1], nz = x.dims[2];
  const int64_t ncols = od[0] * (r1 - r0);
  const int k = c.k, s = c.stride, p = c.pad;
  for (int ci = 0; ci < c.in; ++ci) {
    const float* src = x.channel(ci);
    for (int kz = 0; kz < k; ++kz)
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx) {
          float* dst = col + static_cast<int64_t>(((ci * k + kz) * k + ky) * k + kx) * ncols;
          for (int64_t r = r0; r < r1; ++r, dst += od[0]) {
            const int64_t iz = (r / od[1]) * s - p + kz, iy = (r % od[1]) * s - p + ky;
            if (iz < 0 || iz >= nz || iy < 0 || iy >= ny) {
              std::fill(dst, dst + od[0], 0.0f);
              continue;
            }
            const float* row = src + nx * (iy + ny * iz);
            if (s == 1) {  // a shifted copy between zero margins: no test per voxel
              const int64_t lo = std::clamp<int64_t>(p - kx, 0, od[0]), hi = std::clamp<int64_t>(nx + p - kx, lo, od[0]);
              std::fill(dst, dst + lo, 0.0f);
              std::copy(row + lo - p + kx, row + hi - p + kx, dst + lo);
              std::fill(dst + hi, dst + od[0], 0.0f);
              continue;
            }
            for (int64_t xo = 0; xo < od[0]; ++xo) {
              const int64_t ix = xo * s - p + kx;
              dst[xo] = ix >= 0 && ix < nx ? row[ix] : 0.0f;
            }
          }
        }
  }
}

// The adjoint of im2col: every column value added back onto the input voxel it came from.
void col2im_add(const float* col, const Conv3d& c, const std::array<int64_t, 3>& od, int64_t r0, int64_t r1, Tensor& dx) {
  const int64_t nx = dx.dims[0], ny = dx.dims[1], nz = dx.dims[2];
  const int64_t ncols = od[0] * (r1 - r0);
  const int k = c.k, s = c.stride, p = c.pad;
  for (int ci = 0; ci < c.in; ++ci) {
    float* dst_ch = dx.channel(ci);
    for (int kz = 0; kz < k; ++kz)
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx) {
          const float* src = col + static_cast<int64_t>(((ci * k + kz) * k + ky) * k + kx) * ncols;
          for (int64_t r = r0; r < r1; ++r, src += od[0]) {
            const int64_t iz = (r / od[1]) * s - p + kz, iy = (r % od[1]) * s - p + ky;
            if (iz < 0 || iz >= nz || iy < 0 || iy >= ny) continue;
            float* row = dst_ch + nx * (iy + ny * iz);
            if (s == 1) {
              const int64_t lo = std::clamp<int64_t>(p - kx, 0, od[0]), hi = std::clamp<int64_t>(nx + p - kx, lo, od[0]);
              const int64_t shift = kx - p;
              for (int64_t xo = lo; xo < hi; ++xo) row[xo + shift] += src[xo];
              continue;
            }
            for (int64_t xo = 0; xo < od[0]; ++xo) {
              const int64_t ix = xo * s - p + kx;
              if (ix >= 0 && ix < nx) row[ix] += src[xo];
            }
          }
        }
  }
}

// Rows per im2col block: the block's columns stay within about 1 MB (K x columns floats) so the GEMM reads
// them from cache; at least one row. A function of the shapes only.
int64_t rows_per_block(int64_t K, int64_t row_len) {
  const int64_t cols = std::clamp<int64_t>(262144 / std::max<int64_t>(1, K), 256, 8192);
  return std::max<int64_t>(1, cols / std::max<int64_t>(1, row_len));
}

// Sums over a channel in eight interleaved double partial sums added in a fixed order: the compiler
// vectorises them, and the result does not depend on threads. With b, the sum of a[i] * b[i]; with mean,
// of (a[i] - mean)^2.
double sum8(const float* a, int64_t n) {
  double p[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) p[l] += a[i + l];
  for (; i < n; ++i) p[i & 7] += a[i];
  return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}
double dot8(const float* a, const float* b, int64_t n) {
  double p[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) p[l] += static_cast<double>(a[i + l]) * b[i + l];
  for (; i < n; ++i) p[i & 7] += static_cast<double>(a[i]) * b[i];
  return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}
double squares8(const float* a, double mean, int64_t n) {
  double p[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) p[l] += (a[i + l] - mean) * (a[i + l] - mean);
  for (; i < n; ++i) p[i & 7] += (a[i] - mean) * (a[i] - mean);
  return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}

void check_input(const Conv3d& c, const Tensor& x) {
  if (x.channels != c.in)
    throw std::invalid_argument("convolution expects " + std::to_string(c.in) + " channels, got " +
                                std::to_string(x.channels));
  for (int a = 0; a < 3; ++a)
    if (x.dims[a] + 2 * c.pad < c.k) throw std::invalid_argument("convolution input smaller than its kernel");
}

}  // namespace

double SplitMix64::normal() {
  const double u = uniform_open(), v = uniform_open();
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}

Conv3d::Conv3d(int in_channels, int out_channels, int kernel, int stride_, int pad_)
    : in(in_channels), out(out_channels), k(kernel), stride(stride_), pad(pad_) {
  if (in < 1 || out < 1 || k < 1 || stride < 1 || pad < 0) throw std::invalid_argument("bad convolution shape");
  weight.resize(static_cast<size_t>(out) * in * k * k * k);
  bias.resize(static_cast<size_t>(out));
}

std::array<int64_t, 3> Conv3d::out_dims(const std::array<int64_t, 3>& d) const {
  std::array<int64_t, 3> o{};
  for (int a = 0; a < 3; ++a) o[a] = (d[a] + 2 * pad - k) / stride + 1;
  return o;
}

Tensor Conv3d::forward(const Tensor& x) const {
  check_input(*this, x);
  const auto od = out_dims(x.dims);
  Tensor y(out, od);
  if (is_direct(*this)) {
    direct::forward(x.v.data(), in, x.dims, weight.w.data(), bias.w.data(), out, y.v.data());
    return y;
  }
  const int64_t plane = od[0] * od[1], spatial_out = y.spatial(), K = static_cast<int64_t>(in) * k * k * k;
  const int64_t cz = slices_per_chunk(od, k, stride), chunks = (od[2] + cz - 1) / cz;
  const Eigen::Map<const RowMat> W(weight.w.data(), out, K);
  const Eigen::Map<const Eigen::VectorXf> b(bias.w.data(), out);
  tbb::enumerable_thread_specific<std::vector<float>> cols;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, chunks, 1), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t ch = r.begin(); ch < r.end(); ++ch) {
      const int64_t z0 = ch * cz, z1 = std::min(od[2], z0 + cz), ncols = plane * (z1 - z0);
      Strided Y(y.v.data() + z0 * plane, out, ncols, Eigen::OuterStride<>(spatial_out));
      if (is_pointwise(*this)) {
        const ConstStrided C(x.v.data() + z0 * plane, K, ncols, Eigen::OuterStride<>(x.spatial()));
        Y.noalias() = W * C;
      } else {
        auto& col = cols.local();
        const int64_t rb = rows_per_block(K, od[0]), row_end = z1 * od[1];
        col.resize(static_cast<size_t>(K * rb * od[0]));
        for (int64_t r0 = z0 * od[1]; r0 < row_end; r0 += rb) {
          const int64_t r1 = std::min(row_end, r0 + rb), n = (r1 - r0) * od[0];
          im2col(x, *this, od, r0, r1, col.data());
          const Eigen::Map<const RowMat> C(col.data(), K, n);
          Strided(y.v.data() + r0 * od[0], out, n, Eigen::OuterStride<>(spatial_out)).noalias() = W * C;
        }
      }
      Y.colwise() += b;
    }
  }, tbb::simple_partitioner());
  return y;
}

Tensor Conv3d::backward(const Tensor& x, const Tensor& dy) {
  check_input(*this, x);
  const auto od = out_dims(x.dims);
  if (dy.channels != out || dy.dims != od) throw std::invalid_argument("convolution gradient of the wrong shape");
  Tensor dx(in, x.dims);
  if (is_direct(*this)) {
    direct::input_grad(dy.v.data(), out, x.dims, weight.w.data(), in, dx.v.data());
    direct::weight_grad(x.v.data(), in, x.dims, dy.v.data(), out, weight.g.data(), bias.g.data());
    return dx;
  }
  const int64_t plane = od[0] * od[1], spatial_out = dy.spatial(), K = static_cast<int64_t>(in) * k * k * k;
  const int64_t cz = slices_per_chunk(od, k, stride), chunks = (od[2] + cz - 1) / cz;
  const Eigen::Map<const RowMat> W(weight.w.data(), out, K);
  // Per-chunk weight and bias gradients, added in chunk order afterwards.
  std::vector<std::vector<float>> dw(static_cast<size_t>(chunks)), db(static_cast<size_t>(chunks));
  tbb::enumerable_thread_specific<std::vector<float>> cols, dcols;
  const bool pointwise = is_pointwise(*this);
  auto run_chunk = [&](int64_t ch) {
    const int64_t z0 = ch * cz, z1 = std::min(od[2], z0 + cz), ncols = plane * (z1 - z0);
    const ConstStrided dY(dy.v.data() + z0 * plane, out, ncols, Eigen::OuterStride<>(spatial_out));
    auto& w_part = dw[static_cast<size_t>(ch)];
    auto& b_part = db[static_cast<size_t>(ch)];
    w_part.resize(static_cast<size_t>(out * K));
    b_part.resize(static_cast<size_t>(out));
    Eigen::Map<RowMat> dW(w_part.data(), out, K);
    Eigen::Map<Eigen::VectorXf>(b_part.data(), out) = dY.rowwise().sum();
    if (pointwise) {
      const ConstStrided C(x.v.data() + z0 * plane, K, ncols, Eigen::OuterStride<>(x.spatial()));
      dW.noalias() = dY * C.transpose();
      Strided dX(dx.v.data() + z0 * plane, K, ncols, Eigen::OuterStride<>(dx.spatial()));
      dX.noalias() = W.transpose() * dY;  // each input voxel belongs to one chunk: no overlap
      return;
    }
    // Blocks of rows in order: the chunk's weight gradient and its input gradient are summed in a fixed order.
    auto& col = cols.local();
    auto& dcol = dcols.local();
    const int64_t rb = rows_per_block(K, od[0]), row_end = z1 * od[1];
    col.resize(static_cast<size_t>(K * rb * od[0]));
    dcol.resize(static_cast<size_t>(K * rb * od[0]));
    dW.setZero();
    for (int64_t r0 = z0 * od[1]; r0 < row_end; r0 += rb) {
      const int64_t r1 = std::min(row_end, r0 + rb), n = (r1 - r0) * od[0];
      const ConstStrided dYb(dy.v.data() + r0 * od[0], out, n, Eigen::OuterStride<>(spatial_out));
      im2col(x, *this, od, r0, r1, col.data());
      const Eigen::Map<const RowMat> C(col.data(), K, n);
      dW.noalias() += dYb * C.transpose();
      Eigen::Map<RowMat> dC(dcol.data(), K, n);
      dC.noalias() = W.transpose() * dYb;
      col2im_add(dcol.data(), *this, od, r0, r1, dx);
    }
  };
  // Even chunks, then odd ones: chunks of one parity never touch the same input voxel.
  for (int parity = 0; parity < 2; ++parity) {
    const int64_t n = (chunks - parity + 1) / 2;
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 1), [&](const tbb::blocked_range<int64_t>& r) {
      for (int64_t t = r.begin(); t < r.end(); ++t) run_chunk(2 * t + parity);
    }, tbb::simple_partitioner());
  }
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const auto& w_part = dw[static_cast<size_t>(ch)];
    for (size_t t = 0; t < w_part.size(); ++t) weight.g[t] += w_part[t];
    const auto& b_part = db[static_cast<size_t>(ch)];
    for (size_t t = 0; t < b_part.size(); ++t) bias.g[t] += b_part[t];
  }
  return dx;
}

namespace {
bool is_polyphase(const Conv3d& c, const std::array<int64_t, 3>& coarse, const std::array<int64_t, 3>& fine) {
  return is_direct(c) && fine[0] == 2 * coarse[0] && fine[1] == 2 * coarse[1] && fine[2] == 2 * coarse[2];
}
}  // namespace

Tensor Conv3d::forward_up2(const Tensor& x, const std::array<int64_t, 3>& to) const {
  if (!is_polyphase(*this, x.dims, to)) return forward(upsample2(x, to));
  check_input(*this, x);
  Tensor y(out, to);
  direct::forward_up2(x.v.data(), in, x.dims, weight.w.data(), bias.w.data(), out, y.v.data());
  return y;
}

Tensor Conv3d::backward_up2(const Tensor& x, const Tensor& dy) {
  if (!is_polyphase(*this, x.dims, dy.dims)) return upsample2_backward(backward(upsample2(x, dy.dims), dy), x.dims);
  check_input(*this, x);
  if (dy.channels != out) throw std::invalid_argument("convolution gradient of the wrong shape");
  Tensor dx(in, x.dims);
  direct::backward_up2(x.v.data(), in, x.dims, dy.v.data(), out, weight.w.data(), dx.v.data(), weight.g.data(),
                       bias.g.data());
  return dx;
}

Tensor conv3d_naive(const Conv3d& c, const Tensor& x) {
  const auto od = c.out_dims(x.dims);
  Tensor y(c.out, od);
  for (int co = 0; co < c.out; ++co)
    for (int64_t z = 0; z < od[2]; ++z)
      for (int64_t yy = 0; yy < od[1]; ++yy)
        for (int64_t xx = 0; xx < od[0]; ++xx) {
          double sum = c.bias.w[static_cast<size_t>(co)];
          for (int ci = 0; ci < c.in; ++ci)
            for (int kz = 0; kz < c.k; ++kz)
              for (int ky = 0; ky < c.k; ++ky)
                for (int kx = 0; kx < c.k; ++kx) {
                  const int64_t iz = z * c.stride - c.pad + kz, iy = yy * c.stride - c.pad + ky,
                                ix = xx * c.stride - c.pad + kx;
                  if (ix < 0 || iy < 0 || iz < 0 || ix >= x.dims[0] || iy >= x.dims[1] || iz >= x.dims[2]) continue;
                  sum += static_cast<double>(c.weight.w[static_cast<size_t>((((co * c.in + ci) * c.k + kz) * c.k + ky) * c.k + kx)]) *
                         x.at(ci, ix, iy, iz);
                }
          y.at(co, xx, yy, z) = static_cast<float>(sum);
        }
  return y;
}

NormAct::NormAct(int c) : channels(c) {
  gamma.resize(static_cast<size_t>(c));
  beta.resize(static_cast<size_t>(c));
  std::fill(gamma.w.begin(), gamma.w.end(), 1.0f);
}

Tensor NormAct::forward(const Tensor& x, Cache* cache) const {
  if (x.channels != channels) throw std::invalid_argument("normalisation of the wrong channel count");
  Tensor y(channels, x.dims);
  const int64_t n = x.spatial();
  if (cache) {
    cache->xhat = Tensor(channels, x.dims);
    cache->inv_std.assign(static_cast<size_t>(channels), 0.0f);
  }
  tbb::parallel_for(0, channels, [&](int c) {
    const float* in = x.channel(c);
    const double mean = sum8(in, n) / static_cast<double>(n);
    const double sq = squares8(in, mean, n);
    const float inv = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(n) + eps));
    const float g = gamma.w[static_cast<size_t>(c)], b = beta.w[static_cast<size_t>(c)], m = static_cast<float>(mean);
    const float leak = slope;  // a local: the stores below cannot change it, so the loops vectorise
    float* __restrict out = y.channel(c);
    if (cache) {
      float* __restrict xh = cache->xhat.channel(c);
      for (int64_t i = 0; i < n; ++i) {
        const float h = (in[i] - m) * inv, v = g * h + b;
        xh[i] = h;
        out[i] = std::max(v, 0.0f) + leak * std::min(v, 0.0f);  // leaky ReLU without a branch: vectorises
      }
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const float v = g * ((in[i] - m) * inv) + b;
        out[i] = std::max(v, 0.0f) + leak * std::min(v, 0.0f);
      }
    }
    if (cache) cache->inv_std[static_cast<size_t>(c)] = inv;
  });
  return y;
}

Tensor NormAct::backward(const Cache& cache, const Tensor& dy) {
  Tensor dx(channels, dy.dims);
  const int64_t n = dy.spatial();
  std::vector<double> dg(static_cast<size_t>(channels)), dbeta(static_cast<size_t>(channels));
  tbb::parallel_for(0, channels, [&](int c) {
    const float* h = cache.xhat.channel(c);
    const float* d = dy.channel(c);
    float* __restrict out = dx.channel(c);
    const float g = gamma.w[static_cast<size_t>(c)], b = beta.w[static_cast<size_t>(c)], leak = slope;
    for (int64_t i = 0; i < n; ++i) {
      const float v = g * h[i] + b;
      out[i] = d[i] * (v > 0 ? 1.0f : leak);  // dL/dv for now
    }
    const double sum_d = sum8(out, n), sum_dh = dot8(out, h, n);
    dg[static_cast<size_t>(c)] = sum_dh;
    dbeta[static_cast<size_t>(c)] = sum_d;
    // dL/dxhat = g dv; dL/dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat)).
    const float inv = cache.inv_std[static_cast<size_t>(c)];
    const float mean_d = static_cast<float>(g * sum_d / static_cast<double>(n));
    const float mean_dh = static_cast<float>(g * sum_dh / static_cast<double>(n));
    for (int64_t i = 0; i < n; ++i) out[i] = inv * (g * out[i] - mean_d - h[i] * mean_dh);
  });
  for (int c = 0; c < channels; ++c) {
    gamma.g[static_cast<size_t>(c)] += static_cast<float>(dg[static_cast<size_t>(c)]);
    beta.g[static_cast<size_t>(c)] += static_cast<float>(dbeta[static_cast<size_t>(c)]);
  }
  return dx;
}

Tensor upsample2(const Tensor& x, const std::array<int64_t, 3>& to) {
  Tensor y(x.channels, to);
  tbb::parallel_for(0, x.channels, [&](int c) {
    for (int64_t k = 0; k < to[2]; ++k) {
      const int64_t sk = std::min(k / 2, x.dims[2] - 1);
      for (int64_t j = 0; j < to[1]; ++j) {
        const int64_t sj = std::min(j / 2, x.dims[1] - 1);
        for (int64_t i = 0; i < to[0]; ++i) y.at(c, i, j, k) = x.at(c, std::min(i / 2, x.dims[0] - 1), sj, sk);
      }
    }
  });
  return y;
}

Tensor upsample2_backward(const Tensor& dy, const std::array<int64_t, 3>& from) {
  Tensor dx(dy.channels, from);
  tbb::parallel_for(0, dy.channels, [&](int c) {
    for (int64_t k = 0; k < dy.dims[2]; ++k) {
      const int64_t sk = std::min(k / 2, from[2] - 1);
      for (int64_t j = 0; j < dy.dims[1]; ++j) {
        const int64_t sj = std::min(j / 2, from[1] - 1);
        for (int64_t i = 0; i < dy.dims[0]; ++i) dx.at(c, std::min(i / 2, from[0] - 1), sj, sk) += dy.at(c, i, j, k);
      }
    }
  });
  return dx;
}

Tensor concat(const Tensor& a, const Tensor& b) {
  if (a.dims != b.dims) throw std::invalid_argument("concatenation of maps of different dims");
  Tensor y(a.channels + b.channels, a.dims);
  std::copy(a.v.begin(), a.v.end(), y.v.begin());
  std::copy(b.v.begin(), b.v.end(), y.v.begin() + static_cast<std::ptrdiff_t>(a.v.size()));
  return y;
}

void split(const Tensor& ab, int a_channels, Tensor& da, Tensor& db) {
  da = Tensor(a_channels, ab.dims);
  db = Tensor(ab.channels - a_channels, ab.dims);
  std::copy(ab.v.begin(), ab.v.begin() + static_cast<std::ptrdiff_t>(da.v.size()), da.v.begin());
  std::copy(ab.v.begin() + static_cast<std::ptrdiff_t>(da.v.size()), ab.v.end(), db.v.begin());
}

LossParts dice_bce(const Tensor& logits, const std::vector<float>& target, Tensor* dlogits) {
  const int64_t n = logits.spatial();
  if (logits.channels != 1 || static_cast<int64_t>(target.size()) != n)
    throw std::invalid_argument("loss: one logit channel and one target per voxel are needed");
  const float* z = logits.channel(0);
  double bce = 0, sp = 0, st = 0, spt = 0;
  std::vector<float> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double zi = z[i], t = target[static_cast<size_t>(i)];
    bce += std::max(zi, 0.0) - zi * t + std::log1p(std::exp(-std::fabs(zi)));
    const double pi = 1.0 / (1.0 + std::exp(-zi));
    p[static_cast<size_t>(i)] = static_cast<float>(pi);
    sp += pi, st += t, spt += pi * t;
  }
  const double den = sp + st + 1.0, num = 2.0 * spt + 1.0;
  LossParts out;
  out.bce = bce / static_cast<double>(n);
  out.dice = 1.0 - num / den;
  if (dlogits) {
    *dlogits = Tensor(1, logits.dims);
    float* d = dlogits->channel(0);
    for (int64_t i = 0; i < n; ++i) {
      const double pi = p[static_cast<size_t>(i)], t = target[static_cast<size_t>(i)];
      const double ddice_dp = -(2.0 * t * den - num) / (den * den);
      d[i] = static_cast<float>((pi - t) / static_cast<double>(n) + ddice_dp * pi * (1.0 - pi));
    }
  }
  return out;
}

}  // namespace lb::baseline::cnn
