// Direct 3x3x3 convolution kernels (see cnn_direct.h). The input is first copied into a zero-padded volume
// (one voxel on every side, rows rounded up to whole vectors), so every tap is a plain unaligned load with no
// bounds test. Forward and input gradient: register blocks of 6 output channels x 16 voxels of a row (12
// accumulators), one broadcast weight per output channel and tap. Weight gradient: 4 output channels x the 3
// taps along x for one (input channel, kz, ky), summed over a chunk's voxels.
#include "baseline/cnn_direct.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LB_CNN_DIRECT 1
#define LB_AVX2 __attribute__((target("avx2,fma")))
#else
#define LB_CNN_DIRECT 0
#endif

namespace lb::baseline::cnn::direct {

namespace {

bool cpu_has_avx2_fma() {
#if LB_CNN_DIRECT
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool g_enabled = cpu_has_avx2_fma();

constexpr int kTaps = 27;
constexpr int kCo = 6;   // output channels per forward register block
constexpr int kCoW = 4;  // output channels per weight-gradient register block
constexpr int kSparseTaps = 8;  // taps per output of the polyphase form (2 per axis)

// Polyphase form of "upsample by 2 (nearest), then 3x3x3 convolution": along an axis, the fine output 2m + p
// reads fine voxels 2m + p - 1 .. 2m + p + 1, which are coarse voxels m - 1, m, m (p = 0) or m, m, m + 1
// (p = 1). kCoarseTap[p][k] is where fine tap k lands, as a coarse tap index 0..2 (offset -1..+1); each
// parity uses two of them, p and p + 1.
constexpr int kCoarseTap[2][3] = {{0, 1, 1}, {1, 1, 2}};

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// C channels of a volume with one zero voxel on every side; rows of px floats, px a multiple of 8 with room
// for a 16-wide block starting at any x below nx plus its two taps to the right.
struct Padded {
  int64_t px = 0, py = 0, pz = 0, channel = 0;
  std::vector<float> v;
  Padded(const float* x, int c, const std::array<int64_t, 3>& d)
      : px(round_up(d[0], 16) + 8), py(d[1] + 2), pz(d[2] + 2), channel(px * py * pz),
        v(static_cast<size_t>(c * channel), 0.0f) {
    const int64_t nx = d[0], ny = d[1], nz = d[2];
    tbb::parallel_for(int64_t{0}, c * nz, [&](int64_t ck) {
      const int64_t ch = ck / nz, k = ck % nz;
      for (int64_t j = 0; j < ny; ++j) {
        const float* src = x + ch * nx * ny * nz + nx * (j + ny * k);
        std::copy(src, src + nx, v.data() + ch * channel + ((k + 1) * py + (j + 1)) * px + 1);
      }
    });
  }
  // The row of padded coordinates (j, k) of channel ch: real row (j - 1, k - 1), starting at real x = -1.
  const float* row(int ch, int64_t j, int64_t k) const { return v.data() + ch * channel + (k * py + j) * px; }
};

// Weights regrouped for the row kernel: [block of kCo outputs][input][tap][kCo] for T taps, zeros past the
// last output. get(o, i, t) is the weight from input i to output o at tap t.
template <int T, class Get>
std::vector<float> pack(int out, int in, Get get) {
  const int blocks = (out + kCo - 1) / kCo;
  std::vector<float> p(static_cast<size_t>(blocks) * in * T * kCo, 0.0f);
  for (int b = 0; b < blocks; ++b)
    for (int i = 0; i < in; ++i)
      for (int t = 0; t < T; ++t)
        for (int c = 0; c < kCo && b * kCo + c < out; ++c)
          p[((static_cast<size_t>(b) * in + i) * T + t) * kCo + c] = get(b * kCo + c, i, t);
  return p;
}

// The effective weights of every parity: eff[((P * out + o) * in + i) * 8 + t] is the sum of the fine taps of
// w ([out][in][27]) that land on coarse tap t of parity P, collapsed one axis at a time.
std::vector<float> effective_weights(const float* w, int in, int out) {
  std::vector<float> eff(static_cast<size_t>(8 * out * in * kSparseTaps), 0.0f);
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i) {
      const float* k = w + (static_cast<size_t>(o) * in + i) * kTaps;
      for (int P = 0; P < 8; ++P) {
        float* e = eff.data() + ((static_cast<size_t>(P) * out + o) * in + i) * kSparseTaps;
        const int pz = P >> 2, py = (P >> 1) & 1, px = P & 1;
        for (int kz = 0; kz < 3; ++kz)
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int t = 4 * (kCoarseTap[pz][kz] - pz) + 2 * (kCoarseTap[py][ky] - py) + (kCoarseTap[px][kx] - px);
              e[t] += k[(kz * 3 + ky) * 3 + kx];
            }
      }
    }
  return eff;
}

// The 8 parity planes of a fine volume (dims 2 c) as coarse volumes: planes[P][ch] = fine[ch] at parity P.
std::vector<float> deinterleave(const float* fine, int channels, const std::array<int64_t, 3>& c) {
  const int64_t cs = c[0] * c[1] * c[2], fx = 2 * c[0], fy = 2 * c[1];
  std::vector<float> planes(static_cast<size_t>(8 * channels * cs));
  tbb::parallel_for(int64_t{0}, channels * 2 * c[2], [&](int64_t task) {
    const int64_t ch = task / (2 * c[2]), fz = task % (2 * c[2]);
    for (int64_t fyy = 0; fyy < fy; ++fyy)
      for (int64_t fxx = 0; fxx < fx; ++fxx) {
        const int P = static_cast<int>(4 * (fz & 1) + 2 * (fyy & 1) + (fxx & 1));
        planes[static_cast<size_t>((P * channels + ch) * cs + ((fz >> 1) * c[1] + (fyy >> 1)) * c[0] + (fxx >> 1))] =
            fine[(ch * 2 * c[2] + fz) * fy * fx + fyy * fx + fxx];
      }
  });
  return planes;
}

// The inverse: planes[P][ch] (coarse dims c) back into one fine volume per channel.
void interleave(const float* planes, int channels, const std::array<int64_t, 3>& c, float* fine) {
  const int64_t cs = c[0] * c[1] * c[2], fx = 2 * c[0], fy = 2 * c[1];
  tbb::parallel_for(int64_t{0}, channels * 2 * c[2], [&](int64_t task) {
    const int64_t ch = task / (2 * c[2]), fz = task % (2 * c[2]);
    for (int64_t fyy = 0; fyy < fy; ++fyy)
      for (int64_t fxx = 0; fxx < fx; ++fxx) {
        const int P = static_cast<int>(4 * (fz & 1) + 2 * (fyy & 1) + (fxx & 1));
        fine[(ch * 2 * c[2] + fz) * fy * fx + fyy * fx + fxx] =
            planes[static_cast<size_t>((P * channels + ch) * cs + ((fz >> 1) * c[1] + (fyy >> 1)) * c[0] + (fxx >> 1))];
      }
  });
}

// Slices per weight-gradient chunk, about 4096 voxels each: a function of the shapes only.
int64_t slices_per_chunk(const std::array<int64_t, 3>& d) {
  return std::clamp<int64_t>(4096 / std::max<int64_t>(1, d[0] * d[1]), 1, d[2]);
}

// db += the bias gradient, summed per chunk of slices and then over chunks in order.
void bias_grad(const float* dy, int out, const std::array<int64_t, 3>& d, float* db) {
  const int64_t plane = d[0] * d[1], spatial = plane * d[2], cz = slices_per_chunk(d);
  const int64_t chunks = (d[2] + cz - 1) / cz;
  for (int co = 0; co < out; ++co)
    for (int64_t ch = 0; ch < chunks; ++ch) {
      const float* g = dy + co * spatial + ch * cz * plane;
      const int64_t n = (std::min(d[2], (ch + 1) * cz) - ch * cz) * plane;
      float s = 0;
      for (int64_t i = 0; i < n; ++i) s += g[i];
      db[co] += s;
    }
}

#if LB_CNN_DIRECT
LB_AVX2 inline __m256 lane_mask(int64_t valid) {
  return _mm256_cmp_ps(_mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_ps(static_cast<float>(valid)), _CMP_LT_OQ);
}

LB_AVX2 inline void store_part(float* dst, __m256 v, int64_t valid) {
  if (valid >= 8)
    _mm256_storeu_ps(dst, v);
  else if (valid > 0)
    _mm256_maskstore_ps(dst, _mm256_castps_si256(lane_mask(valid)), v);
}

// Rows r0..r1 (r = z * ny + y) of every output channel of a convolution with T taps per input channel, at
// padded offsets offs[t] from the row (offs[ci * T + t] when per_channel: the polyphase form's adjoint gives
// each input channel its own taps). wp: pack<T>(). Each output is one fixed sequence of FMAs.
template <int T>
LB_AVX2 void conv_rows(const Padded& xp, int in, const std::array<int64_t, 3>& d, const float* wp, const int64_t* offs,
                       bool per_channel, const float* bias, int out, float* y, int64_t r0, int64_t r1) {
  const int64_t nx = d[0], ny = d[1], spatial = d[0] * d[1] * d[2];
  const int blocks = (out + kCo - 1) / kCo;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t z = r / ny, yy = r % ny;
    for (int b = 0; b < blocks; ++b) {
      const float* wb = wp + static_cast<size_t>(b) * in * T * kCo;
      for (int64_t x0 = 0; x0 < nx; x0 += 16) {
        __m256 acc[kCo][2];
#pragma GCC unroll 6
        for (int c = 0; c < kCo; ++c) {
          const int co = b * kCo + c;
          acc[c][0] = acc[c][1] = _mm256_set1_ps(bias && co < out ? bias[co] : 0.0f);
        }
        for (int ci = 0; ci < in; ++ci) {
          const float* base = xp.row(ci, yy, z) + x0;
          const float* wt = wb + static_cast<size_t>(ci) * T * kCo;
          const int64_t* o = per_channel ? offs + static_cast<size_t>(ci) * T : offs;
          for (int t = 0; t < T; ++t, wt += kCo) {
            const __m256 a = _mm256_loadu_ps(base + o[t]), c8 = _mm256_loadu_ps(base + o[t] + 8);
#pragma GCC unroll 6
            for (int c = 0; c < kCo; ++c) {
              const __m256 w = _mm256_broadcast_ss(wt + c);
              acc[c][0] = _mm256_fmadd_ps(w, a, acc[c][0]);
              acc[c][1] = _mm256_fmadd_ps(w, c8, acc[c][1]);
            }
          }
        }
        const int64_t valid = nx - x0;
        for (int c = 0; c < kCo && b * kCo + c < out; ++c) {
          float* dst = y + (b * kCo + c) * spatial + r * nx + x0;
          store_part(dst, acc[c][0], valid);
          store_part(dst + 8, acc[c][1], valid - 8);
        }
      }
    }
  }
}

