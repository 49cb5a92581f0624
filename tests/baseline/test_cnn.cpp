// The baseline's CNN (issue 17): convolution against a naive loop, every layer's gradient against finite
// differences, results independent of the thread count, a tiny network that learns a toy volume, and the
// model file round trip.
#include <catch2/catch.hpp>

#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "baseline/cnn_direct.h"
#include "baseline/cnn_layers.h"
#include "baseline/cnn_net.h"
#include "baseline/cnn_train.h"
#include "tests/support/test_support.h"

using namespace lb::baseline::cnn;

namespace {

void fill_random(std::vector<float>& v, std::mt19937_64& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  for (auto& x : v) x = u(rng);
}

Tensor random_tensor(int c, std::array<int64_t, 3> d, std::mt19937_64& rng) {
  Tensor t(c, d);
  fill_random(t.v, rng);
  return t;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Central differences of L(value) = <r, f()> for a few entries of `values`, against the analytic `grad`:
// the largest relative error over the checked entries (float arithmetic: a few 1e-3 is the expected
// agreement). Leaky ReLU makes L piecewise smooth: an entry whose two one-sided differences disagree sits on a
// kink, where no finite difference is the derivative, and is skipped; at most half may be.
double worst_gradient_error(std::vector<float>& values, const std::vector<float>& grad,
                            const std::function<double()>& loss, std::mt19937_64& rng, int checks = 12) {
  double worst = 0;
  int kinks = 0;
  const double centre = loss();
  for (int c = 0; c < checks; ++c) {
    const size_t i = static_cast<size_t>(rng() % values.size());
    const float keep = values[i], h = 2e-3f * std::max(1.0f, std::fabs(keep));
    values[i] = keep + h;
    const double up = loss();
    values[i] = keep - h;
    const double down = loss();
    values[i] = keep;
    const double right = (up - centre) / h, left = (centre - down) / h, numeric = (up - down) / (2.0 * h);
    const double scale = std::max(1e-2, std::fabs(numeric) + std::fabs(grad[i]));
    if (std::fabs(right - left) > 2e-2 * scale) {
      ++kinks;
      continue;
    }
    const double err = std::fabs(numeric - grad[i]) / scale;
    if (err > worst) {
      worst = err;
      UNSCOPED_INFO("entry " << i << ": numeric " << numeric << ", analytic " << grad[i]);
    }
  }
  UNSCOPED_INFO(kinks << " of " << checks << " entries on a kink");
  if (2 * kinks > checks) return 1.0;
  return worst;
}

}  // namespace

TEST_CASE("cnn: convolution equals a naive loop on random shapes, kernels, strides and paddings") {
  std::mt19937_64 rng(7);
  struct Shape {
    int in, out, k, s, p;
    std::array<int64_t, 3> d;
  };
  const std::vector<Shape> shapes = {{1, 3, 3, 1, 1, {9, 7, 5}},  {2, 4, 3, 2, 1, {9, 8, 7}}, {3, 2, 1, 1, 0, {5, 6, 7}},
                                     {2, 2, 3, 1, 0, {6, 5, 4}},  {4, 3, 3, 2, 0, {7, 7, 9}}, {1, 1, 2, 2, 0, {8, 6, 4}},
                                     {3, 5, 3, 3, 1, {10, 9, 8}}, {2, 3, 1, 2, 0, {7, 5, 6}}, {5, 2, 3, 1, 1, {3, 4, 70}}};
  for (const auto& sh : shapes) {
    INFO("in " << sh.in << " out " << sh.out << " k " << sh.k << " stride " << sh.s << " pad " << sh.p);
    Conv3d c(sh.in, sh.out, sh.k, sh.s, sh.p);
    fill_random(c.weight.w, rng);
    fill_random(c.bias.w, rng);
    const Tensor x = random_tensor(sh.in, sh.d, rng);
    const Tensor fast = c.forward(x), slow = conv3d_naive(c, x);
    REQUIRE(fast.dims == slow.dims);
    REQUIRE(fast.channels == sh.out);
    for (size_t i = 0; i < fast.v.size(); ++i) REQUIRE(fast.v[i] == Approx(slow.v[i]).margin(1e-4));
  }
}

TEST_CASE("cnn: convolution gradients (weights, bias, input) equal finite differences") {
  std::mt19937_64 rng(11);
  for (const auto& [k, s, p] : std::vector<std::array<int, 3>>{{3, 1, 1}, {3, 2, 1}, {1, 1, 0}, {3, 3, 0}}) {
    INFO("k " << k << " stride " << s << " pad " << p);
    Conv3d c(2, 3, k, s, p);
    fill_random(c.weight.w, rng, 0.5f);
    fill_random(c.bias.w, rng, 0.5f);
    Tensor x = random_tensor(2, {7, 6, 9}, rng);
    Tensor r = random_tensor(3, c.out_dims(x.dims), rng);  // L = <r, conv(x)>
    auto loss = [&] { return dot(r.v, c.forward(x).v); };
    const Tensor dx = c.backward(x, r);
    CHECK(worst_gradient_error(c.weight.w, c.weight.g, loss, rng) < 5e-3);
    CHECK(worst_gradient_error(c.bias.w, c.bias.g, loss, rng) < 5e-3);
    CHECK(worst_gradient_error(x.v, dx.v, loss, rng, 24) < 5e-3);
  }
}

TEST_CASE("cnn: the direct 3x3x3 kernels equal im2col + GEMM and the naive loop, forward and backward") {
  if (!direct::enabled()) LB_SKIP("this CPU has no AVX2 + FMA: the direct kernels never run here");
  std::mt19937_64 rng(23);
  // Rows shorter than, equal to and longer than one 16-wide block, partial vectors, and output counts that
  // are not a multiple of the register blocks (6 forward, 4 for the weight gradient).
  const std::vector<std::array<int64_t, 5>> shapes = {{1, 6, 16, 4, 3}, {3, 5, 21, 6, 4}, {7, 13, 3, 5, 9},
                                                      {4, 1, 33, 2, 2}, {12, 24, 8, 8, 8}, {2, 4, 1, 1, 1}};
  for (const auto& [in, out, nx, ny, nz] : shapes) {
    INFO("in " << in << " out " << out << " dims " << nx << "x" << ny << "x" << nz);
    Conv3d c(static_cast<int>(in), static_cast<int>(out), 3, 1, 1);
    fill_random(c.weight.w, rng, 0.5f);
    fill_random(c.bias.w, rng, 0.5f);
    const Tensor x = random_tensor(c.in, {nx, ny, nz}, rng);
    const Tensor dy = random_tensor(c.out, x.dims, rng);
    auto run = [&](bool on, std::vector<float>* y, std::vector<float>* dx, std::vector<float>* dw, std::vector<float>* db) {
      direct::set_enabled(on);
      Conv3d cc = c;
      *y = cc.forward(x).v;
      *dx = cc.backward(x, dy).v;
      *dw = cc.weight.g;
      *db = cc.bias.g;
      direct::set_enabled(true);
    };
    std::vector<float> y1, dx1, dw1, db1, y0, dx0, dw0, db0;
    run(true, &y1, &dx1, &dw1, &db1);
    run(false, &y0, &dx0, &dw0, &db0);
    const Tensor naive = conv3d_naive(c, x);
    for (size_t i = 0; i < y1.size(); ++i) {
      REQUIRE(y1[i] == Approx(naive.v[i]).margin(1e-4));
      REQUIRE(y1[i] == Approx(y0[i]).margin(1e-4));
    }
    for (size_t i = 0; i < dx1.size(); ++i) REQUIRE(dx1[i] == Approx(dx0[i]).margin(1e-4));
    for (size_t i = 0; i < dw1.size(); ++i) REQUIRE(dw1[i] == Approx(dw0[i]).epsilon(1e-4).margin(1e-3));
    for (size_t i = 0; i < db1.size(); ++i) REQUIRE(db1[i] == Approx(db0[i]).epsilon(1e-4).margin(1e-3));
  }
}

TEST_CASE("cnn: upsampling then convolving on the coarse grid (polyphase) equals the naive loop on the upsampled map, forward and backward") {
  if (!direct::enabled()) LB_SKIP("this CPU has no AVX2 + FMA: the polyphase kernels never run here");
  std::mt19937_64 rng(29);
  // Coarse dims: rows shorter than a vector, one that ends mid-block, a long one; output counts that are not
  // multiples of the register blocks; and the network's own decoder shapes.
  const std::vector<std::array<int64_t, 5>> shapes = {{1, 6, 3, 2, 2},  {3, 5, 5, 3, 2},   {7, 13, 9, 4, 3},
                                                      {4, 1, 17, 2, 2}, {24, 12, 8, 8, 4}, {2, 7, 1, 1, 1}};
  for (const auto& [in, out, nx, ny, nz] : shapes) {
    INFO("in " << in << " out " << out << " coarse dims " << nx << "x" << ny << "x" << nz);
    Conv3d c(static_cast<int>(in), static_cast<int>(out), 3, 1, 1);
    fill_random(c.weight.w, rng, 0.5f);
    fill_random(c.bias.w, rng, 0.5f);
    const Tensor x = random_tensor(c.in, {nx, ny, nz}, rng);
    const std::array<int64_t, 3> fine{2 * nx, 2 * ny, 2 * nz};
    const Tensor dy = random_tensor(c.out, fine, rng);
    // Reference: the upsampled map formed, the naive loop forward; backward by the im2col path (itself
    // checked against finite differences above) and the upsampling's adjoint.
    const Tensor up = upsample2(x, fine);
    const Tensor naive = conv3d_naive(c, up);
    Conv3d ref = c;
    direct::set_enabled(false);
    const Tensor dx_ref = upsample2_backward(ref.backward(up, dy), x.dims);
    direct::set_enabled(true);
    Conv3d poly = c;
    const Tensor y = poly.forward_up2(x, fine);
    const Tensor dx = poly.backward_up2(x, dy);
    REQUIRE(y.dims == fine);
    REQUIRE(dx.dims == x.dims);
    for (size_t i = 0; i < y.v.size(); ++i) REQUIRE(y.v[i] == Approx(naive.v[i]).margin(1e-4));
    for (size_t i = 0; i < dx.v.size(); ++i) REQUIRE(dx.v[i] == Approx(dx_ref.v[i]).margin(1e-4));
    for (size_t i = 0; i < poly.weight.g.size(); ++i)
      REQUIRE(poly.weight.g[i] == Approx(ref.weight.g[i]).epsilon(1e-4).margin(1e-3));
    for (size_t i = 0; i < poly.bias.g.size(); ++i)
      REQUIRE(poly.bias.g[i] == Approx(ref.bias.g[i]).epsilon(1e-4).margin(1e-3));
  }
  // Fine dims that are not exactly twice the coarse ones (an odd skip connection) take the upsampling path.
  Conv3d c(2, 3, 3, 1, 1);
  fill_random(c.weight.w, rng, 0.5f);
  const Tensor x = random_tensor(2, {4, 3, 2}, rng);
  const std::array<int64_t, 3> odd{7, 6, 4};
  const Tensor y = c.forward_up2(x, odd), naive = conv3d_naive(c, upsample2(x, odd));
  REQUIRE(y.dims == odd);
  for (size_t i = 0; i < y.v.size(); ++i) REQUIRE(y.v[i] == Approx(naive.v[i]).margin(1e-4));
}

TEST_CASE("cnn: instance norm + leaky ReLU, upsampling, concatenation and the loss: gradients equal finite differences") {
  std::mt19937_64 rng(13);
  // Slope 1 (the norm alone, smooth everywhere) and the leaky ReLU's 0.01 (kinks skipped).
  for (float slope : {1.0f, 0.01f}) {
    INFO("slope " << slope);
    NormAct n(3);
    n.slope = slope;
    fill_random(n.gamma.w, rng);
    fill_random(n.beta.w, rng, 0.3f);
    Tensor x = random_tensor(3, {5, 4, 6}, rng);
    const Tensor r = random_tensor(3, x.dims, rng);
    auto loss = [&] { return dot(r.v, n.forward(x, nullptr).v); };
    NormAct::Cache cache;
    n.forward(x, &cache);
    const Tensor dx = n.backward(cache, r);
    CHECK(worst_gradient_error(n.gamma.w, n.gamma.g, loss, rng, 20) < 5e-3);
    CHECK(worst_gradient_error(n.beta.w, n.beta.g, loss, rng, 20) < 5e-3);
    CHECK(worst_gradient_error(x.v, dx.v, loss, rng, 30) < 1e-2);
  }

  // Upsampling is linear: its backward must be its adjoint, <up(a), b> = <a, up_backward(b)>, on odd sizes too.
  const Tensor a = random_tensor(2, {3, 4, 2}, rng);
  const Tensor b = random_tensor(2, {5, 8, 4}, rng);
  CHECK(dot(upsample2(a, b.dims).v, b.v) == Approx(dot(a.v, upsample2_backward(b, a.dims).v)).epsilon(1e-5));
  CHECK(upsample2(a, b.dims).at(1, 4, 7, 3) == a.at(1, 2, 3, 1));
  Tensor da, db;
  split(concat(a, random_tensor(3, a.dims, rng)), 2, da, db);
  CHECK(da.v == a.v);
  CHECK(db.channels == 3);

  // Dice + cross-entropy against finite differences, with a fractional target (lesion fractions).
  Tensor z = random_tensor(1, {6, 5, 4}, rng);
  std::vector<float> t(static_cast<size_t>(z.spatial()));
  for (auto& v : t) v = (rng() % 3 == 0) ? 1.0f : (rng() % 5 == 0 ? 0.5f : 0.0f);
  Tensor dz;
  dice_bce(z, t, &dz);
  CHECK(worst_gradient_error(z.v, dz.v, [&] { return dice_bce(z, t, nullptr).total(); }, rng, 30) < 5e-3);
  // Analytic values: logits of +-20 matching the target give a loss near 0; the opposite near 1 + 20.
  Tensor sure(1, {2, 1, 1});
  sure.v = {20.0f, -20.0f};
  CHECK(dice_bce(sure, {1.0f, 0.0f}, nullptr).total() == Approx(0.0).margin(1e-6));
  const LossParts wrong = dice_bce(sure, {0.0f, 1.0f}, nullptr);
  CHECK(wrong.bce == Approx(20.0).epsilon(1e-6));
  CHECK(wrong.dice == Approx(1.0 - 1.0 / 3.0).epsilon(1e-6));  // (2*0 + 1) / (1 + 1 + 1)
}

TEST_CASE("cnn: the whole U-Net's gradient equals finite differences") {
  std::mt19937_64 rng(17);
  NetConfig cfg;
  cfg.channels = {2, 3, 4};
  cfg.slope = 1.0f;  // smooth, so every entry has a derivative (the leaky kink is checked on NormAct above)
  UNet net(cfg, 3);
  Tensor x = random_tensor(1, {8, 8, 4}, rng);
  const Tensor r = random_tensor(1, x.dims, rng);
  net.zero_grad();
  net.forward(x);
  net.backward(r);
  std::vector<std::vector<float>> grads;
  for (const Param* p : net.params()) grads.push_back(p->g);
  auto loss = [&] { return dot(r.v, net.infer(x).v); };
  const auto params = net.params();
  // The first encoder convolution, a decoder convolution, a norm scale and the head (not a convolution bias:
  // instance norm removes it, so its gradient is 0 and finite differences see only rounding).
  for (size_t q : {size_t{0}, size_t{28}, size_t{6}, params.size() - 2}) {
    INFO("parameter array " << q);
    CHECK(worst_gradient_error(params[q]->w, grads[q], loss, rng, 8) < 2e-2);
  }
}

TEST_CASE("cnn: forward, backward and prediction give the same bits on 1 and 4 threads") {
  std::mt19937_64 rng(19);
  NetConfig cfg;
  cfg.channels = {4, 8, 8};
  const UNet start(cfg, 5);
  const Tensor x = random_tensor(1, {16, 16, 8}, rng);
  const Tensor r = random_tensor(1, x.dims, rng);
  auto run = [&](int threads) {
    UNet net = start;
    std::vector<float> out;
    tbb::task_arena arena(threads);
    arena.execute([&] {
      net.zero_grad();
      out = net.forward(x).v;
      net.backward(r);
      for (const Param* p : net.params()) out.insert(out.end(), p->g.begin(), p->g.end());
      lb::imaging::VolumeF hu(lb::imaging::Grid{{21, 19, 11}, {2, 2, 3}});
      for (size_t i = 0; i < hu.v.size(); ++i) hu.v[i] = static_cast<float>((i * 37) % 400) - 100.0f;
      InferSettings s;
      s.patch = {16, 16, 8};
      s.mirror_x = true;
      const auto p = predict_probability(net, hu, s);
      out.insert(out.end(), p.v.begin(), p.v.end());
    });
    return out;
  };
  const auto one = run(1), four = run(4);
  REQUIRE(one.size() == four.size());
  CHECK(std::memcmp(one.data(), four.data(), one.size() * sizeof(float)) == 0);
}

TEST_CASE("cnn: a tiny network learns a toy volume (DSC > 0.95), and a resumed run equals an uninterrupted one") {
  // A bright ball and a dimmer shell on a noisy background: the lesion is the ball.
  auto make = [](uint64_t seed) {
    TrainCase c;
    c.name = "toy" + std::to_string(seed);
    const lb::imaging::Grid g{{24, 24, 16}, {2, 2, 3}};
    c.hu = lb::imaging::VolumeF(g);
    c.target = lb::imaging::VolumeF(g);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 15.0f);
    const double cx = 8 + seed % 8, cy = 10 + seed % 5, cz = 8, r = 4 + seed % 2;
    for (int64_t k = 0; k < 16; ++k)
      for (int64_t j = 0; j < 24; ++j)
        for (int64_t i = 0; i < 24; ++i) {
          const double d = std::sqrt(std::pow(i - cx, 2) + std::pow(j - cy, 2) + std::pow((k - cz) * 1.5, 2));
          const bool ball = d <= r;
          c.hu.at(i, j, k) = (ball ? 120.0f : d <= r + 3 ? 60.0f : 20.0f) + noise(rng);
          c.target.at(i, j, k) = ball ? 1.0f : 0.0f;
        }
    return c;
  };
  const std::vector<TrainCase> train = {make(1), make(2), make(3)};
  const std::vector<TrainCase> held = {make(4)};
  CnnTrainSettings s;
  s.net.channels = {4, 8};
  s.infer.patch = {16, 16, 8};
  s.iterations = 300;
  s.lr = 1e-2;
  s.seed = 3;
  s.progress_every = 0;
  double last_dsc = -1;
  const UNet net = train_unet(train, held, s, [&](const TrainProgress& p) {
    if (p.heldout_dsc >= 0) last_dsc = p.heldout_dsc;
  });
  CHECK(mean_dice(net, train, s.infer) > 0.95);
  CHECK(last_dsc > 0.9);  // a case it never saw

