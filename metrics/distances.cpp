// Exact surface distances over the crop: border points, a separable distance transform with offsets, and the
// statistics surface-distance computes from them (see distances.h).
#include "metrics/distances.h"

#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "metrics/surface_table.h"

namespace lb {

double numpy_sum(const double* a, size_t n) {
  if (n < 8) {
    double r = 0.;
    for (size_t i = 0; i < n; ++i) r += a[i];
    return r;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(a, n2) + numpy_sum(a + n2, n - n2);
}

namespace {

constexpr int32_t kNone = std::numeric_limits<int32_t>::min();  // no border point in reach

// A border point of one mask: its place in the point grid and its code.
struct BorderPoint {
  int64_t column;  // x + w * y
  int64_t z;
  uint8_t code;
};

// Codes of point slice z (w x h points) of a view: point (x, y) sees voxels x-1..x, y-1..y of slices z-1, z.
void slice_codes(const MaskView& m, int64_t z, uint8_t* out, std::vector<uint8_t>& pad) {
  const int64_t n0 = m.dims[0], n1 = m.dims[1], n2 = m.dims[2];
  const int64_t w = n0 + 1, h = n1 + 1, pw = n0 + 2;
  pad.assign(static_cast<size_t>(4 * pw), 0);
  for (int64_t y = 0; y < h; ++y) {
    uint8_t* r[2][2];
    bool any = false;
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c) {
        uint8_t* dst = pad.data() + (2 * b + c) * pw;
        r[b][c] = dst;
        const int64_t yy = y - 1 + b, zz = z - 1 + c;
        if (yy >= 0 && yy < n1 && zz >= 0 && zz < n2) {
          std::memcpy(dst + 1, m.data + yy * m.stride_j + zz * m.stride_k, static_cast<size_t>(n0));
          any = true;
        } else {
          std::memset(dst + 1, 0, static_cast<size_t>(n0));
        }
      }
    uint8_t* o = out + y * w;
    if (!any) {
      std::memset(o, 0, static_cast<size_t>(w));
      continue;
    }
    const uint8_t *r00 = r[0][0], *r01 = r[0][1], *r10 = r[1][0], *r11 = r[1][1];
    for (int64_t x = 0; x < w; ++x)
      o[x] = static_cast<uint8_t>((r00[x] << 7) | (r01[x] << 6) | (r10[x] << 5) | (r11[x] << 4) | (r00[x + 1] << 3) |
                                  (r01[x + 1] << 2) | (r10[x + 1] << 1) | r11[x + 1]);
  }
}

// Lower envelope of parabolas f(q) + ((x - q) * s)^2 over the finite f, then for every x the q that minimises
// the exact expression. The envelope is found in floating point; its neighbours are compared with the exact
// expression, so a boundary misplaced by rounding cannot pick a farther point.
struct Envelope {
  std::vector<int64_t> v;
  std::vector<double> zb;
  // f: n values (NaN = absent). exact(q, x): the exact value for x from q. out[x] = argmin q, or -1.
  template <class F, class Exact>
  void run(int64_t n, double s, const F& f, const Exact& exact, int64_t* out) {
    v.clear();
    zb.clear();
    for (int64_t q = 0; q < n; ++q) {
      const double fq = f(q);
      if (std::isnan(fq)) continue;
      const double pq = static_cast<double>(q) * s;
      while (!v.empty()) {
        const int64_t r = v.back();
        const double pr = static_cast<double>(r) * s;
        const double b = ((fq + pq * pq) - (f(r) + pr * pr)) / (2 * pq - 2 * pr);
        if (b <= zb.back()) {
          v.pop_back();
          zb.pop_back();
        } else {
          v.push_back(q);
          zb.push_back(b);
          break;
        }
      }
      if (v.empty()) {
        v.push_back(q);
        zb.push_back(-std::numeric_limits<double>::infinity());
      }
    }
    if (v.empty()) {
      for (int64_t x = 0; x < n; ++x) out[x] = -1;
      return;
    }
    size_t k = 0;
    for (int64_t x = 0; x < n; ++x) {
      const double px = static_cast<double>(x) * s;
      while (k + 1 < v.size() && zb[k + 1] < px) ++k;
      int64_t best = v[k];
      double best_v = exact(best, x);
      for (size_t nb : {k - 1, k + 1}) {
        if (nb >= v.size()) continue;  // k - 1 wraps for k = 0
        const double e = exact(v[nb], x);
        if (e < best_v) {
          best_v = e;
          best = v[nb];
        }
      }
      out[x] = best;
    }
  }
};

// Distances from every border point of `from` to the nearest border point of `to`, both given as lists of border
// points sorted by (z, column). Columns: the (x, y) columns holding a point of `from`.
void directed(const std::vector<BorderPoint>& from, const std::vector<BorderPoint>& to, int64_t w, int64_t h,
              int64_t depth, const std::array<double, 3>& s, const std::array<double, 256>& area,
              std::vector<SurfelDistance>& out) {
  out.clear();
  if (from.empty()) return;
  if (to.empty()) {
    for (const auto& p : from) out.push_back({std::numeric_limits<double>::infinity(), area[p.code], p.code});
    return;
  }
  // Compact column index of `from`'s columns.
  std::vector<int32_t> col_index(static_cast<size_t>(w * h), -1);
  std::vector<int64_t> columns;
  for (const auto& p : from)
    if (col_index[static_cast<size_t>(p.column)] < 0) {
      col_index[static_cast<size_t>(p.column)] = static_cast<int32_t>(columns.size());
      columns.push_back(p.column);
    }
  const size_t nc = columns.size();
  std::vector<uint8_t> x_wanted(static_cast<size_t>(w), 0);
  for (int64_t c : columns) x_wanted[static_cast<size_t>(c % w)] = 1;
  // Per kept column and slice: offsets (di, dj) to the nearest point of `to` in that slice, or kNone.
  std::vector<std::array<int32_t, 2>> plane(nc * static_cast<size_t>(depth), {kNone, kNone});
  // Where each slice's points of `to` start in the list.
  std::vector<size_t> slice_start(static_cast<size_t>(depth + 1), 0);
  for (const auto& p : to) ++slice_start[static_cast<size_t>(p.z + 1)];
  for (int64_t z = 0; z < depth; ++z) slice_start[static_cast<size_t>(z + 1)] += slice_start[static_cast<size_t>(z)];

  struct Scratch {
    std::vector<int32_t> di;      // per point of the slice: offset along i to the nearest point in its row
    std::vector<int64_t> arg;     // per y of a column: row of the nearest point
    std::vector<uint8_t> mark;
    Envelope env;
  };
  tbb::combinable<Scratch> scratch;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, depth, 1), [&](const tbb::blocked_range<int64_t>& r) {
    Scratch& sc = scratch.local();
    for (int64_t z = r.begin(); z < r.end(); ++z) {
      const size_t b0 = slice_start[static_cast<size_t>(z)], b1 = slice_start[static_cast<size_t>(z + 1)];
      if (b0 == b1) continue;  // no point of `to` in this slice: stays kNone
      sc.mark.assign(static_cast<size_t>(w * h), 0);
      for (size_t q = b0; q < b1; ++q) sc.mark[static_cast<size_t>(to[q].column)] = 1;
      // Pass along i: two scans per row.
      sc.di.assign(static_cast<size_t>(w * h), kNone);
      for (int64_t y = 0; y < h; ++y) {
        const uint8_t* m = sc.mark.data() + y * w;
        int32_t* d = sc.di.data() + y * w;
        int64_t last = -1;
        for (int64_t x = 0; x < w; ++x) {
          if (m[x]) last = x;
          if (last >= 0) d[x] = static_cast<int32_t>(x - last);
        }
        last = -1;
        for (int64_t x = w - 1; x >= 0; --x) {
          if (m[x]) last = x;
          if (last >= 0 && (d[x] == kNone || last - x < d[x])) d[x] = static_cast<int32_t>(last - x);
        }
      }
      // Pass along j, column by column, only where a kept column lies in that x.
      sc.arg.resize(static_cast<size_t>(h));
      for (int64_t x = 0; x < w; ++x) {
        if (!x_wanted[static_cast<size_t>(x)]) continue;
        auto f = [&](int64_t y) {
          const int32_t d = sc.di[static_cast<size_t>(x + w * y)];
          if (d == kNone) return std::numeric_limits<double>::quiet_NaN();
          const double t0 = static_cast<double>(d) * s[0];
          return t0 * t0;
        };
        auto exact = [&](int64_t q, int64_t y) {
          const double t0 = static_cast<double>(sc.di[static_cast<size_t>(x + w * q)]) * s[0];
          const double t1 = static_cast<double>(y - q) * s[1];
          return t0 * t0 + t1 * t1;
        };
        sc.env.run(h, s[1], f, exact, sc.arg.data());
        for (int64_t y = 0; y < h; ++y) {
          const int32_t c = col_index[static_cast<size_t>(x + w * y)];
          if (c < 0 || sc.arg[static_cast<size_t>(y)] < 0) continue;
          const int64_t q = sc.arg[static_cast<size_t>(y)];
          plane[static_cast<size_t>(c) * static_cast<size_t>(depth) + static_cast<size_t>(z)] = {
              sc.di[static_cast<size_t>(x + w * q)], static_cast<int32_t>(y - q)};
        }
      }
    }
  });

