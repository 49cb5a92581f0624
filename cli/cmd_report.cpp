// lesionbench report: leaderboards (JSON, HTML), the official CSVs and pictures from team folders.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "args/args.h"
#include "cli/commands.h"
#include "cli/version.h"
#include "metrics/case_scores.h"
#include "metrics/metric_set.h"
#include "reports/report.h"
#include "runner/hmac.h"

namespace lb::cli {

namespace {

// "dsc=1,nsd=1,time=0.5,gpu=0,hd95=1" -> the weights named; others keep their value. iou and the distances
// (hd, hd95, masd, assd; also spelled hd95_mm, ...) are ranked only when named here.
void parse_weights(const std::string& text, RankSettings& st) {
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw UsageError("--weights needs NAME=WEIGHT items (dsc, nsd, time, gpu, iou, hd, hd95, masd, assd), not '" + item + "'");
    const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    double w = 0;
    try {
      size_t used = 0;
      w = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError("--weights: '" + value + "' is not a number");
    }
    if (!(w >= 0)) throw UsageError("--weights: weights must be >= 0");
    if (name == "dsc") st.weight_dsc = w;
    else if (name == "nsd") st.weight_nsd = w;
    else if (name == "time") st.weight_time = w;
    else if (name == "gpu") st.weight_gpu = w;
    else if (name == "iou") st.extra_weights["iou"] = w;
    else if (const std::string key = name.ends_with("_mm") ? name : name + "_mm";
             key == "hd_mm" || key == "hd95_mm" || key == "masd_mm" || key == "assd_mm")
      st.extra_weights[key] = w;
    else throw UsageError("--weights: unknown metric '" + name + "' (dsc, nsd, time, gpu, iou, hd, hd95, masd, assd)");
  }
}

// numpy's rounding, as the CSV and JSON (metrics/case_scores.h).
std::string f(double v, int digits) { return format_rounded(v, digits); }

void print_board(const Leaderboard& b, std::ostream& out) {
  size_t w = 4;
  for (const auto& t : b.teams) w = std::max(w, t.team.name.size());
  const bool boot = b.settings.bootstrap_resamples > 0 && b.teams.size() > 1;
  out << "ranked by " << ranking_method_name(b.settings.method);
  if (b.settings.method == RankingMethod::test_then_rank)
    out << " (one-sided Wilcoxon, alpha " << b.settings.tests.alpha << ", p adjustment " << p_adjust_name(b.settings.tests.p_adjust) << ")";
  out << "\n";
  out << std::left << std::setw(6) << "place" << std::setw(static_cast<int>(w) + 2) << "team" << std::right
      << std::setw(8) << "score" << std::setw(6) << "mean" << std::setw(8) << "DSC" << std::setw(8) << "NSD"
      << std::setw(10) << "time(s)" << std::setw(8) << "failed";
  if (boot) out << std::setw(8) << "keeps";
  out << "\n";
  for (const auto& t : b.teams) {
    out << std::left << std::setw(6) << t.placing.place << std::setw(static_cast<int>(w) + 2) << t.team.name
        << std::right << std::setw(8) << f(t.placing.score, 3) << std::setw(6) << t.mean_based.place
        << std::setw(8) << f(t.summary.mean_dsc, 4) << std::setw(8) << f(t.summary.mean_nsd, 4) << std::setw(10)
        << (t.efficiency && t.efficiency->time_s.n ? f(t.efficiency->time_s.median, 1) : std::string("-"))
        << std::setw(8) << (std::to_string(t.failed_cases) + "/" + std::to_string(t.cases.size()));
    if (boot) out << std::setw(7) << f(t.keeps_place * 100, 0) << "%";
    out << "\n";
  }
  out << "ranked on";
  for (size_t m = 0; m < b.metrics.size(); ++m) out << (m ? ", " : " ") << b.metrics[m] << " (weight " << b.weights[m] << ")";
  out << "; score = weighted mean rank (lower is better), mean = place by mean values\n";
  if (boot && b.kendall_tau)
    out << "bootstrap: Kendall's tau-b between the full ranking and each draw's: median " << f(b.kendall_tau->median, 3)
        << " (95% " << f(b.kendall_tau->q025, 3) << " to " << f(b.kendall_tau->q975, 3) << ")\n";
  for (const auto& n : b.notes) out << "note: " << n << "\n";
}

}  // namespace

