// lesionbench score: the official FLARE24 case-wise scores, plus lesion-wise scores on request.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "args/args.h"
#include "cli/commands.h"
#include "cli/version.h"
#include "metrics/score_set.h"
#include "reports/scores_json.h"

namespace lb::cli {

namespace {

std::vector<double> parse_edges(const std::string& text) {
  std::vector<double> edges;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    try {
      size_t used = 0;
      const double v = std::stod(item, &used);
      if (used != item.size() || !(v > 0)) throw std::invalid_argument("");
      if (!edges.empty() && v <= edges.back()) throw UsageError("--volume-buckets must increase: " + text);
      edges.push_back(v);
    } catch (const std::invalid_argument&) {
      throw UsageError("--volume-buckets needs positive numbers in ml separated by commas, not '" + text + "'");
    }
  }
  if (edges.empty()) throw UsageError("--volume-buckets needs at least one edge");
  return edges;
}

std::string fixed4(double v) { return format_rounded(v, 4); }

std::string note_of(const CaseRecord& c) {
  if (c.status != CaseStatus::ok) return c.message;
  if (c.rule == "both_empty") return "healthy case, empty prediction";
  if (c.rule == "false_positive_on_healthy") return "false positive on a healthy case";
  if (c.rule == "empty_prediction") return "empty prediction";
  if (c.rule == "below_dsc_gate") return "DSC < 0.2: NSD set to 0 (ungated " + fixed4(c.nsd_ungated) + ")";
  return "";
}

void print_table(const ScoreSet& set, std::ostream& out) {
  size_t w = 4;
  for (const auto& c : set.cases) w = std::max(w, c.name.size());
  const bool lesion = set.settings.lesion_wise;
  out << std::left << std::setw(static_cast<int>(w) + 2) << "case" << std::setw(18) << "status" << std::right
      << std::setw(7) << "DSC" << std::setw(8) << "NSD";
  if (lesion) out << std::setw(9) << "L-DSC" << std::setw(8) << "L-NSD" << std::setw(10) << "found" << std::setw(8) << "FP";
  out << "  note\n";
  for (const auto& c : set.cases) {
    out << std::left << std::setw(static_cast<int>(w) + 2) << c.name << std::setw(18) << status_name(c.status)
        << std::right << std::setw(7) << fixed4(c.dsc) << std::setw(8) << fixed4(c.nsd);
    if (lesion) {
      if (c.lesion_wise) {
        const auto& l = *c.lesion_wise;
        out << std::setw(9) << fixed4(l.dsc) << std::setw(8) << fixed4(l.nsd) << std::setw(10)
            << (std::to_string(l.tp) + "/" + std::to_string(l.n_gt)) << std::setw(8) << l.fp;
      } else {
        out << std::setw(9) << "-" << std::setw(8) << "-" << std::setw(10) << "-" << std::setw(8) << "-";
      }
    }
    const std::string note = note_of(c);
    out << (note.empty() ? "" : "  " + note) << "\n";
  }
}

void print_summary(const ScoreSet& set, std::ostream& out) {
  const Summary s = summarize(set.cases);
  out << "\n" << s.n_cases << " cases in " << std::fixed << std::setprecision(2) << set.wall_s << " s"
      << std::defaultfloat << ": mean DSC " << fixed4(s.mean_dsc) << ", mean NSD " << fixed4(s.mean_nsd)
      << " (median " << fixed4(s.median_dsc) << " / " << fixed4(s.median_nsd) << ")\n"
      << "leaderboard means (of 4-decimal values): DSC " << fixed4(s.mean_dsc_rounded) << ", NSD "
      << fixed4(s.mean_nsd_rounded) << "\nstatus:";
  bool first = true;
  for (size_t k = 0; k < kAllStatuses.size(); ++k)
    if (s.status_counts[k]) {
      out << (first ? " " : ", ") << status_name(kAllStatuses[k]) << " " << s.status_counts[k];
      first = false;
    }
  out << "\n";
  for (const auto& m : summarize_extra(set.cases, set.settings.metrics)) {
    out << m.name << ": mean " << (m.n ? fixed4(m.mean) : std::string("-")) << ", median "
        << (m.n ? fixed4(m.median) : std::string("-")) << " over " << m.n << " cases";
    if (m.n_null) out << "; " << m.n_null << " without a value";
    if (m.mean_worst && m.n_null) out << " (mean counting them as the volume's diagonal: " << fixed4(*m.mean_worst) << ")";
    out << "\n";
  }
  if (set.settings.lesion_wise) {
    const LesionSummary l = summarize_lesions(set.cases, set.settings.lesion.bucket_edges_ml);
    out << "lesion-wise: mean DSC " << fixed4(l.mean_dsc) << ", mean NSD " << fixed4(l.mean_nsd) << "; lesions found "
        << l.tp << "/" << l.n_gt << ", false-positive components " << l.fp;
    if (l.healthy_cases) out << " (" << l.fp_on_healthy << " on " << l.healthy_cases << " healthy cases)";
    out << "\nmatching " << set.settings.lesion.matching.name() << ": RQ " << (l.rq ? fixed4(*l.rq) : std::string("-"))
        << ", SQ " << (l.sq ? fixed4(*l.sq) : std::string("-")) << ", PQ " << (l.pq ? fixed4(*l.pq) : std::string("-"))
        << "; false-positive volume " << fixed4(l.fp_volume_ml) << " ml, false-negative volume " << fixed4(l.fn_volume_ml)
        << " ml";
    out << "\nsensitivity by lesion volume:";
    for (const auto& b : l.buckets)
      out << "  " << b.label << " " << (b.sensitivity ? fixed4(*b.sensitivity) : std::string("-")) << " (" << b.detected
          << "/" << b.n_lesions << ")";
    out << "\n";
  }
}

// When no prediction matches any case of the ground truth (the wrong --gt or --pred, or an empty prediction
// folder), every score would be 0 for a reason that has nothing to do with the predictions: said loudly and
// treated as unusable input. Empty when something matched.
std::string nothing_matched(const ScoreSet& set) {
  for (const auto& c : set.cases)
    if (c.status != CaseStatus::missing) return "";
  std::vector<std::string> unmatched;
  for (const auto& w : set.warnings)
    if (w.find(" has no ground truth in ") != std::string::npos) unmatched.push_back(w.substr(11, w.find(' ', 11) - 11));
  std::string why = "NOTHING MATCHED: no case of " + set.settings.gt_dir + " has a prediction in " + set.settings.pred_dir;
  if (unmatched.empty()) return why + " (it holds no <case>.nii.gz); nothing written";
  return why + ": its " + std::to_string(unmatched.size()) + " prediction(s) are named otherwise (e.g. " + unmatched.front() +
         "); is --gt the ground truth of these predictions? nothing written";
}

}  // namespace

