// One rounding everywhere (issue 12 item 6) and the official CSV written like the JSON (item 11).
#include <catch2/catch.hpp>
#include <filesystem>

#include "metrics/case_scores.h"
#include "reports/scores_json.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::run_cli;
using lb::test::run_command;
using lb::test::shell_quote;
using lb::test::TempDir;
using lb::test::Vol;

TEST_CASE("item 6: format_rounded is numpy's round on the double, printed", "[rounding]") {
  CHECK(format_rounded(0.12345, 4) == "0.1234");  // 1234.5: ties to even (printf gives 0.1235)
  CHECK(format_rounded(0.12355, 4) == "0.1236");
  CHECK(format_rounded(0.00015, 4) == "0.0001");  // 1.4999999999999998
  CHECK(format_rounded(1.0, 4) == "1.0000");
  CHECK(format_rounded(0.0, 4) == "0.0000");
  CHECK(format_rounded(2.5, 0) == "2");
  CHECK(format_rounded(0.125, 2) == "0.12");
  CHECK(format_rounded(12.25, 1) == "12.2");
  for (double x : {0.98765, 0.5, 0.33335, 0.66665, 1e-9})
    CHECK(std::stod(format_rounded(x, 4)) == round4(x));
}

TEST_CASE("item 6: score's printed table rounds as its CSV does", "[rounding][cli]") {
  TempDir tmp("round");
  std::filesystem::create_directories(tmp / "gt");
  std::filesystem::create_directories(tmp / "pred");
  // |G| = |P| = 20000, overlap 2469: DSC = 4938 / 40000 = 0.12345 (as a double, x * 1e4 is 1234.5 exactly).
  Vol g(40, 50, 20), p(40, 50, 20);
  for (size_t i = 0; i < g.v.size(); ++i) {
    g.v[i] = i < 20000;
    p.v[i] = i >= 20000 - 2469 && i < 40000 - 2469;
  }
  lb::test::write_mask(tmp / "gt/c.nii.gz", g);
  lb::test::write_mask(tmp / "pred/c.nii.gz", p);
  const std::string args = "--gt " + shell_quote(tmp / "gt") + " --pred " + shell_quote(tmp / "pred");
  const auto table = run_cli("score " + args);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains(" 0.1234 "));
  CHECK_THAT(table.out, !Catch::Contains("0.1235"));
  const auto csv = run_cli("score " + args + " --csv " + shell_quote(tmp / "o.csv"));
  REQUIRE(csv.exit_code == 0);
  CHECK_THAT(lb::test::read_text(tmp / "o.csv"), Catch::Contains("c.nii.gz,0.1234,"));
}

TEST_CASE("item 6: the HTML page's rounding gives the same text", "[rounding][web]") {
  if (run_command("command -v node").exit_code != 0) {
    WARN("skipped: node is not installed (scripts/setup.sh installs it)");
    return;
  }
  // Evaluates the marked block of leaderboard.js on its own (the rest needs a browser).
  const std::string js = std::string(LB_SOURCE_DIR) + "/reports/web/leaderboard.js";
  const std::string script =
      "const s=require('fs').readFileSync(process.argv[1],'utf8');"
      "const m=s.match(/<round-half-even>[^\\n]*\\n([\\s\\S]*?)\\/\\/ <\\/round-half-even>/);"
      "if(!m){console.log('no block');process.exit(3);}"
      "const f=new Function(m[1]+';return roundHalfEven;')();"
      "console.log([f(0.12345,4),f(0.12355,4),f(0.00015,4),f(1,4),f(2.5,0),f(0.125,2),f(0.98765,4)].join(' '));";
  const auto r = run_command("node -e " + shell_quote(script) + " " + shell_quote(js));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "0.1234 0.1236 0.0001 1.0000 2 0.12 " + format_rounded(0.98765, 4) + "\n");
}

TEST_CASE("item 11: a CSV that cannot be written fails the command and leaves no partial file", "[csv][cli]") {
  TempDir tmp("csvfull");
  std::filesystem::create_directories(tmp / "gt");
  std::filesystem::create_directories(tmp / "pred");
  Vol g(8, 8, 8);
  g.box({2, 2, 2}, {5, 5, 5});
  for (int c = 0; c < 40; ++c) {
    const std::string name = "case_" + std::to_string(c) + ".nii.gz";
    lb::test::write_mask(tmp / ("gt/" + name), g);
    lb::test::write_mask(tmp / ("pred/" + name), g);
  }
  const std::string csv = tmp / "out.csv";
  // A file size limit of 0 blocks stands in for a full disk: every write of the CSV fails with EFBIG. The
  // limit holds only in the subshell, so its messages reach the test through an unlimited `cat`.
  const std::string exe = LB_CLI;
  const auto r = run_command("bash -c " +
                             shell_quote("set -o pipefail; (trap '' XFSZ; ulimit -f 0; exec " + shell_quote(exe) +
                                         " score --gt " + shell_quote(tmp / "gt") + " --pred " +
                                         shell_quote(tmp / "pred") + " --csv " + shell_quote(csv) + ") 2>&1 | cat"));
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.out, Catch::Contains("cannot write") && Catch::Contains("File too large"));
  CHECK(!std::filesystem::exists(csv));
  CHECK(!std::filesystem::exists(csv + ".tmp"));
  // And a folder that does not exist.
  std::vector<CaseRecord> none;
  CHECK_THROWS_WITH(write_official_csv_file(tmp / "no/such/dir.csv", none), Catch::Contains("cannot write"));
}