LB_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(s);
}

// One chunk's weight gradient for the outputs co0..co0+kCoW (into part, [out][in][27]) over slices z0..z1, for
// the taps kz0..kz1-1 x ky0..ky1-1 x all kx (the polyphase form needs only 2 x 2 of them).
LB_AVX2 void weight_grad_block(const Padded& xp, int in, const std::array<int64_t, 3>& d, const float* dy, int out,
                               int co0, int64_t z0, int64_t z1, const float* zeros, float* part, int kz0 = 0,
                               int kz1 = 3, int ky0 = 0, int ky1 = 3) {
  const int64_t nx = d[0], ny = d[1], spatial = d[0] * d[1] * d[2];
  const float* dyc[kCoW];
  for (int c = 0; c < kCoW; ++c) dyc[c] = co0 + c < out ? dy + (co0 + c) * spatial : zeros;
  const int64_t full = nx / 8 * 8;
  const __m256 tail = lane_mask(nx - full);
  const int64_t slice = xp.py * xp.px;
  for (int ci = 0; ci < in; ++ci)
    for (int kz = kz0; kz < kz1; ++kz)
      for (int ky = ky0; ky < ky1; ++ky) {
        __m256 acc[kCoW][3];
        for (auto& a : acc) a[0] = a[1] = a[2] = _mm256_setzero_ps();
        for (int64_t z = z0; z < z1; ++z)
          for (int64_t yy = 0; yy < ny; ++yy) {
            const float* xr = xp.row(ci, yy, z) + kz * slice + ky * xp.px;
            const int64_t off = (z * ny + yy) * nx;
            for (int64_t x0 = 0; x0 < nx; x0 += 8) {
              const __m256 x0v = _mm256_loadu_ps(xr + x0), x1v = _mm256_loadu_ps(xr + x0 + 1),
                           x2v = _mm256_loadu_ps(xr + x0 + 2);
#pragma GCC unroll 4
              for (int c = 0; c < kCoW; ++c) {
                const __m256 g = x0 < full ? _mm256_loadu_ps(dyc[c] + off + x0)
                                           : _mm256_maskload_ps(dyc[c] + off + x0, _mm256_castps_si256(tail));
                acc[c][0] = _mm256_fmadd_ps(g, x0v, acc[c][0]);
                acc[c][1] = _mm256_fmadd_ps(g, x1v, acc[c][1]);
                acc[c][2] = _mm256_fmadd_ps(g, x2v, acc[c][2]);
              }
            }
          }
        for (int c = 0; c < kCoW && co0 + c < out; ++c)
          for (int kx = 0; kx < 3; ++kx)
            part[(static_cast<size_t>(co0 + c) * in + ci) * kTaps + (kz * 3 + ky) * 3 + kx] = hsum(acc[c][kx]);
      }
}

