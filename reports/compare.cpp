// compare (see compare.h).
#include "reports/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>

#include "metrics/case_scores.h"
#include "reports/leaderboard.h"

namespace lb {

namespace {

std::string f4(double v) { return format_rounded(v, 4); }  // numpy's rounding, as the CSV
std::string signed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.4f", v);
  return buf;
}
std::string f1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}
std::string f2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}
std::string pval(double p) {
  char buf[32];
  if (p < 1e-4) std::snprintf(buf, sizeof buf, "%.2e", p);
  else std::snprintf(buf, sizeof buf, "%.4f", p);
  return buf;
}

// "ok", or what is wrong with the case on this side.
// A failed run is named before the score status it caused (no prediction -> missing).
std::string case_state(const CaseRecord& c, const Team& t, const std::map<std::string, const runner::RunRecord*>& runs,
                       std::string* message) {
  if (t.has_records) {
    auto it = runs.find(case_key(c.name));
    if (it == runs.end()) {
      *message = "no run record";
      return "run missing";
    }
    if (it->second->status != runner::RunStatus::ok) {
      *message = it->second->message;
      return std::string("run ") + runner::status_name(it->second->status);
    }
  }
  if (c.status != CaseStatus::ok) {
    *message = c.message;
    return status_name(c.status);
  }
  return "ok";
}

void judge(MetricChange& m, const std::vector<double>& base, const std::vector<double>& next, double max_drop,
           const CompareOptions& opt, const char* name, std::vector<std::string>& reasons) {
  double sb = 0, sn = 0;
  for (size_t i = 0; i < base.size(); ++i) sb += base[i], sn += next[i];
  m.base_mean = sb / static_cast<double>(base.size());
  m.new_mean = sn / static_cast<double>(next.size());
  m.max_drop = max_drop;
  m.test = wilcoxon_signed_rank(base, next);
  m.drop_exceeds = m.base_mean - m.new_mean > max_drop;
  m.regressed = m.drop_exceeds && (!opt.require_significance || m.test.p_value < opt.alpha);
  if (m.regressed)
    reasons.push_back(std::string("mean ") + name + " dropped by " + f4(m.base_mean - m.new_mean) + " (more than " +
                      f4(max_drop) + "; Wilcoxon p = " + pval(m.test.p_value) + ")");
}

}  // namespace

