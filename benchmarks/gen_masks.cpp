// lesionbench-gen-masks: realistic ground-truth / prediction mask sets for benchmarks and examples.
//
// Each case is a CT-sized uint8 mask pair: several irregular lesions from ~0.01 cm^3 to hundreds of cm^3
// (some cut by the volume border) inside a body ellipse, anisotropic spacing, and a prediction made from the
// ground truth the way models fail: shifted, dilated or eroded lesions, missed lesions, false-positive blobs,
// and on some cases salt noise over the whole volume (so the bounding box of G ∪ P spans everything).
// A few cases are healthy (empty ground truth), with an empty or a false-positive prediction.
//
//   lesionbench-gen-masks --out DIR [--cases 24] [--seed 1] [--size full|small] [--noise PER_MILLION] [--slices N]
// writes DIR/gt/<Case>.nii.gz and DIR/pred/<Case>.nii.gz, named FLARE24Val_0001... like the challenge.
//   lesionbench-gen-masks --out DIR --metastases N [--slices 300] [--seed 1]
// writes one 512x512xSLICES case instead: N small lesions (1-5 voxels across) inside one large predicted
// blob, the worst case of lesion-wise scoring (an over-segmenting model on a patient with many metastases).
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "metrics/nifti.h"

namespace fs = std::filesystem;