#endif

void run_conv(const float* x, int in, const std::array<int64_t, 3>& d, const std::vector<float>& wp, const float* bias,
              int out, float* y) {
#if LB_CNN_DIRECT
  const Padded xp(x, in, d);
  const int64_t rows = d[1] * d[2];
  std::array<int64_t, kTaps> offs{};  // (kz, ky, kx) in that order
  for (int t = 0; t < kTaps; ++t) offs[static_cast<size_t>(t)] = (t / 9 * xp.py + t / 3 % 3) * xp.px + t % 3;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows, 2), [&](const tbb::blocked_range<int64_t>& r) {
    conv_rows<kTaps>(xp, in, d, wp.data(), offs.data(), false, bias, out, y, r.begin(), r.end());
  });
#else
  (void)x, (void)in, (void)d, (void)wp, (void)bias, (void)out, (void)y;
#endif
}

}  // namespace

bool enabled() { return g_enabled; }
void set_enabled(bool on) { g_enabled = on && cpu_has_avx2_fma(); }

void forward(const float* x, int in, const std::array<int64_t, 3>& dims, const float* w, const float* bias, int out,
             float* y) {
  const auto wp = pack<kTaps>(out, in, [&](int o, int i, int t) { return w[(static_cast<size_t>(o) * in + i) * kTaps + t]; });
  run_conv(x, in, dims, wp, bias, out, y);
}

