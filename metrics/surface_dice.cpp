#include "metrics/surface_dice.h"

#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "metrics/surface_table.h"

namespace lb {

MaskView MaskView::of(const uint8_t* volume, const std::array<int64_t, 3>& d) {
  return MaskView{volume, d, d[0], d[0] * d[1]};
}

MaskView MaskView::crop(const Box& b) const {
  MaskView v = *this;
  v.data = data + b.lo[0] + b.lo[1] * stride_j + b.lo[2] * stride_k;
  v.dims = {b.size(0), b.size(1), b.size(2)};
  return v;
}

SurfelCounts& SurfelCounts::operator+=(const SurfelCounts& o) {
  for (int c = 0; c < 256; ++c) {
    gt[c] += o.gt[c];
    gt_within[c] += o.gt_within[c];
    pred[c] += o.pred[c];
    pred_within[c] += o.pred_within[c];
  }
  return *this;
}

uint64_t SurfelCounts::gt_points() const {
  uint64_t n = 0;
  for (auto v : gt) n += v;
  return n;
}

uint64_t SurfelCounts::pred_points() const {
  uint64_t n = 0;
  for (auto v : pred) n += v;
  return n;
}

double SurfaceDice::nsd() const {
  const double total = gt_area_mm2 + pred_area_mm2;
  return total > 0 ? (gt_within_mm2 + pred_within_mm2) / total : 0.0;
}

SurfaceDice surface_dice(const SurfelCounts& c, const std::array<double, 3>& spacing_mm) {
  const auto area = surface::surfel_areas(spacing_mm);
  SurfaceDice d;
  for (int code = 0; code < 256; ++code) {
    d.gt_area_mm2 += static_cast<double>(c.gt[code]) * area[code];
    d.pred_area_mm2 += static_cast<double>(c.pred[code]) * area[code];
    d.gt_within_mm2 += static_cast<double>(c.gt_within[code]) * area[code];
    d.pred_within_mm2 += static_cast<double>(c.pred_within[code]) * area[code];
  }
  return d;
}

namespace {

// The distance test exactly as the official scorer evaluates it (scipy's EDT with sampling, then <=).
bool within(int64_t di, int64_t dj, int64_t dk, const std::array<double, 3>& s, double tol) {
  const double t0 = static_cast<double>(di) * s[0];
  const double t1 = static_cast<double>(dj) * s[1];
  const double t2 = static_cast<double>(dk) * s[2];
  double d2 = t0 * t0 + t1 * t1;
  d2 = d2 + t2 * t2;
  return std::sqrt(d2) <= tol;
}

// One more than the largest offset that could pass (the exact test decides), and never more than the largest
// offset inside the region: the division is clamped in floating point, so 1e300 / 1e-30 cannot overflow.
int64_t reach(double spacing, double tol, int64_t bound_points) {
  const double limit = static_cast<double>(std::max<int64_t>(bound_points - 1, 0));
  const double r = std::floor(tol / spacing) + 1;
  return r >= limit ? static_cast<int64_t>(limit) : static_cast<int64_t>(r);
}

}  // namespace

void check_nsd_inputs(const std::array<double, 3>& s, double tol) {
  if (!std::isfinite(tol) || tol < 0)
    throw std::invalid_argument("NSD tolerance must be a finite number >= 0 mm, not " + std::to_string(tol));
  for (double v : s)
    if (!std::isfinite(v) || !(v > 0))
      throw std::invalid_argument("voxel spacing must be finite and > 0 mm, not " + std::to_string(v));
}

std::array<int64_t, 3> stencil_reach(const ToleranceStencil& st) { return {st.ri, st.rj, st.rk}; }

ToleranceStencil tolerance_stencil(const std::array<double, 3>& s, double tol, const std::array<int64_t, 3>& bound) {
  check_nsd_inputs(s, tol);
  ToleranceStencil st;
  st.spacing_mm = s;
  st.tolerance_mm = tol;
  st.bound_points = bound;
  st.ri = reach(s[0], tol, bound[0]);
  st.rj = reach(s[1], tol, bound[1]);
  st.rk = reach(s[2], tol, bound[2]);
  const int64_t ri = st.ri;
  std::vector<std::pair<double, ToleranceStencil::Offset>> found;
  for (int64_t dk = -st.rk; dk <= st.rk; ++dk)
    for (int64_t dj = -st.rj; dj <= st.rj; ++dj) {
      // The largest di in [0, ri] that passes, by bisection: the test is monotone in di (each rounded step
      // of the expression is monotone), so this equals the scan it replaces.
      int64_t max_di = -1;
      if (within(0, dj, dk, s, tol)) {
        int64_t lo = 0, hi = ri;  // lo passes
        while (lo < hi) {
          const int64_t mid = lo + (hi - lo + 1) / 2;
          if (within(mid, dj, dk, s, tol)) lo = mid; else hi = mid - 1;
        }
        max_di = lo;
      }
      if (max_di < 0) continue;
      const double base = std::hypot(dj * s[1], dk * s[2]);
      found.push_back({base, {static_cast<int32_t>(dj), static_cast<int32_t>(dk), static_cast<int32_t>(max_di)}});
      st.max_di = std::max<int32_t>(st.max_di, static_cast<int32_t>(max_di));
    }
  std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& f : found) st.offsets.push_back(f.second);
  return st;
}

