#include "metrics/surface_dice.h"

#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

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

int64_t reach(double spacing, double tol) {
  // One more than the largest offset that could pass; the exact test decides.
  return static_cast<int64_t>(std::floor(tol / spacing)) + 1;
}

}  // namespace

ToleranceStencil tolerance_stencil(const std::array<double, 3>& s, double tol) {
  ToleranceStencil st;
  st.rj = reach(s[1], tol);
  st.rk = reach(s[2], tol);
  const int64_t ri = reach(s[0], tol);
  std::vector<std::pair<double, ToleranceStencil::Offset>> found;
  for (int64_t dk = -st.rk; dk <= st.rk; ++dk)
    for (int64_t dj = -st.rj; dj <= st.rj; ++dj) {
      int64_t max_di = -1;
      for (int64_t di = 0; di <= ri && within(di, dj, dk, s, tol); ++di) max_di = di;
      if (max_di < 0) continue;
      const double base = std::hypot(dj * s[1], dk * s[2]);
      found.push_back({base, {static_cast<int32_t>(dj), static_cast<int32_t>(dk), static_cast<int32_t>(max_di)}});
      st.max_di = std::max<int32_t>(st.max_di, static_cast<int32_t>(max_di));
    }
  std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& f : found) st.offsets.push_back(f.second);
  return st;
}

namespace {

// Neighbour codes of one point slice: point (x, y) sees voxels x-1..x, y-1..y of voxel slices k-1 and k.
// rows[b][c] is the voxel row (y-1+b) of slice (k-1+c), padded with a zero on each side.
void code_slice(const MaskView& m, int64_t k, uint8_t* codes, std::vector<uint8_t>& pad) {
  const int64_t n0 = m.dims[0], n1 = m.dims[1], n2 = m.dims[2];
  const int64_t w = n0 + 1;  // points per row
  const int64_t pw = n0 + 2;
  pad.assign(static_cast<size_t>(4 * pw), 0);
  uint8_t* r[2][2] = {{pad.data(), pad.data() + pw}, {pad.data() + 2 * pw, pad.data() + 3 * pw}};
  for (int64_t y = 0; y <= n1; ++y) {
    uint8_t any = 0;
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c) {
        const int64_t yy = y - 1 + b, kk = k - 1 + c;
        uint8_t* dst = r[b][c] + 1;
        if (yy < 0 || yy >= n1 || kk < 0 || kk >= n2) {
          std::memset(dst, 0, static_cast<size_t>(n0));
          continue;
        }
        const uint8_t* src = m.data + yy * m.stride_j + kk * m.stride_k;
        uint8_t acc = 0;
        for (int64_t x = 0; x < n0; ++x) {
          dst[x] = src[x];
          acc |= src[x];
        }
        any |= acc;
      }
    uint8_t* out = codes + y * w;
    if (!any) {
      std::memset(out, 0, static_cast<size_t>(w));
      continue;
    }
    const uint8_t *r00 = r[0][0], *r01 = r[0][1], *r10 = r[1][0], *r11 = r[1][1];
    for (int64_t x = 0; x < w; ++x) {
      out[x] = static_cast<uint8_t>((r00[x] << 7) | (r01[x] << 6) | (r10[x] << 5) | (r11[x] << 4) |
                                    (r00[x + 1] << 3) | (r01[x + 1] << 2) | (r10[x + 1] << 1) | r11[x + 1]);
    }
  }
}

// Per point, the distance along i (in points) to the nearest border point of the same row, capped at cap.
void row_distances(const uint8_t* codes, int64_t w, int64_t rows, uint16_t cap, uint16_t* out) {
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* c = codes + y * w;
    uint16_t* d = out + y * w;
    int64_t last = -1;
    bool any = false;
    for (int64_t x = 0; x < w; ++x) {
      if (surface::is_border(c[x])) {
        last = x;
        any = true;
      }
      d[x] = last < 0 ? cap : static_cast<uint16_t>(std::min<int64_t>(x - last, cap));
    }
    if (!any) continue;
    last = -1;
    for (int64_t x = w - 1; x >= 0; --x) {
      if (surface::is_border(c[x])) last = x;
      if (last >= 0) d[x] = static_cast<uint16_t>(std::min<int64_t>({d[x], last - x, cap}));
    }
  }
}

struct Scratch {
  std::vector<uint8_t> codes_gt, codes_pred, pad;
  std::vector<uint16_t> dist_gt, dist_pred;
};

}  // namespace

SurfelCounts count_surfels(const MaskView& gt, const MaskView& pred, const std::array<double, 3>& s,
                           double tol) {
  const int64_t n0 = gt.dims[0], n1 = gt.dims[1], n2 = gt.dims[2];
  const int64_t w = n0 + 1, h = n1 + 1, depth = n2 + 1;  // point grid
  const int64_t area = w * h;
  const ToleranceStencil st = tolerance_stencil(s, tol);
  const uint16_t cap =
      static_cast<uint16_t>(std::min<int64_t>(std::max<int64_t>(st.max_di, 0) + 1, std::numeric_limits<uint16_t>::max()));
  const int64_t halo = st.rk;
  const int64_t chunk = std::max<int64_t>(8, 4 * halo);

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
        sc.codes_gt.resize(static_cast<size_t>(slices * area));
        sc.codes_pred.resize(static_cast<size_t>(slices * area));
        sc.dist_gt.resize(static_cast<size_t>(slices * area));
        sc.dist_pred.resize(static_cast<size_t>(slices * area));
        for (int64_t z = zlo; z < zhi; ++z) {
          const int64_t o = (z - zlo) * area;
          code_slice(gt, z, sc.codes_gt.data() + o, sc.pad);
          code_slice(pred, z, sc.codes_pred.data() + o, sc.pad);
          row_distances(sc.codes_gt.data() + o, w, h, cap, sc.dist_gt.data() + o);
          row_distances(sc.codes_pred.data() + o, w, h, cap, sc.dist_pred.data() + o);
        }
        // A border point is within tolerance when any stencil row holds a border point of the other mask
        // no further along i than that row's limit.
        auto near_other = [&](const std::vector<uint16_t>& dist_other, int64_t x, int64_t y, int64_t z) {
          for (const auto& off : st.offsets) {
            const int64_t yy = y + off.dj, zz = z + off.dk;
            if (yy < 0 || yy >= h || zz < zlo || zz >= zhi) continue;
            if (dist_other[static_cast<size_t>((zz - zlo) * area + yy * w + x)] <= off.max_di) return true;
          }
          return false;
        };
        for (int64_t z = z0; z < z1; ++z) {
          const int64_t o = (z - zlo) * area;
          const uint8_t* cg = sc.codes_gt.data() + o;
          const uint8_t* cp = sc.codes_pred.data() + o;
          for (int64_t y = 0; y < h; ++y) {
            const uint8_t* rg = cg + y * w;
            const uint8_t* rp = cp + y * w;
            for (int64_t x = 0; x < w; ++x) {
              const uint8_t a = rg[x], b = rp[x];
              if (surface::is_border(a)) {
                ++out.gt[a];
                if (near_other(sc.dist_pred, x, y, z)) ++out.gt_within[a];
              }
              if (surface::is_border(b)) {
                ++out.pred[b];
                if (near_other(sc.dist_gt, x, y, z)) ++out.pred_within[b];
              }
            }
          }
        }
      },
      tbb::simple_partitioner());
  SurfelCounts total;
  partial.combine_each([&](const SurfelCounts& c) { total += c; });
  return total;
}

}  // namespace lb
