#include "baseline/gbdt.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>

namespace lb::baseline {

double json_float(float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  *r.ptr = 0;
  return std::strtod(buf, nullptr);
}

int Gbdt::trees() const {
  const int per = (1 << depth);
  return per ? static_cast<int>(leaf.size() / static_cast<size_t>(per)) : 0;
}

void Gbdt::finalize() {
  threshold.resize(split_feature.size());
  feature_index.resize(split_feature.size());
  for (size_t n = 0; n < split_feature.size(); ++n) {
    const int f = split_feature[n];
    feature_index[n] = f < 0 ? 0 : f;
    threshold[n] = f < 0 ? std::numeric_limits<float>::infinity()
                         : edges.at(static_cast<size_t>(f)).at(static_cast<size_t>(split_bin[n]));
  }
}

void Gbdt::add_logits(const float* rows, int64_t n, int64_t stride, float* out) const {
  const int internal = internal_nodes();
  const int T = trees();
  for (int64_t r = 0; r < n; ++r) out[r] += static_cast<float>(base_logit);
  constexpr int64_t kLanes = 8;  // rows walked side by side: independent chains of loads keep the core busy
  for (int t = 0; t < T; ++t) {
    const int32_t* feat = feature_index.data() + static_cast<size_t>(t) * internal;
    const float* thr = threshold.data() + static_cast<size_t>(t) * internal;
    const float* lv = leaf.data() + static_cast<size_t>(t) * (internal + 1);
    int64_t r = 0;
    for (; r + kLanes <= n; r += kLanes) {
      int node[kLanes] = {};
      const float* x = rows + r * stride;
      for (int d = 0; d < depth; ++d)
        for (int64_t q = 0; q < kLanes; ++q)
          node[q] = 2 * node[q] + 1 + (x[q * stride + feat[node[q]]] > thr[node[q]]);
      for (int64_t q = 0; q < kLanes; ++q) out[r + q] += lv[node[q] - internal];
    }
    for (; r < n; ++r) {
      const float* x = rows + r * stride;
      int node = 0;
      for (int d = 0; d < depth; ++d) node = 2 * node + 1 + (x[feat[node]] > thr[node]);
      out[r] += lv[node - internal];
    }
  }
}

double Gbdt::logit(const float* row) const {
  float out = 0;
  add_logits(row, 1, 0, &out);
  return out;
}

std::vector<double> Gbdt::importance(int features) const {
  std::vector<double> imp(static_cast<size_t>(features), 0.0);
  for (size_t n = 0; n < split_feature.size() && n < gains.size(); ++n)
    if (split_feature[n] >= 0 && split_feature[n] < features) imp[static_cast<size_t>(split_feature[n])] += gains[n];
  return imp;
}

nlohmann::json Gbdt::to_json() const {
  nlohmann::json j;
  j["type"] = "gbdt";
  j["depth"] = depth;
  j["trees"] = trees();
  j["base_logit"] = base_logit;
  nlohmann::json e = nlohmann::json::array();
  for (const auto& col : edges) {
    nlohmann::json c = nlohmann::json::array();
    for (float v : col) c.push_back(json_float(v));
    e.push_back(c);
  }
  j["bin_edges"] = e;
  j["split_feature"] = split_feature;
  j["split_bin"] = split_bin;
  nlohmann::json l = nlohmann::json::array();
  for (float v : leaf) l.push_back(json_float(v));
  j["leaf"] = l;
  return j;
}

Gbdt Gbdt::from_json(const nlohmann::json& j) {
  Gbdt g;
  g.depth = j.at("depth");
  if (g.depth < 1 || g.depth > 12) throw std::runtime_error("gbdt depth must be 1..12");
  g.base_logit = j.at("base_logit");
  g.edges = j.at("bin_edges").get<std::vector<std::vector<float>>>();
  g.split_feature = j.at("split_feature").get<std::vector<int32_t>>();
  g.split_bin = j.at("split_bin").get<std::vector<int32_t>>();
  g.leaf = j.at("leaf").get<std::vector<float>>();
  const int trees = j.at("trees");
  const size_t internal = static_cast<size_t>((1 << g.depth) - 1);
  if (g.split_feature.size() != internal * static_cast<size_t>(trees) || g.split_bin.size() != g.split_feature.size() ||
      g.leaf.size() != (internal + 1) * static_cast<size_t>(trees))
    throw std::runtime_error("gbdt arrays do not match trees and depth");
  for (size_t n = 0; n < g.split_feature.size(); ++n) {
    const int f = g.split_feature[n];
    if (f >= static_cast<int>(g.edges.size()) || (f >= 0 && (g.split_bin[n] < 0 ||
        g.split_bin[n] >= static_cast<int>(g.edges[static_cast<size_t>(f)].size()))))
      throw std::runtime_error("gbdt split refers to a feature or bin that does not exist");
  }
  g.finalize();
  return g;
}

namespace {

// Quantile cut points of one column: at most bins-1 distinct values, none equal to the maximum.
std::vector<float> quantile_edges(const std::vector<float>& col, int bins) {
  std::vector<float> sample;
  const size_t step = std::max<size_t>(1, col.size() / 200000);
  for (size_t r = 0; r < col.size(); r += step) sample.push_back(col[r]);
  std::sort(sample.begin(), sample.end());
  std::vector<float> e;
  if (sample.empty()) return e;
  for (int q = 1; q < bins; ++q) {
    const float v = sample[static_cast<size_t>(static_cast<double>(q) / bins * (sample.size() - 1))];
    if (v < sample.back() && (e.empty() || v > e.back())) e.push_back(v);
  }
  return e;
}

std::vector<uint8_t> bin_column(const std::vector<float>& col, const std::vector<float>& e) {
  std::vector<uint8_t> b(col.size());
  for (size_t r = 0; r < col.size(); ++r)
    b[r] = static_cast<uint8_t>(std::lower_bound(e.begin(), e.end(), col[r]) - e.begin());
  return b;
}

double logloss(const std::vector<float>& F, const std::vector<float>& y, const std::vector<float>& w) {
  double s = 0, sw = 0;
  for (size_t r = 0; r < F.size(); ++r) {
    const double f = F[r];
    // log(1 + e^-f) for y=1, log(1 + e^f) for y=0, stable for large |f|.
    const double lp = f > 0 ? std::log1p(std::exp(-f)) : -f + std::log1p(std::exp(f));
    const double ln = lp + f;
    s += w[r] * (y[r] * lp + (1 - y[r]) * ln);
    sw += w[r];
  }
  return sw > 0 ? s / sw : 0;
}

}  // namespace

Gbdt train_gbdt(const Dataset& train, const GbdtParams& prm, const Dataset* valid, const GbdtProgress& progress,
                int every) {
  const int F = train.features();
  const int64_t N = train.rows();
  if (N == 0 || F == 0) throw std::runtime_error("no training rows");
  if (prm.bins < 2 || prm.bins > 255) throw std::runtime_error("bins must be 2..255");
  const int B = prm.bins;
  Gbdt g;
  g.depth = prm.depth;
  g.edges.resize(static_cast<size_t>(F));
  std::vector<std::vector<uint8_t>> bins(static_cast<size_t>(F));
  tbb::parallel_for(0, F, [&](int f) {
    g.edges[static_cast<size_t>(f)] = quantile_edges(train.cols[static_cast<size_t>(f)], B);
    bins[static_cast<size_t>(f)] = bin_column(train.cols[static_cast<size_t>(f)], g.edges[static_cast<size_t>(f)]);
  });
  std::vector<std::vector<uint8_t>> vbins;
  if (valid) {
    vbins.resize(static_cast<size_t>(F));
    tbb::parallel_for(0, F, [&](int f) {
      vbins[static_cast<size_t>(f)] = bin_column(valid->cols[static_cast<size_t>(f)], g.edges[static_cast<size_t>(f)]);
    });
  }

  double sy = 0, sw = 0;
  for (int64_t r = 0; r < N; ++r) sy += double(train.w[r]) * train.y[r], sw += train.w[r];
  const double prior = std::clamp(sy / sw, 1e-6, 1 - 1e-6);
  g.base_logit = std::log(prior / (1 - prior));

  std::vector<float> Fx(static_cast<size_t>(N), static_cast<float>(g.base_logit));
  std::vector<float> Fv(valid ? static_cast<size_t>(valid->rows()) : 0, static_cast<float>(g.base_logit));
  std::vector<float> grad(static_cast<size_t>(N)), hess(static_cast<size_t>(N));
  std::vector<int32_t> node_of(static_cast<size_t>(N));
  const int internal = (1 << prm.depth) - 1;
  const int leaves = internal + 1;
  std::mt19937_64 rng(prm.seed);
  std::vector<double> hist;  // [feature][node][bin][g, h]

  for (int t = 0; t < prm.trees; ++t) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, N, 1 << 14), [&](const tbb::blocked_range<int64_t>& rg) {
      for (int64_t r = rg.begin(); r < rg.end(); ++r) {
        const double p = 1.0 / (1.0 + std::exp(-double(Fx[static_cast<size_t>(r)])));
        grad[static_cast<size_t>(r)] = static_cast<float>(train.w[r] * (p - train.y[r]));
        hess[static_cast<size_t>(r)] = static_cast<float>(train.w[r] * std::max(p * (1 - p), 1e-6));
      }
    });
    std::uniform_real_distribution<double> u(0, 1);
    for (int64_t r = 0; r < N; ++r) node_of[static_cast<size_t>(r)] = u(rng) < prm.subsample ? 0 : -1;

    const size_t tree_base = g.split_feature.size();
    g.split_feature.resize(tree_base + static_cast<size_t>(internal), -1);
    g.split_bin.resize(tree_base + static_cast<size_t>(internal), 0);
    g.gains.resize(tree_base + static_cast<size_t>(internal), 0.0);
    std::vector<double> node_g, node_h;
    for (int d = 0; d < prm.depth; ++d) {
      const int nodes = 1 << d;
      hist.assign(static_cast<size_t>(F) * nodes * B * 2, 0.0);
      tbb::parallel_for(0, F, [&](int f) {
        double* h = hist.data() + static_cast<size_t>(f) * nodes * B * 2;
        const uint8_t* bf = bins[static_cast<size_t>(f)].data();
        for (int64_t r = 0; r < N; ++r) {
          const int32_t nd = node_of[static_cast<size_t>(r)];
          if (nd < 0) continue;
          double* cell = h + (static_cast<size_t>(nd) * B + bf[r]) * 2;
          cell[0] += grad[static_cast<size_t>(r)];
          cell[1] += hess[static_cast<size_t>(r)];
        }
      });
      std::vector<int> best_f(static_cast<size_t>(nodes), -1), best_b(static_cast<size_t>(nodes), 0);
      for (int nd = 0; nd < nodes; ++nd) {
        double G = 0, H = 0;
        const double* h0 = hist.data() + static_cast<size_t>(nd) * B * 2;  // feature 0 holds the node totals
        for (int b = 0; b < B; ++b) G += h0[2 * b], H += h0[2 * b + 1];
        if (H < 2 * prm.min_child_hessian) continue;
        const double parent = G * G / (H + prm.l2);
        double best = 1e-9;
        for (int f = 0; f < F; ++f) {
          const double* h = hist.data() + (static_cast<size_t>(f) * nodes + nd) * B * 2;
          const int nb = static_cast<int>(g.edges[static_cast<size_t>(f)].size());
          double GL = 0, HL = 0;
          for (int b = 0; b < nb; ++b) {
            GL += h[2 * b], HL += h[2 * b + 1];
            const double GR = G - GL, HR = H - HL;
            if (HL < prm.min_child_hessian) continue;
            if (HR < prm.min_child_hessian) break;
            const double gain = GL * GL / (HL + prm.l2) + GR * GR / (HR + prm.l2) - parent;
            if (gain > best) best = gain, best_f[static_cast<size_t>(nd)] = f, best_b[static_cast<size_t>(nd)] = b;
          }
        }
        const size_t heap = tree_base + static_cast<size_t>((1 << d) - 1 + nd);
        g.split_feature[heap] = best_f[static_cast<size_t>(nd)];
        g.split_bin[heap] = best_f[static_cast<size_t>(nd)] >= 0 ? best_b[static_cast<size_t>(nd)] : 0;
        g.gains[heap] = best_f[static_cast<size_t>(nd)] >= 0 ? best : 0.0;
      }
      tbb::parallel_for(tbb::blocked_range<int64_t>(0, N, 1 << 14), [&](const tbb::blocked_range<int64_t>& rg) {
        for (int64_t r = rg.begin(); r < rg.end(); ++r) {
          int32_t& nd = node_of[static_cast<size_t>(r)];
          if (nd < 0) continue;
          const int f = best_f[static_cast<size_t>(nd)];
          const int right = f >= 0 && bins[static_cast<size_t>(f)][static_cast<size_t>(r)] > best_b[static_cast<size_t>(nd)];
          nd = 2 * nd + right;
        }
      });
    }
    // Leaf values: Newton step on the rows of this tree's sample, shrunk by the learning rate.
    std::vector<double> LG(static_cast<size_t>(leaves), 0.0), LH(static_cast<size_t>(leaves), 0.0);
    for (int64_t r = 0; r < N; ++r) {
      const int32_t nd = node_of[static_cast<size_t>(r)];
      if (nd < 0) continue;
      LG[static_cast<size_t>(nd)] += grad[static_cast<size_t>(r)];
      LH[static_cast<size_t>(nd)] += hess[static_cast<size_t>(r)];
    }
    for (int l = 0; l < leaves; ++l)
      g.leaf.push_back(static_cast<float>(-prm.learning_rate * LG[static_cast<size_t>(l)] / (LH[static_cast<size_t>(l)] + prm.l2)));

    // Every row moves by the leaf it falls in (walked on bins, which is the same as the thresholds).
    auto walk = [&](const std::vector<std::vector<uint8_t>>& bb, std::vector<float>& Fo) {
      const int32_t* sf = g.split_feature.data() + tree_base;
      const int32_t* sb = g.split_bin.data() + tree_base;
      const float* lv = g.leaf.data() + static_cast<size_t>(t) * leaves;
      tbb::parallel_for(tbb::blocked_range<size_t>(0, Fo.size(), 1 << 14), [&](const tbb::blocked_range<size_t>& rg) {
        for (size_t r = rg.begin(); r < rg.end(); ++r) {
          int node = 0;
          for (int d = 0; d < prm.depth; ++d) {
            const int f = sf[node];
            node = 2 * node + 1 + (f >= 0 && bb[static_cast<size_t>(f)][r] > sb[node]);
          }
          Fo[r] += lv[node - internal];
        }
      });
    };
    walk(bins, Fx);
    if (valid) walk(vbins, Fv);
    if (progress && ((t + 1) % every == 0 || t + 1 == prm.trees))
      progress(t + 1, logloss(Fx, train.y, train.w), valid ? logloss(Fv, valid->y, valid->w) : -1.0);
  }
  g.finalize();
  return g;
}

}  // namespace lb::baseline