int cmd_report(int argc, char** argv) {
  ReportOptions opt;
  std::vector<std::string> dirs;
  std::string weights, gpu_measure = "device", ranking = "rank-then-aggregate", p_adjust = "none";
  std::string metrics = "dsc,nsd", nsd_at, matching = "overlap";
  double alpha = 0.05;
  double time_limit = 0, tolerance = 2.0;
  int threads = 0, seed = 1;
  bool no_lesion_wise = false, quiet = false, rescore = false;
  std::string verify_key_file;
  Args args("report",
            "lesionbench report TEAM_DIR... --out REPORT_DIR [--gt GT_DIR] [--cases CASES_DIR] [options]",
            "Builds the leaderboard of the teams' folders (as `lesionbench run` writes them: predictions/, records.jsonl,\n"
            "efficiency.csv, samples; scores.json from `lesionbench score --json TEAM_DIR/scores.json`) and writes into\n"
            "REPORT_DIR: leaderboard.json (schemas/leaderboard.schema.json), leaderboard.html (one self-contained page),\n"
            "DSC_NSD_<team>.csv and <team>_Efficiency.csv (the organisers' CSVs), and pictures/ of the worst cases.\n"
            "Teams are ranked as FLARE ranks (rank-then-aggregate over cases and metrics) unless --ranking names another\n"
            "method; every method's places are in leaderboard.json and on the page, with the stability of the chosen one\n"
            "under a bootstrap over the cases. With --gt, the cases are the ground\n"
            "truth's and every team is scored now: a team folder's scores.json and its records of other cases are claims\n"
            "and are not used.");
  args.positional("TEAM_DIR", "a team's folder; the team is named after it", &dirs, 1, 100000)
      .option("--out", "REPORT_DIR", "where to write the report (created if needed)", &opt.out_dir, true)
      .option("--gt", "GT_DIR", "ground truth: the list of cases, and every team's predictions scored against it now "
                                "(lesion-wise; the teams' scores.json are not used); also for the pictures",
              &opt.gt_dir)
      .option("--cases", "CASES_DIR", "the input images (<case>_0000.nii.gz), for the pictures", &opt.cases_dir)
      .option("--weights", "dsc=W,nsd=W,time=W,gpu=W",
              "metric weights of the ranking (default all 1; 0 leaves one out); iou=W, hd=W, hd95=W, masd=W, "
              "assd=W rank those too (the scores must have them: score --metrics)",
              &weights)
      .choice("--ranking", {"rank-then-aggregate", "aggregate-then-rank:mean", "aggregate-then-rank:median", "test-then-rank"},
              "ranking method that places the teams and is bootstrapped (default rank-then-aggregate, FLARE's); "
              "test-then-rank: challengeR's one-sided paired Wilcoxon tests per metric, rank = significant wins",
              &ranking)
      .choice("--p-adjust", {"none", "holm"}, "p-value adjustment of test-then-rank over a metric's pairs (default none, as challengeR)",
              &p_adjust)
      .option("--alpha", "A", "significance level of test-then-rank: significant at p <= A (default 0.05)", &alpha)
      .choice("--gpu-measure", {"device", "own"},
              "GPU memory ranked: device-wide as FLARE measures it (default), or the team's own processes", &gpu_measure)
      .option("--gpu-allowance-mib", "MIB", "GPU memory not counted, taken off every sample (FLARE22 used 2048; default 0)",
              &opt.rank.gpu_allowance_mib)
      .option("--time-limit-s", "S", "time of a failed case (default: the runs' time limit, else 600)", &time_limit)
      .option("--bootstrap", "N", "bootstrap resamples for rank stability (default 1000; 0 = none)",
              &opt.rank.bootstrap_resamples)
      .option("--seed", "N", "seed of the bootstrap (default 1)", &seed)
      .option("--pictures", "N", "pictures of the worst cases per team (default 3; 0 = none)", &opt.pictures_per_team)
      .option("--gpu-cases", "N", "slowest cases per team whose GPU memory is plotted over time (default 3)",
              &opt.gpu_cases_per_team)
      .flag("--rescore", "no effect: with --gt every team is scored now (kept so that old command lines run)", &rescore)
      .option("--verify-key", "FILE", "refuse run records not signed with this key (run --sign-key FILE): such a case "
                                      "counts as failed; efficiency CSVs are written from the signed records",
              &verify_key_file)
      .option("--tolerance-mm", "MM", "NSD tolerance when scoring now (default 2)", &tolerance)
      .flag("--no-lesion-wise", "when scoring now, leave out lesion-wise scores", &no_lesion_wise)
      .option("--metrics", "LIST", "when scoring now: dsc,nsd (default) plus any of iou, hd, hd95, masd, assd (as in score)",
              &metrics)
      .option("--nsd-at-mm", "MM,MM,..", "when scoring now: NSD at more tolerances (as in score)", &nsd_at)
      .option("--matching", "overlap|iou:T|hungarian", "when scoring now: lesion matching (as in score; default overlap)",
              &matching)
      .option("--threads", "N", "threads when scoring now (default: all cores)", &threads)
      .flag("--allow-different-settings", "rank teams scored with different settings (tolerance, connectivity) anyway",
            &opt.allow_different_settings)
      .option("--web-modules", "DIR", "node_modules folder with vega, vega-lite and vega-embed (default: found by itself)",
              &opt.web_modules)
      .flag("--quiet", "print only warnings and errors", &quiet)
      .epilog(
          "Examples:\n"
          "  lesionbench report results/team-a results/team-b results/team-c --out report/\n"
          "  lesionbench report results/* --out report/ --gt labels/ --cases images/ --gpu-allowance-mib 2048\n\n"
          "Exit codes: 0 written, 2 unusable input (a folder without scores and no --gt, different scoring settings, two\n"
          "teams with one file name, --gt that no team's prediction matches, an unreadable --verify-key, bad options).");
  if (!args.parse(argc, argv)) return 0;
  if (!weights.empty()) parse_weights(weights, opt.rank);
  double extra_weight = 0;
  for (const auto& [key, w] : opt.rank.extra_weights) extra_weight += w;
  if (opt.rank.weight_dsc + opt.rank.weight_nsd + opt.rank.weight_time + opt.rank.weight_gpu + extra_weight <= 0)
    throw UsageError("--weights: at least one weight must be positive");
  if (opt.rank.gpu_allowance_mib < 0) throw UsageError("--gpu-allowance-mib must be >= 0");
  if (args.given("--time-limit-s")) {
    if (!(time_limit > 0)) throw UsageError("--time-limit-s must be > 0");
    opt.rank.time_limit_s = time_limit;
  }
  if (opt.rank.bootstrap_resamples < 0) throw UsageError("--bootstrap must be >= 0");
  if (seed < 0) throw UsageError("--seed must be >= 0");
  if (opt.pictures_per_team < 0 || opt.gpu_cases_per_team < 0) throw UsageError("--pictures and --gpu-cases must be >= 0");
  if (!(tolerance >= 0)) throw UsageError("--tolerance-mm must be >= 0");
  if (rescore && opt.gt_dir.empty()) throw UsageError("--rescore needs --gt");
  if (rescore) std::cerr << "lesionbench report: note: --rescore has no effect: with --gt every team is scored now\n";
  if (!verify_key_file.empty()) {
    try {
      opt.verify_key = runner::read_sign_key(verify_key_file);
    } catch (const std::exception& e) {
      std::cerr << "lesionbench report: --verify-key: " << e.what() << "\n";
      return 2;
    }
  }
  if (!(alpha > 0 && alpha < 1)) throw UsageError("--alpha must be between 0 and 1");
  opt.rank.method = *parse_ranking_method(ranking);
  opt.rank.tests.alpha = alpha;
  opt.rank.tests.p_adjust = p_adjust == "holm" ? PAdjust::holm : PAdjust::none;
  opt.rank.seed = static_cast<uint64_t>(seed);
  opt.rank.gpu_measure = gpu_measure == "own" ? GpuMeasure::own : GpuMeasure::device;
  opt.team_dirs = dirs;
  opt.score.case_settings.tolerance_mm = tolerance;
  opt.score.lesion_wise = !no_lesion_wise;
  if (const std::string why = parse_metric_list(metrics, opt.score.metrics); !why.empty()) throw UsageError("--metrics: " + why);
  if (!nsd_at.empty())
    if (const std::string why = parse_tolerance_list(nsd_at, opt.score.metrics.nsd_at_mm); !why.empty())
      throw UsageError("--nsd-at-mm: " + why);
  if (const std::string why = parse_matching(matching, opt.score.lesion.matching); !why.empty())
    throw UsageError("--matching: " + why);
  if ((args.given("--metrics") || args.given("--nsd-at-mm") || args.given("--matching")) && opt.gt_dir.empty())
    throw UsageError("--metrics, --nsd-at-mm and --matching choose what is scored now: they need --gt");
  if (!opt.gt_dir.empty())  // scoring now: a ranked metric must be among those scored, said before any scoring
    for (const auto& [key, w] : opt.rank.extra_weights) {
      const std::string flag = key.ends_with("_mm") ? key.substr(0, key.size() - 3) : key;
      const auto names = opt.score.metrics.names();
      if (w > 0 && std::find(names.begin(), names.end(), flag) == names.end())
        throw UsageError("--weights ranks " + flag + ", which is not scored: add it to --metrics (e.g. --metrics dsc,nsd," +
                         flag + ")");
    }
  opt.score.threads = threads;
  opt.tool = ToolInfo{"lesionbench", version(), git_commit()};
  const bool tty = isatty(STDERR_FILENO);
  if (tty && !quiet)
    opt.log = [](const std::string& line) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
    };

  ReportResult r;
  try {
    r = write_report(opt);
  } catch (const SettingsMismatch& e) {
    if (tty && !quiet) std::fprintf(stderr, "\r\033[K");
    std::cerr << "lesionbench report: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    if (tty && !quiet) std::fprintf(stderr, "\r\033[K");
    std::cerr << "lesionbench report: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    if (tty && !quiet) std::fprintf(stderr, "\r\033[K");
    std::cerr << "lesionbench report: " << e.what() << "\n";
    return 2;
  }
  if (tty && !quiet) std::fprintf(stderr, "\r\033[K");
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
  if (!quiet) {
    print_board(r.board, std::cout);
    std::cout << "\n";
    for (const auto& f : r.written) std::cout << "wrote " << f << "\n";
  }
  return 0;
}

}  // namespace lb::cli
