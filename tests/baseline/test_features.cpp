// Filters and features against direct computations on small volumes with unequal spacing (so a swapped
// axis fails): brute-force 3-D convolution, brute-force distances, analytic derivatives.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "baseline/features.h"
#include "imaging/filters.h"
#include "imaging/resample.h"

using namespace lb::baseline;
using namespace lb::imaging;

namespace {

VolumeF random_volume(std::array<int64_t, 3> dims, std::array<double, 3> spacing, uint32_t seed, float lo = -200,
                      float hi = 300) {
  VolumeF v(Grid{dims, spacing});
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (float& x : v.v) x = u(g);
  return v;
}

int64_t clampi(int64_t v, int64_t n) { return std::min(std::max<int64_t>(v, 0), n - 1); }

// Direct 3-D convolution with the product of the three sampled Gaussians, edge values repeated.
VolumeF direct_gaussian(const VolumeF& in, double sigma_mm) {
  const auto n = in.grid.dims;
  std::array<std::vector<double>, 3> w;
  for (int a = 0; a < 3; ++a) {
    const double s = sigma_mm / in.grid.spacing_mm[a];
    const int r = static_cast<int>(std::ceil(3 * s));
    double sum = 0;
    for (int t = -r; t <= r; ++t) w[a].push_back(std::exp(-0.5 * t * t / (s * s))), sum += w[a].back();
    for (double& x : w[a]) x /= sum;
  }
  VolumeF out(in.grid);
  const int r0 = static_cast<int>(w[0].size() / 2), r1 = static_cast<int>(w[1].size() / 2),
            r2 = static_cast<int>(w[2].size() / 2);
  for (int64_t k = 0; k < n[2]; ++k)
    for (int64_t j = 0; j < n[1]; ++j)
      for (int64_t i = 0; i < n[0]; ++i) {
        double s = 0;
        for (int c = -r2; c <= r2; ++c)
          for (int b = -r1; b <= r1; ++b)
            for (int a = -r0; a <= r0; ++a)
              s += w[0][a + r0] * w[1][b + r1] * w[2][c + r2] *
                   in.at(clampi(i + a, n[0]), clampi(j + b, n[1]), clampi(k + c, n[2]));
        out.at(i, j, k) = static_cast<float>(s);
      }
  return out;
}

const std::vector<float>& column(const FeatureStack& st, const std::string& name) {
  const auto it = std::find(st.names.begin(), st.names.end(), name);
  REQUIRE(it != st.names.end());
  return st.cols[static_cast<size_t>(it - st.names.begin())];
}

}  // namespace

TEST_CASE("gaussian kernel is normalised, symmetric and 3 sigma wide") {
  const auto k = gaussian_kernel(1.5);
  REQUIRE(k.size() == 11);  // r = ceil(4.5) = 5
  double sum = 0;
  for (float v : k) sum += v;
  CHECK(sum == Approx(1.0).epsilon(1e-6));
  for (size_t t = 0; t < k.size(); ++t) CHECK(k[t] == Approx(k[k.size() - 1 - t]));
  CHECK(k[5] / k[6] == Approx(std::exp(0.5 / 2.25)).epsilon(1e-5));
  CHECK(gaussian_kernel(0.01).size() == 1);
}

TEST_CASE("separable gaussian equals a direct 3-D convolution with anisotropic spacing") {
  const VolumeF v = random_volume({9, 7, 6}, {0.8, 1.3, 2.5}, 1);
  for (double sigma : {1.0, 2.0, 4.0}) {
    const VolumeF a = gaussian(v, sigma), b = direct_gaussian(v, sigma);
    for (size_t t = 0; t < a.v.size(); ++t) REQUIRE(a.v[t] == Approx(b.v[t]).margin(2e-3));
  }
}