void input_grad(const float* dy, int out, const std::array<int64_t, 3>& dims, const float* w, int in, float* dx) {
  // The adjoint of a stride-1 "same" convolution is the convolution with the kernel mirrored on every axis
  // and inputs and outputs swapped: tap t becomes 26 - t.
  const auto wp = pack<kTaps>(in, out, [&](int i, int o, int t) {
    return w[(static_cast<size_t>(o) * in + i) * kTaps + (kTaps - 1 - t)];
  });
  run_conv(dy, out, dims, wp, nullptr, in, dx);
}

void weight_grad(const float* x, int in, const std::array<int64_t, 3>& d, const float* dy, int out, float* dw,
                 float* db) {
#if LB_CNN_DIRECT
  const Padded xp(x, in, d);
  const int64_t spatial = d[0] * d[1] * d[2], cz = slices_per_chunk(d);
  const int64_t chunks = (d[2] + cz - 1) / cz;
  const int co_blocks = (out + kCoW - 1) / kCoW;
  const size_t wsize = static_cast<size_t>(out) * in * kTaps;
  std::vector<float> parts(static_cast<size_t>(chunks) * wsize, 0.0f);
  const std::vector<float> zeros(out % kCoW ? static_cast<size_t>(spatial) : 0, 0.0f);
  // Each (chunk, output block) pair writes its own entries: any split over threads gives the same sums.
  tbb::parallel_for(int64_t{0}, chunks * co_blocks, [&](int64_t task) {
    const int64_t ch = task / co_blocks;
    const int co0 = static_cast<int>(task % co_blocks) * kCoW;
    weight_grad_block(xp, in, d, dy, out, co0, ch * cz, std::min(d[2], (ch + 1) * cz), zeros.data(),
                      parts.data() + static_cast<size_t>(ch) * wsize);
  });
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const float* p = parts.data() + static_cast<size_t>(ch) * wsize;
    for (size_t t = 0; t < wsize; ++t) dw[t] += p[t];
  }
  bias_grad(dy, out, d, db);
