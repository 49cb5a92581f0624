// Sample series: figures and CSV; see samples.h.
#include "runner/samples.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runner/util.h"

namespace lb::runner {

SeriesFigures instantaneous_figures(const std::vector<Sample>& s, double Sample::*field) {
  SeriesFigures f;
  double area = 0;
  bool any_area = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const double v = s[i].*field;
    if (std::isnan(v)) continue;
    f.max = f.max ? std::max(*f.max, v) : v;
    if (i > 0 && !std::isnan(s[i - 1].*field)) {
      area += 0.5 * (v + s[i - 1].*field) * (s[i].t_s - s[i - 1].t_s);
      any_area = true;
    }
  }
  if (f.max) f.auc = any_area ? area : 0.0;
  return f;
}

SeriesFigures interval_figures(const std::vector<Sample>& s, double Sample::*field) {
  SeriesFigures f;
  double area = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    const double v = s[i].*field;
    if (std::isnan(v)) continue;
    f.max = f.max ? std::max(*f.max, v) : v;
    area += v * (s[i].t_s - s[i - 1].t_s);
  }
  if (f.max) f.auc = area;
  return f;
}

SampleFigures summarize(const std::vector<Sample>& samples) {
  SampleFigures f;
  f.gpu_device = instantaneous_figures(samples, &Sample::gpu_device_mib);
  f.gpu_own = instantaneous_figures(samples, &Sample::gpu_own_mib);
  f.cpu = interval_figures(samples, &Sample::cpu_pct);
  f.rss = instantaneous_figures(samples, &Sample::rss_mib);
  f.sys_cpu = interval_figures(samples, &Sample::sys_cpu_pct);
  f.sys_ram = instantaneous_figures(samples, &Sample::sys_ram_mib);
  return f;
}

namespace {
const char* kHeader = "t_s,gpu_device_mib,gpu_own_mib,cpu_pct,rss_mib,procs,sys_cpu_pct,sys_ram_mib";

void put(std::ostream& out, double v, int decimals) {
  if (std::isnan(v)) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  out << buf;
}

double cell(const std::string& text, const std::string& where) {
  if (text.empty()) return kNotMeasured;
  double v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw std::runtime_error(where + ": '" + text + "' is not a number");
  return v;
}
}  // namespace

void write_samples_csv(std::ostream& out, const std::vector<Sample>& samples) {
  out << kHeader << "\n";
  for (const auto& s : samples) {
    put(out, s.t_s, 3);
    out << ',';
    put(out, s.gpu_device_mib, 1);
    out << ',';
    put(out, s.gpu_own_mib, 1);
    out << ',';
    put(out, s.cpu_pct, 1);
    out << ',';
    put(out, s.rss_mib, 1);
    out << ',' << s.procs << ',';
    put(out, s.sys_cpu_pct, 1);
    out << ',';
    put(out, s.sys_ram_mib, 1);
    out << "\n";
  }
}

void write_samples_file(const std::string& path, const std::vector<Sample>& samples) {
  std::ostringstream text;
  write_samples_csv(text, samples);
  write_file_atomic(path, text.str());
}

std::vector<Sample> read_samples_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  if (!std::getline(in, line) || line != kHeader)
    throw std::runtime_error(path + ": not a lesionbench samples file (header must be '" + std::string(kHeader) + "')");
  std::vector<Sample> out;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::string c;
    std::stringstream ss(line);
    while (std::getline(ss, c, ',')) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    const std::string where = path + " line " + std::to_string(line_no);
    if (cells.size() != 8) throw std::runtime_error(where + ": expected 8 cells, found " + std::to_string(cells.size()));
    Sample s;
    s.t_s = cell(cells[0], where);
    s.gpu_device_mib = cell(cells[1], where);
    s.gpu_own_mib = cell(cells[2], where);
    s.cpu_pct = cell(cells[3], where);
    s.rss_mib = cell(cells[4], where);
    const double procs = cell(cells[5], where);
    s.procs = std::isnan(procs) ? 0 : static_cast<int32_t>(procs);
    s.sys_cpu_pct = cell(cells[6], where);
    s.sys_ram_mib = cell(cells[7], where);
    out.push_back(s);
  }
  return out;
}

}  // namespace lb::runner