TEST_CASE("gradient magnitude of a linear ramp is exact everywhere, in units per mm") {
  VolumeF v(Grid{{6, 5, 4}, {0.5, 2.0, 3.0}});
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t j = 0; j < 5; ++j)
      for (int64_t i = 0; i < 6; ++i) v.at(i, j, k) = static_cast<float>(2 * (i * 0.5) + 3 * (j * 2.0) - (k * 3.0));
  const VolumeF g = gradient_magnitude(v);
  for (float x : g.v) REQUIRE(x == Approx(std::sqrt(4.0 + 9.0 + 1.0)).epsilon(1e-5));
}

TEST_CASE("laplacian of a quadratic is its constant second derivative inside the volume") {
  VolumeF v(Grid{{7, 6, 5}, {0.5, 1.5, 2.5}});
  for (int64_t k = 0; k < 5; ++k)
    for (int64_t j = 0; j < 6; ++j)
      for (int64_t i = 0; i < 7; ++i) {
        const double x = i * 0.5, y = j * 1.5, z = k * 2.5;
        v.at(i, j, k) = static_cast<float>(x * x + 2 * y * y + 3 * z * z);
      }
  const VolumeF l = laplacian(v);
  for (int64_t k = 1; k < 4; ++k)
    for (int64_t j = 1; j < 5; ++j)
      for (int64_t i = 1; i < 6; ++i) REQUIRE(l.at(i, j, k) == Approx(2 + 4 + 6).epsilon(1e-4));
}

TEST_CASE("hessian eigenvalues match a closed form and a rotated quadratic") {
  // A diagonal matrix and a matrix with known eigenvalues 1, 2, 4 (Q diag Qᵀ with a Givens rotation).
  auto e = symmetric_eigenvalues(3, -1, 2, 0, 0, 0);
  CHECK(e[0] == Approx(-1));
  CHECK(e[1] == Approx(2));
  CHECK(e[2] == Approx(3));
  const double c = std::cos(0.7), s = std::sin(0.7);
  // R = [[c,-s,0],[s,c,0],[0,0,1]], A = R diag(1,2,4) Rᵀ
  const double a00 = c * c * 1 + s * s * 2, a11 = s * s * 1 + c * c * 2, a01 = c * s * (1 - 2);
  e = symmetric_eigenvalues(a00, a11, 4, a01, 0, 0);
  CHECK(e[0] == Approx(1));
  CHECK(e[1] == Approx(2));
  CHECK(e[2] == Approx(4));

  // f = ½ xᵀAx has Hessian A everywhere (exact for second differences of a quadratic).
  VolumeF v(Grid{{7, 7, 7}, {1.0, 1.0, 1.0}});
  for (int64_t k = 0; k < 7; ++k)
    for (int64_t j = 0; j < 7; ++j)
      for (int64_t i = 0; i < 7; ++i) {
        const double x = i - 3.0, y = j - 3.0, z = k - 3.0;
        v.at(i, j, k) = static_cast<float>(0.5 * (a00 * x * x + a11 * y * y + 4 * z * z) + a01 * x * y);
      }
  VolumeF e1, e2, e3;
  hessian_eigenvalues(v, e1, e2, e3);
  CHECK(e1.at(3, 3, 3) == Approx(1).epsilon(1e-4));
  CHECK(e2.at(3, 3, 3) == Approx(2).epsilon(1e-4));
  CHECK(e3.at(3, 3, 3) == Approx(4).epsilon(1e-4));
}

