// One-to-one matchings of lesions and predicted components (see matching.h).
#include "metrics/matching.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace lb {

std::string Matching::name() const {
  switch (kind) {
    case MatchingKind::overlap: return "overlap";
    case MatchingKind::hungarian: return "hungarian";
    case MatchingKind::iou_threshold: {
      std::ostringstream s;
      s << "iou:" << iou_threshold;
      return s.str();
    }
  }
  return "overlap";
}

std::string parse_matching(const std::string& text, Matching& out) {
  if (text == "overlap") {
    out = Matching{};
    return "";
  }
  if (text == "hungarian") {
    out = Matching{MatchingKind::hungarian, 0.5};
    return "";
  }
  if (text.rfind("iou:", 0) == 0) {
    const std::string v = text.substr(4);
    try {
      size_t used = 0;
      const double t = std::stod(v, &used);
      if (used == v.size() && t > 0 && t <= 1) {
        out = Matching{MatchingKind::iou_threshold, t};
        return "";
      }
    } catch (const std::exception&) {
    }
    return "the IoU threshold of '" + text + "' must be a number in (0, 1]";
  }
  return "'" + text + "' is not a matching (overlap, iou:T, hungarian)";
}

std::vector<int32_t> min_cost_assignment(const std::vector<double>& a, int32_t n, int32_t m) {
  // Kuhn-Munkres with potentials (1-based inside), O(n^2 m).
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(static_cast<size_t>(n + 1), 0), v(static_cast<size_t>(m + 1), 0);
  std::vector<int32_t> p(static_cast<size_t>(m + 1), 0), way(static_cast<size_t>(m + 1), 0);
  for (int32_t i = 1; i <= n; ++i) {
    p[0] = i;
    int32_t j0 = 0;
    std::vector<double> minv(static_cast<size_t>(m + 1), inf);
    std::vector<char> used(static_cast<size_t>(m + 1), 0);
    do {
      used[static_cast<size_t>(j0)] = 1;
      const int32_t i0 = p[static_cast<size_t>(j0)];
      double delta = inf;
      int32_t j1 = 0;
      for (int32_t j = 1; j <= m; ++j) {
        if (used[static_cast<size_t>(j)]) continue;
        const double cur = a[static_cast<size_t>(i0 - 1) * static_cast<size_t>(m) + static_cast<size_t>(j - 1)] -
                           u[static_cast<size_t>(i0)] - v[static_cast<size_t>(j)];
        if (cur < minv[static_cast<size_t>(j)]) {
          minv[static_cast<size_t>(j)] = cur;
          way[static_cast<size_t>(j)] = j0;
        }
        if (minv[static_cast<size_t>(j)] < delta) {
          delta = minv[static_cast<size_t>(j)];
          j1 = j;
        }
      }
      for (int32_t j = 0; j <= m; ++j) {
        if (used[static_cast<size_t>(j)]) {
          u[static_cast<size_t>(p[static_cast<size_t>(j)])] += delta;
          v[static_cast<size_t>(j)] -= delta;
        } else {
          minv[static_cast<size_t>(j)] -= delta;
        }
      }
      j0 = j1;
    } while (p[static_cast<size_t>(j0)] != 0);
    do {
      const int32_t j1 = way[static_cast<size_t>(j0)];
      p[static_cast<size_t>(j0)] = p[static_cast<size_t>(j1)];
      j0 = j1;
    } while (j0);
  }
  std::vector<int32_t> row_col(static_cast<size_t>(n), -1);
  for (int32_t j = 1; j <= m; ++j)
    if (p[static_cast<size_t>(j)] > 0) row_col[static_cast<size_t>(p[static_cast<size_t>(j)] - 1)] = j - 1;
  return row_col;
}