  // Interrupted after the checkpoint at 60 iterations and resumed from it: the same weights, bit for bit.
  lb::test::TempDir dir("cnn-resume");
  CnnTrainSettings part = s;
  part.checkpoint_every = 60;
  part.checkpoint_path = dir / "checkpoint.json";
  part.progress_every = 1;
  struct Stop {};
  CHECK_THROWS_AS(train_unet(train, {}, part, [&](const TrainProgress& p) {
                    if (p.iteration >= 61) throw Stop{};
                  }),
                  Stop);
  const Checkpoint cp = Checkpoint::load(part.checkpoint_path);
  CHECK(cp.iteration == 60);
  part.checkpoint_path.clear();
  const UNet resumed = train_unet(train, {}, part, {}, &cp);
  const auto a = net.to_json()["weights_float32_base64"], b = resumed.to_json()["weights_float32_base64"];
  CHECK(a == b);
  // Other settings cannot resume this checkpoint.
  CnnTrainSettings other = part;
  other.lr = 5e-3;
  CHECK_THROWS_WITH(train_unet(train, {}, other, {}, &cp), Catch::Contains("other settings"));
}

TEST_CASE("cnn: the model's JSON round trip keeps every weight, and damaged files are refused") {
  NetConfig cfg;
  cfg.channels = {3, 5, 7};
  cfg.hu_lo = -100;
  const UNet net(cfg, 42);
  const nlohmann::json j = net.to_json();
  const UNet back = UNet::from_json(nlohmann::json::parse(j.dump()));
  CHECK(back.config() == cfg);
  const auto p = net.params(), q = back.params();
  REQUIRE(p.size() == q.size());
  for (size_t i = 0; i < p.size(); ++i) CHECK(p[i]->w == q[i]->w);
  std::mt19937_64 rng(1);
  const Tensor x = random_tensor(1, {8, 8, 8}, rng);
  CHECK(net.infer(x).v == back.infer(x).v);

  // base64 of every length and special floats survives.
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{7}}) {
    std::vector<float> v(n);
    fill_random(v, rng);
    if (n > 1) v[1] = -0.0f;
    CHECK(base64_to_floats(floats_to_base64(v)) == v);
  }
  nlohmann::json cut = j;
  cut["weights_float32_base64"] = j["weights_float32_base64"].get<std::string>().substr(0, 400);
  CHECK_THROWS_WITH(UNet::from_json(cut), Catch::Contains("weights"));
  nlohmann::json junk = j;
  std::string w = j["weights_float32_base64"];
  w[10] = '*';
  junk["weights_float32_base64"] = w;
  CHECK_THROWS_WITH(UNet::from_json(junk), Catch::Contains("base64"));
  nlohmann::json arch = j;
  arch["architecture"] = "resnet";
  CHECK_THROWS_WITH(UNet::from_json(arch), Catch::Contains("unet3d"));
  nlohmann::json levels = j;
  levels["config"]["channels"] = {3, 5};
  CHECK_THROWS_WITH(UNet::from_json(levels), Catch::Contains("weights"));
}

