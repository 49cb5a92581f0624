#pragma once
// Case-wise DSC and NSD with the rules of the official FLARE24 Task 1 scorer, in its order:
//   1. labels other than 0/1 -> 0, 0 (handled by the caller: such a mask never reaches here)
//   2. ground truth and prediction both empty -> 1, 1 (a healthy case done right)
//   3. ground truth empty, prediction not -> 0, 0 (any false positive zeroes a healthy case)
//   4. ground truth not empty, prediction empty -> 0, 0
//   5. DSC = 2|G∩P| / (|G|+|P|); NSD at the tolerance only when DSC >= 0.2, else 0.
// nsd_ungated is the NSD without the 0.2 gate (equal to nsd for rules 2-4), for information.
#include <array>
#include <cstdint>
#include <string>

#include "metrics/surface_dice.h"

namespace lb {

struct CaseSettings {
  double tolerance_mm = 2.0;
  double nsd_gate_dsc = 0.2;  // the official scorer sets NSD to 0 below this DSC
};

// Which rule decided a case's scores.
enum class Rule { both_empty, false_positive_on_healthy, empty_prediction, below_dsc_gate, computed };
const char* rule_name(Rule r);

struct Overlap {
  int64_t gt_voxels = 0, pred_voxels = 0, both_voxels = 0;
  Box union_box;  // bounding box of G ∪ P; empty when both are empty
};
// One parallel pass over two equally sized 0/1 volumes.
Overlap overlap(const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims);

struct CaseScores {
  double dsc = 0, nsd = 0, nsd_ungated = 0;
  Rule rule = Rule::computed;
  Overlap overlap;
  SurfaceDice surface;  // filled when the surfaces were compared
};

// gt and pred are 0/1 volumes of the same dims; spacing is the ground truth's.
CaseScores score_case(const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims,
                      const std::array<double, 3>& spacing_mm, const CaseSettings& settings);

// NSD between two masks inside `box` (everything outside it ignored), without any gate.
SurfaceDice surface_dice_in_box(const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims,
                                const Box& box, const std::array<double, 3>& spacing_mm, double tolerance_mm);

// numpy's round(x, 4): rint(x * 1e4) / 1e4, ties to even.
double round4(double x);
// numpy's round(x, decimals) (rint(x * 10^d) / 10^d, ties to even on the double) printed with that many
// decimals: 0.12345 -> "0.1234", as the CSV and JSON give it (iostream and printf would print "0.1235").
// The one rounding of every printed table (score, report, compare); reports/web/leaderboard.js does the same.
std::string format_rounded(double x, int decimals);

}  // namespace lb