CompareResult compare_teams(const Team& base, const Team& next, const CompareOptions& opt) {
  CompareResult r;
  r.options = opt;
  r.base_name = base.name;
  r.new_name = next.name;
  r.base_path = base.scores_path;
  r.new_path = next.scores_path;
  r.settings_difference = scoring_settings_difference(base.scores.settings, next.scores.settings);
  if (!r.settings_difference.empty()) {
    if (!opt.allow_different_settings)
      throw CompareError("BASE and NEW were scored with different settings (" + r.settings_difference +
                         "); their scores are not comparable. Score them alike, or pass --allow-different-settings");
    r.notes.push_back("scored with different settings (" + r.settings_difference + "), compared anyway");
  }
  std::map<std::string, const CaseRecord*> b_cases, n_cases;
  for (const auto& c : base.scores.cases) b_cases[case_key(c.name)] = &c;
  for (const auto& c : next.scores.cases) n_cases[case_key(c.name)] = &c;
  std::map<std::string, const runner::RunRecord*> b_runs, n_runs;
  for (const auto& x : base.records) b_runs[x.case_name] = &x;
  for (const auto& x : next.records) n_runs[x.case_name] = &x;

  std::vector<std::string> common;
  for (const auto& [k, c] : b_cases) (n_cases.count(k) ? common : r.only_base).push_back(k);
  for (const auto& [k, c] : n_cases)
    if (!b_cases.count(k)) r.only_new.push_back(k);
  r.n_common = common.size();
  if (common.empty()) throw CompareError("BASE and NEW have no case in common");
  if (!r.only_base.empty())
    r.notes.push_back(std::to_string(r.only_base.size()) + " cases only in BASE, left out (first: " + r.only_base.front() + ")");
  if (!r.only_new.empty())
    r.notes.push_back(std::to_string(r.only_new.size()) + " cases only in NEW, left out (first: " + r.only_new.front() + ")");

  std::vector<double> bd, nd, bn, nn;
  std::vector<CaseChange> changes;
  for (const auto& k : common) {
    const CaseRecord& b = *b_cases[k];
    const CaseRecord& n = *n_cases[k];
    bd.push_back(b.dsc), nd.push_back(n.dsc), bn.push_back(b.nsd), nn.push_back(n.nsd);
    CaseChange ch{k, b.dsc, n.dsc, b.nsd, n.nsd, "", "", ""};
    std::string ignored;
    ch.base_status = case_state(b, base, b_runs, &ignored);
    ch.new_status = case_state(n, next, n_runs, &ch.new_message);
    if (ch.base_status == "ok" && ch.new_status != "ok") r.new_failures.push_back(ch);
    changes.push_back(std::move(ch));
  }
  judge(r.dsc, bd, nd, opt.max_drop_dsc, opt, "DSC", r.reasons);
  judge(r.nsd, bn, nn, opt.max_drop_nsd, opt, "NSD", r.reasons);
  if (!r.new_failures.empty())
    r.reasons.push_back(std::to_string(r.new_failures.size()) + (r.new_failures.size() == 1 ? " case" : " cases") +
                        " no longer ok (first: " + r.new_failures.front().key + ", " + r.new_failures.front().new_status + ")");

  for (const auto& ch : changes)
    if (ch.new_dsc < ch.base_dsc || ch.new_nsd < ch.base_nsd) r.dropped_most.push_back(ch);
  std::stable_sort(r.dropped_most.begin(), r.dropped_most.end(), [](const CaseChange& x, const CaseChange& y) {
    const double dx = x.base_dsc - x.new_dsc, dy = y.base_dsc - y.new_dsc;
    if (dx != dy) return dx > dy;
    return (x.base_nsd - x.new_nsd) > (y.base_nsd - y.new_nsd);
  });
  if (r.dropped_most.size() > opt.list_cases) r.dropped_most.resize(opt.list_cases);

  if (base.has_records && next.has_records) {
    std::vector<double> bt, nt;
    for (const auto& k : common) {
      auto bi = b_runs.find(k), ni = n_runs.find(k);
      if (bi == b_runs.end() || ni == n_runs.end()) continue;
      bt.push_back(bi->second->wall_s);
      nt.push_back(ni->second->wall_s);
    }
    if (!bt.empty()) {
      r.base_median_time_s = stat_of(bt).median;
      r.new_median_time_s = stat_of(nt).median;
      if (*r.base_median_time_s > 0) {
        r.slowdown = *r.new_median_time_s / *r.base_median_time_s;
        r.slower = *r.slowdown > opt.max_slowdown;
        if (r.slower)
          r.reasons.push_back("median time per case grew " + f2(*r.slowdown) + "x (" + f1(*r.base_median_time_s) + " s -> " +
                              f1(*r.new_median_time_s) + " s; more than " + f2(opt.max_slowdown) + "x)");
      }
    } else {
      r.notes.push_back("no case has run records on both sides; time not compared");
    }
  } else {
    r.notes.push_back(std::string("time not compared: ") +
                      (base.has_records ? "NEW" : next.has_records ? "BASE" : "neither side") + " has run records");
  }
  return r;
}

namespace {

std::string test_text(const WilcoxonResult& w) {
  if (w.method == "none") return "p = 1 (no case changed)";
  return "p = " + pval(w.p_value) + " (" + w.method + ", " + std::to_string(w.n_nonzero) +
         (w.n_nonzero == 1 ? " case changed)" : " cases changed)");
}

}  // namespace

