// The leaderboard: failures decided and replaced as the ranking rules say, metrics left out when data is
// missing, and the ranks of a hand-worked example.
#include <catch2/catch.hpp>

#include <cmath>

#include "reports/leaderboard.h"

using namespace lb;

namespace {

CaseRecord score(const std::string& key, double dsc, double nsd, CaseStatus status = CaseStatus::ok) {
  CaseRecord c;
  c.name = key + ".nii.gz";
  c.dsc = dsc;
  c.nsd = nsd;
  c.nsd_ungated = nsd;
  c.status = status;
  c.rule = status == CaseStatus::ok ? "computed" : "";
  if (status != CaseStatus::ok) c.message = "no prediction file";
  return c;
}

runner::RunRecord run(const std::string& key, double wall_s, std::optional<double> gpu_auc,
                      runner::RunStatus status = runner::RunStatus::ok) {
  runner::RunRecord r;
  r.case_name = key;
  r.status = status;
  r.wall_s = wall_s;
  r.timeout_s = 300;
  r.gpu.available = gpu_auc.has_value();
  r.gpu.device_auc_mib_s = gpu_auc;
  r.gpu.device_max_mib = gpu_auc ? std::optional<double>(*gpu_auc / std::max(wall_s, 1.0)) : std::nullopt;
  r.gpu.own_auc_mib_s = gpu_auc ? std::optional<double>(*gpu_auc / 2) : std::nullopt;
  return r;
}

Team team(const std::string& name, std::vector<CaseRecord> cases, std::vector<runner::RunRecord> runs = {},
          bool has_records = true) {
  Team t;
  t.name = name;
  t.dir = "/nonexistent/" + name;
  t.scores.cases = std::move(cases);
  t.records = std::move(runs);
  t.has_records = has_records && !t.records.empty();
  return t;
}

const CaseEntry& entry(const Leaderboard& b, const std::string& team, const std::string& key) {
  for (const auto& t : b.teams)
    if (t.team.name == team)
      for (const auto& e : t.cases)
        if (e.key == key) return e;
  throw std::runtime_error("no entry");
}
const TeamResult& result(const Leaderboard& b, const std::string& team) {
  for (const auto& t : b.teams)
    if (t.team.name == team) return t;
  throw std::runtime_error("no team");
}

}  // namespace

