// efficiency.csv; see efficiency.h.
#include "runner/efficiency.h"

#include <charconv>
#include <cmath>
#include <ostream>
#include <sstream>

#include "runner/util.h"

namespace lb::runner {

std::string efficiency_number(double x, int decimals) {
  if (!std::isfinite(x)) return {};
  const double scale = std::pow(10.0, decimals);
  // numpy rounds half to even (np.round); so does nearbyint in the default rounding mode.
  double r = std::nearbyint(x * scale) / scale;
  if (r == 0) r = 0;  // no "-0"
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, r);
  return std::string(buf, res.ptr);
}

namespace {
std::string cell(const std::optional<double>& v, int decimals) { return v ? efficiency_number(*v, decimals) : ""; }
}  // namespace

void write_efficiency_csv(std::ostream& out, const std::vector<RunRecord>& records, EfficiencyView view) {
  out << "Name,Time,MaxGPU_Mem,AUC_GPU_Time,MaxCPU_Utilization,AUC_CPU_Time,MaxRAM,AUC_RAM_Time\n";
  bool batch_written = false;
  for (const auto& r : records) {
    if (r.status == RunStatus::launch_error) continue;
    std::string name = r.image.empty() ? r.case_name + "_0000.nii.gz" : r.image;
    if (r.mode == "batch") {
      // Every case of a batch carries the same whole-launch figures: one row.
      if (batch_written) continue;
      batch_written = true;
      name = "batch";
    }
    // Beside other launches the machine's CPU and RAM are everyone's: the flare view then shows the
    // launch's own (the record says so in placement.cpu_ram_scope).
    const bool flare = view == EfficiencyView::flare;
    const bool system_cpu_ram = flare && !(r.placement && r.placement->cpu_ram_scope == "own");
    out << name << ',' << efficiency_number(r.wall_s, 2) << ','
        << cell(flare ? r.gpu.device_max_mib : r.gpu.own_max_mib, 0) << ','
        << cell(flare ? r.gpu.device_auc_mib_s : r.gpu.own_auc_mib_s, 0) << ','
        << cell(system_cpu_ram ? r.system.cpu_max_pct : r.cpu.max_pct, 2) << ','
        << cell(system_cpu_ram ? r.system.cpu_auc_pct_s : r.cpu.auc_pct_s, 2) << ','
        << cell(system_cpu_ram ? r.system.ram_max_mib : r.ram.max_mib, 2) << ','
        << cell(system_cpu_ram ? r.system.ram_auc_mib_s : r.ram.auc_mib_s, 0) << "\n";
  }
}

void write_efficiency_file(const std::string& path, const std::vector<RunRecord>& records, EfficiencyView view) {
  std::ostringstream text;
  write_efficiency_csv(text, records, view);
  // Rebuilt from records.jsonl after every case: no need to wait for the disk.
  write_file_atomic(path, text.str(), /*durable=*/false);
}

}  // namespace lb::runner