  // Points of `from` grouped by column (then z), and the pass along k per column.
  std::vector<size_t> order(from.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return col_index[static_cast<size_t>(from[a].column)] < col_index[static_cast<size_t>(from[b].column)];
  });
  std::vector<size_t> col_start(nc + 1, 0);
  for (const auto& p : from) ++col_start[static_cast<size_t>(col_index[static_cast<size_t>(p.column)]) + 1];
  for (size_t c = 0; c < nc; ++c) col_start[c + 1] += col_start[c];
  out.resize(from.size());
  struct ColScratch {
    std::vector<int64_t> arg;
    Envelope env;
  };
  tbb::combinable<ColScratch> cols;
  tbb::parallel_for(tbb::blocked_range<size_t>(0, nc, 16), [&](const tbb::blocked_range<size_t>& r) {
    ColScratch& sc = cols.local();
    sc.arg.resize(static_cast<size_t>(depth));
    for (size_t c = r.begin(); c < r.end(); ++c) {
      const auto* col = plane.data() + c * static_cast<size_t>(depth);
      auto base = [&](int64_t q) {
        const double t0 = static_cast<double>(col[q][0]) * s[0], t1 = static_cast<double>(col[q][1]) * s[1];
        return t0 * t0 + t1 * t1;
      };
      auto f = [&](int64_t q) { return col[q][0] == kNone ? std::numeric_limits<double>::quiet_NaN() : base(q); };
      auto exact = [&](int64_t q, int64_t z) {
        const double t2 = static_cast<double>(z - q) * s[2];
        return base(q) + t2 * t2;
      };
      sc.env.run(depth, s[2], f, exact, sc.arg.data());
      for (size_t k = col_start[c]; k < col_start[c + 1]; ++k) {
        const BorderPoint& p = from[order[k]];
        const int64_t q = sc.arg[static_cast<size_t>(p.z)];
        out[k] = {std::sqrt(exact(q, p.z)), area[p.code], p.code};
      }
    }
  });
}

}  // namespace