std::vector<uint8_t> occupied_rows(const MaskView& m) {
  const int64_t n0 = m.dims[0], n1 = m.dims[1], n2 = m.dims[2];
  std::vector<uint8_t> flags(static_cast<size_t>(n1 * n2), 0);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n2, 4), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t k = r.begin(); k < r.end(); ++k)
      for (int64_t j = 0; j < n1; ++j) {
        const uint8_t* row = m.data + j * m.stride_j + k * m.stride_k;
        uint8_t acc = 0;
        for (int64_t i = 0; i < n0; ++i) acc |= row[i];
        flags[static_cast<size_t>(j + n1 * k)] = acc != 0;
      }
  });
  return flags;
}

namespace {

// One mask's data for a slab of point slices: codes and row distances, filled only for active point rows.
struct SlabMask {
  std::vector<uint8_t> codes;
  std::vector<uint16_t> dist;     // along i to the nearest border point in the row, capped
  std::vector<uint8_t> has_border;  // per point row: whether dist is meaningful
};

// Codes and row distances of point slice k for one mask. Point (x, y) sees voxels x-1..x, y-1..y of voxel
// slices k-1 and k; rows[b][c] is voxel row (y-1+b) of slice (k-1+c), padded with a zero on each side.
void fill_slice(const MaskView& m, const std::vector<uint8_t>& flags, int64_t k, uint16_t cap, uint8_t* codes,
                uint16_t* dist, uint8_t* has_border, std::vector<uint8_t>& pad) {
  const int64_t n0 = m.dims[0], n1 = m.dims[1], n2 = m.dims[2];
  const int64_t w = n0 + 1;
  const int64_t pw = n0 + 2;
  if (pad.size() < static_cast<size_t>(4 * pw)) pad.assign(static_cast<size_t>(4 * pw), 0);
  uint8_t* r[2][2] = {{pad.data(), pad.data() + pw}, {pad.data() + 2 * pw, pad.data() + 3 * pw}};
  auto active = [&](int64_t yy, int64_t kk) {
    return yy >= 0 && yy < n1 && kk >= 0 && kk < n2 && flags[static_cast<size_t>(yy + n1 * kk)];
  };
  for (int64_t y = 0; y <= n1; ++y) {
    has_border[y] = 0;
    if (!active(y - 1, k - 1) && !active(y, k - 1) && !active(y - 1, k) && !active(y, k)) continue;
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c) {
        const int64_t yy = y - 1 + b, kk = k - 1 + c;
        uint8_t* dst = r[b][c];
        dst[0] = 0;
        dst[pw - 1] = 0;
        if (active(yy, kk)) std::memcpy(dst + 1, m.data + yy * m.stride_j + kk * m.stride_k, static_cast<size_t>(n0));
        else std::memset(dst + 1, 0, static_cast<size_t>(n0));
      }
    uint8_t* out = codes + y * w;
    const uint8_t *r00 = r[0][0], *r01 = r[0][1], *r10 = r[1][0], *r11 = r[1][1];
    for (int64_t x = 0; x < w; ++x)
      out[x] = static_cast<uint8_t>((r00[x] << 7) | (r01[x] << 6) | (r10[x] << 5) | (r11[x] << 4) |
                                    (r00[x + 1] << 3) | (r01[x + 1] << 2) | (r10[x + 1] << 1) | r11[x + 1]);
    // Distances along the row to its nearest border point: two scans.
    uint16_t* d = dist + y * w;
    int64_t last = -1;
    for (int64_t x = 0; x < w; ++x) {
      if (surface::is_border(out[x])) last = x;
      d[x] = last < 0 ? cap : static_cast<uint16_t>(std::min<int64_t>(x - last, cap));
    }
    if (last < 0) continue;  // a row inside the mask: no border
    has_border[y] = 1;
    last = -1;
    for (int64_t x = w - 1; x >= 0; --x) {
      if (surface::is_border(out[x])) last = x;
      if (last >= 0) d[x] = static_cast<uint16_t>(std::min<int64_t>({d[x], last - x, cap}));
    }
  }
}

