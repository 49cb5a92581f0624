#include "imaging/filters.h"

#include "imaging/resample.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace lb::imaging {

std::vector<float> gaussian_kernel(double sigma_voxels) {
  if (!(sigma_voxels >= 0.05)) return {1.0f};
  const int r = static_cast<int>(std::ceil(3.0 * sigma_voxels));
  std::vector<double> w(static_cast<size_t>(2 * r + 1));
  double sum = 0;
  for (int t = -r; t <= r; ++t) sum += w[static_cast<size_t>(t + r)] = std::exp(-0.5 * t * t / (sigma_voxels * sigma_voxels));
  std::vector<float> k(w.size());
  for (size_t t = 0; t < w.size(); ++t) k[t] = static_cast<float>(w[t] / sum);
  return k;
}

namespace {

inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// One 1-D convolution pass along `axis`, edge values repeated.
void convolve_axis(const float* in, float* out, const std::array<int64_t, 3>& n, int axis, const std::vector<float>& w) {
  const int64_t r = static_cast<int64_t>(w.size() / 2);
  const int64_t n0 = n[0], n1 = n[1], n2 = n[2];
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n2), [&](const tbb::blocked_range<int64_t>& range) {
    std::vector<float> pad;
    for (int64_t k = range.begin(); k < range.end(); ++k) {
      if (axis == 0) {
        pad.resize(static_cast<size_t>(n0 + 2 * r));
        for (int64_t j = 0; j < n1; ++j) {
          const float* src = in + (k * n1 + j) * n0;
          float* dst = out + (k * n1 + j) * n0;
          for (int64_t t = 0; t < r; ++t) {
            pad[static_cast<size_t>(t)] = src[0];
            pad[static_cast<size_t>(n0 + r + t)] = src[n0 - 1];
          }
          std::copy(src, src + n0, pad.begin() + r);
          // Taps outside, voxels inside: the inner loop runs along the row and vectorises.
          std::fill(dst, dst + n0, 0.0f);
          for (int64_t t = 0; t <= 2 * r; ++t) {
            const float wt = w[static_cast<size_t>(t)];
            const float* p = pad.data() + t;
            for (int64_t i = 0; i < n0; ++i) dst[i] += wt * p[i];
          }
        }
      } else {
        for (int64_t j = 0; j < n1; ++j) {
          float* dst = out + (k * n1 + j) * n0;
          std::fill(dst, dst + n0, 0.0f);
          for (int64_t t = -r; t <= r; ++t) {
            const float wt = w[static_cast<size_t>(t + r)];
            const float* src = axis == 1 ? in + (k * n1 + clamp64(j + t, 0, n1 - 1)) * n0
                                         : in + (clamp64(k + t, 0, n2 - 1) * n1 + j) * n0;
            for (int64_t i = 0; i < n0; ++i) dst[i] += wt * src[i];
          }
        }
      }
    }
  });
}

}  // namespace

VolumeF gaussian(const VolumeF& in, double sigma_mm) { return gaussian(in, {sigma_mm, sigma_mm, sigma_mm}); }

VolumeF gaussian(const VolumeF& in, const std::array<double, 3>& sigma_mm) {
  VolumeF a = in, b(in.grid);
  for (int axis = 0; axis < 3; ++axis) {
    const auto w = gaussian_kernel(sigma_mm[axis] / in.grid.spacing_mm[axis]);
    if (w.size() == 1 || in.grid.dims[axis] == 1) continue;
    convolve_axis(a.data(), b.data(), in.grid.dims, axis, w);
    std::swap(a.v, b.v);
  }
  return a;
}

namespace {

// The coarse grid of the multigrid filters and the σ left to apply on it.
bool coarse_plan(const Grid& g, double sigma_mm, Factors& f, std::array<double, 3>& sigma) {
  bool coarse = false;
  for (int a = 0; a < 3; ++a) {
    f[a] = std::max(1, static_cast<int>(std::floor(sigma_mm / (1.5 * g.spacing_mm[a]))));
    if (g.dims[a] < 4 * f[a]) f[a] = 1;  // too few voxels to be worth it
    coarse |= f[a] > 1;
    // A block mean of f samples already blurs with variance (f² - 1)/12 samples².
    const double s = g.spacing_mm[a];
    sigma[a] = std::sqrt(std::max(0.0, sigma_mm * sigma_mm - (f[a] * f[a] - 1) / 12.0 * s * s));
  }
  return coarse;
}

VolumeF block_mean(const VolumeF& in, const Factors& f) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  return downsample_mean(in.data(), in.grid, f, -inf, inf);
}

}  // namespace

VolumeF gaussian_multigrid(const VolumeF& in, double sigma_mm) {
  Factors f{};
  std::array<double, 3> sigma{};
  if (!coarse_plan(in.grid, sigma_mm, f, sigma)) return gaussian(in, sigma_mm);
  return upsample_linear(gaussian(block_mean(in, f), sigma), f, in.grid);
}

