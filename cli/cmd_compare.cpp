// lesionbench compare: a yes/no for CI on "did NEW get worse than BASE".
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <sstream>

#include "args/args.h"
#include "cli/commands.h"
#include "reports/compare.h"

namespace lb::cli {

namespace {

double parse_number(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const double x = std::stod(v, &used);
    if (used != v.size() || !(x >= 0)) throw std::invalid_argument("");
    return x;
  } catch (const std::exception&) {
    throw UsageError(flag + " needs a number >= 0, not '" + v + "'");
  }
}

// "0.01" (both), or "dsc=0.005,nsd=0.01" (either or both).
void parse_max_drop(const std::string& text, CompareOptions& o) {
  if (text.find('=') == std::string::npos) {
    o.max_drop_dsc = o.max_drop_nsd = parse_number("--max-drop", text);
    return;
  }
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    const auto eq = item.find('=');
    const std::string name = item.substr(0, eq);
    if (eq == std::string::npos || (name != "dsc" && name != "nsd"))
      throw UsageError("--max-drop takes dsc=X,nsd=Y (or one number for both), not '" + item + "'");
    (name == "dsc" ? o.max_drop_dsc : o.max_drop_nsd) = parse_number("--max-drop", item.substr(eq + 1));
  }
}

// Whole file or nothing (a CI step that reads the report never sees half of it): temporary file + rename.
bool write_junit_file(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    write(out);
    out.flush();
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
  return !ec;
}

}  // namespace

int cmd_compare(int argc, char** argv) {
  std::vector<std::string> paths;
  std::string max_drop, markdown, junit;
  CompareOptions o;
  Args args("compare", "lesionbench compare BASE NEW [--max-drop dsc=0.005,nsd=0.005] [--max-slowdown 1.10] [--markdown FILE] [--junit FILE]",
            "Compares two scored runs case by case. BASE and NEW are scores.json files or team folders (their\n"
            "records.jsonl gives the times). Over the cases present in both, NEW has regressed when its unrounded mean\n"
            "DSC or NSD dropped by more than the allowed drop, when a case that was ok is no longer ok, or (both with run\n"
            "records) when its median time per case grew more than --max-slowdown times. A paired Wilcoxon signed-rank\n"
            "test (two-sided) over the cases is printed for both metrics.");
  args.positional("BASE NEW", "the reference, then the run to judge", &paths, 2, 2)
      .option("--max-drop", "dsc=X,nsd=Y", "largest allowed drop of the mean DSC and NSD (default 0.005 each; one number sets both)",
              &max_drop)
      .option("--max-slowdown", "RATIO", "largest allowed growth of the median time per case (default 1.10)", &o.max_slowdown)
      .option("--markdown", "FILE", "also write the result as Markdown, appended to FILE (e.g. $GITHUB_STEP_SUMMARY)", &markdown)
      .option("--junit", "FILE",
              "also write the result as JUnit XML to FILE: one test case per gate, failures with the numbers "
              "(written on exit 2 too, as one test case in error)",
              &junit)
      .flag("--require-significance", "a mean drop counts only when the Wilcoxon test gives p < 0.05",
            &o.require_significance)
      .flag("--allow-different-settings", "compare even when the two were scored with different settings",
            &o.allow_different_settings)
      .epilog(
          "Examples:\n"
          "  lesionbench compare main/scores.json branch/scores.json\n"
          "  lesionbench compare results/base results/new --max-drop dsc=0.01 --markdown \"$GITHUB_STEP_SUMMARY\"\n"
          "  lesionbench compare main/scores.json scores.json --junit compare-junit.xml\n\n"
          "Exit codes: 0 no regression, 1 regression, 2 unusable input (unreadable or malformed, no case in common,\n"
          "scored with different tolerance or connectivity unless --allow-different-settings).");
  if (!args.parse(argc, argv)) return 0;
  if (!max_drop.empty()) parse_max_drop(max_drop, o);
  if (!(o.max_slowdown > 0)) throw UsageError("--max-slowdown must be > 0");

  CompareResult r;
  try {
    const Team base = load_scored(paths[0]);
    const Team next = load_scored(paths[1]);
    r = compare_teams(base, next, o);
  } catch (const std::exception& e) {
    std::cerr << "lesionbench compare: " << e.what() << "\n";
    if (!junit.empty() &&
        !write_junit_file(junit, [&](std::ostream& o) { write_compare_junit_error(o, paths[0], paths[1], e.what()); }))
      std::cerr << "lesionbench compare: cannot write " << junit << "\n";
    return 2;
  }
  print_compare(std::cout, r);
  if (!markdown.empty()) {
    std::ofstream md(markdown, std::ios::app);  // appended: a CI summary file may already hold other steps
    if (!md) {
      std::cerr << "lesionbench compare: cannot write " << markdown << "\n";
      return 2;
    }
    write_compare_markdown(md, r);
  }
  if (!junit.empty() && !write_junit_file(junit, [&](std::ostream& o) { write_compare_junit(o, r); })) {
    std::cerr << "lesionbench compare: cannot write " << junit << "\n";
    return 2;
  }
  return r.exit_code();
}

}  // namespace lb::cli
