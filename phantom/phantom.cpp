#include "phantom/phantom.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "imaging/filters.h"

namespace lb::phantom {

using namespace lb::imaging;

namespace {

constexpr double kPi = 3.14159265358979323846;

// SplitMix64 with our own uniform and normal draws (std distributions differ between libraries).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  double log_uniform(double a, double b) { return std::exp(uniform(std::log(a), std::log(b))); }
  int integer(int lo, int hi) { return lo + static_cast<int>(uniform() * (hi - lo + 1)); }
  double normal() {
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
  }
  bool chance(double p) { return uniform() < p; }
};

struct Vec {
  double x = 0, y = 0, z = 0;
};

// A rotated ellipsoid; level() is the quadratic form (1 on the surface).
struct Ellipsoid {
  Vec c, a{1, 1, 1};
  double r[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};  // rows: the ellipsoid's axes in world coordinates
  double level(double x, double y, double z) const {
    const double dx = x - c.x, dy = y - c.y, dz = z - c.z;
    const double u = (r[0] * dx + r[1] * dy + r[2] * dz) / a.x;
    const double v = (r[3] * dx + r[4] * dy + r[5] * dz) / a.y;
    const double w = (r[6] * dx + r[7] * dy + r[8] * dz) / a.z;
    return u * u + v * v + w * w;
  }
  bool inside(double x, double y, double z) const { return level(x, y, z) <= 1.0; }
  void rotate_random(Rng& g) {
    // Rotation from a random unit quaternion.
    double q[4];
    double n = 0;
    for (double& v : q) v = g.normal(), n += v * v;
    n = std::sqrt(n);
    for (double& v : q) v /= n;
    const double w = q[0], x = q[1], y = q[2], z = q[3];
    const double m[9] = {1 - 2 * (y * y + z * z), 2 * (x * y - z * w),     2 * (x * z + y * w),
                         2 * (x * y + z * w),     1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                         2 * (x * z - y * w),     2 * (y * z + x * w),     1 - 2 * (x * x + y * y)};
    std::copy(m, m + 9, r);
  }
};

enum Tissue : uint8_t { kAir, kFat, kMuscle, kLung, kLiver, kSpleen, kKidney, kBone, kVessel, kBowel, kHeart, kCsf, kGas, kVisceralFat };

struct Anatomy {
  double A = 150, B = 110, fat_t = 15, muscle_t = 10, zd = 0;
  double spine_y = 0, spine_r = 18;
  Ellipsoid lung[2], liver, spleen, kidney[2], heart, aorta_dummy;
  std::vector<Ellipsoid> bowel, gas, lung_vessels;
  double hu_fat = -100, hu_muscle = 55, hu_liver = 105, hu_spleen = 115, hu_cortex = 170, hu_medulla = 120,
         hu_blood = 140, hu_lung = -850, hu_marrow = 220, hu_cortical = 700;
  double aorta_x = 15, aorta_y = 0, aorta_r = 11, ivc_x = -25, ivc_y = 0, ivc_r = 12;
  Vec wave[4];
  double wave_phase[4] = {0, 0, 0, 0};

  double texture(double x, double y, double z) const {
    double t = 0;
    for (int m = 0; m < 4; ++m) t += 2.0 * std::cos(wave[m].x * x + wave[m].y * y + wave[m].z * z + wave_phase[m]);
    return t;
  }