TEST_CASE("leaderboard: failed cases count as DSC 0, NSD 0, the time limit and the worst GPU AUC") {
  // Team a: case c2's run timed out (its stale score 0.9 must not count).
  // Team b: case c3 was not predicted (scored missing); c1 has no run record.
  // Team c: every run ok.
  std::vector<Team> teams;
  teams.push_back(team("a", {score("c1", 0.8, 0.85), score("c2", 0.9, 0.9), score("c3", 0.7, 0.75)},
                       {run("c1", 10, 500), run("c2", 300, 9000, runner::RunStatus::timeout), run("c3", 12, 600)}));
  teams.push_back(team("b", {score("c1", 0.6, 0.65), score("c2", 0.5, 0.55), score("c3", 0, 0, CaseStatus::missing)},
                       {run("c2", 20, 800), run("c3", 25, 700, runner::RunStatus::nonzero_exit)}));
  teams.push_back(team("c", {score("c1", 0.7, 0.7), score("c2", 0.6, 0.6), score("c3", 0.6, 0.6)},
                       {run("c1", 30, 400), run("c2", 40, 1000), run("c3", 50, 1500)}));
  RankSettings st;
  st.bootstrap_resamples = 100;
  const Leaderboard b = build_leaderboard(std::move(teams), st);

  CHECK(b.metrics == std::vector<std::string>{"dsc", "nsd", "time_s", "gpu_auc_mib_s"});
  CHECK(b.time_limit_s == 300);  // the records' timeout_s
  const CaseEntry& a2 = entry(b, "a", "c2");
  CHECK(a2.failed);
  CHECK(a2.failure.find("timeout") != std::string::npos);
  CHECK(a2.dsc == 0);
  CHECK(a2.nsd == 0);
  CHECK(*a2.time_s == 300);
  // Worst GPU AUC on c2 among the teams: a's own failed run measured 9000 before it was killed.
  CHECK(*a2.gpu_auc_mib_s == 9000);
  const CaseEntry& b1 = entry(b, "b", "c1");
  CHECK(b1.failed);
  CHECK(b1.failure == "no run record for this case");
  CHECK(*b1.gpu_auc_mib_s == 500);  // worst of a (500) and c (400) on c1
  const CaseEntry& b3 = entry(b, "b", "c3");
  CHECK(b3.failed);
  CHECK(b3.failure.find("run nonzero_exit") == 0);  // the cause, not the missing prediction it left
  CHECK(*b3.time_s == 300);
  CHECK(*b3.gpu_auc_mib_s == 1500);  // c's 1500 beats b's own failed run (700) and a's 600
  const CaseEntry& c3 = entry(b, "c", "c3");
  CHECK_FALSE(c3.failed);
  CHECK(*c3.time_s == 50);

  CHECK(result(b, "a").failed_cases == 1);
  CHECK(result(b, "b").failed_cases == 2);
  CHECK(result(b, "c").failed_cases == 0);
  // Means use the ranked values: a = (0.8 + 0 + 0.7) / 3.
  CHECK(result(b, "a").summary.mean_dsc == Approx(0.5));
  CHECK(result(b, "b").summary.mean_dsc == Approx(0.5 / 3));

  // Ranks by hand.
  // DSC:  c1 a.8 b0 c.7 -> a1 c2 b3;  c2 a0 b.5 c.6 -> c1 b2 a3;  c3 a.7 b0 c.6 -> a1 c2 b3
  //   a (1+3+1)/3 = 5/3, b (3+2+3)/3 = 8/3, c (2+1+2)/3 = 5/3.  NSD: the same order -> the same ranks.
  // time: c1 a10 b300 c30 -> a1 c2 b3; c2 a300 b20 c40 -> b1 c2 a3; c3 a12 b300 c50 -> a1 c2 b3
  //   a 5/3, b 7/3, c 2
  // GPU:  c1 a500 b500 c400 -> c1 a2.5 b2.5; c2 a9000 b800 c1000 -> b1 c2 a3; c3 a600 b1500 c1500 -> a1 b2.5 c2.5
  //   a 6.5/3, b 6/3, c 5.5/3
  // score: a (5/3 + 5/3 + 5/3 + 6.5/3)/4 = 21.5/12; b (8+8+7+6)/12 = 29/12; c (5+5+6+5.5)/12 = 21.5/12
  CHECK(result(b, "a").rank_then_aggregate.score == Approx(21.5 / 12));
  CHECK(result(b, "b").rank_then_aggregate.score == Approx(29.0 / 12));
  CHECK(result(b, "c").rank_then_aggregate.score == Approx(21.5 / 12));
  CHECK(result(b, "a").rank_then_aggregate.place == 1);
  CHECK(result(b, "c").rank_then_aggregate.place == 1);
  CHECK(result(b, "b").rank_then_aggregate.place == 3);
  // Sorted by place, then name.
  CHECK(b.teams[0].team.name == "a");
  CHECK(b.teams[1].team.name == "c");
  CHECK(b.teams[2].team.name == "b");
  REQUIRE(b.teams[0].ahead_of_next);
  CHECK_FALSE(b.teams[2].ahead_of_next);
  REQUIRE(b.teams[0].efficiency);
  CHECK(b.teams[0].efficiency->run_status_counts.at("timeout") == 1);
  CHECK(b.teams[0].efficiency->time_s.median == 12);
}

