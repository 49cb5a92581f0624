#include "metrics/case_scores.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace lb {

const char* rule_name(Rule r) {
  switch (r) {
    case Rule::both_empty: return "both_empty";
    case Rule::false_positive_on_healthy: return "false_positive_on_healthy";
    case Rule::empty_prediction: return "empty_prediction";
    case Rule::below_dsc_gate: return "below_dsc_gate";
    case Rule::computed: return "computed";
  }
  return "computed";
}

double round4(double x) { return std::nearbyint(x * 1e4) / 1e4; }

std::string format_rounded(double x, int decimals) {
  static constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  decimals = std::clamp(decimals, 0, 9);
  const double scale = kPow10[decimals];
  const double r = std::isfinite(x) ? std::nearbyint(x * scale) / scale : x;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, r);
  return buf;
}

namespace {

Box merge(Box a, const Box& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  for (int d = 0; d < 3; ++d) {
    a.lo[d] = std::min(a.lo[d], b.lo[d]);
    a.hi[d] = std::max(a.hi[d], b.hi[d]);
  }
  return a;
}

}  // namespace

Overlap overlap(const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims) {
  const int64_t n0 = dims[0], n1 = dims[1], n2 = dims[2];
  return tbb::parallel_reduce(
      tbb::blocked_range<int64_t>(0, n2, 4), Overlap{},
      [&](const tbb::blocked_range<int64_t>& r, Overlap acc) {
        for (int64_t k = r.begin(); k < r.end(); ++k) {
          for (int64_t j = 0; j < n1; ++j) {
            const uint8_t* g = gt + (k * n1 + j) * n0;
            const uint8_t* p = pred + (k * n1 + j) * n0;
            // Most rows of a CT mask are empty: test 8 bytes at a time before summing.
            uint64_t any = 0;
            for (int64_t i = 0; i + 8 <= n0; i += 8) {
              uint64_t a, b;
              std::memcpy(&a, g + i, 8);
              std::memcpy(&b, p + i, 8);
              any |= a | b;
            }
            for (int64_t i = n0 & ~int64_t{7}; i < n0; ++i) any |= g[i] | p[i];
            if (!any) continue;
            uint32_t sg = 0, sp = 0, sb = 0;
            // Byte sums that the compiler vectorises; values are 0/1 so the row sums cannot overflow.
            for (int64_t i = 0; i < n0; ++i) {
              sg += g[i];
              sp += p[i];
              sb += g[i] & p[i];
            }
            acc.gt_voxels += sg;
            acc.pred_voxels += sp;
            acc.both_voxels += sb;
            int64_t first = 0, last = n0 - 1;
            while (!(g[first] | p[first])) ++first;
            while (!(g[last] | p[last])) --last;
            acc.union_box = merge(acc.union_box, Box{{first, j, k}, {last + 1, j + 1, k + 1}});
          }
        }
        return acc;
      },
      [](Overlap a, const Overlap& b) {
        a.gt_voxels += b.gt_voxels;
        a.pred_voxels += b.pred_voxels;
        a.both_voxels += b.both_voxels;
        a.union_box = merge(a.union_box, b.union_box);
        return a;
      });
}

SurfaceDice surface_dice_in_box(const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims,
                                const Box& box, const std::array<double, 3>& spacing_mm, double tolerance_mm) {
  const MaskView g = MaskView::of(gt, dims).crop(box);
  const MaskView p = MaskView::of(pred, dims).crop(box);
  return surface_dice(count_surfels(g, p, spacing_mm, tolerance_mm), spacing_mm);
}

CaseScores score_case(const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims,
                      const std::array<double, 3>& spacing_mm, const CaseSettings& settings) {
  CaseScores s;
  s.overlap = overlap(gt, pred, dims);
  const Overlap& o = s.overlap;
  if (o.gt_voxels == 0 && o.pred_voxels == 0) {
    s.rule = Rule::both_empty;
    s.dsc = s.nsd = s.nsd_ungated = 1.0;
    return s;
  }
  if (o.gt_voxels == 0) {
    s.rule = Rule::false_positive_on_healthy;
    return s;
  }
  if (o.pred_voxels == 0) {
    s.rule = Rule::empty_prediction;
    return s;
  }
  // Same expression as the official scorer: 2*intersection / (|G| + |P|) on exact integers.
  s.dsc = static_cast<double>(2 * o.both_voxels) / static_cast<double>(o.gt_voxels + o.pred_voxels);
  s.surface = surface_dice_in_box(gt, pred, dims, o.union_box, spacing_mm, settings.tolerance_mm);
  s.nsd_ungated = s.surface.nsd();
  if (s.dsc < settings.nsd_gate_dsc) {
    s.rule = Rule::below_dsc_gate;
    s.nsd = 0.0;
  } else {
    s.rule = Rule::computed;
    s.nsd = s.nsd_ungated;
  }
  return s;
}

}  // namespace lb