void print_compare(std::ostream& out, const CompareResult& r) {
  out << "BASE " << r.base_path << "\nNEW  " << r.new_path << "\n" << r.n_common << " cases in both";
  if (!r.only_base.empty() || !r.only_new.empty())
    out << " (" << r.only_base.size() << " only in BASE, " << r.only_new.size() << " only in NEW)";
  out << "\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-10s %8s %8s %9s %9s  %s\n", "", "BASE", "NEW", "change", "max drop", "paired Wilcoxon");
  out << line;
  for (const auto& [label, metric] : {std::make_pair("mean DSC", &r.dsc), std::make_pair("mean NSD", &r.nsd)}) {
    const MetricChange& m = *metric;
    std::snprintf(line, sizeof line, "%-10s %8s %8s %9s %9s  %s%s\n", label, f4(m.base_mean).c_str(),
                  f4(m.new_mean).c_str(), signed4(m.change()).c_str(), f4(m.max_drop).c_str(), test_text(m.test).c_str(),
                  m.regressed ? "  << dropped" : (m.drop_exceeds ? "  (drop not significant)" : ""));
    out << line;
  }
  if (r.slowdown)
    out << "median time per case: " << f1(*r.base_median_time_s) << " s -> " << f1(*r.new_median_time_s) << " s (x"
        << f2(*r.slowdown) << ", max x" << f2(r.options.max_slowdown) << ")" << (r.slower ? "  << slower" : "") << "\n";
  if (!r.dropped_most.empty()) {
    out << "\ncases that dropped most:\n";
    for (const auto& c : r.dropped_most) {
      std::snprintf(line, sizeof line, "  %-28s DSC %s -> %s (%s)  NSD %s -> %s (%s)\n", c.key.c_str(),
                    f4(c.base_dsc).c_str(), f4(c.new_dsc).c_str(), signed4(c.new_dsc - c.base_dsc).c_str(),
                    f4(c.base_nsd).c_str(), f4(c.new_nsd).c_str(), signed4(c.new_nsd - c.base_nsd).c_str());
      out << line;
    }
  }
  if (!r.new_failures.empty()) {
    out << "\nnew failures (ok in BASE, not in NEW):\n";
    for (const auto& c : r.new_failures)
      out << "  " << c.key << ": " << c.new_status << (c.new_message.empty() ? "" : " (" + c.new_message + ")") << "\n";
  }
  for (const auto& n : r.notes) out << "note: " << n << "\n";
  out << "\n";
  if (r.reasons.empty()) {
    out << "result: no regression\n";
  } else {
    out << "result: REGRESSION\n";
    for (const auto& reason : r.reasons) out << "  - " << reason << "\n";
  }
}

void write_compare_markdown(std::ostream& out, const CompareResult& r) {
  out << "### lesionbench compare: " << (r.reasons.empty() ? "no regression" : "regression") << "\n\n";
  out << "BASE `" << r.base_path << "` → NEW `" << r.new_path << "`, " << r.n_common << " cases in both";
  if (!r.only_base.empty() || !r.only_new.empty())
    out << " (" << r.only_base.size() << " only in BASE, " << r.only_new.size() << " only in NEW)";
  out << ".\n\n| | BASE | NEW | change | max drop | paired Wilcoxon |\n|---|---:|---:|---:|---:|---|\n";
  for (const auto& [label, metric] : {std::make_pair("mean DSC", &r.dsc), std::make_pair("mean NSD", &r.nsd)}) {
    const MetricChange& m = *metric;
    out << "| " << label << " | " << f4(m.base_mean) << " | " << f4(m.new_mean) << " | "
        << (m.regressed ? "**" + signed4(m.change()) + "**" : signed4(m.change())) << " | " << f4(m.max_drop) << " | "
        << test_text(m.test) << " |\n";
  }
  if (r.slowdown)
    out << "| median time per case (s) | " << f1(*r.base_median_time_s) << " | " << f1(*r.new_median_time_s) << " | ×"
        << f2(*r.slowdown) << " | ×" << f2(r.options.max_slowdown) << " | |\n";
  if (!r.reasons.empty()) {
    out << "\n**Why it failed:**\n\n";
    for (const auto& reason : r.reasons) out << "- " << reason << "\n";
  }
  if (!r.new_failures.empty()) {
    out << "\n**New failures** (ok in BASE, not in NEW):\n\n| case | NEW status | message |\n|---|---|---|\n";
    for (const auto& c : r.new_failures) out << "| " << c.key << " | " << c.new_status << " | " << c.new_message << " |\n";
  }
  if (!r.dropped_most.empty()) {
    out << "\n**Cases that dropped most:**\n\n| case | DSC BASE | DSC NEW | change | NSD BASE | NSD NEW | change |\n"
           "|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& c : r.dropped_most)
      out << "| " << c.key << " | " << f4(c.base_dsc) << " | " << f4(c.new_dsc) << " | " << signed4(c.new_dsc - c.base_dsc)
          << " | " << f4(c.base_nsd) << " | " << f4(c.new_nsd) << " | " << signed4(c.new_nsd - c.base_nsd) << " |\n";
  }
  if (!r.notes.empty()) {
    out << "\n";
    for (const auto& n : r.notes) out << "- note: " << n << "\n";
  }
}

}  // namespace lb

namespace lb {

namespace {

// XML 1.0 text: the five entities escaped; control characters other than tab/LF/CR are not allowed at all.
std::string xml_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default:
        if (c < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') o += '?';
        else o += ch;
    }
  }
  return o;
}

struct JunitCase {
  std::string name;
  enum Kind { passed, failed, skipped, error } kind = passed;
  std::string message, details;
};