TEST_CASE("leaderboard: the team's own GPU measure and an allowance") {
  std::vector<Team> teams;
  teams.push_back(team("a", {score("c1", 0.8, 0.8)}, {run("c1", 10, 500)}));
  teams.push_back(team("b", {score("c1", 0.8, 0.8)}, {run("c1", 10, 300)}));
  RankSettings st;
  st.gpu_measure = GpuMeasure::own;
  st.bootstrap_resamples = 0;
  Leaderboard b = build_leaderboard(teams, st);
  CHECK(*entry(b, "a", "c1").gpu_auc_mib_s == 250);  // own = half of device in these records
  // Allowance without sample files: the bound max(0, AUC - allowance x wall). a: peak 50 MiB > 40.
  st.gpu_measure = GpuMeasure::device;
  st.gpu_allowance_mib = 40;
  b = build_leaderboard(teams, st);
  CHECK(*entry(b, "a", "c1").gpu_auc_mib_s == Approx(500 - 40 * 10));
  CHECK(*entry(b, "b", "c1").gpu_auc_mib_s == 0);  // peak 30 MiB is under the allowance
  CHECK(std::any_of(b.notes.begin(), b.notes.end(), [](const std::string& n) { return n.find("bound") != std::string::npos; }));
}

TEST_CASE("leaderboard: without everyone's run records only DSC and NSD are ranked") {
  std::vector<Team> teams;
  teams.push_back(team("a", {score("c1", 0.8, 0.8), score("c2", 0.4, 0.4)}, {run("c1", 10, 500), run("c2", 10, 500)}));
  teams.push_back(team("b", {score("c1", 0.6, 0.6)}, {}, false));  // c2 absent from b's scores
  RankSettings st;
  st.bootstrap_resamples = 0;
  const Leaderboard b = build_leaderboard(std::move(teams), st);
  CHECK(b.metrics == std::vector<std::string>{"dsc", "nsd"});
  CHECK_FALSE(entry(b, "a", "c1").time_s.has_value());
  const CaseEntry& b2 = entry(b, "b", "c2");
  CHECK(b2.failed);
  CHECK_FALSE(b2.score.has_value());
  CHECK(result(b, "b").absent_cases == 1);
  CHECK(result(b, "b").summary.n_cases == 2);
  CHECK(result(b, "b").summary.status_counts[1] == 1);  // counted as missing
  CHECK(std::any_of(b.notes.begin(), b.notes.end(), [](const std::string& n) { return n.find("time is not ranked") != std::string::npos; }));
  CHECK(std::any_of(b.warnings.begin(), b.warnings.end(), [](const std::string& w) { return w.find("b: 1 of 2") != std::string::npos; }));
  CHECK_FALSE(result(b, "b").efficiency.has_value());
}

TEST_CASE("leaderboard: a batch run has no per-case time, so time and GPU are not ranked") {
  auto r1 = run("c1", 10, 500), r2 = run("c1", 10, 500);
  r2.mode = "batch";
  std::vector<Team> teams;
  teams.push_back(team("a", {score("c1", 0.8, 0.8)}, {r1}));
  teams.push_back(team("b", {score("c1", 0.7, 0.8)}, {r2}));
  const Leaderboard b = build_leaderboard(std::move(teams), RankSettings{});
  CHECK(b.metrics == std::vector<std::string>{"dsc", "nsd"});
  CHECK(std::any_of(b.notes.begin(), b.notes.end(), [](const std::string& n) { return n.find("batch") != std::string::npos; }));
}

TEST_CASE("leaderboard: duplicate team names and weights of zero") {
  std::vector<Team> teams = {team("a", {score("c1", 0.8, 0.8)}), team("a", {score("c1", 0.7, 0.8)})};
  CHECK_THROWS_AS(build_leaderboard(teams, RankSettings{}), std::invalid_argument);
  teams[1].name = "b";
  RankSettings st;
  st.weight_nsd = 0;
  const Leaderboard b = build_leaderboard(teams, st);
  CHECK(b.metrics == std::vector<std::string>{"dsc"});
  CHECK(b.teams[0].team.name == "a");
}

TEST_CASE("auc_above_allowance integrates the part of the curve above the allowance") {
  // Constant 100 MiB for 10 s: 1000 MiB·s; above 40 MiB: 600.
  CHECK(auc_above_allowance({0, 10}, {100, 100}, 0) == Approx(1000));
  CHECK(auc_above_allowance({0, 10}, {100, 100}, 40) == Approx(600));
  // A ramp 0 -> 100 over 10 s crosses 50 at t = 5: the triangle above it is 0.5 x 5 x 50 = 125.
  CHECK(auc_above_allowance({0, 10}, {0, 100}, 50) == Approx(125));
  CHECK(auc_above_allowance({0, 10}, {100, 0}, 50) == Approx(125));
  // Samples at uneven times and a missing value (NaN) skip their intervals.
  CHECK(auc_above_allowance({0, 1, 3, 4}, {10, 20, NAN, 20}, 0) == Approx(15));
  CHECK(auc_above_allowance({0, 5}, {30, 30}, 50) == 0);
}