struct Scratch {
  SlabMask gt, pred;
  std::vector<uint8_t> pad;
};

}  // namespace

SurfelCounts count_surfels(const MaskView& gt, const MaskView& pred, const std::array<double, 3>& s,
                           double tol) {
  return count_surfels(gt, pred, tolerance_stencil(s, tol, {gt.dims[0] + 1, gt.dims[1] + 1, gt.dims[2] + 1}));
}

namespace {

// Offsets of a stencil that can reach inside a point grid of h x depth (a case-wide stencil used on a lesion).
ToleranceStencil fit_stencil(const ToleranceStencil& full, int64_t h, int64_t depth) {
  if (full.rj <= h - 1 && full.rk <= depth - 1) return full;
  ToleranceStencil st = full;
  st.offsets.clear();
  st.max_di = -1;
  for (const auto& o : full.offsets)
    if (std::abs(o.dj) <= h - 1 && std::abs(o.dk) <= depth - 1) {
      st.offsets.push_back(o);
      st.max_di = std::max(st.max_di, o.max_di);
    }
  return st;
}

}  // namespace

SurfelCounts border_counts(const MaskView& m) {
  const int64_t n0 = m.dims[0], n1 = m.dims[1], n2 = m.dims[2];
  const int64_t w = n0 + 1, h = n1 + 1, depth = n2 + 1;
  const int64_t area = w * h;
  const std::vector<uint8_t> flags = occupied_rows(m);
  struct Buffers {
    std::vector<uint8_t> codes, has_border, pad;
    std::vector<uint16_t> dist;
  };
  tbb::combinable<SurfelCounts> partial;
  tbb::combinable<Buffers> buffers;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, depth, 8), [&](const tbb::blocked_range<int64_t>& r) {
    Buffers& b = buffers.local();
    b.codes.resize(static_cast<size_t>(area));
    b.dist.resize(static_cast<size_t>(area));
    b.has_border.resize(static_cast<size_t>(h));
    SurfelCounts& out = partial.local();
    for (int64_t z = r.begin(); z < r.end(); ++z) {
      fill_slice(m, flags, z, 1, b.codes.data(), b.dist.data(), b.has_border.data(), b.pad);
      for (int64_t y = 0; y < h; ++y) {
        if (!b.has_border[static_cast<size_t>(y)]) continue;
        const uint8_t* row = b.codes.data() + y * w;
        for (int64_t x = 0; x < w; ++x)
          if (surface::is_border(row[x])) ++out.gt[row[x]];
      }
    }
  });
  SurfelCounts total;
  partial.combine_each([&](const SurfelCounts& c) { total += c; });
  return total;
}