#else
  (void)x, (void)in, (void)d, (void)dy, (void)out, (void)dw, (void)db;
#endif
}

namespace {

#if LB_CNN_DIRECT
// Padded offsets of the 8 taps of every input channel: channel ch reads coarse tap index tap(ch, t) (0..2 per axis).
template <class Tap>
std::vector<int64_t> tap_offsets(const Padded& xp, int channels, Tap tap) {
  std::vector<int64_t> offs(static_cast<size_t>(channels) * kSparseTaps);
  for (int ch = 0; ch < channels; ++ch)
    for (int t = 0; t < kSparseTaps; ++t) {
      const std::array<int, 3> e = tap(ch, t);
      offs[static_cast<size_t>(ch) * kSparseTaps + static_cast<size_t>(t)] = (e[0] * xp.py + e[1]) * xp.px + e[2];
    }
  return offs;
}

// Parity P = 4 pz + 2 py + px of a fine voxel; its 8 coarse taps t = 4 tz + 2 ty + tx are at coarse tap
// indices (pz + tz, py + ty, px + tx).
std::array<int, 3> coarse_tap(int P, int t) {
  return {(P >> 2) + (t >> 2), ((P >> 1) & 1) + ((t >> 1) & 1), (P & 1) + (t & 1)};
}
#endif

}  // namespace

void forward_up2(const float* x, int in, const std::array<int64_t, 3>& c, const float* w, const float* bias, int out,
                 float* y) {
#if LB_CNN_DIRECT
  const Padded xp(x, in, c);
  const int64_t cs = c[0] * c[1] * c[2], rows = c[1] * c[2];
  const auto eff = effective_weights(w, in, out);
  std::vector<std::vector<float>> wp(8);
  std::vector<std::vector<int64_t>> offs(8);
  for (int P = 0; P < 8; ++P) {
    wp[static_cast<size_t>(P)] = pack<kSparseTaps>(out, in, [&](int o, int i, int t) {
      return eff[((static_cast<size_t>(P) * out + o) * in + i) * kSparseTaps + static_cast<size_t>(t)];
    });
    offs[static_cast<size_t>(P)] = tap_offsets(xp, 1, [&](int, int t) { return coarse_tap(P, t); });  // the same for every channel
  }
  std::vector<float> planes(static_cast<size_t>(8 * out * cs));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, 8 * rows, 2), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t task = r.begin(); task < r.end(); ++task) {
      const auto P = static_cast<size_t>(task / rows);
      const int64_t row = task % rows;
      conv_rows<kSparseTaps>(xp, in, c, wp[P].data(), offs[P].data(), false, bias, out,
                             planes.data() + P * static_cast<size_t>(out * cs), row, row + 1);
    }
  });
  interleave(planes.data(), out, c, y);
#else
  (void)x, (void)in, (void)c, (void)w, (void)bias, (void)out, (void)y;
#endif
}

