// Training and sliding-window prediction of the baseline's U-Net (see cnn_train.h).
#include "baseline/cnn_train.h"

#include "baseline/file_io.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace lb::baseline::cnn {

using imaging::Grid;
using imaging::VolumeF;

namespace {

// Window starts along one axis: 0, step, ... and the last window flush with the end.
std::vector<int64_t> window_starts(int64_t n, int64_t p, double overlap) {
  if (n <= p) return {0};
  const int64_t step = std::max<int64_t>(1, static_cast<int64_t>(std::llround(static_cast<double>(p) * (1.0 - overlap))));
  std::vector<int64_t> v;
  for (int64_t x = 0;; x += step) {
    if (x + p >= n) {
      v.push_back(n - p);
      break;
    }
    v.push_back(x);
  }
  return v;
}

// A Gaussian along one axis of a window (sigma = 1/8 of it), peak 1, never below 1e-3 (a voxel seen only by
// a window's edge still gets a value).
std::vector<float> gaussian_profile(int64_t p) {
  std::vector<float> g(static_cast<size_t>(p));
  const double centre = 0.5 * static_cast<double>(p - 1), sigma = std::max(1.0, static_cast<double>(p) / 8.0);
  for (int64_t i = 0; i < p; ++i) {
    const double d = (static_cast<double>(i) - centre) / sigma;
    g[static_cast<size_t>(i)] = static_cast<float>(std::max(1e-3, std::exp(-0.5 * d * d)));
  }
  return g;
}

float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

Tensor mirrored_x(const Tensor& t) {
  Tensor m(t.channels, t.dims);
  for (int c = 0; c < t.channels; ++c)
    for (int64_t k = 0; k < t.dims[2]; ++k)
      for (int64_t j = 0; j < t.dims[1]; ++j)
        for (int64_t i = 0; i < t.dims[0]; ++i) m.at(c, i, j, k) = t.at(c, t.dims[0] - 1 - i, j, k);
  return m;
}


}  // namespace

void to_json(nlohmann::json& j, const InferSettings& s) {
  j = {{"patch", s.patch}, {"overlap", s.overlap}, {"mirror_x", s.mirror_x}};
}

void from_json(const nlohmann::json& j, InferSettings& s) {
  s.patch = j.at("patch").get<std::array<int64_t, 3>>();
  s.overlap = j.at("overlap").get<double>();
  s.mirror_x = j.at("mirror_x").get<bool>();
  for (int64_t p : s.patch)
    if (p < 1 || p > 1024) throw std::runtime_error("cnn: window dims must be 1..1024");
  if (!(s.overlap >= 0 && s.overlap < 1)) throw std::runtime_error("cnn: window overlap must be in [0, 1)");
}

nlohmann::json CnnModel::to_json() const { return {{"network", net.to_json()}, {"inference", infer}}; }

CnnModel CnnModel::from_json(const nlohmann::json& j) {
  CnnModel m;
  m.net = UNet::from_json(j.at("network"));
  try {
    m.infer = j.at("inference").get<InferSettings>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("cnn inference settings: ") + e.what());
  }
  const int64_t factor = int64_t{1} << (m.net.config().channels.size() - 1);
  for (int64_t p : m.infer.patch)
    if (p % factor) throw std::runtime_error("cnn: window dims must be divisible by " + std::to_string(factor));
  return m;
}