  // Tissue and base HU at a point (mm, body-centred: x left-right, y posterior(-)/anterior(+), z up).
  Tissue at(double x, double y, double z, double* hu) const {
    const double Ab = A * (1 + 0.04 * std::sin(z / 70.0)), Bb = B * (1 + 0.03 * std::cos(z / 55.0));
    auto ell = [&](double a, double b) { return (x / a) * (x / a) + (y / b) * (y / b); };
    if (ell(Ab, Bb) > 1) return *hu = -1000, kAir;
    const double Ai = Ab - fat_t, Bi = Bb - fat_t;
    if (ell(Ai, Bi) > 1) return *hu = hu_fat, kFat;
    const double Ac = Ai - muscle_t, Bc = Bi - muscle_t;
    const bool chest = z > zd - 50;
    if (ell(Ac, Bc) > 1) {
      // Ribs cross the wall obliquely in the chest and upper abdomen.
      const double theta = std::atan2(y, x);
      // Ribs descend towards the front, so a slice cuts each side's ribs into a few separate ovals.
      if (chest && y > -Bc * 0.6 && std::fmod(z + 400 + 75 * std::fabs(theta) / kPi, 26.0) < 8.0)
        return *hu = 500, kBone;
      return *hu = hu_muscle, kMuscle;
    }
    // Vertebral column and canal.
    const double dsy = y - spine_y;
    const double rr = std::sqrt(x * x + dsy * dsy);
    if (rr <= spine_r) {
      if (std::fmod(z + 400, 32.0) < 5.0) return *hu = 90, kMuscle;  // disc
      return *hu = rr > spine_r - 2.5 ? hu_cortical : hu_marrow, kBone;
    }
    const double cy = spine_y - spine_r - 10;
    const double rc = std::sqrt(x * x + (y - cy) * (y - cy));
    if (rc <= 7.5) return *hu = 15, kCsf;
    if (rc <= 12.5) return *hu = 550, kBone;
    // Paraspinal muscles.
    for (double side : {-1.0, 1.0}) {
      const double px = (x - side * 34) / 26, py = (y - (spine_y - 18)) / 22;
      if (px * px + py * py <= 1) return *hu = hu_muscle, kMuscle;
    }
    // Great vessels.
    if ((x - aorta_x) * (x - aorta_x) + (y - aorta_y) * (y - aorta_y) <= aorta_r * aorta_r) return *hu = hu_blood, kVessel;
    if (z < zd + 20 && (x - ivc_x) * (x - ivc_x) + (y - ivc_y) * (y - ivc_y) <= ivc_r * ivc_r)
      return *hu = hu_blood - 10, kVessel;
    for (int s = 0; s < 2; ++s)
      if (lung[s].inside(x, y, z)) {
        for (const auto& v : lung_vessels)
          if (v.inside(x, y, z)) return *hu = 40, kVessel;
        return *hu = hu_lung, kLung;
      }
    if (heart.inside(x, y, z)) return *hu = hu_blood - 15, kHeart;
    if (liver.inside(x, y, z)) return *hu = hu_liver, kLiver;
    if (spleen.inside(x, y, z)) return *hu = hu_spleen, kSpleen;
    for (int s = 0; s < 2; ++s) {
      const double l = kidney[s].level(x, y, z);
      if (l <= 1) {
        if (l < 0.12 && (s == 0 ? x > kidney[s].c.x : x < kidney[s].c.x)) return *hu = 15, kKidney;  // pelvis
        return *hu = l > 0.5 ? hu_cortex : hu_medulla, kKidney;
      }
    }
    for (const auto& g : gas)
      if (g.inside(x, y, z)) return *hu = -900, kGas;
    for (const auto& b : bowel) {
      const double l = b.level(x, y, z);
      if (l <= 1) return *hu = l > 0.55 ? 45 : 15, kBowel;
    }
    return *hu = hu_fat + 10, kVisceralFat;
  }
};

Anatomy draw_anatomy(Rng& g, double z_half) {
  Anatomy a;
  a.A = g.uniform(135, 175);
  a.B = g.uniform(95, 125);
  a.fat_t = g.uniform(8, 30);
  a.muscle_t = g.uniform(7, 13);
  a.zd = g.uniform(-0.2, 0.35) * z_half;
  const double Ai = a.A - a.fat_t - a.muscle_t, Bi = a.B - a.fat_t - a.muscle_t;
  a.spine_r = g.uniform(15, 20);
  a.spine_y = -Bi + a.spine_r + 8;
  a.hu_fat = g.uniform(-115, -85);
  a.hu_muscle = g.uniform(45, 62);
  a.hu_liver = g.uniform(90, 125);
  a.hu_spleen = a.hu_liver + g.uniform(-5, 15);
  a.hu_cortex = g.uniform(150, 200);
  a.hu_medulla = a.hu_cortex - g.uniform(30, 60);
  a.hu_blood = g.uniform(120, 170);
  a.hu_lung = g.uniform(-880, -820);
  a.aorta_y = a.spine_y + a.spine_r + 13;
  a.aorta_x = g.uniform(8, 20);
  a.ivc_y = a.aorta_y + 4;
  a.ivc_x = -g.uniform(22, 32);
  for (int s = 0; s < 2; ++s) {
    const double side = s == 0 ? -1 : 1;
    auto& l = a.lung[s];
    l.c = {side * Ai * 0.47, -Bi * 0.05, a.zd + 120};
    l.a = {Ai * g.uniform(0.34, 0.4), Bi * g.uniform(0.7, 0.8), 140};
    auto& k = a.kidney[s];
    k.c = {side * (a.spine_r + g.uniform(38, 50)), a.spine_y + g.uniform(5, 15), a.zd - g.uniform(100, 130)};
    k.a = {g.uniform(24, 30), g.uniform(20, 26), g.uniform(45, 60)};
    k.rotate_random(g);  // a small tilt is enough: blend the random rotation towards the identity
    for (int t = 0; t < 9; ++t) k.r[t] = 0.8 * ((t % 4) == 0 ? 1.0 : 0.0) + 0.2 * k.r[t];
    for (int row = 0; row < 3; ++row) {  // re-normalise the rows
      double n = 0;
      for (int c = 0; c < 3; ++c) n += k.r[row * 3 + c] * k.r[row * 3 + c];
      for (int c = 0; c < 3; ++c) k.r[row * 3 + c] /= std::sqrt(n);
    }
  }
  a.heart.c = {g.uniform(5, 25), Bi * 0.3, a.zd + 55};
  a.heart.a = {g.uniform(45, 60), g.uniform(38, 48), g.uniform(50, 65)};
  a.liver.c = {-Ai * 0.38, Bi * 0.02, a.zd - g.uniform(55, 75)};
  a.liver.a = {Ai * g.uniform(0.5, 0.6), Bi * g.uniform(0.7, 0.85), g.uniform(75, 95)};
  a.spleen.c = {Ai * 0.6, -Bi * 0.35, a.zd - g.uniform(35, 55)};
  a.spleen.a = {g.uniform(25, 35), g.uniform(40, 55), g.uniform(45, 60)};
  const int loops = g.integer(6, 12);
  for (int b = 0; b < loops; ++b) {
    Ellipsoid e;
    e.c = {g.uniform(-0.6, 0.6) * Ai, g.uniform(-0.1, 0.7) * Bi, a.zd - g.uniform(60, 260)};
    e.a = {g.uniform(12, 28), g.uniform(12, 28), g.uniform(15, 45)};
    e.rotate_random(g);
    a.bowel.push_back(e);
    if (g.chance(0.5)) {
      Ellipsoid gas = e;
      gas.a = {e.a.x * 0.5, e.a.y * 0.5, e.a.z * 0.5};
      gas.c.y += e.a.y * 0.3;  // gas rises anteriorly (patient supine)
      a.gas.push_back(gas);
    }
  }
  for (int s = 0; s < 2; ++s)
    for (int v = 0; v < 40; ++v) {
      Ellipsoid e;
      const auto& l = a.lung[s];
      e.c = {l.c.x + g.uniform(-0.8, 0.8) * l.a.x, l.c.y + g.uniform(-0.8, 0.8) * l.a.y, l.c.z + g.uniform(-0.9, 0.6) * l.a.z};
      const double r = g.uniform(1.2, 3.5);
      e.a = {r, r, g.uniform(6, 25)};
      e.rotate_random(g);
      a.lung_vessels.push_back(e);
    }
  for (int m = 0; m < 4; ++m) {
    const double k = 2 * kPi / g.uniform(25, 80);
    Vec d{g.normal(), g.normal(), g.normal()};
    const double n = std::sqrt(d.x * d.x + d.y * d.y + d.z * d.z);
    a.wave[m] = {k * d.x / n, k * d.y / n, k * d.z / n};
    a.wave_phase[m] = g.uniform(0, 2 * kPi);
  }
  return a;
}

struct Lesion {
  std::string organ;
  std::vector<Tissue> allowed;
  Ellipsoid shape;
  Vec bump_dir[3];
  double bump_amp[3] = {0, 0, 0}, bump_freq[3] = {0, 0, 0};
  double hu = 0, core_hu = 0, rim_hu = 0;
  bool core = false, rim = false;
  double radius = 0;