TEST_CASE("multigrid gaussian approximates the exact one on smooth content and equals it for narrow kernels") {
  // A sum of blobs: smooth at the scale of the kernels, as the wide-kernel features are.
  VolumeF v(Grid{{96, 80, 40}, {1.0, 1.2, 3.0}});
  for (int64_t k = 0; k < 40; ++k)
    for (int64_t j = 0; j < 80; ++j)
      for (int64_t i = 0; i < 96; ++i) {
        const double x = i * 1.0, y = j * 1.2, z = k * 3.0;
        v.at(i, j, k) = static_cast<float>(100 * std::exp(-((x - 40) * (x - 40) + (y - 50) * (y - 50) + (z - 50) * (z - 50)) / 200) +
                                           60 * std::exp(-((x - 60) * (x - 60) + (y - 40) * (y - 40) + (z - 70) * (z - 70)) / 120));
      }
  // Measured: 2.6% (6 mm: blocks of 4 x 3 x 1 voxels) and 6.9% (12 mm: 8 x 6 x 2) of the result's range.
  for (auto [sigma, bound] : {std::pair{6.0, 0.03f}, std::pair{12.0, 0.08f}}) {
    const VolumeF a = gaussian_multigrid(v, sigma), b = gaussian(v, sigma);
    float range = 0;
    for (float x : b.v) range = std::max(range, x);
    // Away from the border by one coarse block (where edge handling differs between the two grids).
    int64_t m[3];
    for (int a = 0; a < 3; ++a) m[a] = static_cast<int64_t>(std::floor(sigma / (1.5 * v.grid.spacing_mm[a])));
    float worst = 0;
    for (int64_t k = m[2]; k < 40 - m[2]; ++k)
      for (int64_t j = m[1]; j < 80 - m[1]; ++j)
        for (int64_t i = m[0]; i < 96 - m[0]; ++i) worst = std::max(worst, std::fabs(a.at(i, j, k) - b.at(i, j, k)));
    INFO("sigma " << sigma << " mm: largest difference " << worst << " of a range of " << range);
    CHECK(worst <= bound * range);
  }
  const VolumeF a = gaussian_multigrid(v, 1.4), b = gaussian(v, 1.4);  // no axis coarsens: the same filter
  CHECK(a.v == b.v);
}

TEST_CASE("distance_mm equals brute-force nearest-voxel distances with anisotropic spacing") {
  VolumeU8 m(Grid{{12, 9, 7}, {0.7, 1.1, 2.9}});
  std::mt19937 g(5);
  for (auto& x : m.v) x = (g() % 37) == 0;
  const VolumeF d = distance_mm(m, 1000.0f);
  const auto n = m.grid.dims;
  const auto sp = m.grid.spacing_mm;
  for (int64_t k = 0; k < n[2]; ++k)
    for (int64_t j = 0; j < n[1]; ++j)
      for (int64_t i = 0; i < n[0]; ++i) {
        double best = 1e30;
        for (int64_t c = 0; c < n[2]; ++c)
          for (int64_t b = 0; b < n[1]; ++b)
            for (int64_t a = 0; a < n[0]; ++a)
              if (m.at(a, b, c)) {
                const double dx = (a - i) * sp[0], dy = (b - j) * sp[1], dz = (c - k) * sp[2];
                best = std::min(best, dx * dx + dy * dy + dz * dz);
              }
        REQUIRE(d.at(i, j, k) == Approx(std::sqrt(best)).epsilon(1e-5));
      }
  VolumeU8 empty(m.grid);
  for (float x : distance_mm(empty, 42.0f).v) REQUIRE(x == 42.0f);
}