VolumeF predict_probability(const UNet& net, const VolumeF& hu, const InferSettings& s) {
  const auto& d = hu.grid.dims;
  const auto& p = s.patch;
  std::array<std::vector<int64_t>, 3> starts;
  std::array<std::vector<float>, 3> prof;
  for (int a = 0; a < 3; ++a) {
    starts[a] = window_starts(d[a], p[a], s.overlap);
    prof[a] = gaussian_profile(p[a]);
  }
  VolumeF acc(hu.grid, 0.0f), wsum(hu.grid, 0.0f);
  const float air = net.normalise(-1024.0f);
  // The part of the window at o inside the volume.
  auto extent = [&](const std::array<int64_t, 3>& o) -> std::array<int64_t, 3> {
    return {std::min(p[0], d[0] - o[0]), std::min(p[1], d[1] - o[1]), std::min(p[2], d[2] - o[2])};
  };
  std::vector<std::array<int64_t, 3>> origins;
  for (int64_t z0 : starts[2])
    for (int64_t y0 : starts[1])
      for (int64_t x0 : starts[0]) origins.push_back({x0, y0, z0});
  // Windows in groups of a fixed size, the windows of a group side by side (small levels of the network use
  // few cores alone); each window's map is the same whoever computes it, and the maps are added in window
  // order, so the result does not depend on the thread count.
  constexpr size_t kGroup = 4;
  std::vector<Tensor> prob(kGroup);
  for (size_t g0 = 0; g0 < origins.size(); g0 += kGroup) {
    const size_t g1 = std::min(origins.size(), g0 + kGroup);
    tbb::parallel_for(g0, g1, [&](size_t w) {
      const auto& o = origins[w];
      Tensor x(1, p, air);
      const auto n = extent(o);
      for (int64_t k = 0; k < n[2]; ++k)
        for (int64_t j = 0; j < n[1]; ++j)
          for (int64_t i = 0; i < n[0]; ++i) x.at(0, i, j, k) = net.normalise(hu.at(o[0] + i, o[1] + j, o[2] + k));
      Tensor logit = net.infer(x);
      for (float& v : logit.v) v = sigmoid(v);
      if (s.mirror_x) {
        const Tensor m = mirrored_x(net.infer(mirrored_x(x)));
        for (size_t t = 0; t < logit.v.size(); ++t) logit.v[t] = 0.5f * (logit.v[t] + sigmoid(m.v[t]));
      }
      prob[w - g0] = std::move(logit);
    });
    for (size_t w = g0; w < g1; ++w) {
      const auto& o = origins[w];
      const Tensor& pr = prob[w - g0];
      const auto n = extent(o);
      tbb::parallel_for(int64_t{0}, n[2], [&](int64_t k) {
        for (int64_t j = 0; j < n[1]; ++j)
          for (int64_t i = 0; i < n[0]; ++i) {
            const float gw = prof[0][static_cast<size_t>(i)] * prof[1][static_cast<size_t>(j)] * prof[2][static_cast<size_t>(k)];
            acc.at(o[0] + i, o[1] + j, o[2] + k) += gw * pr.at(0, i, j, k);
            wsum.at(o[0] + i, o[1] + j, o[2] + k) += gw;
          }
      });
    }
  }
  for (size_t t = 0; t < acc.v.size(); ++t) acc.v[t] = wsum.v[t] > 0 ? acc.v[t] / wsum.v[t] : 0.0f;
  return acc;
}

void AdamW::step(const std::vector<Param*>& params, double lr_now) {
  if (m.size() != params.size()) {
    m.assign(params.size(), {});
    v.assign(params.size(), {});
    for (size_t q = 0; q < params.size(); ++q) {
      m[q].assign(params[q]->w.size(), 0.0f);
      v[q].assign(params[q]->w.size(), 0.0f);
    }
  }
  ++steps;
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(steps));
  const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(steps));
  tbb::parallel_for(size_t{0}, params.size(), [&](size_t q) {
    Param& p = *params[q];
    auto& mq = m[q];
    auto& vq = v[q];
    if (mq.size() != p.w.size()) throw std::logic_error("optimiser state of another network");
    for (size_t i = 0; i < p.w.size(); ++i) {
      const double g = p.g[i];
      mq[i] = static_cast<float>(beta1 * mq[i] + (1 - beta1) * g);
      vq[i] = static_cast<float>(beta2 * vq[i] + (1 - beta2) * g * g);
      const double update = (mq[i] / bc1) / (std::sqrt(vq[i] / bc2) + eps) + weight_decay * p.w[i];
      p.w[i] = static_cast<float>(p.w[i] - lr_now * update);
    }
  });
}

nlohmann::json AdamW::to_json() const {
  nlohmann::json ms = nlohmann::json::array(), vs = nlohmann::json::array();
  for (const auto& x : m) ms.push_back(floats_to_base64(x));
  for (const auto& x : v) vs.push_back(floats_to_base64(x));
  return {{"lr", lr}, {"beta1", beta1}, {"beta2", beta2}, {"eps", eps}, {"weight_decay", weight_decay},
          {"steps", steps}, {"m", ms}, {"v", vs}};
}