  // Inside when the quadratic form is below a direction-dependent bound (irregular outline).
  bool inside(double x, double y, double z, double* level) const {
    const double l = shape.level(x, y, z);
    if (l > 1.6) return false;
    const double dx = x - shape.c.x, dy = y - shape.c.y, dz = z - shape.c.z;
    const double n = std::sqrt(dx * dx + dy * dy + dz * dz) + 1e-9;
    double bound = 1;
    for (int m = 0; m < 3; ++m)
      bound += bump_amp[m] * std::sin(bump_freq[m] * (bump_dir[m].x * dx + bump_dir[m].y * dy + bump_dir[m].z * dz) / n);
    *level = l / (bound * bound);
    return l <= bound * bound;
  }
};

Tissue tissue_of(const Anatomy& a, double x, double y, double z) {
  double hu;
  return a.at(x, y, z, &hu);
}

}  // namespace

Phantom make_phantom(uint64_t seed, int index, const PhantomOptions& o) {
  Rng g(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ull + 1);
  const int n = std::max(16, o.matrix);
  const double fov = g.uniform(360, 440);
  const double sxy = fov / n;
  const double zs[] = {1.5, 2.0, 2.5, 3.0, 3.0, 5.0};
  const double drawn_sz = zs[g.integer(0, 5)];
  const double sz = o.slice_mm > 0 ? o.slice_mm : drawn_sz;
  const double z_extent = g.uniform(200, 320);
  const int nz = o.slices > 0 ? o.slices : std::max(8, static_cast<int>(std::lround(z_extent / sz)));
  const double z_half = 0.5 * nz * sz;
  const Anatomy a = draw_anatomy(g, z_half);

  Phantom ph;
  char name[32];
  std::snprintf(name, sizeof name, "Phantom_%03d", index);
  ph.name = name;
  const std::array<int64_t, 3> dims{n, n, nz};
  const std::array<double, 3> spacing{sxy, sxy, sz};
  const std::array<double, 3> origin{-(n - 1) * 0.5 * sxy, -(n - 1) * 0.5 * sxy, -(nz - 1) * 0.5 * sz};
  ph.header = nifti::make_header(dims, spacing, origin, {1, 0, 0, 0, 1, 0, 0, 0, 1}, nifti::kInt16);
  ph.header.descrip = "lesionbench synth phantom";
  auto pos = [&](int64_t i, int64_t j, int64_t k) {
    return Vec{origin[0] + i * sxy, origin[1] + j * sxy, origin[2] + k * sz};
  };

  // Lesions: healthy every k-th case (k = round(1 / healthy_fraction)), else 1-4 lesions.
  std::vector<Lesion> lesions;
  const int every = o.healthy_fraction > 0 ? std::max(1, static_cast<int>(std::lround(1.0 / o.healthy_fraction))) : 0;
  const bool healthy = every > 0 && index % every == 0;
  if (!healthy) {
    const double u = g.uniform();
    const int count = u < 0.4 ? 1 : u < 0.7 ? 2 : u < 0.9 ? 3 : 4;
    for (int l = 0; l < count; ++l) {
      Lesion les;
      const double t = g.uniform();
      double r_lo, r_hi;
      if (t < 0.3) {
        les.organ = "liver", les.allowed = {kLiver}, r_lo = 4, r_hi = 40;
        les.hu = g.chance(0.85) ? a.hu_liver - g.uniform(35, 75) : a.hu_liver + g.uniform(30, 50);
      } else if (t < 0.55) {
        les.organ = "lung", les.allowed = {kLung, kVessel}, r_lo = 3, r_hi = 22;
        les.hu = g.uniform(-20, 50);
      } else if (t < 0.67) {
        les.organ = "kidney", les.allowed = {kKidney}, r_lo = 7, r_hi = 28;
        les.hu = g.uniform(15, 45);
      } else if (t < 0.75) {
        les.organ = "spleen", les.allowed = {kSpleen}, r_lo = 6, r_hi = 25;
        les.hu = a.hu_spleen - g.uniform(40, 70);
      } else if (t < 0.85) {
        les.organ = "muscle", les.allowed = {kMuscle, kFat}, r_lo = 10, r_hi = 45;
        les.hu = a.hu_muscle - g.uniform(10, 35);
      } else {
        les.organ = "lymph node", les.allowed = {kVisceralFat, kBowel}, r_lo = 6, r_hi = 25;
        les.hu = g.uniform(30, 55);
      }
      les.radius = g.log_uniform(r_lo, r_hi);
      // A centre inside the organ, found by rejection sampling over the volume.
      bool found = false;
      for (int tries = 0; tries < 20000 && !found; ++tries) {
        const Vec p = pos(g.integer(0, n - 1), g.integer(0, n - 1), g.integer(0, nz - 1));
        const Tissue ts = tissue_of(a, p.x, p.y, p.z);
        const bool ok = les.organ == "muscle" ? ts == kMuscle : ts == les.allowed[0];
        if (ok) les.shape.c = p, found = true;
      }
      if (!found) continue;
      les.shape.a = {les.radius * g.uniform(0.75, 1.25), les.radius * g.uniform(0.75, 1.25), les.radius * g.uniform(0.75, 1.25)};
      les.shape.rotate_random(g);
      for (int m = 0; m < 3; ++m) {
        les.bump_dir[m] = {g.normal(), g.normal(), g.normal()};
        les.bump_amp[m] = g.uniform(0.0, 0.12);
        les.bump_freq[m] = g.integer(2, 5);
      }
      les.core = les.radius > 12 && g.chance(0.5);
      les.rim = les.radius > 8 && g.chance(0.3);
      les.core_hu = les.hu - g.uniform(15, 35);
      les.rim_hu = les.hu + g.uniform(20, 40);
      lesions.push_back(les);
    }
  }

  // Render at voxel centres (parallel over slices; every value depends only on its position).
  const int64_t nvox = static_cast<int64_t>(n) * n * nz;
  VolumeF img(Grid{dims, spacing});
  ph.label.assign(static_cast<size_t>(nvox), 0);
  std::vector<int32_t> lesion_of(static_cast<size_t>(nvox), -1);
  tbb::parallel_for(int64_t{0}, int64_t{nz}, [&](int64_t k) {
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < n; ++i) {
        const Vec p = pos(i, j, k);
        double hu;
        const Tissue ts = a.at(p.x, p.y, p.z, &hu);
        if (ts != kAir && ts != kLung && ts != kGas && ts != kBone) hu += a.texture(p.x, p.y, p.z);
        const size_t at = static_cast<size_t>(i + n * (j + int64_t{n} * k));
        for (size_t l = 0; l < lesions.size(); ++l) {
          const Lesion& les = lesions[l];
          if (std::find(les.allowed.begin(), les.allowed.end(), ts) == les.allowed.end()) continue;
          double level;
          if (!les.inside(p.x, p.y, p.z, &level)) continue;
          hu = les.core && level < 0.3 ? les.core_hu : les.rim && level > 0.75 ? les.rim_hu : les.hu;
          hu += 0.5 * a.texture(p.z, p.x, p.y);
          ph.label[at] = 1;
          lesion_of[at] = static_cast<int32_t>(l);
          break;
        }
        img.v[at] = static_cast<float>(hu);
      }
  });
  for (size_t l = 0; l < lesions.size(); ++l) {
    const int64_t vox = std::count(lesion_of.begin(), lesion_of.end(), static_cast<int32_t>(l));
    if (vox == 0) continue;
    ph.lesions.push_back({lesions[l].organ, lesions[l].radius, vox * sxy * sxy * sz / 1000.0, lesions[l].hu});
  }

  // Partial volume: the scanner's point-spread function (0.6 mm in-plane, 0.45 slice thickness along z).
  // The voxel box (std 0.3 voxel) on top of a 0.6 mm in-plane blur; along z the slice profile.
  const double psf_xy = std::sqrt(0.36 + 0.09 * sxy * sxy);
  img = gaussian(img, std::array<double, 3>{psf_xy, psf_xy, 0.45 * sz});

  // Noise: white Gaussian per slice from its own stream, correlated in-plane, scaled to sigma_hu.
  const double sigma_hu = g.uniform(8, 20);
  const uint64_t noise_seed = g.next();
  VolumeF noise(img.grid);
  tbb::parallel_for(int64_t{0}, int64_t{nz}, [&](int64_t k) {
    Rng r(noise_seed + static_cast<uint64_t>(k) * 0x632BE59BD9B4E019ull);
    for (int64_t t = 0; t < int64_t{n} * n; ++t) noise.v[static_cast<size_t>(k * n * n + t)] = static_cast<float>(r.normal());
  });
  noise = gaussian(noise, std::array<double, 3>{0.7 * sxy, 0.7 * sxy, 0.0});
  double ss = 0;
  for (float v : noise.v) ss += double(v) * v;
  const double scale = sigma_hu / std::sqrt(ss / std::max<size_t>(1, noise.v.size()));
  ph.ct.resize(static_cast<size_t>(nvox));
  for (size_t t = 0; t < ph.ct.size(); ++t) {
    const bool outside_air = img.v[t] <= -999.0f;  // air around the body stays at -1000 like a real scan's
    const double v = img.v[t] + (outside_air ? 0.0 : noise.v[t] * scale);
    ph.ct[t] = static_cast<int16_t>(std::lround(std::clamp(v, -1024.0, 3071.0)));
  }
  return ph;
}

