#include "imaging/resample.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace lb::imaging {

Factors working_factors(const std::array<double, 3>& native_spacing_mm, const std::array<double, 3>& target_mm) {
  Factors f{};
  for (int a = 0; a < 3; ++a) {
    const double ratio = native_spacing_mm[a] > 0 ? target_mm[a] / native_spacing_mm[a] : 1.0;
    f[a] = std::max(1, static_cast<int>(std::floor(ratio + 0.5)));
  }
  return f;
}

Grid working_grid(const Grid& native, const Factors& f) {
  Grid g;
  for (int a = 0; a < 3; ++a) {
    g.dims[a] = (native.dims[a] + f[a] - 1) / f[a];
    g.spacing_mm[a] = native.spacing_mm[a] * f[a];
  }
  return g;
}

template <class T>
VolumeF downsample_mean(const T* native, const Grid& ng, const Factors& f, float lo, float hi) {
  VolumeF out(working_grid(ng, f));
  const auto wn = out.grid.dims;
  const auto nn = ng.dims;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, wn[2]), [&](const tbb::blocked_range<int64_t>& range) {
    std::vector<double> row_sum(static_cast<size_t>(wn[0]));
    std::vector<int> row_count(static_cast<size_t>(wn[0]));
    for (int64_t K = range.begin(); K < range.end(); ++K)
      for (int64_t J = 0; J < wn[1]; ++J) {
        std::fill(row_sum.begin(), row_sum.end(), 0.0);
        std::fill(row_count.begin(), row_count.end(), 0);
        for (int64_t k = K * f[2]; k < std::min(nn[2], (K + 1) * f[2]); ++k)
          for (int64_t j = J * f[1]; j < std::min(nn[1], (J + 1) * f[1]); ++j) {
            const T* src = native + ng.index(0, j, k);
            for (int64_t i = 0; i < nn[0]; ++i) {
              const float v = std::clamp(static_cast<float>(src[i]), lo, hi);
              row_sum[static_cast<size_t>(i / f[0])] += v;
              row_count[static_cast<size_t>(i / f[0])] += 1;
            }
          }
        float* dst = out.data() + out.grid.index(0, J, K);
        for (int64_t I = 0; I < wn[0]; ++I)
          dst[I] = static_cast<float>(row_sum[static_cast<size_t>(I)] / row_count[static_cast<size_t>(I)]);
      }
  });
  return out;
}