namespace {

std::vector<int32_t> greedy(std::vector<MatchCandidate> c, int32_t n_gt, int32_t n_pred, double threshold) {
  std::stable_sort(c.begin(), c.end(), [](const MatchCandidate& a, const MatchCandidate& b) {
    if (a.iou != b.iou) return a.iou > b.iou;
    return a.gt != b.gt ? a.gt < b.gt : a.pred < b.pred;
  });
  std::vector<int32_t> match(static_cast<size_t>(n_gt), -1);
  std::vector<char> taken(static_cast<size_t>(n_pred), 0);
  for (const auto& x : c) {
    if (x.iou < threshold) break;
    if (match[static_cast<size_t>(x.gt)] >= 0 || taken[static_cast<size_t>(x.pred)]) continue;
    match[static_cast<size_t>(x.gt)] = x.pred;
    taken[static_cast<size_t>(x.pred)] = 1;
  }
  return match;
}

// Maximum total IoU, per connected group of the overlap graph (lesions and components that share no voxel
// with the group cannot change its assignment), so a case of many small groups stays cheap.
std::vector<int32_t> hungarian(const std::vector<MatchCandidate>& c, int32_t n_gt, int32_t n_pred) {
  std::vector<int32_t> parent(static_cast<size_t>(n_gt + n_pred));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int32_t x) {
    while (parent[static_cast<size_t>(x)] != x) x = parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    return x;
  };
  for (const auto& x : c)
    if (x.iou > 0) parent[static_cast<size_t>(find(x.gt))] = find(n_gt + x.pred);
  std::vector<std::vector<size_t>> group_of_root(static_cast<size_t>(n_gt + n_pred));
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i].iou > 0) group_of_root[static_cast<size_t>(find(c[i].gt))].push_back(i);
  std::vector<int32_t> match(static_cast<size_t>(n_gt), -1);
  for (const auto& members : group_of_root) {
    if (members.empty()) continue;
    std::vector<int32_t> gts, preds;
    for (size_t i : members) {
      gts.push_back(c[i].gt);
      preds.push_back(c[i].pred);
    }
    for (auto* v : {&gts, &preds}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    const bool transpose = gts.size() > preds.size();  // rows must be the smaller side
    const int32_t n = static_cast<int32_t>(transpose ? preds.size() : gts.size());
    const int32_t m = static_cast<int32_t>(transpose ? gts.size() : preds.size());
    std::vector<double> cost(static_cast<size_t>(n) * static_cast<size_t>(m), 0.0);  // no overlap: IoU 0
    std::vector<double> iou(cost.size(), 0.0);
    for (size_t i : members) {
      const auto gi = std::lower_bound(gts.begin(), gts.end(), c[i].gt) - gts.begin();
      const auto pi = std::lower_bound(preds.begin(), preds.end(), c[i].pred) - preds.begin();
      const size_t at = transpose ? static_cast<size_t>(pi) * static_cast<size_t>(m) + static_cast<size_t>(gi)
                                  : static_cast<size_t>(gi) * static_cast<size_t>(m) + static_cast<size_t>(pi);
      cost[at] = -c[i].iou;
      iou[at] = c[i].iou;
    }
    const auto rc = min_cost_assignment(cost, n, m);
    for (int32_t r = 0; r < n; ++r) {
      const int32_t col = rc[static_cast<size_t>(r)];
      if (col < 0 || !(iou[static_cast<size_t>(r) * static_cast<size_t>(m) + static_cast<size_t>(col)] > 0)) continue;
      const int32_t g = transpose ? gts[static_cast<size_t>(col)] : gts[static_cast<size_t>(r)];
      const int32_t p = transpose ? preds[static_cast<size_t>(r)] : preds[static_cast<size_t>(col)];
      match[static_cast<size_t>(g)] = p;
    }
  }
  return match;
}

}  // namespace

std::vector<int32_t> match_one_to_one(const std::vector<MatchCandidate>& candidates, int32_t n_gt, int32_t n_pred,
                                      const Matching& matching) {
  if (matching.kind == MatchingKind::hungarian) return hungarian(candidates, n_gt, n_pred);
  return greedy(candidates, n_gt, n_pred, matching.iou_threshold);
}

}  // namespace lb
