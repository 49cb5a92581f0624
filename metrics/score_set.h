#pragma once
// Scoring a folder of predictions against a folder of ground truth, case by case, in parallel.
// Every case ends with a status; a bad file is recorded and the run goes on.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "metrics/case_scores.h"
#include "metrics/lesion_scores.h"
#include "metrics/metric_set.h"
#include "metrics/nifti.h"

namespace lb {

enum class CaseStatus { ok, missing, shape_mismatch, geometry_mismatch, invalid_labels, read_error };
const char* status_name(CaseStatus s);
std::optional<CaseStatus> parse_status(const std::string& name);
inline constexpr std::array<CaseStatus, 6> kAllStatuses = {CaseStatus::ok, CaseStatus::missing,
                                                           CaseStatus::shape_mismatch, CaseStatus::geometry_mismatch,
                                                           CaseStatus::invalid_labels, CaseStatus::read_error};

enum class GeometryMode { warn, strict };
enum class MissingMode { zero, skip };

// Differences in spacing, origin or direction up to these are float noise, not a different grid.
using GeometryTolerance = nifti::GridTolerance;

struct ScoreSettings {
  std::string gt_dir, pred_dir;
  CaseSettings case_settings;
  GeometryMode geometry = GeometryMode::warn;
  MissingMode missing = MissingMode::zero;
  GeometryTolerance geometry_tolerance;
  int threads = 0;  // 0 = all cores
  bool lesion_wise = false;
  LesionSettings lesion;
  MetricChoice metrics;  // beyond dsc and nsd (--metrics, --nsd-at-mm); per lesion too with lesion_wise
};

struct CaseRecord {
  std::string name;  // file name, e.g. "FLARE24Val_0001.nii.gz"
  CaseStatus status = CaseStatus::ok;
  double dsc = 0, nsd = 0, nsd_ungated = 0;
  std::string rule;     // rule_name() of the deciding rule when status is ok
  std::string message;  // why the status is not ok
  std::vector<std::string> warnings;
  int64_t gt_voxels = -1, pred_voxels = -1, overlap_voxels = -1;  // -1 when not read
  double gt_volume_ml = -1, pred_volume_ml = -1;
  std::array<int64_t, 3> dims{};
  std::array<double, 3> spacing_mm{};
  std::optional<SurfaceDice> surface;
  std::optional<LesionWise> lesion_wise;
  ExtraScores extra;  // the metrics of settings.metrics (none asked: empty)
  double seconds = 0;
};

struct ScoreSet {
  ScoreSettings settings;
  std::vector<CaseRecord> cases;      // sorted by name
  std::vector<std::string> warnings;  // about the set: predictions without ground truth, skipped cases
  double wall_s = 0;
};

// Thrown when the run cannot start at all (no such folder, no cases); exit code 2.
struct UnusableInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Called after each case, from worker threads (serialised by the caller's lock).
using ProgressFn = std::function<void(const CaseRecord&, size_t done, size_t total)>;

ScoreSet score_folders(const ScoreSettings& settings, const ProgressFn& progress = {});

// Scores one case from files. Never throws for bad input.
CaseRecord score_files(const std::string& name, const std::string& gt_path, const std::string& pred_path,
                       const ScoreSettings& settings);

// The scores of a case whose two masks (0/1 bytes, x fastest) share one grid: the official pair, voxel counts
// and volumes, the extra metrics and the lesion-wise scores that `settings` asks for; status set to ok. The
// one filling of a scored record, for score_files and the Python module.
void score_masks(CaseRecord& rec, const uint8_t* gt, const uint8_t* pred, const std::array<int64_t, 3>& dims,
                 const std::array<double, 3>& spacing_mm, const ScoreSettings& settings);
// A case that could not be scored (status not ok): DSC and NSD 0, absent extra metrics, and warnings that say
// what is missing because of it.
void mark_unscored(CaseRecord& rec, const ScoreSettings& settings);

// Geometry differences beyond the tolerance, as readable text; empty when the grids agree.
std::string geometry_difference(const nifti::Geometry& gt, const nifti::Geometry& pred, const GeometryTolerance& tol);

struct Summary {
  size_t n_cases = 0;
  double mean_dsc = 0, mean_nsd = 0, median_dsc = 0, median_nsd = 0;
  double mean_dsc_rounded = 0, mean_nsd_rounded = 0;  // mean of 4-decimal values, as the leaderboard shows
  double mean_nsd_ungated = 0;
  std::array<size_t, 6> status_counts{};  // in kAllStatuses order
};
Summary summarize(const std::vector<CaseRecord>& cases);

// Lesion-wise totals over the cases that have lesion-wise scores.
struct LesionBucket {
  std::string label;  // "<0.5 ml", "0.5-5 ml", ...
  double min_ml = 0, max_ml = 0;  // [min, max); max is infinity for the last bucket
  int n_lesions = 0, detected = 0;
  std::optional<double> sensitivity;  // empty when the bucket has no lesion
};
struct LesionSummary {
  size_t n_cases = 0;
  double mean_dsc = 0, mean_nsd = 0;  // means of the case lesion-wise scores
  int n_gt = 0, n_pred = 0, tp = 0, fn = 0, fp = 0, linked_pred = 0;
  std::optional<double> sensitivity, precision, f1;  // pooled over all lesions and components
  int healthy_cases = 0, healthy_cases_with_fp = 0, fp_on_healthy = 0;
  std::vector<LesionBucket> buckets;
  double fp_volume_ml = 0, fn_volume_ml = 0;  // autoPET's, summed over the cases
  std::optional<double> rq, sq, pq;           // pooled: RQ from the totals, SQ over all matched pairs, PQ = SQ * RQ
};
LesionSummary summarize_lesions(const std::vector<CaseRecord>& cases, const std::vector<double>& bucket_edges_ml);

// Summary of one extra metric over the cases: a distance that is absent (one mask empty, or a case that is not
// ok) counts as the worst value in `mean_worst`, the diagonal of the ground truth's volume in mm (the
// largest distance two of its points can have), as MetricsReloaded counts a missing distance as the worst.
struct MetricSummary {
  std::string name;             // "hd_mm", "iou", "nsd_at_1mm", ...
  size_t n = 0, n_null = 0;     // cases with a value, cases without
  double mean = 0, median = 0;  // over the cases with a value (0 when none)
  std::optional<double> mean_worst;  // distances only: absent values as the volume's diagonal
};
std::vector<MetricSummary> summarize_extra(const std::vector<CaseRecord>& cases, const MetricChoice& choice);

}  // namespace lb
