// The classifiers on data whose answer is known: a threshold, an interaction (XOR) that a linear model
// cannot learn, a logistic model with known weights; determinism and the JSON round trip.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "baseline/gbdt.h"
#include "baseline/logistic.h"

using namespace lb::baseline;

namespace {

Dataset make(int n, uint32_t seed, int features, auto label) {
  Dataset d;
  d.cols.assign(static_cast<size_t>(features), {});
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int r = 0; r < n; ++r) {
    std::vector<float> x(static_cast<size_t>(features));
    for (int f = 0; f < features; ++f) x[static_cast<size_t>(f)] = u(g), d.cols[static_cast<size_t>(f)].push_back(x[static_cast<size_t>(f)]);
    d.y.push_back(label(x, g));
    d.w.push_back(1.0f);
  }
  return d;
}

double accuracy(const Gbdt& m, const Dataset& d) {
  int ok = 0;
  std::vector<float> row(d.cols.size());
  for (int64_t r = 0; r < d.rows(); ++r) {
    for (size_t f = 0; f < d.cols.size(); ++f) row[f] = d.cols[f][static_cast<size_t>(r)];
    ok += (m.logit(row.data()) > 0) == (d.y[static_cast<size_t>(r)] > 0.5f);
  }
  return double(ok) / d.rows();
}

}  // namespace

TEST_CASE("gbdt learns a threshold on one feature among noise features") {
  auto label = [](const std::vector<float>& x, std::mt19937&) { return x[2] > 0.3f ? 1.0f : 0.0f; };
  const Dataset train = make(4000, 1, 5, label), test = make(2000, 2, 5, label);
  GbdtParams p;
  p.trees = 30;
  p.depth = 3;
  const Gbdt m = train_gbdt(train, p);
  CHECK(accuracy(m, test) > 0.98);
  const auto imp = m.importance(5);
  for (int f = 0; f < 5; ++f)
    if (f != 2) CHECK(imp[2] > 20 * imp[static_cast<size_t>(f)]);
}

TEST_CASE("gbdt learns an interaction that logistic regression cannot") {
  auto label = [](const std::vector<float>& x, std::mt19937&) { return (x[0] > 0) != (x[1] > 0) ? 1.0f : 0.0f; };
  const Dataset train = make(6000, 3, 3, label), test = make(2000, 4, 3, label);
  GbdtParams p;
  p.trees = 60;
  p.depth = 4;
  const Gbdt m = train_gbdt(train, p);
  CHECK(accuracy(m, test) > 0.95);
  const Logistic l = train_logistic(train);
  int ok = 0;
  for (int64_t r = 0; r < test.rows(); ++r) {
    float row[3] = {test.cols[0][static_cast<size_t>(r)], test.cols[1][static_cast<size_t>(r)], test.cols[2][static_cast<size_t>(r)]};
    float out = 0;
    l.add_logits(row, 1, 3, &out);
    ok += (out > 0) == (test.y[static_cast<size_t>(r)] > 0.5f);
  }
  CHECK(double(ok) / test.rows() < 0.65);
}

TEST_CASE("gbdt is deterministic for a seed and survives the JSON round trip bit for bit") {
  auto label = [](const std::vector<float>& x, std::mt19937& g) {
    return std::uniform_real_distribution<float>(0, 1)(g) < 1 / (1 + std::exp(-4 * x[0] + 2 * x[1] * x[3])) ? 1.0f : 0.0f;
  };
  const Dataset d = make(3000, 5, 4, label);
  GbdtParams p;
  p.trees = 20;
  p.seed = 9;
  const Gbdt a = train_gbdt(d, p), b = train_gbdt(d, p);
  CHECK(a.split_feature == b.split_feature);
  CHECK(a.leaf == b.leaf);
  p.seed = 10;
  CHECK(train_gbdt(d, p).leaf != a.leaf);

  const Gbdt c = Gbdt::from_json(nlohmann::json::parse(a.to_json().dump()));
  std::vector<float> rows;
  for (int64_t r = 0; r < d.rows(); ++r)
    for (int f = 0; f < 4; ++f) rows.push_back(d.cols[static_cast<size_t>(f)][static_cast<size_t>(r)]);
  std::vector<float> la(static_cast<size_t>(d.rows()), 0.0f), lc(la.size(), 0.0f);
  a.add_logits(rows.data(), d.rows(), 4, la.data());
  c.add_logits(rows.data(), d.rows(), 4, lc.data());
  CHECK(la == lc);
}

TEST_CASE("gbdt probabilities follow the soft targets it is trained on") {
  // y is the fraction 0.2 left of 0 and 0.9 right of it: the model's probability must match.
  Dataset d;
  d.cols.resize(1);
  for (int r = 0; r < 2000; ++r) {
    const float x = -1 + 2.0f * r / 2000;
    d.cols[0].push_back(x);
    d.y.push_back(x < 0 ? 0.2f : 0.9f);
    d.w.push_back(1.0f);
  }
  GbdtParams p;
  p.trees = 100;
  p.depth = 2;
  p.subsample = 1.0;
  const Gbdt m = train_gbdt(d, p);
  float left = -0.5f, right = 0.5f;
  CHECK(1 / (1 + std::exp(-m.logit(&left))) == Approx(0.2).margin(0.01));
  CHECK(1 / (1 + std::exp(-m.logit(&right))) == Approx(0.9).margin(0.01));
}

TEST_CASE("logistic regression recovers the weights of a logistic model") {
  const double w0 = 2.0, w1 = -1.0, b = 0.5;
  auto label = [&](const std::vector<float>& x, std::mt19937& g) {
    const double p = 1 / (1 + std::exp(-(w0 * x[0] + w1 * x[1] + b)));
    return std::uniform_real_distribution<double>(0, 1)(g) < p ? 1.0f : 0.0f;
  };
  Dataset d = make(40000, 6, 3, label);
  for (float& x : d.cols[1]) x = 10 * x + 100;  // unstandardised scale: weights must come back in raw units
  const Logistic l = train_logistic(d, 1e-6);
  CHECK(l.weights[0] == Approx(w0).margin(0.1));
  CHECK(l.weights[1] == Approx(w1 / 10).margin(0.01));
  CHECK(l.weights[2] == Approx(0).margin(0.06));
  CHECK(l.bias + l.weights[1] * 100 == Approx(b).margin(0.1));
}
