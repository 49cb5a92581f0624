#pragma once
// How ground-truth lesions and predicted components are matched for lesion-wise scores (`--matching`):
//  - overlap (default, lesionbench's original definition): every predicted component that shares a voxel with a
//    lesion g belongs to it (P(g), many-to-many);
//  - iou:T: one-to-one, greedy: pairs with IoU >= T taken in decreasing IoU (ties: lower lesion, then component
//    index) while both are free;
//  - hungarian: one-to-one, the assignment that maximises the total IoU over pairs with IoU > 0 (Kuhn-Munkres,
//    solved per connected group of overlapping lesions and components).
#include <cstdint>
#include <string>
#include <vector>

namespace lb {

enum class MatchingKind { overlap, iou_threshold, hungarian };

struct Matching {
  MatchingKind kind = MatchingKind::overlap;
  double iou_threshold = 0.5;  // for iou_threshold
  bool one_to_one() const { return kind != MatchingKind::overlap; }
  std::string name() const;  // "overlap", "iou:0.5", "hungarian": the spelling of the CLI and the JSON
  bool operator==(const Matching&) const = default;
};

// "overlap" | "iou:T" (0 < T <= 1) | "hungarian"; an empty string on success, else what is wrong.
std::string parse_matching(const std::string& text, Matching& out);

// A lesion and a predicted component that share voxels.
struct MatchCandidate {
  int32_t gt, pred;
  double iou;
};

// For each lesion 0..n_gt-1 the predicted component matched to it, or -1 (one-to-one matchings only).
std::vector<int32_t> match_one_to_one(const std::vector<MatchCandidate>& candidates, int32_t n_gt, int32_t n_pred,
                                      const Matching& matching);

// Minimum-cost assignment of an n x m cost matrix (row-major, n <= m): for each row its column. Exposed for tests.
std::vector<int32_t> min_cost_assignment(const std::vector<double>& cost, int32_t n, int32_t m);

}  // namespace lb