void hessian_eigenvalues_multigrid(const VolumeF& in, double sigma_mm, VolumeF& e1, VolumeF& e2, VolumeF& e3) {
  Factors f{};
  std::array<double, 3> sigma{};
  if (!coarse_plan(in.grid, sigma_mm, f, sigma)) {
    hessian_eigenvalues(gaussian(in, sigma_mm), e1, e2, e3);
    return;
  }
  VolumeF c1, c2, c3;
  hessian_eigenvalues(gaussian(block_mean(in, f), sigma), c1, c2, c3);
  e1 = upsample_linear(c1, f, in.grid);
  e2 = upsample_linear(c2, f, in.grid);
  e3 = upsample_linear(c3, f, in.grid);
}

VolumeF gradient_magnitude(const VolumeF& f) {
  VolumeF out(f.grid);
  const auto n = f.grid.dims;
  const int64_t stride[3] = {1, n[0], n[0] * n[1]};
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n[2]), [&](const tbb::blocked_range<int64_t>& range) {
    for (int64_t k = range.begin(); k < range.end(); ++k)
      for (int64_t j = 0; j < n[1]; ++j)
        for (int64_t i = 0; i < n[0]; ++i) {
          const int64_t idx[3] = {i, j, k};
          const int64_t at = f.grid.index(i, j, k);
          double sum = 0;
          for (int a = 0; a < 3; ++a) {
            if (n[a] == 1) continue;
            const int64_t lo = idx[a] > 0 ? at - stride[a] : at;
            const int64_t hi = idx[a] < n[a] - 1 ? at + stride[a] : at;
            const double steps = (idx[a] > 0) + (idx[a] < n[a] - 1);
            const double d = (f.v[static_cast<size_t>(hi)] - f.v[static_cast<size_t>(lo)]) / (steps * f.grid.spacing_mm[a]);
            sum += d * d;
          }
          out.v[static_cast<size_t>(at)] = static_cast<float>(std::sqrt(sum));
        }
  });
  return out;
}

VolumeF laplacian(const VolumeF& f) {
  VolumeF out(f.grid);
  const auto n = f.grid.dims;
  const int64_t stride[3] = {1, n[0], n[0] * n[1]};
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n[2]), [&](const tbb::blocked_range<int64_t>& range) {
    for (int64_t k = range.begin(); k < range.end(); ++k)
      for (int64_t j = 0; j < n[1]; ++j)
        for (int64_t i = 0; i < n[0]; ++i) {
          const int64_t idx[3] = {i, j, k};
          const int64_t at = f.grid.index(i, j, k);
          const float c = f.v[static_cast<size_t>(at)];
          double sum = 0;
          for (int a = 0; a < 3; ++a) {
            const float lo = idx[a] > 0 ? f.v[static_cast<size_t>(at - stride[a])] : c;
            const float hi = idx[a] < n[a] - 1 ? f.v[static_cast<size_t>(at + stride[a])] : c;
            sum += (double(hi) - 2.0 * c + lo) / (f.grid.spacing_mm[a] * f.grid.spacing_mm[a]);
          }
          out.v[static_cast<size_t>(at)] = static_cast<float>(sum);
        }
  });
  return out;
}

std::array<double, 3> symmetric_eigenvalues(double a00, double a11, double a22, double a01, double a02, double a12) {
  // Closed form for symmetric matrices (Smith 1961): eigenvalues q + 2p cos(phi + 2πk/3).
  const double off = a01 * a01 + a02 * a02 + a12 * a12;
  if (off <= 1e-30 * (a00 * a00 + a11 * a11 + a22 * a22) || off == 0) {
    std::array<double, 3> e{a00, a11, a22};
    std::sort(e.begin(), e.end());
    return e;
  }
  const double q = (a00 + a11 + a22) / 3;
  const double b00 = a00 - q, b11 = a11 - q, b22 = a22 - q;
  const double p = std::sqrt((b00 * b00 + b11 * b11 + b22 * b22 + 2 * off) / 6);
  const double det = b00 * (b11 * b22 - a12 * a12) - a01 * (a01 * b22 - a12 * a02) + a02 * (a01 * a12 - b11 * a02);
  const double r = std::clamp(det / (2 * p * p * p), -1.0, 1.0);
  const double phi = std::acos(r) / 3;
  const double big = q + 2 * p * std::cos(phi);
  const double small = q + 2 * p * std::cos(phi + 2.0943951023931954923);  // + 2π/3
  return {small, 3 * q - big - small, big};
}