TEST_CASE("cnn: training patches: an identity draw is the crop itself, and rotation and zoom land where the geometry says") {
  NetConfig cfg;
  cfg.channels = {2, 2};
  const UNet net(cfg, 1);
  TrainCase c;
  const lb::imaging::Grid g{{20, 18, 10}, {2, 2, 3}};
  c.hu = lb::imaging::VolumeF(g, 0.0f);
  c.target = lb::imaging::VolumeF(g, 0.0f);
  // A linear ramp inside the network's clip range (-200..300 HU), so the normalised input stays linear in
  // position and trilinear interpolation of it is exact.
  auto ramp = [](double x, double y, double z) { return -150.0 + 7.0 * x + 3.0 * y + 11.0 * z; };
  for (int64_t k = 0; k < 10; ++k)
    for (int64_t j = 0; j < 18; ++j)
      for (int64_t i = 0; i < 20; ++i) {
        c.hu.at(i, j, k) = static_cast<float>(ramp(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)));
        c.target.at(i, j, k) = (i + j + k) % 3 == 0 ? 1.0f : 0.0f;
      }
  Tensor x(1, {8, 8, 4});
  std::vector<float> t(static_cast<size_t>(x.spatial()));
  const float air = net.normalise(-1024.0f);

  SECTION("identity, partly outside the volume: the voxels themselves, air and no lesion outside") {
    PatchDraw d;
    d.centre = {15 + 3.5, 2 + 3.5, 8 + 1.5};  // origin (15, 2, 8): x runs past 19, z past 9
    d.flip = {false, true, false};
    extract_patch(net, c, d, x, t);
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t j = 0; j < 8; ++j)
        for (int64_t i = 0; i < 8; ++i) {
          const int64_t si = 15 + i, sj = 2 + (7 - j), sk = 8 + k;
          const bool inside = si < 20 && sk < 10;
          INFO(i << "," << j << "," << k);
          REQUIRE(x.at(0, i, j, k) == (inside ? net.normalise(c.hu.at(si, sj, sk)) : air));
          REQUIRE(t[static_cast<size_t>(i + 8 * (j + 8 * k))] == (inside ? c.target.at(si, sj, sk) : 0.0f));
        }
  }
  SECTION("a quarter turn maps the patch's x axis onto the volume's y axis") {
    PatchDraw d;
    d.centre = {9.5, 8.5, 4.5};
    d.angle_rad = M_PI / 2;
    extract_patch(net, c, d, x, t);
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t j = 0; j < 8; ++j)
        for (int64_t i = 0; i < 8; ++i) {
          // (u, v) -> (-v, u): source x = centre_x - (j - 3.5), source y = centre_y + (i - 3.5).
          const double sx = 9.5 - (static_cast<double>(j) - 3.5), sy = 8.5 + (static_cast<double>(i) - 3.5),
                       sz = 4.5 + (static_cast<double>(k) - 1.5);
          REQUIRE(x.at(0, i, j, k) == Approx(net.normalise(static_cast<float>(ramp(sx, sy, sz)))).margin(1e-4));
          const float lesion = c.target.at(std::lround(sx), std::lround(sy), std::lround(sz));
          REQUIRE(t[static_cast<size_t>(i + 8 * (j + 8 * k))] == Approx(lesion).margin(1e-4));
        }
  }
  SECTION("zoom 2 and a rotation: positions at half the distance from the centre, turned; a soft target in [0, 1]") {
    PatchDraw d;
    d.centre = {10.0, 9.0, 5.0};
    d.zoom = 2.0;
    d.angle_rad = 0.3;
    extract_patch(net, c, d, x, t);
    const double cs = std::cos(0.3), sn = std::sin(0.3);
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t j = 0; j < 8; ++j)
        for (int64_t i = 0; i < 8; ++i) {
          const double u = (static_cast<double>(i) - 3.5) / 2, v = (static_cast<double>(j) - 3.5) / 2,
                       w = (static_cast<double>(k) - 1.5) / 2;
          const double sx = 10 + cs * u - sn * v, sy = 9 + sn * u + cs * v, sz = 5 + w;
          REQUIRE(x.at(0, i, j, k) == Approx(net.normalise(static_cast<float>(ramp(sx, sy, sz)))).margin(1e-4));
          const float tv = t[static_cast<size_t>(i + 8 * (j + 8 * k))];
          REQUIRE(tv >= 0.0f);
          REQUIRE(tv <= 1.0f);
        }
  }
}