AdamW AdamW::from_json(const nlohmann::json& j) {
  AdamW a;
  a.lr = j.at("lr");
  a.beta1 = j.at("beta1");
  a.beta2 = j.at("beta2");
  a.eps = j.at("eps");
  a.weight_decay = j.at("weight_decay");
  a.steps = j.at("steps");
  for (const auto& x : j.at("m")) a.m.push_back(base64_to_floats(x.get<std::string>()));
  for (const auto& x : j.at("v")) a.v.push_back(base64_to_floats(x.get<std::string>()));
  return a;
}

nlohmann::json settings_json(const CnnTrainSettings& s) {
  return {{"net", s.net}, {"infer", s.infer}, {"iterations", s.iterations}, {"batch", s.batch}, {"lr", s.lr},
          {"lr_power", s.lr_power}, {"lesion_fraction", s.lesion_fraction}, {"flips", s.flips},
          {"intensity_scale", s.intensity_scale}, {"intensity_shift", s.intensity_shift}, {"seed", s.seed},
          {"rotation_deg", s.rotation_deg}, {"rotation_share", s.rotation_share}, {"zoom_min", s.zoom_min},
          {"zoom_max", s.zoom_max}, {"zoom_share", s.zoom_share}};
}

namespace {
// Trilinear interpolation at (x, y, z) in voxel coordinates; samples outside the volume count as `outside`.
float sample_linear(const VolumeF& v, double x, double y, double z, float outside) {
  const auto& d = v.grid.dims;
  const double fx = std::floor(x), fy = std::floor(y), fz = std::floor(z);
  const int64_t i0 = static_cast<int64_t>(fx), j0 = static_cast<int64_t>(fy), k0 = static_cast<int64_t>(fz);
  const double ax = x - fx, ay = y - fy, az = z - fz;
  // Whole-voxel positions (no rotation or zoom): the voxel itself, no blend with a neighbour.
  if (ax == 0 && ay == 0 && az == 0)
    return i0 >= 0 && j0 >= 0 && k0 >= 0 && i0 < d[0] && j0 < d[1] && k0 < d[2] ? v.at(i0, j0, k0) : outside;
  auto at = [&](int64_t i, int64_t j, int64_t k) -> double {
    return i >= 0 && j >= 0 && k >= 0 && i < d[0] && j < d[1] && k < d[2] ? v.at(i, j, k) : outside;
  };
  double s = 0;
  for (int dk = 0; dk < 2; ++dk)
    for (int dj = 0; dj < 2; ++dj)
      for (int di = 0; di < 2; ++di) {
        const double w = (di ? ax : 1 - ax) * (dj ? ay : 1 - ay) * (dk ? az : 1 - az);
        if (w != 0) s += w * at(i0 + di, j0 + dj, k0 + dk);
      }
  return static_cast<float>(s);
}
}  // namespace

void extract_patch(const UNet& net, const TrainCase& c, const PatchDraw& d, Tensor& x, std::vector<float>& target) {
  const auto& p = x.dims;
  const double cs = std::cos(d.angle_rad) / d.zoom, sn = std::sin(d.angle_rad) / d.zoom;
  std::array<double, 3> half{};
  for (int a = 0; a < 3; ++a) half[a] = 0.5 * static_cast<double>(p[a] - 1);
  for (int64_t k = 0; k < p[2]; ++k)
    for (int64_t j = 0; j < p[1]; ++j)
      for (int64_t i = 0; i < p[0]; ++i) {
        // Offsets from the patch centre, mirrored where drawn, then rotated and zoomed into the case.
        const double u = (d.flip[0] ? half[0] - static_cast<double>(i) : static_cast<double>(i) - half[0]);
        const double v = (d.flip[1] ? half[1] - static_cast<double>(j) : static_cast<double>(j) - half[1]);
        const double w = (d.flip[2] ? half[2] - static_cast<double>(k) : static_cast<double>(k) - half[2]);
        const double sx = d.centre[0] + cs * u - sn * v, sy = d.centre[1] + sn * u + cs * v,
                     sz = d.centre[2] + w / d.zoom;
        const float hu = sample_linear(c.hu, sx, sy, sz, -1024.0f);
        x.at(0, i, j, k) = net.normalise(hu) * d.scale + d.offset;
        target[static_cast<size_t>(i + p[0] * (j + p[1] * k))] = sample_linear(c.target, sx, sy, sz, 0.0f);
      }
}

