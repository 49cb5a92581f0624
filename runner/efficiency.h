#pragma once
// efficiency.csv in the organisers' format, from run records:
//   Name,Time,MaxGPU_Mem,AUC_GPU_Time,MaxCPU_Utilization,AUC_CPU_Time,MaxRAM,AUC_RAM_Time
// Name is the input file name (<case>_0000.nii.gz); values are rounded as the organisers round them
// (Time, CPU and MaxRAM to 2 decimals; GPU and AUC_RAM_Time to whole numbers).
//
// Two views of the same runs:
//  - flare (efficiency.csv): what FLARE measures — GPU memory of the whole device (total − free),
//    system-wide CPU (100 = every core) and system-wide used RAM; for a launch that ran beside others
//    (placement.cpu_ram_scope "own", runner/slots.h) its own CPU (100 = one core) and RAM instead;
//  - own (efficiency-own.csv): the contestant alone — its processes' GPU memory, its process tree's CPU
//    (100 = one core) and resident memory.
// AUCs integrate over the real sample times (FLARE multiplies the sum of the samples by 0.1 s).
// Cases that could not be launched (launch_error) are left out: they ran for no time. A figure that was
// not measured (no GPU) is an empty cell. A batch run is timed as a whole: one row named "batch".
#include <iosfwd>
#include <string>
#include <vector>

#include "runner/record.h"

namespace lb::runner {

enum class EfficiencyView { flare, own };

void write_efficiency_csv(std::ostream& out, const std::vector<RunRecord>& records, EfficiencyView view);
void write_efficiency_file(const std::string& path, const std::vector<RunRecord>& records, EfficiencyView view);

// A number as Python prints the organisers' rounded values: round(x, decimals), shortest form ("12.3", "2048").
std::string efficiency_number(double x, int decimals);

}  // namespace lb::runner