namespace {

// Reproducible across standard libraries: only raw mt19937_64 output is used, mapped by hand.
struct Rng {
  std::mt19937_64 g;
  explicit Rng(uint64_t seed) : g(seed) {}
  double uniform(double a, double b) { return a + (b - a) * (static_cast<double>(g() >> 11) * 0x1.0p-53); }
  int64_t integer(int64_t a, int64_t b) { return a + static_cast<int64_t>(g() % static_cast<uint64_t>(b - a + 1)); }
  bool chance(double p) { return uniform(0, 1) < p; }
};

struct Volume {
  int64_t n0, n1, n2;
  std::vector<uint8_t> v;
  Volume(int64_t a, int64_t b, int64_t c) : n0(a), n1(b), n2(c), v(static_cast<size_t>(a * b * c), 0) {}
  uint8_t& at(int64_t i, int64_t j, int64_t k) { return v[static_cast<size_t>(i + n0 * (j + n1 * k))]; }
};

// An irregular ellipsoid: radii in mm, surface modulated by a few low-order harmonics.
struct Blob {
  double c[3];   // centre in voxels
  double r[3];   // radii in mm
  double a[4];   // harmonic amplitudes (fraction of the radius)
  double ph[4];  // phases
};

Blob random_blob(Rng& rng, double radius_mm, const double c[3]) {
  Blob b{};
  for (int d = 0; d < 3; ++d) {
    b.c[d] = c[d];
    b.r[d] = radius_mm * rng.uniform(0.7, 1.3);
  }
  for (int h = 0; h < 4; ++h) {
    b.a[h] = rng.uniform(0.0, 0.18);
    b.ph[h] = rng.uniform(0, 6.283);
  }
  return b;
}

// Paints (value 1) or erases (value 0) the blob grown by `grow_mm` and moved by `shift` voxels.
void paint(Volume& vol, const Blob& b, const double s[3], double grow_mm, const int shift[3], uint8_t value) {
  double lo[3], hi[3];
  for (int d = 0; d < 3; ++d) {
    const double reach = (b.r[d] * 1.8 + std::fabs(grow_mm)) / s[d] + 1;
    lo[d] = b.c[d] + shift[d] - reach;
    hi[d] = b.c[d] + shift[d] + reach;
  }
  const int64_t k0 = std::max<int64_t>(0, static_cast<int64_t>(lo[2])), k1 = std::min<int64_t>(vol.n2 - 1, static_cast<int64_t>(hi[2]));
  const int64_t j0 = std::max<int64_t>(0, static_cast<int64_t>(lo[1])), j1 = std::min<int64_t>(vol.n1 - 1, static_cast<int64_t>(hi[1]));
  const int64_t i0 = std::max<int64_t>(0, static_cast<int64_t>(lo[0])), i1 = std::min<int64_t>(vol.n0 - 1, static_cast<int64_t>(hi[0]));
  for (int64_t k = k0; k <= k1; ++k)
    for (int64_t j = j0; j <= j1; ++j)
      for (int64_t i = i0; i <= i1; ++i) {
        const double x = (i - b.c[0] - shift[0]) * s[0], y = (j - b.c[1] - shift[1]) * s[1], z = (k - b.c[2] - shift[2]) * s[2];
        const double rho = std::sqrt(x * x / (b.r[0] * b.r[0]) + y * y / (b.r[1] * b.r[1]) + z * z / (b.r[2] * b.r[2]));
        const double norm = std::sqrt(x * x + y * y + z * z) + 1e-9;
        const double theta = std::acos(std::clamp(z / norm, -1.0, 1.0)), phi = std::atan2(y, x);
        const double wobble = 1 + b.a[0] * std::sin(2 * theta + b.ph[0]) + b.a[1] * std::sin(3 * phi + b.ph[1]) +
                              b.a[2] * std::sin(theta + 2 * phi + b.ph[2]) + b.a[3] * std::sin(4 * phi - theta + b.ph[3]);
        const double mean_r = (b.r[0] + b.r[1] + b.r[2]) / 3;
        if (rho * mean_r <= wobble * mean_r + grow_mm) vol.at(i, j, k) = value;
      }
}

struct Options {
  std::string out;
  int cases = 24;
  uint64_t seed = 1;
  bool small = false;
  int64_t noise_per_million = 50;  // salt-noise density of the noisy predictions
  int64_t slices = 0;              // fixed number of slices (0: random 40-200, or 16-40 when small)
};

void make_case(const Options& o, int index) {
  Rng rng(o.seed * 1000003ull + static_cast<uint64_t>(index));
  const int64_t n0 = o.small ? 128 : 512, n1 = n0;
  int64_t n2 = o.small ? rng.integer(16, 40) : rng.integer(40, 200);
  if (o.slices > 0) n2 = o.slices;
  const double sxy = o.small ? rng.uniform(2.0, 3.2) : rng.uniform(0.6, 0.98);
  const double sz = rng.uniform(1.0, 5.0);
  const double s[3] = {sxy, sxy, sz};
  Volume gt(n0, n1, n2), pred(n0, n1, n2);

  // Kinds of case, cycling so that every set of 12 or more holds each.
  enum Kind { healthy_empty, healthy_fp, lesions, lesions_noise };
  const int slot = index % 12;
  // Most lesion cases carry a sprinkle of false-positive voxels, as real model outputs often do.
  const Kind kind = slot == 0 ? healthy_empty : slot == 6 ? healthy_fp : (slot == 2 || slot == 8) ? lesions : lesions_noise;

  auto centre_in_body = [&](double radius_mm, bool on_border) {
    double c[3];
    const double ang = rng.uniform(0, 6.283), rr = std::sqrt(rng.uniform(0, 1)) * 0.38;
    c[0] = n0 * (0.5 + rr * std::cos(ang));
    c[1] = n1 * (0.5 + 0.8 * rr * std::sin(ang));
    c[2] = rng.uniform(0.1, 0.9) * static_cast<double>(n2);
    if (on_border) c[2] = rng.chance(0.5) ? radius_mm / s[2] * 0.3 : n2 - 1 - radius_mm / s[2] * 0.3;
    return std::vector<double>{c[0], c[1], c[2]};
  };
  const int zero[3] = {0, 0, 0};
  if (kind == lesions || kind == lesions_noise) {
    const int n_lesions = static_cast<int>(rng.integer(1, 7));
    for (int l = 0; l < n_lesions; ++l) {
      // Log-uniform volume from 0.01 to 400 cm^3: radius = cbrt(3V / 4pi).
      const double vol_mm3 = std::exp(rng.uniform(std::log(10.0), std::log(400000.0)));
      const double radius_mm = std::cbrt(3 * vol_mm3 / (4 * 3.14159265));
      const auto c = centre_in_body(radius_mm, l == 0 && rng.chance(0.25));
      const Blob b = random_blob(rng, radius_mm, c.data());
      paint(gt, b, s, 0, zero, 1);
      // How the model does on this lesion.
      const double u = rng.uniform(0, 1);
      if (u < 0.15) continue;  // missed
      int shift[3] = {0, 0, 0};
      if (rng.chance(0.3)) shift[static_cast<int>(rng.integer(0, 2))] = rng.chance(0.5) ? 1 : -1;
      const double grow = u < 0.45 ? rng.uniform(0.3, 1.5) : u < 0.75 ? -rng.uniform(0.3, 1.2) : 0.0;
      Blob pb = b;
      for (int h = 0; h < 4; ++h) pb.a[h] *= rng.uniform(0.6, 1.4);
      paint(pred, pb, s, grow, shift, 1);
    }
  }
  if (kind != healthy_empty) {
    // False-positive blobs, small to medium.
    const int n_fp = kind == healthy_fp ? static_cast<int>(rng.integer(1, 3)) : static_cast<int>(rng.integer(0, 3));
    for (int f = 0; f < n_fp; ++f) {
      const double radius_mm = rng.uniform(2, 12);
      const auto c = centre_in_body(radius_mm, false);
      paint(pred, random_blob(rng, radius_mm, c.data()), s, 0, zero, 1);
    }
  }
  if (kind == lesions_noise) {
    // Salt noise across the whole volume: a worst case for bounding-box cropping.
    const int64_t n = n0 * n1 * n2, count = n * o.noise_per_million / 1000000;
    for (int64_t t = 0; t < count; ++t) pred.v[static_cast<size_t>(rng.integer(0, n - 1))] = 1;
  }
  char name[64];
  std::snprintf(name, sizeof name, "FLARE24Val_%04d.nii.gz", index + 1);
  const double origin[3] = {-sxy * n0 / 2, -sxy * n1 / 2, -sz * static_cast<double>(n2)};
  const auto h = lb::nifti::make_header({n0, n1, n2}, {s[0], s[1], s[2]}, {origin[0], origin[1], origin[2]});
  lb::nifti::write_image((fs::path(o.out) / "gt" / name).string(), h, gt.v.data(), 6);
  lb::nifti::write_image((fs::path(o.out) / "pred" / name).string(), h, pred.v.data(), 6);
}

void make_metastases(const Options& o, int64_t lesions) {
  Rng rng(o.seed);
  const int64_t n0 = 512, n1 = 512, n2 = o.slices > 0 ? o.slices : 300;
  Volume gt(n0, n1, n2), pred(n0, n1, n2);
  // The prediction: one ellipsoid over a large part of the body (liver-sized and then some).
  const double c[3] = {n0 / 2.0, n1 / 2.0, n2 / 2.0}, r[3] = {n0 * 0.3, n1 * 0.3, n2 * 0.35};
  for (int64_t k = 0; k < n2; ++k)
    for (int64_t j = 0; j < n1; ++j)
      for (int64_t i = 0; i < n0; ++i) {
        const double x = (i - c[0]) / r[0], y = (j - c[1]) / r[1], z = (k - c[2]) / r[2];
        if (x * x + y * y + z * z <= 1.0) pred.at(i, j, k) = 1;
      }
  // Lesions: small boxes inside the ellipsoid, kept apart so each is its own component.
  int64_t placed = 0;
  for (int64_t tries = 0; placed < lesions && tries < lesions * 100; ++tries) {
    const int64_t w0 = rng.integer(1, 5), w1 = rng.integer(1, 5), w2 = rng.integer(1, 3);
    const double u = rng.uniform(-0.8, 0.8), v = rng.uniform(-0.8, 0.8), t = rng.uniform(-0.8, 0.8);
    if (u * u + v * v + t * t > 0.64) continue;
    const int64_t i0 = static_cast<int64_t>(c[0] + u * r[0]), j0 = static_cast<int64_t>(c[1] + v * r[1]),
                  k0 = static_cast<int64_t>(c[2] + t * r[2]);
    bool clear = true;
    for (int64_t k = k0 - 1; k <= k0 + w2 && clear; ++k)
      for (int64_t j = j0 - 1; j <= j0 + w1 && clear; ++j)
        for (int64_t i = i0 - 1; i <= i0 + w0 && clear; ++i) clear = gt.at(i, j, k) == 0;
    if (!clear) continue;
    for (int64_t k = k0; k < k0 + w2; ++k)
      for (int64_t j = j0; j < j0 + w1; ++j)
        for (int64_t i = i0; i < i0 + w0; ++i) gt.at(i, j, k) = 1;
    ++placed;
  }
  const auto h = lb::nifti::make_header({n0, n1, n2}, {0.8, 0.8, 2.5});
  lb::nifti::write_image((fs::path(o.out) / "gt" / "FLARE24Val_0001.nii.gz").string(), h, gt.v.data(), 6);
  lb::nifti::write_image((fs::path(o.out) / "pred" / "FLARE24Val_0001.nii.gz").string(), h, pred.v.data(), 6);
  std::cout << "wrote 1 case (" << placed << " lesions in one predicted blob) to " << o.out << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  int64_t metastases = 0;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--out") o.out = next();
    else if (a == "--cases") o.cases = std::atoi(next().c_str());
    else if (a == "--seed") o.seed = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--size") o.small = next() == "small";
    else if (a == "--noise") o.noise_per_million = std::atoll(next().c_str());
    else if (a == "--slices") o.slices = std::atoll(next().c_str());
    else if (a == "--metastases") metastases = std::atoll(next().c_str());
    else {
      std::cerr << "usage: lesionbench-gen-masks --out DIR [--cases 24] [--seed 1] [--size full|small] [--noise PER_MILLION] [--slices N]\n";
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (o.out.empty() || o.cases < 1) {
    std::cerr << "usage: lesionbench-gen-masks --out DIR [--cases 24] [--seed 1] [--size full|small] [--noise PER_MILLION] [--slices N]\n";
    return 2;
  }
  fs::create_directories(fs::path(o.out) / "gt");
  fs::create_directories(fs::path(o.out) / "pred");
  if (metastases > 0) {
    make_metastases(o, metastases);
    return 0;
  }
  tbb::parallel_for(0, o.cases, [&](int c) { make_case(o, c); });
  std::cout << "wrote " << o.cases << " cases to " << o.out << "/gt and " << o.out << "/pred\n";
  return 0;
}