template VolumeF downsample_mean<uint8_t>(const uint8_t*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<int8_t>(const int8_t*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<int16_t>(const int16_t*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<uint16_t>(const uint16_t*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<int32_t>(const int32_t*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<uint32_t>(const uint32_t*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<int64_t>(const int64_t*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<uint64_t>(const uint64_t*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<float>(const float*, const Grid&, const Factors&, float, float);
template VolumeF downsample_mean<double>(const double*, const Grid&, const Factors&, float, float);

namespace {

// Where native index n falls between working samples along one axis: lower sample and weight of the upper.
struct Tap {
  int64_t lo, hi;
  float w_hi;
};

std::vector<Tap> taps(int64_t native_n, int64_t work_n, int f) {
  std::vector<Tap> t(static_cast<size_t>(native_n));
  for (int64_t n = 0; n < native_n; ++n) {
    const double x = (n + 0.5) / f - 0.5;  // position in working-voxel units
    if (x <= 0 || work_n == 1) { t[static_cast<size_t>(n)] = {0, 0, 0.0f}; continue; }
    if (x >= work_n - 1) { t[static_cast<size_t>(n)] = {work_n - 1, work_n - 1, 0.0f}; continue; }
    const int64_t lo = static_cast<int64_t>(std::floor(x));
    t[static_cast<size_t>(n)] = {lo, lo + 1, static_cast<float>(x - lo)};
  }
  return t;
}

}  // namespace

VolumeF upsample_linear(const VolumeF& coarse, const Factors& f, const Grid& fine) {
  const auto cn = coarse.grid.dims;
  const auto fn = fine.dims;
  const auto t0 = taps(fn[0], cn[0], f[0]), t1 = taps(fn[1], cn[1], f[1]), t2 = taps(fn[2], cn[2], f[2]);
  VolumeF out(fine);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, fn[2]), [&](const tbb::blocked_range<int64_t>& range) {
    for (int64_t k = range.begin(); k < range.end(); ++k)
      for (int64_t j = 0; j < fn[1]; ++j) {
        const Tap a = t1[static_cast<size_t>(j)], b = t2[static_cast<size_t>(k)];
        const float* p00 = coarse.data() + (a.lo + cn[1] * b.lo) * cn[0];
        const float* p10 = coarse.data() + (a.hi + cn[1] * b.lo) * cn[0];
        const float* p01 = coarse.data() + (a.lo + cn[1] * b.hi) * cn[0];
        const float* p11 = coarse.data() + (a.hi + cn[1] * b.hi) * cn[0];
        float* dst = out.data() + fine.index(0, j, k);
        for (int64_t i = 0; i < fn[0]; ++i) {
          const Tap c = t0[static_cast<size_t>(i)];
          auto lerp2 = [&](int64_t x) {
            const float lo = p00[x] + a.w_hi * (p10[x] - p00[x]);
            const float hi = p01[x] + a.w_hi * (p11[x] - p01[x]);
            return lo + b.w_hi * (hi - lo);
          };
          const float v0 = lerp2(c.lo), v1 = lerp2(c.hi);
          dst[i] = v0 + c.w_hi * (v1 - v0);
        }
      }
  });
  return out;
}

void upsample_threshold(const VolumeF& work, const Factors& f, const Grid& native, float threshold, uint8_t* out) {
  const auto wn = work.grid.dims;
  const auto nn = native.dims;
  const auto t0 = taps(nn[0], wn[0], f[0]), t1 = taps(nn[1], wn[1], f[1]), t2 = taps(nn[2], wn[2], f[2]);
  // Rows of the working grid with any value that could reach the threshold: most rows of a scan have none.
  std::vector<uint8_t> row_live(static_cast<size_t>(wn[1] * wn[2]));
  for (int64_t r = 0; r < wn[1] * wn[2]; ++r) {
    const float* row = work.data() + r * wn[0];
    row_live[static_cast<size_t>(r)] = std::any_of(row, row + wn[0], [&](float v) { return v >= threshold; });
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, nn[2]), [&](const tbb::blocked_range<int64_t>& range) {
    for (int64_t k = range.begin(); k < range.end(); ++k)
      for (int64_t j = 0; j < nn[1]; ++j) {
        uint8_t* dst = out + native.index(0, j, k);
        const Tap a = t1[static_cast<size_t>(j)], b = t2[static_cast<size_t>(k)];
        const int64_t r00 = a.lo + wn[1] * b.lo, r10 = a.hi + wn[1] * b.lo, r01 = a.lo + wn[1] * b.hi,
                      r11 = a.hi + wn[1] * b.hi;
        // Interpolation is a convex combination: a value >= threshold needs a source row that has one.
        if (!row_live[static_cast<size_t>(r00)] && !row_live[static_cast<size_t>(r10)] &&
            !row_live[static_cast<size_t>(r01)] && !row_live[static_cast<size_t>(r11)]) {
          std::fill(dst, dst + nn[0], uint8_t{0});
          continue;
        }
        const float* p00 = work.data() + r00 * wn[0];
        const float* p10 = work.data() + r10 * wn[0];
        const float* p01 = work.data() + r01 * wn[0];
        const float* p11 = work.data() + r11 * wn[0];
        const float wa = a.w_hi, wb = b.w_hi;
        for (int64_t i = 0; i < nn[0]; ++i) {
          const Tap c = t0[static_cast<size_t>(i)];
          auto lerp2 = [&](int64_t x) {
            const float lo = p00[x] + wa * (p10[x] - p00[x]);
            const float hi = p01[x] + wa * (p11[x] - p01[x]);
            return lo + wb * (hi - lo);
          };
          const float v0 = lerp2(c.lo), v1 = lerp2(c.hi);
          dst[i] = (v0 + c.w_hi * (v1 - v0)) >= threshold ? 1 : 0;
        }
      }
  });
}

}  // namespace lb::imaging