int cmd_score(int argc, char** argv) {
  ScoreSettings st;
  std::string json_path, csv_path, geometry = "warn", missing = "zero", buckets, metrics = "dsc,nsd", nsd_at, matching = "overlap";
  double tolerance = 2.0;
  int threads = 0, connectivity = 26;
  bool lesion_wise = false, quiet = false;
  Args args("score",
            "lesionbench score --gt GT_DIR --pred PRED_DIR [--json scores.json] [--csv flare24.csv] [options]",
            "Scores every <case>.nii.gz of GT_DIR against PRED_DIR/<case>.nii.gz with the rules of the official\n"
            "FLARE24 Task 1 scorer (DSC; NSD at 2 mm, set to 0 when DSC < 0.2), and records a status per case:\n"
            "ok, missing, shape_mismatch, geometry_mismatch, invalid_labels or read_error (scored 0, 0).\n"
            "Masks may be .nii.gz, .nii, .mha, .mhd, .nrrd or .nhdr (the last four through ITK), ground truth and\n"
            "prediction in different formats; cases are matched by name and keep the CSV Name <case>.nii.gz.");
  args.option("--gt", "GT_DIR", "ground-truth masks, one <case>.nii.gz (or .nii, .mha, ...) each", &st.gt_dir, true)
      .option("--pred", "PRED_DIR", "predicted masks with the same case names", &st.pred_dir, true)
      .option("--json", "FILE", "write every case and the summary (schemas/scores.schema.json)", &json_path)
      .option("--csv", "FILE", "write the official CSV: Name,Lesion_DSC,Lesion_NSD", &csv_path)
      .option("--tolerance-mm", "MM", "NSD tolerance in mm (default 2)", &tolerance)
      .option("--threads", "N", "worker threads (default: all cores)", &threads)
      .choice("--geometry", {"warn", "strict"},
              "spacing/origin/direction differences: warn and score on the ground truth's grid (default), or "
              "strict: status geometry_mismatch, scored 0, 0",
              &geometry)
      .choice("--missing", {"zero", "skip"},
              "a missing prediction: scored 0, 0 with status missing (default), or skipped as the official "
              "scorer does",
              &missing)
      .flag("--lesion-wise", "add lesion-wise scores and detection counts", &lesion_wise)
      .option("--connectivity", "6|18|26", "connectivity of lesions for --lesion-wise (default 26)", &connectivity)
      .option("--volume-buckets", "ML,ML,..", "lesion volume bucket edges in ml for sensitivity (default 0.5,5,50)",
              &buckets)
      .option("--matching", "overlap|iou:T|hungarian",
              "how lesions and predicted components are matched for --lesion-wise: overlap (default: every "
              "component sharing a voxel), iou:T (one-to-one, greedy by IoU, pairs with IoU >= T) or hungarian "
              "(one-to-one, the largest total IoU)",
              &matching)
      .option("--metrics", "LIST",
              "metrics, comma-separated: dsc,nsd (default, the official ones, always computed) plus any of iou, hd, "
              "hd95, masd, assd (surface distances in mm, as google-deepmind/surface-distance defines them); per "
              "lesion too with --lesion-wise",
              &metrics)
      .option("--nsd-at-mm", "MM,MM,..", "NSD at more tolerances (nsd_at_mm, without the 0.2 DSC gate); "
                                         "--tolerance-mm stays the one of the official nsd", &nsd_at)
      .flag("--quiet", "print no table, only the summary", &quiet)
      .epilog(
          "Examples:\n"
          "  lesionbench score --gt labels/ --pred team-a/predictions/\n"
          "  lesionbench score --gt labels/ --pred preds/ --json scores.json --csv DSC_NSD_team-a.csv --lesion-wise\n\n"
          "Exit codes: 0 the run completed (bad cases are recorded with their status), 2 it could not run (also when\n"
          "no prediction matches any case of GT_DIR: the wrong --gt or --pred, or an empty prediction folder).");
  if (!args.parse(argc, argv)) return 0;
  if (!(tolerance >= 0)) throw UsageError("--tolerance-mm must be >= 0");
  if (threads < 0) throw UsageError("--threads must be >= 0");
  if (connectivity != 6 && connectivity != 18 && connectivity != 26)
    throw UsageError("--connectivity must be 6, 18 or 26, not " + std::to_string(connectivity));
  st.case_settings.tolerance_mm = tolerance;
  st.threads = threads;
  st.geometry = geometry == "strict" ? GeometryMode::strict : GeometryMode::warn;
  st.missing = missing == "skip" ? MissingMode::skip : MissingMode::zero;
  st.lesion_wise = lesion_wise;
  st.lesion.connectivity = connectivity;
  if (!buckets.empty()) st.lesion.bucket_edges_ml = parse_edges(buckets);
  if (const std::string why = parse_metric_list(metrics, st.metrics); !why.empty()) throw UsageError("--metrics: " + why);
  if (const std::string why = parse_matching(matching, st.lesion.matching); !why.empty())
    throw UsageError("--matching: " + why);
  if (args.given("--matching") && !lesion_wise)
    std::cerr << "lesionbench score: note: --matching applies only with --lesion-wise\n";
  if (!nsd_at.empty())
    if (const std::string why = parse_tolerance_list(nsd_at, st.metrics.nsd_at_mm); !why.empty())
      throw UsageError("--nsd-at-mm: " + why);
  if ((args.given("--connectivity") || args.given("--volume-buckets")) && !lesion_wise)
    std::cerr << "lesionbench score: note: --connectivity and --volume-buckets apply only with --lesion-wise\n";

  const bool tty = isatty(STDERR_FILENO);
  ProgressFn progress;
  if (tty)
    progress = [](const CaseRecord& c, size_t done, size_t total) {
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s", done, total, c.name.c_str());
      std::fflush(stderr);
    };
  ScoreSet set;
  try {
    set = score_folders(st, progress);
  } catch (const UnusableInput& e) {
    std::cerr << "lesionbench score: " << e.what() << "\n";
    return 2;
  }
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (const std::string why = nothing_matched(set); !why.empty()) {
    std::cerr << "lesionbench score: " << why << "\n";
    return 2;
  }

  const ToolInfo tool{"lesionbench", version(), git_commit()};
  if (!json_path.empty()) write_json_file(json_path, scores_to_json(set, tool));
  if (!csv_path.empty()) write_official_csv_file(csv_path, set.cases);
  for (const auto& w : set.warnings) std::cerr << "warning: " << w << "\n";
  for (const auto& c : set.cases)
    for (const auto& w : c.warnings) std::cerr << "warning: " << c.name << ": " << w << "\n";
  if (json_path.empty() && csv_path.empty() && !quiet) print_table(set, std::cout);
  print_summary(set, std::cout);
  if (!json_path.empty()) std::cout << "wrote " << json_path << "\n";
  if (!csv_path.empty()) std::cout << "wrote " << csv_path << "\n";
  return 0;
}

}  // namespace lb::cli