SurfaceDistances surface_distances(const MaskView& gt, const MaskView& pred, const std::array<double, 3>& s) {
  for (double v : s)
    if (!std::isfinite(v) || !(v > 0))
      throw std::invalid_argument("voxel spacing must be finite and > 0 mm, not " + std::to_string(v));
  const int64_t w = gt.dims[0] + 1, h = gt.dims[1] + 1, depth = gt.dims[2] + 1;
  if (w * h > (int64_t{1} << 31) || w > (int64_t{1} << 30) || h > (int64_t{1} << 30))
    throw std::invalid_argument("a slice of " + std::to_string(w * h) +
                                " points is beyond what the distance transform handles (2^31)");
  const auto area = surface::surfel_areas(s);
  // Border points of both masks, slice by slice in parallel, then concatenated in (z, column) order.
  std::vector<std::vector<BorderPoint>> per_g(static_cast<size_t>(depth)), per_p(static_cast<size_t>(depth));
  struct Buf {
    std::vector<uint8_t> codes, pad;
  };
  tbb::combinable<Buf> bufs;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, depth, 4), [&](const tbb::blocked_range<int64_t>& r) {
    Buf& b = bufs.local();
    b.codes.resize(static_cast<size_t>(w * h));
    for (int64_t z = r.begin(); z < r.end(); ++z)
      for (int which = 0; which < 2; ++which) {
        slice_codes(which == 0 ? gt : pred, z, b.codes.data(), b.pad);
        auto& list = (which == 0 ? per_g : per_p)[static_cast<size_t>(z)];
        for (int64_t c = 0; c < w * h; ++c)
          if (surface::is_border(b.codes[static_cast<size_t>(c)])) list.push_back({c, z, b.codes[static_cast<size_t>(c)]});
      }
  });
  auto flatten = [](std::vector<std::vector<BorderPoint>>& per) {
    std::vector<BorderPoint> all;
    size_t n = 0;
    for (auto& v : per) n += v.size();
    all.reserve(n);
    for (auto& v : per) {
      all.insert(all.end(), v.begin(), v.end());
      std::vector<BorderPoint>().swap(v);
    }
    return all;
  };
  const std::vector<BorderPoint> bg = flatten(per_g), bp = flatten(per_p);
  SurfaceDistances d;
  directed(bg, bp, w, h, depth, s, area, d.gt_to_pred);
  directed(bp, bg, w, h, depth, s, area, d.pred_to_gt);
  auto by_distance = [](const SurfelDistance& a, const SurfelDistance& b) {
    return a.distance_mm != b.distance_mm ? a.distance_mm < b.distance_mm : a.area_mm2 < b.area_mm2;
  };
  tbb::parallel_sort(d.gt_to_pred.begin(), d.gt_to_pred.end(), by_distance);
  tbb::parallel_sort(d.pred_to_gt.begin(), d.pred_to_gt.end(), by_distance);
  return d;
}