TEST_CASE("feature columns equal their definitions computed directly") {
  const VolumeF v = random_volume({10, 9, 6}, {1.0, 1.5, 3.0}, 7, -400, 400);
  FeatureSettings s;
  s.smooth_mm = {2};
  s.gradient_mm = {2};
  s.log_mm = {2};
  s.std_mm = {2};
  s.hessian_mm = {};
  s.fat_mm = {4};
  s.bone_mm = {};
  s.air_mm = {};
  s.relative_mm = {};
  s.dog_mm = {{2, 4}};
  s.scan_features = true;
  s.distances = true;
  const FeatureStack st = compute_features(v, s);
  REQUIRE(st.names == s.names());

  VolumeF soft = v;
  for (float& x : soft.v) x = std::clamp(x, -150.0f, 250.0f);
  const VolumeF g2 = direct_gaussian(soft, 2.0);
  VolumeF sq = soft;
  for (float& x : sq.v) x = x * x;
  const VolumeF g2sq = direct_gaussian(sq, 2.0);
  const VolumeF grad = gradient_magnitude(g2), lap = laplacian(g2);
  const VolumeF g1 = direct_gaussian(v, 1.0);
  VolumeF fat(v.grid);
  VolumeU8 fat_mask(v.grid);
  for (size_t t = 0; t < v.v.size(); ++t) fat_mask.v[t] = g1.v[t] >= -190 && g1.v[t] <= -30, fat.v[t] = fat_mask.v[t];
  const VolumeF fat4 = gaussian_multigrid(fat, 4.0);  // fractions are plain values: the multigrid Gaussian
  for (size_t t = 0; t < v.v.size(); ++t) {
    REQUIRE(column(st, "hu")[t] == Approx(std::clamp(v.v[t], -1000.0f, 1500.0f)));
    REQUIRE(column(st, "smooth_2mm")[t] == Approx(g2.v[t]).margin(2e-3));
    REQUIRE(column(st, "grad_2mm")[t] == Approx(grad.v[t]).margin(2e-3));
    REQUIRE(column(st, "log_2mm")[t] == Approx(4.0 * lap.v[t]).margin(5e-3));
    const double var = std::max(0.0, double(g2sq.v[t]) - double(g2.v[t]) * g2.v[t]);
    REQUIRE(column(st, "std_2mm")[t] == Approx(std::sqrt(var)).margin(0.05));
    REQUIRE(column(st, "fat_4mm")[t] == Approx(fat4.v[t]).margin(1e-4));
    // smooth_4mm is only needed as a value here, so it comes from the multigrid path too.
    REQUIRE(column(st, "dog_2_4mm")[t] == Approx(g2.v[t] - gaussian_multigrid(soft, 4.0).v[t]).margin(2e-3));
  }
  // One value per scan: the share of non-air voxels above 80 HU (after the 1 mm Gaussian), and of lung.
  int64_t body = 0, bright = 0, lung = 0;
  for (float x : g1.v)
    if (x > -950) ++body, bright += x > 80 && x <= 250, lung += x <= -500;
  CHECK(column(st, "scan_bright_fraction")[17] == Approx(double(bright) / body).margin(2.0 / body));
  CHECK(column(st, "scan_lung_fraction")[3] == Approx(double(lung) / body).margin(2.0 / body));
  // dist_fat is the brute-force distance to the fat class.
  const auto& df = column(st, "dist_fat");
  const auto n = v.grid.dims;
  for (int64_t k = 0; k < n[2]; ++k)
    for (int64_t j = 0; j < n[1]; ++j)
      for (int64_t i = 0; i < n[0]; ++i) {
        double best = 1e30;
        for (int64_t c = 0; c < n[2]; ++c)
          for (int64_t b = 0; b < n[1]; ++b)
            for (int64_t a = 0; a < n[0]; ++a)
              if (fat_mask.at(a, b, c)) {
                const double dx = (a - i) * 1.0, dy = (b - j) * 1.5, dz = (c - k) * 3.0;
                best = std::min(best, dx * dx + dy * dy + dz * dz);
              }
        REQUIRE(df[static_cast<size_t>(v.grid.index(i, j, k))] == Approx(std::min(60.0, std::sqrt(best))).epsilon(1e-5));
      }
}