void backward_up2(const float* x, int in, const std::array<int64_t, 3>& c, const float* dy, int out, const float* w,
                  float* dx, float* dw, float* db) {
#if LB_CNN_DIRECT
  const int64_t cs = c[0] * c[1] * c[2], rows = c[1] * c[2];
  const auto planes = deinterleave(dy, out, c);
  const auto eff = effective_weights(w, in, out);
  {
    // dx: the adjoint reads channel (P, o) of the planes at coarse tap index 2 - e for every forward tap e.
    const Padded dp(planes.data(), 8 * out, c);
    const auto wp = pack<kSparseTaps>(in, 8 * out, [&](int i, int ch, int t) {
      return eff[(static_cast<size_t>(ch) * in + i) * kSparseTaps + static_cast<size_t>(t)];
    });
    const auto offs = tap_offsets(dp, 8 * out, [&](int ch, int t) {
      const auto e = coarse_tap(ch / out, t);
      return std::array<int, 3>{2 - e[0], 2 - e[1], 2 - e[2]};
    });
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows, 2), [&](const tbb::blocked_range<int64_t>& r) {
      conv_rows<kSparseTaps>(dp, 8 * out, c, wp.data(), offs.data(), true, nullptr, in, dx, r.begin(), r.end());
    });
  }
  // dw: each parity's gradient of its effective weights (only its 2 x 2 (kz, ky) taps are computed), then
  // back onto the fine taps that were summed into them.
  const Padded xp(x, in, c);
  const int64_t cz = slices_per_chunk(c), chunks = (c[2] + cz - 1) / cz;
  const int co_blocks = (out + kCoW - 1) / kCoW;
  const size_t wsize = static_cast<size_t>(out) * in * kTaps;
  std::vector<float> parts(static_cast<size_t>(8 * chunks) * wsize, 0.0f);
  const std::vector<float> zeros(out % kCoW ? static_cast<size_t>(cs) : 0, 0.0f);
  tbb::parallel_for(int64_t{0}, 8 * chunks * co_blocks, [&](int64_t task) {
    const int P = static_cast<int>(task / (chunks * co_blocks));
    const int64_t ch = task / co_blocks % chunks;
    const int co0 = static_cast<int>(task % co_blocks) * kCoW;
    const int pz = P >> 2, py = (P >> 1) & 1;
    weight_grad_block(xp, in, c, planes.data() + static_cast<size_t>(P) * static_cast<size_t>(out * cs), out, co0,
                      ch * cz, std::min(c[2], (ch + 1) * cz), zeros.data(),
                      parts.data() + static_cast<size_t>(P * chunks + ch) * wsize, pz, pz + 2, py, py + 2);
  });
  for (int P = 0; P < 8; ++P) {
    float* sum = parts.data() + static_cast<size_t>(P * chunks) * wsize;  // chunk 0 of P collects the rest
    for (int64_t ch = 1; ch < chunks; ++ch) {
      const float* p = parts.data() + static_cast<size_t>(P * chunks + ch) * wsize;
      for (size_t t = 0; t < wsize; ++t) sum[t] += p[t];
    }
  }
  for (size_t oi = 0; oi < static_cast<size_t>(out) * in; ++oi)
    for (int kz = 0; kz < 3; ++kz)
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          float g = 0;
          for (int P = 0; P < 8; ++P) {
            const int pz = P >> 2, py = (P >> 1) & 1, px = P & 1;
            g += parts[static_cast<size_t>(P * chunks) * wsize + oi * kTaps +
                       static_cast<size_t>((kCoarseTap[pz][kz] * 3 + kCoarseTap[py][ky]) * 3 + kCoarseTap[px][kx])];
          }
          dw[oi * kTaps + static_cast<size_t>((kz * 3 + ky) * 3 + kx)] += g;
        }
  bias_grad(dy, out, {2 * c[0], 2 * c[1], 2 * c[2]}, db);
#else
  (void)x, (void)in, (void)c, (void)dy, (void)out, (void)w, (void)dx, (void)dw, (void)db;
#endif
}

}  // namespace lb::baseline::cnn::direct
