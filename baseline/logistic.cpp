#include "baseline/logistic.h"

#include <Eigen/Dense>
#include <cmath>
#include <stdexcept>

namespace lb::baseline {

void Logistic::add_logits(const float* rows, int64_t n, int64_t stride, float* out) const {
  const size_t F = weights.size();
  for (int64_t r = 0; r < n; ++r) {
    const float* x = rows + r * stride;
    double s = bias;
    for (size_t f = 0; f < F; ++f) s += weights[f] * x[f];
    out[r] += static_cast<float>(s);
  }
}

nlohmann::json Logistic::to_json() const { return {{"type", "logistic"}, {"weights", weights}, {"bias", bias}}; }

Logistic Logistic::from_json(const nlohmann::json& j) {
  Logistic l;
  l.weights = j.at("weights").get<std::vector<double>>();
  l.bias = j.at("bias");
  return l;
}

Logistic train_logistic(const Dataset& train, double l2, int iterations) {
  const int64_t N = train.rows();
  const int F = train.features();
  if (N == 0) throw std::runtime_error("no training rows");
  // Standardise: column means and deviations, weighted like the loss.
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(F), sd = Eigen::VectorXd::Ones(F);
  double sw = 0;
  for (int64_t r = 0; r < N; ++r) sw += train.w[r];
  for (int f = 0; f < F; ++f) {
    double m = 0, v = 0;
    const auto& c = train.cols[static_cast<size_t>(f)];
    for (int64_t r = 0; r < N; ++r) m += train.w[r] * c[static_cast<size_t>(r)];
    m /= sw;
    for (int64_t r = 0; r < N; ++r) v += train.w[r] * (c[static_cast<size_t>(r)] - m) * (c[static_cast<size_t>(r)] - m);
    mean[f] = m;
    sd[f] = std::sqrt(v / sw) > 1e-9 ? std::sqrt(v / sw) : 1.0;
  }
  Eigen::MatrixXd X(N, F + 1);
  for (int f = 0; f < F; ++f)
    for (int64_t r = 0; r < N; ++r) X(r, f) = (train.cols[static_cast<size_t>(f)][static_cast<size_t>(r)] - mean[f]) / sd[f];
  X.col(F).setOnes();
  Eigen::VectorXd y(N), w(N);
  for (int64_t r = 0; r < N; ++r) y[r] = train.y[r], w[r] = train.w[r] / sw * N;  // mean weight 1

  Eigen::VectorXd beta = Eigen::VectorXd::Zero(F + 1);
  Eigen::MatrixXd reg = Eigen::MatrixXd::Identity(F + 1, F + 1) * (l2 * N);
  reg(F, F) = 0;  // the bias is not shrunk
  for (int it = 0; it < iterations; ++it) {
    const Eigen::VectorXd eta = X * beta;
    const Eigen::VectorXd p = (1.0 + (-eta.array()).exp()).inverse().matrix();
    const Eigen::VectorXd s = (w.array() * p.array() * (1.0 - p.array())).max(1e-9).matrix();
    const Eigen::VectorXd grad = X.transpose() * (w.array() * (p - y).array()).matrix() + reg * beta;
    const Eigen::MatrixXd H = X.transpose() * s.asDiagonal() * X + reg;
    const Eigen::VectorXd step = H.ldlt().solve(grad);
    beta -= step;
    if (step.norm() < 1e-8) break;
  }
  Logistic out;
  out.weights.resize(static_cast<size_t>(F));
  out.bias = beta[F];
  for (int f = 0; f < F; ++f) {
    out.weights[static_cast<size_t>(f)] = beta[f] / sd[f];
    out.bias -= beta[f] * mean[f] / sd[f];
  }
  return out;
}

}  // namespace lb::baseline