void write_junit(std::ostream& out, const std::vector<JunitCase>& cases, const std::string& system_out) {
  size_t failures = 0, skipped = 0, errors = 0;
  for (const auto& c : cases) {
    failures += c.kind == JunitCase::failed;
    skipped += c.kind == JunitCase::skipped;
    errors += c.kind == JunitCase::error;
  }
  const std::string counts = " tests=\"" + std::to_string(cases.size()) + "\" failures=\"" + std::to_string(failures) +
                             "\" errors=\"" + std::to_string(errors) + "\" skipped=\"" + std::to_string(skipped) + "\"";
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"lesionbench compare\"" << counts << ">\n";
  out << "  <testsuite name=\"lesionbench compare\"" << counts << ">\n";
  for (const auto& c : cases) {
    out << "    <testcase classname=\"lesionbench.compare\" name=\"" << xml_escape(c.name) << "\" time=\"0\"";
    if (c.kind == JunitCase::passed) {
      out << "/>\n";
      continue;
    }
    out << ">\n";
    const char* tag = c.kind == JunitCase::failed ? "failure" : c.kind == JunitCase::skipped ? "skipped" : "error";
    out << "      <" << tag << " message=\"" << xml_escape(c.message) << "\"";
    if (c.kind == JunitCase::failed) out << " type=\"regression\"";
    if (c.details.empty()) out << "/>\n";
    else out << ">" << xml_escape(c.details) << "</" << tag << ">\n";
    out << "    </testcase>\n";
  }
  if (!system_out.empty()) out << "    <system-out>" << xml_escape(system_out) << "</system-out>\n";
  out << "  </testsuite>\n</testsuites>\n";
}

JunitCase metric_case(const char* name, const MetricChange& m, const CompareOptions& opt) {
  JunitCase c;
  c.name = std::string("mean ") + name + " drop";
  const std::string numbers = "BASE " + f4(m.base_mean) + ", NEW " + f4(m.new_mean) + ", change " + signed4(m.change()) +
                              ", max drop " + f4(m.max_drop) + ", paired Wilcoxon " + test_text(m.test);
  if (m.regressed) {
    c.kind = JunitCase::failed;
    c.message = std::string("mean ") + name + " dropped by " + f4(m.base_mean - m.new_mean) + " (more than " +
                f4(m.max_drop) + ")";
    c.details = numbers;
  } else if (m.drop_exceeds && opt.require_significance) {
    c.details = numbers;  // passed: the drop is not significant
  }
  return c;
}

}  // namespace

void write_compare_junit(std::ostream& out, const CompareResult& r) {
  std::vector<JunitCase> cases;
  cases.push_back(metric_case("DSC", r.dsc, r.options));
  cases.push_back(metric_case("NSD", r.nsd, r.options));

  JunitCase fails{"no case newly failed", JunitCase::passed, "", ""};
  if (!r.new_failures.empty()) {
    fails.kind = JunitCase::failed;
    fails.message = std::to_string(r.new_failures.size()) + (r.new_failures.size() == 1 ? " case" : " cases") +
                    " ok in BASE, not ok in NEW";
    for (const auto& c : r.new_failures)
      fails.details += c.key + ": " + c.new_status + (c.new_message.empty() ? "" : " (" + c.new_message + ")") +
                       "; DSC " + f4(c.base_dsc) + " -> " + f4(c.new_dsc) + ", NSD " + f4(c.base_nsd) + " -> " +
                       f4(c.new_nsd) + "\n";
  }
  cases.push_back(std::move(fails));

  JunitCase time{"median time per case", JunitCase::passed, "", ""};
  if (!r.slowdown) {
    time.kind = JunitCase::skipped;
    time.message = "time not compared: run records are needed on both sides";
  } else {
    const std::string numbers = "BASE " + f1(*r.base_median_time_s) + " s, NEW " + f1(*r.new_median_time_s) + " s, x" +
                                f2(*r.slowdown) + " (max x" + f2(r.options.max_slowdown) + ")";
    if (r.slower) {
      time.kind = JunitCase::failed;
      time.message = "median time per case grew " + f2(*r.slowdown) + "x (more than " + f2(r.options.max_slowdown) + "x)";
    }
    time.details = numbers;
  }
  cases.push_back(std::move(time));

  std::ostringstream text;
  print_compare(text, r);
  write_junit(out, cases, text.str());
}

void write_compare_junit_error(std::ostream& out, const std::string& base, const std::string& next,
                               const std::string& message) {
  write_junit(out, {{"inputs can be compared", JunitCase::error, message, "BASE " + base + "\nNEW  " + next}}, "");
}

}  // namespace lb