void write_phantom_set(const std::string& out_dir, int cases, uint64_t seed, const PhantomOptions& o, std::ostream& log) {
  namespace fs = std::filesystem;
  const fs::path images = fs::path(out_dir) / "imagesTs", labels = fs::path(out_dir) / "labelsTs";
  fs::create_directories(images);
  fs::create_directories(labels);
  nlohmann::json list = nlohmann::json::array();
  for (int c = 1; c <= cases; ++c) {
    const Phantom p = make_phantom(seed, c, o);
    nifti::write_image((images / (p.name + "_0000.nii.gz")).string(), p.header, p.ct.data());
    nifti::write_image((labels / (p.name + ".nii.gz")).string(), nifti::header_like(p.header, nifti::kUInt8), p.label.data());
    nlohmann::json les = nlohmann::json::array();
    for (const auto& l : p.lesions)
      les.push_back({{"organ", l.organ}, {"radius_mm", std::round(l.radius_mm * 10) / 10},
                     {"volume_ml", std::round(l.volume_ml * 1000) / 1000}, {"hu", std::round(l.hu)}});
    const auto& h = p.header;
    list.push_back({{"case", p.name}, {"dims", h.dims3()},
                    {"spacing_mm", {h.pixdim[1], h.pixdim[2], h.pixdim[3]}}, {"lesions", les}});
    log << p.name << ": " << h.dim[1] << "x" << h.dim[2] << "x" << h.dim[3] << ", " << std::fixed << std::setprecision(2)
        << h.pixdim[1] << "x" << h.pixdim[2] << "x" << h.pixdim[3] << " mm, ";
    if (p.lesions.empty()) log << "healthy";
    for (size_t l = 0; l < p.lesions.size(); ++l)
      log << (l ? ", " : "") << p.lesions[l].organ << " " << std::setprecision(1) << p.lesions[l].volume_ml << " ml";
    log << "\n" << std::flush;
  }
  nlohmann::json doc = {{"schema_version", 1},
                        {"generator", "lesionbench synth"},
                        {"seed", seed},
                        {"matrix", o.matrix},
                        {"cases", list}};
  std::ofstream(fs::path(out_dir) / "phantoms.json") << doc.dump(2) << "\n";
}

}  // namespace lb::phantom