TEST_CASE("leaderboard: the lesions of a failed case count as missed in the lesion-wise totals") {
  auto with_lesions = [](CaseRecord c, int n_gt, int tp, int fp) {
    LesionWise lw;
    lw.n_gt = n_gt;
    lw.tp = tp;
    lw.fn = n_gt - tp;
    lw.fp = fp;
    lw.n_pred = tp + fp;
    for (int i = 0; i < n_gt; ++i) {
      Lesion l;
      l.id = i + 1;
      l.volume_ml = i == 0 ? 20.0 : 0.2;  // one large, the rest small
      l.detected = i < tp;
      lw.lesions.push_back(l);
    }
    c.lesion_wise = lw;
    return c;
  };
  std::vector<Team> teams;
  teams.push_back(team("a", {with_lesions(score("c1", 0.8, 0.8), 3, 3, 0), with_lesions(score("c2", 0.7, 0.7), 2, 1, 1)}));
  // b: c2 not predicted (scored missing, no lesion-wise values).
  teams.push_back(team("b", {with_lesions(score("c1", 0.6, 0.6), 3, 2, 2), score("c2", 0, 0, CaseStatus::missing)}));
  for (auto& t : teams) {
    t.scores.settings.lesion_wise = true;
    t.has_records = false;
  }
  RankSettings st;
  st.bootstrap_resamples = 0;
  const Leaderboard b = build_leaderboard(std::move(teams), st);
  const auto& la = *result(b, "a").lesion;
  const auto& lb_ = *result(b, "b").lesion;
  CHECK(la.n_gt == 5);
  CHECK(lb_.n_gt == 5);  // c2's two lesions, known from a, missed by b
  CHECK(lb_.tp == 2);
  CHECK(lb_.fn == 3);
  CHECK(lb_.fp == 2);
  CHECK(*lb_.sensitivity == Approx(0.4));
  CHECK(lb_.buckets[2].n_lesions == 2);  // 5-50 ml: the 20 ml lesions of c1 and c2
  CHECK(lb_.buckets[2].detected == 1);
  CHECK(lb_.buckets[0].n_lesions == 3);  // < 0.5 ml: c1 two, c2 one
  CHECK(std::any_of(b.notes.begin(), b.notes.end(), [](const std::string& n) { return n.find("missed") != std::string::npos; }));
}

TEST_CASE("leaderboard: a run that failed after writing a valid prediction is judged by that prediction's score") {
  // The runner keeps a valid prediction of a nonzero_exit run (record `prediction` set); the organisers score
  // whatever file exists, and the team's official CSV holds that score, so the leaderboard counts it too.
  auto kept = run("c1", 10, 500, runner::RunStatus::nonzero_exit);
  kept.prediction = "predictions/c1.nii.gz";
  kept.message = "exit code 3";
  auto lost = run("c1", 12, 500, runner::RunStatus::nonzero_exit);  // wrote nothing valid
  std::vector<Team> teams;
  teams.push_back(team("kept", {score("c1", 1.0, 1.0), score("c2", 0.5, 0.5)}, {kept, run("c2", 10, 500)}));
  teams.push_back(team("lost", {score("c1", 0, 0, CaseStatus::missing), score("c2", 0.5, 0.5)}, {lost, run("c2", 10, 500)}));
  // A kept prediction that scored badly still fails, named by its first cause: the failed run.
  auto kept_bad = kept;
  teams.push_back(team("bad", {score("c1", 0, 0, CaseStatus::invalid_labels), score("c2", 0.5, 0.5)}, {kept_bad, run("c2", 10, 500)}));
  RankSettings st;
  st.bootstrap_resamples = 0;
  const Leaderboard b = build_leaderboard(std::move(teams), st);
  const CaseEntry& k = entry(b, "kept", "c1");
  CHECK_FALSE(k.failed);
  CHECK(k.dsc == 1.0);
  CHECK(*k.time_s == 10);  // as measured, not the limit
  CHECK(result(b, "kept").failed_cases == 0);
  CHECK(result(b, "kept").efficiency->run_status_counts.at("nonzero_exit") == 1);  // the run's status stays visible
  const CaseEntry& l = entry(b, "lost", "c1");
  CHECK(l.failed);
  CHECK(l.failure.find("run nonzero_exit") == 0);
  const CaseEntry& x = entry(b, "bad", "c1");
  CHECK(x.failed);
  CHECK(x.failure.find("run nonzero_exit: exit code 3") == 0);
  CHECK(b.teams[0].team.name == "kept");
}

