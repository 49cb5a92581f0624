#include "metrics/lesion_scores.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

#include "metrics/components.h"

namespace lb {

namespace {

struct Link {
  int32_t pred;
  int64_t overlap;
};

Box merge(Box a, const Box& b) {
  for (int d = 0; d < 3; ++d) {
    a.lo[d] = std::min(a.lo[d], b.lo[d]);
    a.hi[d] = std::max(a.hi[d], b.hi[d]);
  }
  return a;
}

// Shared voxels between every ground-truth and predicted component that touch, from their runs.
std::vector<std::vector<Link>> links_of(const Components& g, const Components& p) {
  std::unordered_map<uint64_t, int64_t> shared;
  size_t a = 0, b = 0;
  const size_t na = g.runs.size(), nb = p.runs.size();
  while (a < na && b < nb) {
    const Run& ra = g.runs[a];
    const Run& rb = p.runs[b];
    if (ra.row != rb.row) {
      if (ra.row < rb.row) ++a; else ++b;
      continue;
    }
    const int32_t lo = std::max(ra.x0, rb.x0), hi = std::min(ra.x1, rb.x1);
    if (lo < hi) {
      const uint64_t key = (static_cast<uint64_t>(g.run_label[a]) << 32) | static_cast<uint32_t>(p.run_label[b]);
      shared[key] += hi - lo;
    }
    if (ra.x1 < rb.x1) ++a; else ++b;
  }
  std::vector<std::vector<Link>> links(static_cast<size_t>(g.count));
  for (const auto& [key, n] : shared) links[key >> 32].push_back({static_cast<int32_t>(key & 0xffffffffu), n});
  for (auto& l : links) std::sort(l.begin(), l.end(), [](const Link& x, const Link& y) { return x.pred < y.pred; });
  return links;
}

}  // namespace

LesionWise score_lesions(const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims,
                         const std::array<double, 3>& spacing_mm, double tolerance_mm, const LesionSettings& settings,
                         const MetricChoice& metrics) {
  Components g, p;
  tbb::parallel_invoke([&] { g = label_components(gt, dims, settings.connectivity); },
                       [&] { p = label_components(pred, dims, settings.connectivity); });
  auto links = links_of(g, p);
  const double voxel_ml = spacing_mm[0] * spacing_mm[1] * spacing_mm[2] / 1000.0;

  LesionWise lw;
  {
    // autoPET's volumes come from the overlap, before any matching.
    std::vector<char> touches(static_cast<size_t>(p.count), 0);
    for (int32_t c = 0; c < g.count; ++c) {
      if (links[c].empty()) lw.fn_volume_ml += static_cast<double>(g.voxels[c]) * voxel_ml;
      for (const Link& k : links[c]) touches[k.pred] = 1;
    }
    for (int32_t q = 0; q < p.count; ++q)
      if (!touches[q]) lw.fp_volume_ml += static_cast<double>(p.voxels[q]) * voxel_ml;
  }
  if (settings.matching.one_to_one()) {
    // Keep only the matched pair of each lesion: from here on P(g) is that one component (or nothing), and
    // every component matched to no lesion is a false positive, whatever it overlaps.
    std::vector<MatchCandidate> candidates;
    for (int32_t c = 0; c < g.count; ++c)
      for (const Link& k : links[c])
        candidates.push_back({c, k.pred,
                              static_cast<double>(k.overlap) /
                                  static_cast<double>(g.voxels[c] + p.voxels[k.pred] - k.overlap)});
    const std::vector<int32_t> match = match_one_to_one(candidates, g.count, p.count, settings.matching);
    for (int32_t c = 0; c < g.count; ++c) {
      std::vector<Link> kept;
      for (const Link& k : links[c])
        if (k.pred == match[c]) kept.push_back(k);
      links[c] = std::move(kept);
    }
  }
  lw.n_gt = g.count;
  lw.n_pred = p.count;
  std::vector<char> linked(static_cast<size_t>(p.count), 0);
  for (const auto& l : links)
    for (const Link& k : l) linked[k.pred] = 1;
  for (int32_t q = 0; q < p.count; ++q) {
    if (linked[q]) {
      ++lw.linked_pred;
    } else {
      ++lw.fp;
      lw.fp_voxels += p.voxels[q];
    }
  }

  // NSD of g against P(g) splits into work that differs per lesion and work shared by every lesion with the
  // same P(g) (one large predicted blob over hundreds of metastases):
  //  - shared, once per distinct P(g): P(g)'s border points (its surface area);
  //  - per lesion, in the box of g grown by the stencil's reach (+1): g's border points, which of them lie
  //    within tolerance of P(g), and which border points of P(g) lie within tolerance of g. Points that only
  //    the crop makes border points sit on its faces, further than the reach from g, so never count.
  // The values are identical to computing the NSD in the box of g ∪ P(g); the stencil is built once per case.
  const ToleranceStencil stencil = tolerance_stencil(spacing_mm, tolerance_mm, {dims[0] + 1, dims[1] + 1, dims[2] + 1});
  const auto reach = stencil_reach(stencil);
  std::map<std::vector<int32_t>, size_t> group_of;  // P(g) as its sorted component ids -> index
  std::vector<std::vector<int32_t>> groups;
  std::vector<size_t> lesion_group(static_cast<size_t>(g.count), 0);
  for (int32_t c = 0; c < g.count; ++c) {
    if (links[c].empty()) continue;
    std::vector<int32_t> key;
    for (const Link& k : links[c]) key.push_back(k.pred);
    const auto [it, fresh] = group_of.emplace(std::move(key), groups.size());
    if (fresh) groups.push_back(it->first);
    lesion_group[c] = it->second;
  }
  std::vector<SurfelCounts> group_border(groups.size());
  std::vector<int64_t> group_voxels(groups.size(), 0), lesion_voxels(static_cast<size_t>(g.count), 0);
  tbb::parallel_for(size_t{0}, groups.size(), [&](size_t q) {
    Box box = p.boxes[groups[q].front()];
    for (int32_t k : groups[q]) box = merge(box, p.boxes[k]);
    std::vector<uint8_t> buf(static_cast<size_t>(box.voxels()), 0);
    for (int32_t k : groups[q]) rasterize(p, k, box, buf.data());
    group_voxels[q] = box.voxels();
    group_border[q] = border_counts(MaskView::of(buf.data(), {box.size(0), box.size(1), box.size(2)}));
  });

  // Per-lesion surface distances (and NSD at extra tolerances) are computed in the box of g ∪ P(g), which no
  // tolerance bounds: hundreds of metastases inside one predicted blob would each pay for the blob's box. The
  // boxes are summed largest lesion first, and lesions beyond kDistanceBudget whole volumes get null distances
  // and no nsd_at_mm (with the reason), so the cost stays within a few passes over the case.
  constexpr int64_t kDistanceBudget = 4;
  std::vector<char> distance_allowed(static_cast<size_t>(g.count), 1);
  if (metrics.distances() || !metrics.nsd_at_mm.empty()) {
    std::vector<int32_t> by_size(static_cast<size_t>(g.count));
    std::iota(by_size.begin(), by_size.end(), 0);
    std::stable_sort(by_size.begin(), by_size.end(), [&](int32_t a, int32_t b) { return g.voxels[a] > g.voxels[b]; });
    const int64_t budget = kDistanceBudget * dims[0] * dims[1] * dims[2];
    int64_t used = 0;
    for (int32_t c : by_size) {
      if (links[c].empty()) continue;
      Box ub = g.boxes[c];
      for (const Link& k : links[c]) ub = merge(ub, p.boxes[k.pred]);
      used += ub.voxels();
      if (used > budget) distance_allowed[c] = 0;
    }
  }
  std::vector<Lesion> lesions(static_cast<size_t>(g.count));
  tbb::parallel_for(tbb::blocked_range<int32_t>(0, g.count, 1), [&](const tbb::blocked_range<int32_t>& r) {
    std::vector<uint8_t> gbuf, pbuf;
    for (int32_t c = r.begin(); c < r.end(); ++c) {
      Lesion& les = lesions[c];
      les.voxels = g.voxels[c];
      les.volume_ml = static_cast<double>(les.voxels) * voxel_ml;
      les.bbox = g.boxes[c];
      les.first_index = g.first_index[c];
      const auto& lk = links[c];
      les.linked_pred = static_cast<int>(lk.size());
      les.detected = !lk.empty();
      if (!les.detected) {
        if (metrics.any()) les.extra = extra_scores_absent(metrics, "lesion missed: no predicted component");
        continue;
      }
      int64_t shared = 0;
      for (const Link& k : lk) {
        shared += k.overlap;
        les.pred_voxels += p.voxels[k.pred];
      }
      les.overlap_voxels = shared;
      les.dsc = static_cast<double>(2 * shared) / static_cast<double>(les.voxels + les.pred_voxels);
      Box box = g.boxes[c];
      for (int d = 0; d < 3; ++d) {
        box.lo[d] = std::max<int64_t>(0, box.lo[d] - reach[d] - 1);
        box.hi[d] = std::min<int64_t>(dims[d], box.hi[d] + reach[d] + 1);
      }
      const size_t n = static_cast<size_t>(box.voxels());
      lesion_voxels[c] = box.voxels();
      gbuf.assign(n, 0);
      pbuf.assign(n, 0);
      rasterize(g, c, box, gbuf.data());
      for (const Link& k : lk) rasterize(p, k.pred, box, pbuf.data());
      const std::array<int64_t, 3> bd = {box.size(0), box.size(1), box.size(2)};
      SurfelCounts near = count_surfels(MaskView::of(gbuf.data(), bd), MaskView::of(pbuf.data(), bd), stencil);
      near.pred = group_border[lesion_group[c]].gt;  // the whole of P(g), not only what the crop holds
      les.nsd = surface_dice(near, spacing_mm).nsd();
      if (metrics.any() && !distance_allowed[c]) {
        les.extra = ExtraScores{};
        if (metrics.iou)
          les.extra.iou = static_cast<double>(shared) / static_cast<double>(les.voxels + les.pred_voxels - shared);
        les.extra.null_reason = "per-lesion distances and nsd_at_mm skipped: the boxes of the lesions and their "
                                "predictions in this case exceed " + std::to_string(kDistanceBudget) +
                                " times the volume (one prediction over many lesions)";
      } else if (metrics.any()) {
        // Distances are not bounded by a tolerance: the box of g ∪ P(g), as a case's is the box of G ∪ P.
        Box ub = g.boxes[c];
        for (const Link& k : lk) ub = merge(ub, p.boxes[k.pred]);
        const size_t un = static_cast<size_t>(ub.voxels());
        gbuf.assign(un, 0);
        pbuf.assign(un, 0);
        rasterize(g, c, ub, gbuf.data());
        for (const Link& k : lk) rasterize(p, k.pred, ub, pbuf.data());
        const std::array<int64_t, 3> ud = {ub.size(0), ub.size(1), ub.size(2)};
        les.extra = extra_scores(MaskView::of(gbuf.data(), ud), MaskView::of(pbuf.data(), ud), les.voxels,
                                 les.pred_voxels, shared, spacing_mm, metrics);
      }
    }
  });
  for (int64_t v : group_voxels) lw.nsd_work_voxels += v;
  for (int64_t v : lesion_voxels) lw.nsd_work_voxels += v;
  std::sort(lesions.begin(), lesions.end(), [](const Lesion& a, const Lesion& b) {
    return a.voxels != b.voxels ? a.voxels > b.voxels : a.first_index < b.first_index;
  });
  double sum_dsc = 0, sum_nsd = 0;
  for (size_t i = 0; i < lesions.size(); ++i) {
    lesions[i].id = static_cast<int>(i + 1);
    sum_dsc += lesions[i].dsc;
    sum_nsd += lesions[i].nsd;
    if (lesions[i].detected) ++lw.tp; else ++lw.fn;
  }
  const int denom = lw.n_gt + lw.fp;
  lw.dsc = denom == 0 ? 1.0 : sum_dsc / denom;
  lw.nsd = denom == 0 ? 1.0 : sum_nsd / denom;
  if (lw.n_gt > 0) lw.sensitivity = static_cast<double>(lw.tp) / lw.n_gt;
  if (lw.n_pred > 0) lw.precision = static_cast<double>(lw.linked_pred) / lw.n_pred;
  if (lw.tp + lw.fn + lw.fp > 0) lw.f1 = 2.0 * lw.tp / (2.0 * lw.tp + lw.fn + lw.fp);
  for (const auto& l : lesions)
    if (l.detected)
      lw.sum_tp_iou += static_cast<double>(l.overlap_voxels) / static_cast<double>(l.voxels + l.pred_voxels - l.overlap_voxels);
  if (lw.n_gt + lw.n_pred > 0) {
    lw.rq = lw.tp == 0 ? 0.0 : lw.tp / (lw.tp + 0.5 * lw.fp + 0.5 * lw.fn);
    lw.sq = lw.tp == 0 ? 0.0 : lw.sum_tp_iou / lw.tp;
    if (settings.matching.one_to_one()) lw.pq = *lw.sq * *lw.rq;
  }
  lw.lesions = std::move(lesions);
  return lw;
}

}  // namespace lb
