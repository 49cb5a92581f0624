// Exact surface distances over the crop: border points, a separable distance transform with offsets, and the
// statistics surface-distance computes from them (see distances.h).
#include "metrics/distances.h"

#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>
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

// Border points of point slice z of a view, appended to `list` in column order. Point (x, y) sees voxels
// x-1..x, y-1..y of slices z-1 and z; a point row whose four voxel rows are empty has no border point.
void slice_border(const MaskView& m, const std::vector<uint8_t>& flags, int64_t z, std::vector<uint8_t>& pad,
                  std::vector<BorderPoint>& list) {
  const int64_t n0 = m.dims[0], n1 = m.dims[1], n2 = m.dims[2];
  const int64_t w = n0 + 1, h = n1 + 1, pw = n0 + 2;
  if (pad.size() < static_cast<size_t>(4 * pw)) pad.assign(static_cast<size_t>(4 * pw), 0);
  auto active = [&](int64_t yy, int64_t zz) {
    return yy >= 0 && yy < n1 && zz >= 0 && zz < n2 && flags[static_cast<size_t>(yy + n1 * zz)];
  };
  for (int64_t y = 0; y < h; ++y) {
    if (!active(y - 1, z - 1) && !active(y, z - 1) && !active(y - 1, z) && !active(y, z)) continue;
    uint8_t* r[2][2];
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c) {
        uint8_t* dst = pad.data() + (2 * b + c) * pw;
        r[b][c] = dst;
        dst[0] = 0;
        dst[pw - 1] = 0;
        const int64_t yy = y - 1 + b, zz = z - 1 + c;
        if (active(yy, zz)) std::memcpy(dst + 1, m.data + yy * m.stride_j + zz * m.stride_k, static_cast<size_t>(n0));
        else std::memset(dst + 1, 0, static_cast<size_t>(n0));
      }
    const uint8_t *r00 = r[0][0], *r01 = r[0][1], *r10 = r[1][0], *r11 = r[1][1];
    for (int64_t x = 0; x < w; ++x) {
      const uint8_t code = static_cast<uint8_t>((r00[x] << 7) | (r01[x] << 6) | (r10[x] << 5) | (r11[x] << 4) |
                                                (r00[x + 1] << 3) | (r01[x + 1] << 2) | (r10[x + 1] << 1) | r11[x + 1]);
      if (surface::is_border(code)) list.push_back({x + w * y, z, code});
    }
  }
}

