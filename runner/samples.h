#pragma once
// The sample series of one launch and the figures computed from it (maxima and areas under the curve).
//
// On disk, TEAM_DIR/samples/<case>.csv (or samples/batch.csv) with this header:
//   t_s,gpu_device_mib,gpu_own_mib,cpu_pct,rss_mib,procs,sys_cpu_pct,sys_ram_mib
// t_s: seconds since launch. gpu_device_mib: total − free of the device. gpu_own_mib: the contestant's
// processes' GPU memory. cpu_pct: the contestant's tree, 100 = one core, averaged over the interval that
// ends at t_s. rss_mib: summed resident memory of the tree. procs: processes in the tree. sys_cpu_pct:
// whole machine, 100 = every core, over the same interval. sys_ram_mib: used memory of the machine.
// An empty cell: not measured (no GPU; the first sample has no interval for CPU).
//
// Areas: instantaneous quantities (memory) by the trapezoid rule over the real sample times, skipping
// intervals with a missing end; interval averages (CPU) as the sum of value × interval, which is exact:
// cpu auc_pct_s / 100 equals the CPU seconds the samples saw.
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace lb::runner {

inline constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

struct Sample {
  double t_s = 0;
  double gpu_device_mib = kNotMeasured;
  double gpu_own_mib = kNotMeasured;
  double cpu_pct = kNotMeasured;
  double rss_mib = kNotMeasured;
  int32_t procs = 0;
  double sys_cpu_pct = kNotMeasured;
  double sys_ram_mib = kNotMeasured;
};

struct SeriesFigures {
  std::optional<double> max, auc;
};

struct SampleFigures {
  SeriesFigures gpu_device, gpu_own, cpu, rss, sys_cpu, sys_ram;
};

// Maximum and trapezoid area of one instantaneous quantity; samples with a NaN value are skipped.
SeriesFigures instantaneous_figures(const std::vector<Sample>& s, double Sample::*field);
// Maximum and exact area of an interval-average quantity (value at i covers (t[i-1], t[i]]).
SeriesFigures interval_figures(const std::vector<Sample>& s, double Sample::*field);
SampleFigures summarize(const std::vector<Sample>& samples);

void write_samples_csv(std::ostream& out, const std::vector<Sample>& samples);
// Atomic: written beside, then renamed.
void write_samples_file(const std::string& path, const std::vector<Sample>& samples);
// Throws std::runtime_error naming the file and line when the file is not a samples CSV.
std::vector<Sample> read_samples_csv(const std::string& path);

}  // namespace lb::runner