SurfelCounts count_surfels(const MaskView& gt, const MaskView& pred, const ToleranceStencil& full) {
  const int64_t n0 = gt.dims[0], n1 = gt.dims[1], n2 = gt.dims[2];
  const int64_t w = n0 + 1, h = n1 + 1, depth = n2 + 1;  // point grid
  const int64_t area = w * h;
  if (w > full.bound_points[0] || h > full.bound_points[1] || depth > full.bound_points[2])
    throw std::invalid_argument("count_surfels: the stencil was built for a smaller region");
  const auto& s = full.spacing_mm;
  const double tol = full.tolerance_mm;
  // When even the farthest two points of the region pass the test, every border point is within tolerance
  // as soon as the other mask has any border point: no search (a huge tolerance or a tiny spacing).
  if (within(w - 1, h - 1, depth - 1, s, tol)) {
    SurfelCounts c;
    SurfelCounts g, p;
    tbb::parallel_invoke([&] { g = border_counts(gt); }, [&] { p = border_counts(pred); });
    c.gt = g.gt;
    c.pred = p.gt;
    if (c.pred_points() > 0) c.gt_within = c.gt;
    if (c.gt_points() > 0) c.pred_within = c.pred;
    return c;
  }
  const ToleranceStencil st = fit_stencil(full, h, depth);
  const uint16_t cap = static_cast<uint16_t>(
      std::min<int64_t>(std::max<int64_t>(st.max_di, 0) + 1, std::numeric_limits<uint16_t>::max()));
  int64_t halo = 0;  // slices the stencil reaches (0 for 3 mm slices at 2 mm)
  for (const auto& o : st.offsets) halo = std::max<int64_t>(halo, std::abs(o.dk));
  const int64_t chunk = std::max<int64_t>(8, 4 * halo);

  std::vector<uint8_t> flags_gt, flags_pred;
  tbb::parallel_invoke([&] { flags_gt = occupied_rows(gt); }, [&] { flags_pred = occupied_rows(pred); });

  tbb::combinable<SurfelCounts> partial;
  tbb::combinable<Scratch> scratch;
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, depth, chunk),
      [&](const tbb::blocked_range<int64_t>& range) {
        Scratch& sc = scratch.local();
        SurfelCounts& out = partial.local();
        const int64_t z0 = range.begin(), z1 = range.end();
        const int64_t zlo = std::max<int64_t>(0, z0 - halo), zhi = std::min<int64_t>(depth, z1 + halo);
        const int64_t slices = zhi - zlo;
        for (SlabMask* m : {&sc.gt, &sc.pred}) {
          if (m->codes.size() < static_cast<size_t>(slices * area)) {
            m->codes.resize(static_cast<size_t>(slices * area));
            m->dist.resize(static_cast<size_t>(slices * area));
          }
          m->has_border.assign(static_cast<size_t>(slices * h), 0);
        }
        for (int64_t z = zlo; z < zhi; ++z) {
          const int64_t o = (z - zlo) * area, ro = (z - zlo) * h;
          fill_slice(gt, flags_gt, z, cap, sc.gt.codes.data() + o, sc.gt.dist.data() + o, sc.gt.has_border.data() + ro,
                     sc.pad);
          fill_slice(pred, flags_pred, z, cap, sc.pred.codes.data() + o, sc.pred.dist.data() + o,
                     sc.pred.has_border.data() + ro, sc.pad);
        }
        // A border point is within tolerance when some stencil row of the other mask holds a border point
        // no further along i than that row's limit.
        auto near_other = [&](const SlabMask& other, int64_t x, int64_t y, int64_t z) {
          for (const auto& off : st.offsets) {
            const int64_t yy = y + off.dj, zz = z + off.dk;
            if (yy < 0 || yy >= h || zz < zlo || zz >= zhi) continue;
            if (!other.has_border[static_cast<size_t>((zz - zlo) * h + yy)]) continue;
            if (other.dist[static_cast<size_t>((zz - zlo) * area + yy * w + x)] <= off.max_di) return true;
          }
          return false;
        };
        auto count_row = [&](const SlabMask& self, const SlabMask& other, std::array<uint64_t, 256>& all,
                             std::array<uint64_t, 256>& within, int64_t y, int64_t z) {
          const uint8_t* row = self.codes.data() + (z - zlo) * area + y * w;
          for (int64_t x = 0; x < w; ++x) {
            const uint8_t c = row[x];
            if (!surface::is_border(c)) continue;
            ++all[c];
            if (near_other(other, x, y, z)) ++within[c];
          }
        };
        for (int64_t z = z0; z < z1; ++z)
          for (int64_t y = 0; y < h; ++y) {
            const size_t ro = static_cast<size_t>((z - zlo) * h + y);
            if (sc.gt.has_border[ro]) count_row(sc.gt, sc.pred, out.gt, out.gt_within, y, z);
            if (sc.pred.has_border[ro]) count_row(sc.pred, sc.gt, out.pred, out.pred_within, y, z);
          }
      },
      tbb::simple_partitioner());
  SurfelCounts total;
  partial.combine_each([&](const SurfelCounts& c) { total += c; });
  return total;
}

}  // namespace lb