// Lower envelope of parabolas f(q) + (x - p(q))^2 over candidates q at increasing positions p(q) (mm), queried
// at increasing x. The envelope is found in floating point; at each query its neighbours are compared with the
// caller's exact expression too, so a boundary misplaced by rounding cannot pick a farther point.
struct Envelope {
  std::vector<int64_t> v;  // candidate indices on the envelope
  std::vector<double> zb;  // where each starts
  size_t k = 0;
  // n candidates; pos(i) their positions (increasing), val(i) their values (all finite).
  template <class Pos, class Val>
  void build(int64_t n, const Pos& pos, const Val& val) {
    v.clear();
    zb.clear();
    k = 0;
    for (int64_t q = 0; q < n; ++q) {
      const double fq = val(q), pq = pos(q);
      while (!v.empty()) {
        const int64_t r = v.back();
        const double pr = pos(r);
        const double b = ((fq + pq * pq) - (val(r) + pr * pr)) / (2 * pq - 2 * pr);
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
  }
  bool empty() const { return v.empty(); }
  // The candidate nearest to position px (queries in increasing px); exact(q) is its exact value there.
  template <class Exact>
  int64_t query(double px, const Exact& exact) {
    while (k + 1 < v.size() && zb[k + 1] < px) ++k;
    int64_t best = v[k];
    double best_v = exact(best);
    for (size_t nb : {k - 1, k + 1}) {
      if (nb >= v.size()) continue;  // k - 1 wraps for k = 0
      const double e = exact(v[nb]);
      if (e < best_v) {
        best_v = e;
        best = v[nb];
      }
    }
    return best;
  }
};

// Entries of the pass-two plane held at once (8 bytes each): the kept columns are processed in ranges of x
// small enough for this, so a prediction with border points in every column of a whole-body volume costs
// 64 MiB here, not 8 bytes per voxel. Each range repeats only the cheap scan over the slice's points.
constexpr size_t kPlaneEntries = size_t{8} << 20;  // the default of surface_distances' plane_entries

// Distances from every border point of `from` to the nearest border point of `to`, both given as lists of border
// points sorted by (z, column). Work is sparse: per slice only the rows of `to` that hold a point, and only the
// (x, y) columns that hold a point of `from`.
void directed(const std::vector<BorderPoint>& from, const std::vector<BorderPoint>& to, int64_t w, int64_t h,
              int64_t depth, const std::array<double, 3>& s, const std::array<double, 256>& area, size_t plane_entries,
              std::vector<SurfelDistance>& out) {
  out.clear();
  if (from.empty()) return;
  if (to.empty()) {
    for (const auto& p : from) out.push_back({std::numeric_limits<double>::infinity(), area[p.code], p.code});
    return;
  }
  // `from`'s columns, numbered in (x, y) order: wy[wy_start[x] .. wy_start[x+1]) are the y's at x, ascending,
  // and a column's number is its place in that list.
  std::vector<uint8_t> has(static_cast<size_t>(w * h), 0);
  for (const auto& p : from) has[static_cast<size_t>(p.column)] = 1;
  std::vector<size_t> wy_start(static_cast<size_t>(w + 1), 0);
  for (int64_t c = 0; c < w * h; ++c)
    if (has[static_cast<size_t>(c)]) ++wy_start[static_cast<size_t>(c % w) + 1];
  for (int64_t x = 0; x < w; ++x) wy_start[static_cast<size_t>(x + 1)] += wy_start[static_cast<size_t>(x)];
  const size_t nc = wy_start.back();
  std::vector<int32_t> wy(nc);
  std::vector<int32_t> col_index(static_cast<size_t>(w * h), -1);
  {
    std::vector<size_t> fill(wy_start.begin(), wy_start.end() - 1);
    for (int64_t y = 0; y < h; ++y)  // y ascending, so each x's list comes out sorted
      for (int64_t x = 0; x < w; ++x)
        if (has[static_cast<size_t>(x + w * y)]) {
          const size_t k = fill[static_cast<size_t>(x)]++;
          wy[k] = static_cast<int32_t>(y);
          col_index[static_cast<size_t>(x + w * y)] = static_cast<int32_t>(k);
        }
  }
  std::vector<uint8_t>().swap(has);
  std::vector<size_t> slice_start(static_cast<size_t>(depth + 1), 0);
  for (const auto& p : to) ++slice_start[static_cast<size_t>(p.z + 1)];
  for (int64_t z = 0; z < depth; ++z) slice_start[static_cast<size_t>(z + 1)] += slice_start[static_cast<size_t>(z)];
  // Points of `from` grouped by column (then z, as they come).
  std::vector<size_t> order(from.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return col_index[static_cast<size_t>(from[a].column)] < col_index[static_cast<size_t>(from[b].column)];
  });
  std::vector<size_t> col_start(nc + 1, 0);
  for (const auto& p : from) ++col_start[static_cast<size_t>(col_index[static_cast<size_t>(p.column)]) + 1];
  for (size_t c = 0; c < nc; ++c) col_start[c + 1] += col_start[c];
  out.resize(from.size());

  struct Scratch {
    std::vector<int64_t> rows;  // y of the rows holding a point of `to`, ascending
    std::vector<int32_t> di;    // per such row and x of the range: offset along i to the row's nearest point
    Envelope env;
  };
  struct ColScratch {
    std::vector<int64_t> zs;  // slices with a nearest point
    Envelope env;
  };
  tbb::combinable<Scratch> scratch;
  tbb::combinable<ColScratch> cols;
  std::vector<std::array<int32_t, 2>> plane;
  const size_t per_range = std::max<size_t>(1, plane_entries / static_cast<size_t>(depth));
  for (int64_t xa = 0; xa < w;) {
    int64_t xb = xa + 1;  // at least one x, however many columns it holds
    while (xb < w && wy_start[static_cast<size_t>(xb + 1)] - wy_start[static_cast<size_t>(xa)] <= per_range) ++xb;
    const size_t c0 = wy_start[static_cast<size_t>(xa)], c1 = wy_start[static_cast<size_t>(xb)];
    const int64_t xw = xb - xa;
    if (c0 == c1) {
      xa = xb;
      continue;
    }
    // Per kept column of the range and slice: offsets (di, dj) to the nearest point of `to` there, or kNone.
    plane.assign((c1 - c0) * static_cast<size_t>(depth), {kNone, kNone});
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, depth, 1), [&](const tbb::blocked_range<int64_t>& r) {
      Scratch& sc = scratch.local();
      for (int64_t z = r.begin(); z < r.end(); ++z) {
        const size_t b0 = slice_start[static_cast<size_t>(z)], b1 = slice_start[static_cast<size_t>(z + 1)];
        if (b0 == b1) continue;  // no point of `to` in this slice: stays kNone
        // Pass along i for the rows that hold points (sorted by column: by row, then x), for x in [xa, xb).
        sc.rows.clear();
        sc.di.clear();
        for (size_t q = b0; q < b1;) {
          const int64_t y = to[q].column / w;
          size_t e = q;
          while (e < b1 && to[e].column / w == y) ++e;
          sc.rows.push_back(y);
          sc.di.resize(sc.rows.size() * static_cast<size_t>(xw));
          int32_t* d = sc.di.data() + (sc.rows.size() - 1) * static_cast<size_t>(xw);
          // The row's points at x = to[q..e).column % w, ascending: the nearest is the one before or after.
          size_t nxt = static_cast<size_t>(
              std::lower_bound(to.begin() + static_cast<std::ptrdiff_t>(q), to.begin() + static_cast<std::ptrdiff_t>(e), xa,
                               [w](const BorderPoint& bp, int64_t x) { return bp.column % w < x; }) -
              to.begin());
          for (int64_t x = xa; x < xb; ++x) {
            while (nxt < e && to[nxt].column % w < x) ++nxt;
            int64_t best = std::numeric_limits<int64_t>::max();
            if (nxt < e) best = to[nxt].column % w - x;
            if (nxt > q) best = std::min<int64_t>(best, x - to[nxt - 1].column % w);
            d[x - xa] = static_cast<int32_t>(best);
          }
          q = e;
        }
        // Pass along j for each x that has kept columns, queried only at their y's.
        const int64_t nr = static_cast<int64_t>(sc.rows.size());
        for (int64_t x = xa; x < xb; ++x) {
          const size_t y0 = wy_start[static_cast<size_t>(x)], y1 = wy_start[static_cast<size_t>(x + 1)];
          if (y0 == y1) continue;
          auto dix = [&](int64_t q) {
            return sc.di[static_cast<size_t>(q) * static_cast<size_t>(xw) + static_cast<size_t>(x - xa)];
          };
          auto pos = [&](int64_t q) { return static_cast<double>(sc.rows[static_cast<size_t>(q)]) * s[1]; };
          auto val = [&](int64_t q) {
            const double t0 = static_cast<double>(dix(q)) * s[0];
            return t0 * t0;
          };
          sc.env.build(nr, pos, val);
          for (size_t k = y0; k < y1; ++k) {
            const int64_t y = wy[k];
            auto exact = [&](int64_t q) {
              const double t0 = static_cast<double>(dix(q)) * s[0];
              const double t1 = static_cast<double>(y - sc.rows[static_cast<size_t>(q)]) * s[1];
              return t0 * t0 + t1 * t1;
            };
            const int64_t q = sc.env.query(static_cast<double>(y) * s[1], exact);
            plane[(k - c0) * static_cast<size_t>(depth) + static_cast<size_t>(z)] = {
                dix(q), static_cast<int32_t>(y - sc.rows[static_cast<size_t>(q)])};
          }
        }
      }
    });
    // Pass along k, per column of the range, queried at the slices of its points.
    tbb::parallel_for(tbb::blocked_range<size_t>(c0, c1, 16), [&](const tbb::blocked_range<size_t>& r) {
      ColScratch& sc = cols.local();
      for (size_t c = r.begin(); c < r.end(); ++c) {
        const auto* col = plane.data() + (c - c0) * static_cast<size_t>(depth);
        sc.zs.clear();
        for (int64_t z = 0; z < depth; ++z)
          if (col[z][0] != kNone) sc.zs.push_back(z);
        auto base = [&](int64_t q) {
          const auto& o = col[sc.zs[static_cast<size_t>(q)]];
          const double t0 = static_cast<double>(o[0]) * s[0], t1 = static_cast<double>(o[1]) * s[1];
          return t0 * t0 + t1 * t1;
        };
        auto pos = [&](int64_t q) { return static_cast<double>(sc.zs[static_cast<size_t>(q)]) * s[2]; };
        sc.env.build(static_cast<int64_t>(sc.zs.size()), pos, base);
        for (size_t k = col_start[c]; k < col_start[c + 1]; ++k) {
          const BorderPoint& p = from[order[k]];
          auto exact = [&](int64_t q) {
            const double t2 = static_cast<double>(p.z - sc.zs[static_cast<size_t>(q)]) * s[2];
            return base(q) + t2 * t2;
          };
          const int64_t q = sc.env.query(static_cast<double>(p.z) * s[2], exact);
          out[k] = {std::sqrt(exact(q)), area[p.code], p.code};
        }
      }
    });
    xa = xb;
  }
}

}  // namespace

SurfaceDistances surface_distances(const MaskView& gt, const MaskView& pred, const std::array<double, 3>& s,
                                   size_t plane_entries) {
  if (plane_entries == 0) plane_entries = kPlaneEntries;
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
  std::vector<uint8_t> flags_g, flags_p;
  tbb::parallel_invoke([&] { flags_g = occupied_rows(gt); }, [&] { flags_p = occupied_rows(pred); });
  tbb::combinable<std::vector<uint8_t>> pads;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, depth, 4), [&](const tbb::blocked_range<int64_t>& r) {
    auto& pad = pads.local();
    for (int64_t z = r.begin(); z < r.end(); ++z) {
      slice_border(gt, flags_g, z, pad, per_g[static_cast<size_t>(z)]);
      slice_border(pred, flags_p, z, pad, per_p[static_cast<size_t>(z)]);
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
  directed(bg, bp, w, h, depth, s, area, plane_entries, d.gt_to_pred);
  directed(bp, bg, w, h, depth, s, area, plane_entries, d.pred_to_gt);
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