TEST_CASE("features do not depend on position: a shifted scan gives the same values at shifted voxels") {
  // An object in a uniform background, placed at two positions; away from the border every column agrees.
  // The shift (10 voxels) is a multiple of every block factor of the coarse grids that wide kernels use
  // (gaussian_multigrid), which are exactly shift-invariant only in such steps.
  auto scene = [](int64_t shift) {
    VolumeF v(Grid{{40, 36, 16}, {1.0, 1.0, 2.5}}, -100.0f);
    for (int64_t k = 0; k < 16; ++k)
      for (int64_t j = 0; j < 36; ++j)
        for (int64_t i = 0; i < 40; ++i) {
          const double x = i - 12.0 - shift, y = j - 18.0, z = (k - 8.0) * 2.5;
          if (x * x + y * y + z * z < 36) v.at(i, j, k) = 40.0f;
          if (std::abs(x - 6) < 2 && std::abs(y) < 8) v.at(i, j, k) = 600.0f;
        }
    return v;
  };
  FeatureSettings s;
  s.smooth_mm = {1, 2, 4};
  s.gradient_mm = {1};
  s.log_mm = {2};
  s.std_mm = {2};
  s.hessian_mm = {2};
  s.fat_mm = {4};
  s.bone_mm = {4};
  s.air_mm = {};
  s.relative_mm = {2};
  s.dog_mm = {{1, 4}, {2, 8}};
  s.distance_cap_mm = 8;
  const FeatureStack a = compute_features(scene(0), s), b = compute_features(scene(10), s);
  for (size_t f = 0; f < a.cols.size(); ++f) {
    INFO(a.names[f]);
    if (a.names[f] == "rel_2mm") continue;  // uses the scan's median soft tissue: a whole-scan value, checked below
    for (int64_t k = 5; k < 11; ++k)
      for (int64_t j = 10; j < 26; ++j)
        for (int64_t i = 8; i < 22; ++i)
          REQUIRE(a.cols[f][static_cast<size_t>(a.grid.index(i, j, k))] ==
                  Approx(b.cols[f][static_cast<size_t>(b.grid.index(i + 10, j, k))]).margin(1e-3));
  }
  // rel_2mm is smooth_2mm minus one number per scan (its median soft-tissue value).
  const auto& rel = column(a, "rel_2mm");
  const auto& sm = column(a, "smooth_2mm");
  for (size_t t = 0; t < rel.size(); ++t) REQUIRE(sm[t] - rel[t] == Approx(sm[0] - rel[0]).margin(1e-3));
}

TEST_CASE("block means down and trilinear interpolation up between grids") {
  // 7x5x3 native, factors 3x2x1: partial blocks at the far borders average what they hold.
  Grid native{{7, 5, 3}, {0.8, 0.9, 3.0}};
  std::vector<int16_t> v(static_cast<size_t>(native.size()));
  for (size_t t = 0; t < v.size(); ++t) v[t] = static_cast<int16_t>((t * 37) % 101 - 50);
  const Factors f{3, 2, 1};
  const VolumeF w = downsample_mean(v.data(), native, f, -1e9f, 1e9f);
  REQUIRE(w.grid.dims == std::array<int64_t, 3>{3, 3, 3});
  CHECK(w.grid.spacing_mm[0] == Approx(2.4));
  for (int64_t K = 0; K < 3; ++K)
    for (int64_t J = 0; J < 3; ++J)
      for (int64_t I = 0; I < 3; ++I) {
        double sum = 0;
        int count = 0;
        for (int64_t j = J * 2; j < std::min<int64_t>(5, J * 2 + 2); ++j)
          for (int64_t i = I * 3; i < std::min<int64_t>(7, I * 3 + 3); ++i) sum += v[static_cast<size_t>(native.index(i, j, K))], ++count;
        REQUIRE(w.at(I, J, K) == Approx(sum / count));
      }
  CHECK(working_factors({0.8, 0.977, 3.27}, {2, 2, 3}) == Factors{3, 2, 1});
  CHECK(working_factors({2.5, 2.5, 0.5}, {2, 2, 3}) == Factors{1, 1, 6});

  // Up: a ramp along axis 0 of the working grid, w(I) = I. Native voxel i sits at (i + 0.5)/f - 0.5.
  VolumeF ramp(Grid{{4, 2, 2}, {2.0, 1.0, 1.0}});
  for (int64_t k = 0; k < 2; ++k)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t i = 0; i < 4; ++i) ramp.at(i, j, k) = static_cast<float>(i);
  Grid up{{8, 2, 2}, {1.0, 1.0, 1.0}};
  for (float thr : {0.7f, 1.3f, 2.2f}) {
    std::vector<uint8_t> out(static_cast<size_t>(up.size()));
    upsample_threshold(ramp, Factors{2, 1, 1}, up, thr, out.data());
    for (int64_t i = 0; i < 8; ++i) {
      const double x = std::clamp((i + 0.5) / 2 - 0.5, 0.0, 3.0);
      REQUIRE(out[static_cast<size_t>(up.index(i, 1, 1))] == (x >= thr ? 1 : 0));
    }
  }
}