nlohmann::json Checkpoint::to_json() const {
  return {{"kind", "lesionbench-cnn-checkpoint"}, {"iteration", iteration}, {"settings", settings},
          {"net", net.to_json()}, {"optimiser", opt.to_json()}};
}

Checkpoint Checkpoint::from_json(const nlohmann::json& j) {
  if (j.value("kind", "") != "lesionbench-cnn-checkpoint") throw std::runtime_error("not a lesionbench CNN checkpoint");
  Checkpoint c;
  c.iteration = j.at("iteration");
  c.settings = j.at("settings");
  c.net = UNet::from_json(j.at("net"));
  c.opt = AdamW::from_json(j.at("optimiser"));
  return c;
}

void Checkpoint::save(const std::string& path) const { write_text_atomic(path, to_json().dump()); }

Checkpoint Checkpoint::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open checkpoint " + path);
  try {
    return from_json(nlohmann::json::parse(f));
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint " + path + ": " + e.what());
  }
}

double mean_dice(const UNet& net, const std::vector<TrainCase>& cases, const InferSettings& s) {
  if (cases.empty()) return -1;
  double sum = 0;
  for (const auto& c : cases) {
    const VolumeF p = predict_probability(net, c.hu, s);
    int64_t a = 0, b = 0, both = 0;
    for (size_t t = 0; t < p.v.size(); ++t) {
      const bool x = p.v[t] >= 0.5f, y = c.target.v[t] >= 0.5f;
      a += x, b += y, both += x && y;
    }
    sum += a + b == 0 ? 1.0 : 2.0 * static_cast<double>(both) / static_cast<double>(a + b);
  }
  return sum / static_cast<double>(cases.size());
}

