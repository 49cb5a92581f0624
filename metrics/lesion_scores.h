#pragma once
// Lesion-wise scores and detection counts (lesionbench's own definition; see README "Lesion-wise scores").
//  - Lesions: connected components of the ground truth; predicted components likewise.
//  - A lesion g and a predicted component p are linked when they share a voxel.
//  - P(g) = union of the predicted components linked to g (whole components).
//    Empty: g is missed, DSC = NSD = 0. Else DSC = 2|g ∩ P(g)| / (|g| + |P(g)|) and
//    NSD = surfel NSD of g against P(g) at the tolerance, no 0.2 gate, as if in the box of g ∪ P(g)
//    (computed in the tolerance neighbourhood of g, with P(g)'s area shared by the lesions it touches).
//  - False positives: predicted components linked to no lesion.
//  - Case score = sum of lesion scores / (lesions + false positives); 1 when both counts are 0.
//  - One-to-one matchings (settings.matching, matching.h): P(g) is g's matched component alone, and every
//    unmatched component is a false positive.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "metrics/matching.h"
#include "metrics/metric_set.h"
#include "metrics/surface_dice.h"

namespace lb {

struct LesionSettings {
  int connectivity = 26;                           // 6, 18 or 26
  std::vector<double> bucket_edges_ml = {0.5, 5, 50};  // sensitivity buckets: < 0.5, 0.5-5, 5-50, >= 50 ml
  Matching matching;  // overlap (P(g), the definition above), or one-to-one: iou:T or hungarian (matching.h)
};

struct Lesion {
  int id = 0;               // 1 = largest; ties by smallest first voxel index
  int64_t voxels = 0;
  double volume_ml = 0;
  Box bbox;                 // voxel box [lo, hi)
  double dsc = 0, nsd = 0;
  bool detected = false;
  int linked_pred = 0;      // predicted components linked to this lesion
  int64_t pred_voxels = 0;  // |P(g)| (one-to-one: the matched component's voxels)
  int64_t overlap_voxels = 0;  // |g ∩ P(g)|
  int64_t first_index = 0;  // linear index of its first voxel in scan order
  ExtraScores extra;        // the chosen extra metrics of g against its prediction (missed: iou 0, NSD 0, no distance)
};

struct LesionWise {
  double dsc = 0, nsd = 0;
  int n_gt = 0, n_pred = 0, tp = 0, fn = 0, fp = 0;
  int linked_pred = 0;  // predicted components linked to some lesion
  std::optional<double> sensitivity, precision, f1;
  int64_t fp_voxels = 0;
  // autoPET's false-positive and false-negative volumes: predicted components that share no voxel with the ground
  // truth, lesions that share none with the prediction; from the overlap alone, so the same under every matching.
  double fp_volume_ml = 0, fn_volume_ml = 0;
  // panoptica's recognition, segmentation and panoptic quality: RQ = tp / (tp + fp/2 + fn/2), SQ = mean IoU of
  // the matched pairs (g with P(g) under overlap), PQ = SQ * RQ (one-to-one matchings only). No lesion and no
  // component: all absent; instances but no tp: 0.
  std::optional<double> rq, sq, pq;
  double sum_tp_iou = 0;  // SQ's numerator, for pooling over cases
  // Voxels of the regions the NSDs were computed in: each distinct P(g) once, plus each lesion's box grown by
  // the tolerance. Bounded by the work that differs per lesion (issue 12 item 5), not lesions x |P(g)|.
  int64_t nsd_work_voxels = 0;
  std::vector<Lesion> lesions;  // largest first
};

LesionWise score_lesions(const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims,
                         const std::array<double, 3>& spacing_mm, double tolerance_mm, const LesionSettings& settings,
                         const MetricChoice& metrics = {});

}  // namespace lb