TEST_CASE("leaderboard: with the ground truth's case list, a team's claims about other cases are left out") {
  // forger claims three made-up cases, scored 1.0 and run in 0.01 s; with the case list from the ground truth
  // they are not cases, so honest is not counted as failing them and forger gains nothing.
  std::vector<Team> teams;
  std::vector<CaseRecord> forged_scores = {score("c1", 0.5, 0.5), score("c2", 0.5, 0.5)};
  std::vector<runner::RunRecord> forged_runs = {run("c1", 10, 500), run("c2", 10, 500)};
  for (const char* fake : {"fake1", "fake2", "fake3"}) {
    forged_scores.push_back(score(fake, 1.0, 1.0));
    forged_runs.push_back(run(fake, 0.01, 1));
  }
  teams.push_back(team("forger", forged_scores, forged_runs));
  teams.push_back(team("honest", {score("c1", 0.6, 0.6), score("c2", 0.6, 0.6)}, {run("c1", 10, 500), run("c2", 10, 500)}));
  RankSettings st;
  st.bootstrap_resamples = 0;
  const Leaderboard b = build_leaderboard(teams, st, std::vector<std::string>{"c1", "c2"});
  CHECK(b.case_keys == std::vector<std::string>{"c1", "c2"});
  CHECK(b.teams[0].team.name == "honest");
  CHECK(result(b, "honest").failed_cases == 0);
  CHECK(result(b, "forger").efficiency->n_records == 2);
  const auto said = [&](const std::string& what) {
    return std::any_of(b.warnings.begin(), b.warnings.end(), [&](const std::string& w) {
      return w.find("forger: ") == 0 && w.find(what) != std::string::npos && w.find("fake1, fake2, fake3") != std::string::npos;
    });
  };
  CHECK(said("scores for 3 case(s) not in the ground truth ignored"));
  CHECK(said("run records for 3 case(s) not in the ground truth ignored"));
  // Without the list (no --gt) the union is used, as before: the made-up cases count against honest.
  const Leaderboard u = build_leaderboard(teams, st);
  CHECK(u.case_keys.size() == 5);
  CHECK(u.teams[0].team.name == "forger");
  // A case list with nothing in it is unusable.
  CHECK_THROWS_AS(build_leaderboard(teams, st, std::vector<std::string>{}), std::invalid_argument);
}

TEST_CASE("leaderboard: a run record refused by --verify-key fails its case and says why") {
  std::vector<Team> teams;
  teams.push_back(team("a", {score("c1", 0.9, 0.9), score("c2", 0.9, 0.9)}, {run("c1", 10, 500)}));
  teams[0].refused_records["c2"] = "altered";
  teams.push_back(team("b", {score("c1", 0.5, 0.5), score("c2", 0.5, 0.5)}, {run("c1", 10, 500), run("c2", 10, 500)}));
  RankSettings st;
  st.bootstrap_resamples = 0;
  const Leaderboard b = build_leaderboard(std::move(teams), st);
  const CaseEntry& e = entry(b, "a", "c2");
  CHECK(e.failed);
  CHECK(e.failure == "run record refused by --verify-key: altered");
  CHECK(*e.time_s == 300);
}