UNet train_unet(const std::vector<TrainCase>& train, const std::vector<TrainCase>& validation,
                const CnnTrainSettings& s, const std::function<void(const TrainProgress&)>& progress,
                const Checkpoint* resume) {
  if (train.empty()) throw std::runtime_error("cnn: no training case");
  if (s.batch < 1 || s.iterations < 1) throw std::runtime_error("cnn: batch and iterations must be >= 1");
  const int64_t factor = int64_t{1} << (s.net.channels.size() - 1);
  for (int64_t p : s.infer.patch)
    if (p % factor) throw std::runtime_error("cnn: patch dims must be divisible by " + std::to_string(factor));
  for (const auto& c : train)
    if (c.hu.grid.dims != c.target.grid.dims) throw std::runtime_error("cnn: " + c.name + ": image and target differ in dims");
  const nlohmann::json settings = settings_json(s);
  UNet net = resume ? resume->net : UNet(s.net, s.seed);
  AdamW opt;
  opt.lr = s.lr;
  int64_t start = 0;
  if (resume) {
    if (resume->settings != settings)
      throw std::runtime_error("cnn: the checkpoint was made with other settings: " + resume->settings.dump() +
                               " (now " + settings.dump() + ")");
    opt = resume->opt;
    start = resume->iteration;
  }
  // Lesion voxels per case, for the patches centred on a lesion.
  std::vector<std::vector<int64_t>> lesion(train.size());
  std::vector<size_t> with_lesion;
  for (size_t c = 0; c < train.size(); ++c) {
    for (int64_t t = 0; t < train[c].target.size(); ++t)
      if (train[c].target.v[static_cast<size_t>(t)] >= 0.5f) lesion[c].push_back(t);
    if (!lesion[c].empty()) with_lesion.push_back(c);
  }
  const auto& p = s.infer.patch;
  Tensor x(1, p);
  std::vector<float> target(static_cast<size_t>(x.spatial()));
  auto t_last = std::chrono::steady_clock::now();
  double loss_window = 0;
  int64_t n_window = 0;
  for (int64_t it = start; it < s.iterations; ++it) {
    // Seeded per (seed, iteration): the draws of an iteration never depend on earlier ones.
    SplitMix64 rng{s.seed * 0x9e3779b97f4a7c15ULL ^ (static_cast<uint64_t>(it) + 1) * 0xd1b54a32d192ed03ULL};
    net.zero_grad();
    double loss = 0;
    for (int b = 0; b < s.batch; ++b) {
      // Where: a lesion voxel (of a case that has one) or anywhere, moved by up to a quarter window.
      size_t ci;
      std::array<int64_t, 3> centre{};
      if (!with_lesion.empty() && rng.uniform() < s.lesion_fraction) {
        ci = with_lesion[static_cast<size_t>(rng.below(static_cast<int64_t>(with_lesion.size())))];
        const int64_t v = lesion[ci][static_cast<size_t>(rng.below(static_cast<int64_t>(lesion[ci].size())))];
        const auto& d = train[ci].hu.grid.dims;
        centre = {v % d[0], (v / d[0]) % d[1], v / (d[0] * d[1])};
      } else {
        ci = static_cast<size_t>(rng.below(static_cast<int64_t>(train.size())));
        const auto& d = train[ci].hu.grid.dims;
        for (int a = 0; a < 3; ++a) centre[a] = rng.below(d[a]);
      }
      const TrainCase& c = train[ci];
      const auto& d = c.hu.grid.dims;
      PatchDraw draw;
      for (int a = 0; a < 3; ++a) {
        const int64_t shift = rng.below(p[a] / 2 + 1) - p[a] / 4;
        const int64_t origin = std::clamp(centre[a] - p[a] / 2 + shift, std::min<int64_t>(0, d[a] - p[a]),
                                          std::max<int64_t>(0, d[a] - p[a]));
        draw.centre[a] = static_cast<double>(origin) + 0.5 * static_cast<double>(p[a] - 1);
        draw.flip[a] = s.flips && rng.uniform() < 0.5;
      }
      draw.scale = static_cast<float>(1.0 + s.intensity_scale * (2.0 * rng.uniform() - 1.0));
      draw.offset = static_cast<float>(s.intensity_shift * (2.0 * rng.uniform() - 1.0));
      if (rng.uniform() < s.rotation_share) draw.angle_rad = (2.0 * rng.uniform() - 1.0) * s.rotation_deg * M_PI / 180.0;
      if (rng.uniform() < s.zoom_share) draw.zoom = s.zoom_min + (s.zoom_max - s.zoom_min) * rng.uniform();
      extract_patch(net, c, draw, x, target);
      Tensor dlogits;
      const LossParts parts = dice_bce(net.forward(x), target, &dlogits);
      for (float& g : dlogits.v) g /= static_cast<float>(s.batch);
      net.backward(dlogits);
      loss += parts.total() / s.batch;
    }
    const double lr_now = s.lr * std::pow(1.0 - static_cast<double>(it) / static_cast<double>(s.iterations), s.lr_power);
    opt.step(net.params(), lr_now);
    loss_window += loss;
    ++n_window;
    const int64_t done = it + 1;
    const bool last = done == s.iterations;
    const bool validate = !validation.empty() && (last || (s.validate_every > 0 && done % s.validate_every == 0));
    if (progress && (validate || last || (s.progress_every > 0 && done % s.progress_every == 0))) {
      const auto now = std::chrono::steady_clock::now();
      TrainProgress pr;
      pr.iteration = done;
      pr.iterations = s.iterations;
      pr.loss = loss_window / static_cast<double>(n_window);
      pr.seconds_per_iteration = std::chrono::duration<double>(now - t_last).count() / static_cast<double>(n_window);
      if (validate) pr.heldout_dsc = mean_dice(net, validation, s.infer);
      progress(pr);
      t_last = std::chrono::steady_clock::now();
      loss_window = 0;
      n_window = 0;
    }
    // (none after the last iteration: the finished network is the caller's to write)
    if (!s.checkpoint_path.empty() && s.checkpoint_every > 0 && done % s.checkpoint_every == 0 && !last) {
      Checkpoint cp;
      cp.net = net;
      cp.opt = opt;
      cp.iteration = done;
      cp.settings = settings;
      cp.save(s.checkpoint_path);
    }
  }
  return net;
}

}  // namespace lb::baseline::cnn