void hessian_eigenvalues(const VolumeF& f, VolumeF& e1, VolumeF& e2, VolumeF& e3) {
  e1 = VolumeF(f.grid), e2 = VolumeF(f.grid), e3 = VolumeF(f.grid);
  const auto n = f.grid.dims;
  const auto h = f.grid.spacing_mm;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n[2]), [&](const tbb::blocked_range<int64_t>& range) {
    for (int64_t k = range.begin(); k < range.end(); ++k)
      for (int64_t j = 0; j < n[1]; ++j)
        for (int64_t i = 0; i < n[0]; ++i) {
          auto v = [&](int64_t di, int64_t dj, int64_t dk) {
            return double(f.at(clamp64(i + di, 0, n[0] - 1), clamp64(j + dj, 0, n[1] - 1), clamp64(k + dk, 0, n[2] - 1)));
          };
          const double c = v(0, 0, 0);
          const double dxx = (v(1, 0, 0) - 2 * c + v(-1, 0, 0)) / (h[0] * h[0]);
          const double dyy = (v(0, 1, 0) - 2 * c + v(0, -1, 0)) / (h[1] * h[1]);
          const double dzz = (v(0, 0, 1) - 2 * c + v(0, 0, -1)) / (h[2] * h[2]);
          const double dxy = (v(1, 1, 0) - v(1, -1, 0) - v(-1, 1, 0) + v(-1, -1, 0)) / (4 * h[0] * h[1]);
          const double dxz = (v(1, 0, 1) - v(1, 0, -1) - v(-1, 0, 1) + v(-1, 0, -1)) / (4 * h[0] * h[2]);
          const double dyz = (v(0, 1, 1) - v(0, 1, -1) - v(0, -1, 1) + v(0, -1, -1)) / (4 * h[1] * h[2]);
          const auto e = symmetric_eigenvalues(dxx, dyy, dzz, dxy, dxz, dyz);
          const size_t at = static_cast<size_t>(f.grid.index(i, j, k));
          e1.v[at] = static_cast<float>(e[0]);
          e2.v[at] = static_cast<float>(e[1]);
          e3.v[at] = static_cast<float>(e[2]);
        }
  });
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Lower envelope of parabolas: d[p] = min_q weight*(p-q)² + f[q], over n samples (f may hold +inf).
void envelope_1d(const double* f, double* d, int64_t n, double weight, int64_t* v, double* z) {
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf) continue;
    while (k >= 0) {
      const double s = ((f[q] + weight * q * q) - (f[v[k]] + weight * v[k] * v[k])) / (2.0 * weight * (q - v[k]));
      if (s <= z[k]) --k; else { ++k; v[k] = q; z[k] = s; z[k + 1] = kInf; break; }
    }
    if (k < 0) { k = 0; v[0] = q; z[0] = -kInf; z[1] = kInf; }
  }
  if (k < 0) {
    std::fill(d, d + n, kInf);
    return;
  }
  int64_t j = 0;
  for (int64_t p = 0; p < n; ++p) {
    while (z[j + 1] < p) ++j;
    d[p] = weight * (p - v[j]) * (p - v[j]) + f[v[j]];
  }
}

}  // namespace

VolumeF distance_mm(const VolumeU8& mask, float cap_mm) {
  const auto n = mask.grid.dims;
  const int64_t stride[3] = {1, n[0], n[0] * n[1]};
  std::vector<double> sq(static_cast<size_t>(mask.size()));
  for (size_t t = 0; t < sq.size(); ++t) sq[t] = mask.v[t] ? 0.0 : kInf;
  for (int axis = 0; axis < 3; ++axis) {
    const int a1 = axis == 0 ? 1 : 0, a2 = axis == 2 ? 1 : 2;  // the two other axes
    const double weight = mask.grid.spacing_mm[axis] * mask.grid.spacing_mm[axis];
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n[a2]), [&](const tbb::blocked_range<int64_t>& range) {
      const size_t len = static_cast<size_t>(n[axis]);
      std::vector<double> f(len), d(len), z(len + 1);
      std::vector<int64_t> v(len);
      for (int64_t c2 = range.begin(); c2 < range.end(); ++c2)
        for (int64_t c1 = 0; c1 < n[a1]; ++c1) {
          const int64_t base = c1 * stride[a1] + c2 * stride[a2];
          for (size_t p = 0; p < len; ++p) f[p] = sq[static_cast<size_t>(base + static_cast<int64_t>(p) * stride[axis])];
          envelope_1d(f.data(), d.data(), n[axis], weight, v.data(), z.data());
          for (size_t p = 0; p < len; ++p) sq[static_cast<size_t>(base + static_cast<int64_t>(p) * stride[axis])] = d[p];
        }
    });
  }
  VolumeF out(mask.grid);
  const double cap2 = double(cap_mm) * cap_mm;
  for (size_t t = 0; t < sq.size(); ++t) out.v[t] = sq[t] >= cap2 ? cap_mm : static_cast<float>(std::sqrt(sq[t]));
  return out;
}

}  // namespace lb::imaging