TEST_CASE("leaderboard: distances and IoU are ranked only when --weights names them, absent values as the worst") {
  // Hand-worked: only HD95 decides (dsc and nsd weighted 0). Grid 10 x 10 x 10 at 1 x 1 x 2 mm, whose
  // diagonal sqrt(100 + 100 + 400) mm is the worst distance a case allows.
  const double diagonal = std::sqrt(600.0);
  auto with = [](CaseRecord c, std::optional<double> hd95, std::optional<double> iou) {
    c.dims = {10, 10, 10};
    c.spacing_mm = {1, 1, 2};
    c.extra.hd95_mm = hd95;
    c.extra.iou = iou;
    return c;
  };
  // c1: A 2 mm, B 5 mm. c2: A has an empty prediction (null), B 3 mm. c3: B's prediction is missing (failed).
  Team a = team("A", {with(score("c1", 0.8, 0.8), 2.0, 0.5), with(score("c2", 0.0, 0.0), std::nullopt, 0.0),
                      with(score("c3", 0.8, 0.8), 1.0, 0.5)});
  Team b = team("B", {with(score("c1", 0.8, 0.8), 5.0, 0.7), with(score("c2", 0.8, 0.8), 3.0, 0.7),
                      with(score("c3", 0, 0, CaseStatus::missing), std::nullopt, std::nullopt)});
  for (Team* t : {&a, &b}) t->scores.settings.metrics.hd95 = t->scores.settings.metrics.iou = true;

  RankSettings st;
  st.weight_dsc = st.weight_nsd = 0;
  st.bootstrap_resamples = 0;
  {
    // Not named: reported, not ranked.
    RankSettings plain;
    const Leaderboard board = build_leaderboard({a, b}, plain);
    CHECK(board.metrics == std::vector<std::string>{"dsc", "nsd"});
    CHECK(entry(board, "A", "c1").extra.empty());
  }
  st.extra_weights["hd95_mm"] = 1;
  const Leaderboard board = build_leaderboard({a, b}, st);
  REQUIRE(board.metrics == std::vector<std::string>{"hd95_mm"});
  CHECK(entry(board, "A", "c1").extra.at("hd95_mm") == 2.0);
  CHECK(entry(board, "A", "c2").extra.at("hd95_mm") == Approx(diagonal));  // one mask empty: the worst
  CHECK(entry(board, "B", "c3").extra.at("hd95_mm") == Approx(diagonal));  // failed: the worst
  // Case ranks (lower distance better): A 1, 2, 1 -> 4/3; B 2, 1, 2 -> 5/3.
  CHECK(result(board, "A").rank_then_aggregate.score == Approx(4.0 / 3));
  CHECK(result(board, "B").rank_then_aggregate.score == Approx(5.0 / 3));
  CHECK(board.teams.front().team.name == "A");
  // Means: A (2 + d + 1) / 3, B (5 + 3 + d) / 3: A is ahead by mean too.
  CHECK(result(board, "A").mean_based.metric_mean[0] == Approx((3 + diagonal) / 3));
  CHECK(result(board, "B").mean_based.metric_mean[0] == Approx((8 + diagonal) / 3));
  CHECK(result(board, "A").mean_based.place == 1);

  // IoU goes the other way (higher is better): B's 0.7 beats A's 0.5 on c1 and c2; on c3 B failed (IoU 0).
  RankSettings by_iou = st;
  by_iou.extra_weights = {{"iou", 1}};
  const Leaderboard iou_board = build_leaderboard({a, b}, by_iou);
  CHECK(entry(iou_board, "B", "c3").extra.at("iou") == 0.0);
  CHECK(result(iou_board, "B").rank_then_aggregate.score == Approx(4.0 / 3));
  CHECK(iou_board.teams.front().team.name == "B");

  // A team scored without the metric cannot be ranked on it: refused, saying how to score it.
  Team c = b;
  c.name = "C";
  c.scores.settings.metrics.hd95 = false;
  try {
    build_leaderboard({a, c}, st);
    FAIL("ranking on a metric a team lacks was accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("--metrics dsc,nsd,hd95") != std::string::npos);
    CHECK(std::string(e.what()).find("C's scores") != std::string::npos);
  }
  RankSettings unknown = st;
  unknown.extra_weights = {{"volume", 1}};
  CHECK_THROWS_AS(build_leaderboard({a, b}, unknown), std::invalid_argument);
}