namespace {

std::vector<double> areas_of(const std::vector<SurfelDistance>& v) {
  std::vector<double> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = v[i].area_mm2;
  return a;
}

double percentile_distance(const std::vector<SurfelDistance>& v, double percent) {
  if (v.empty()) return std::numeric_limits<double>::infinity();
  const std::vector<double> a = areas_of(v);
  const double total = numpy_sum(a.data(), a.size());
  const double target = percent / 100.0;
  // np.cumsum(areas) / np.sum(areas), then searchsorted(left): the first index whose value is >= target.
  double cum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    cum += a[i];
    if (cum / total >= target) return v[i].distance_mm;
  }
  return v.back().distance_mm;
}

double weighted_mean(const std::vector<SurfelDistance>& v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> prod(v.size());
  for (size_t i = 0; i < v.size(); ++i) prod[i] = v[i].distance_mm * v[i].area_mm2;
  const std::vector<double> a = areas_of(v);
  return numpy_sum(prod.data(), prod.size()) / numpy_sum(a.data(), a.size());
}

}  // namespace

double robust_hausdorff_mm(const SurfaceDistances& d, double percent) {
  return std::max(percentile_distance(d.gt_to_pred, percent), percentile_distance(d.pred_to_gt, percent));
}

std::array<double, 2> average_surface_distance_mm(const SurfaceDistances& d) {
  return {weighted_mean(d.gt_to_pred), weighted_mean(d.pred_to_gt)};
}

double symmetric_surface_distance_mm(const SurfaceDistances& d) {
  std::vector<double> prod, a;
  for (const auto* side : {&d.gt_to_pred, &d.pred_to_gt})
    for (const auto& p : *side) {
      prod.push_back(p.distance_mm * p.area_mm2);
      a.push_back(p.area_mm2);
    }
  if (a.empty()) return std::numeric_limits<double>::quiet_NaN();
  return numpy_sum(prod.data(), prod.size()) / numpy_sum(a.data(), a.size());
}

double nsd_from_distances(const SurfaceDistances& d, const std::array<double, 3>& spacing_mm, double tolerance_mm) {
  SurfelCounts c;
  for (const auto& p : d.gt_to_pred) {
    ++c.gt[p.code];
    if (p.distance_mm <= tolerance_mm) ++c.gt_within[p.code];
  }
  for (const auto& p : d.pred_to_gt) {
    ++c.pred[p.code];
    if (p.distance_mm <= tolerance_mm) ++c.pred_within[p.code];
  }
  return surface_dice(c, spacing_mm).nsd();
}

}  // namespace lb
