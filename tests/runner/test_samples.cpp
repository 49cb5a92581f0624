// Sample figures (maxima, areas) against analytic values; the samples CSV; efficiency.csv rounding and rows.
#include <catch2/catch.hpp>
#include <sstream>

#include "runner/efficiency.h"
#include "runner/samples.h"
#include "tests/support/test_support.h"

using namespace lb::runner;

namespace {
Sample at(double t, double rss, double cpu = kNotMeasured) {
  Sample s;
  s.t_s = t;
  s.rss_mib = rss;
  s.cpu_pct = cpu;
  return s;
}
}  // namespace

TEST_CASE("trapezoid area over uneven sample times equals the integral of a piecewise-linear curve", "[samples]") {
  // rss(t) = 100 t on [0, 2] sampled at uneven times: the area is exactly 200 MiB*s, the maximum 200.
  const std::vector<Sample> s = {at(0, 0), at(0.3, 30), at(1.1, 110), at(1.15, 115), at(2.0, 200)};
  const SeriesFigures f = instantaneous_figures(s, &Sample::rss_mib);
  REQUIRE(f.max);
  CHECK(*f.max == Approx(200));
  CHECK(*f.auc == Approx(200).epsilon(1e-12));
}

TEST_CASE("a missing sample splits the area: intervals with a missing end are left out", "[samples]") {
  std::vector<Sample> s = {at(0, 10), at(1, 10), at(2, 10), at(3, 10)};
  s[2].rss_mib = kNotMeasured;  // (1,2] and (2,3] have a missing end
  const SeriesFigures f = instantaneous_figures(s, &Sample::rss_mib);
  CHECK(*f.auc == Approx(10.0));
  std::vector<Sample> none = {at(0, kNotMeasured), at(1, kNotMeasured)};
  const SeriesFigures g = instantaneous_figures(none, &Sample::rss_mib);
  CHECK_FALSE(g.max);
  CHECK_FALSE(g.auc);
}

TEST_CASE("CPU area is the sum of interval averages times their length (exact CPU seconds)", "[samples]") {
  // 100% for 0.5 s, then 50% for 1 s, then 200% for 0.25 s: 0.5 + 0.5 + 0.5 = 1.5 CPU seconds = 150 %*s.
  const std::vector<Sample> s = {at(0, 0), at(0.5, 0, 100), at(1.5, 0, 50), at(1.75, 0, 200)};
  const SeriesFigures f = interval_figures(s, &Sample::cpu_pct);
  CHECK(*f.max == Approx(200));
  CHECK(*f.auc == Approx(150));
}

TEST_CASE("samples CSV round-trips, with empty cells for figures not measured", "[samples]") {
  lb::test::TempDir tmp("samples");
  Sample a;
  a.t_s = 0.001;
  a.rss_mib = 3.5;
  a.procs = 2;
  a.sys_ram_mib = 500.25;
  Sample b = a;
  b.t_s = 0.101;
  b.cpu_pct = 99.5;
  b.gpu_device_mib = 2048.5;
  b.gpu_own_mib = 1500;
  b.sys_cpu_pct = 51.2;
  write_samples_file(tmp / "s.csv", {a, b});
  const std::string text = lb::test::read_text(tmp / "s.csv");
  CHECK(text.rfind("t_s,gpu_device_mib,gpu_own_mib,cpu_pct,rss_mib,procs,sys_cpu_pct,sys_ram_mib\n", 0) == 0);
  CHECK(text.find("0.001,,,,3.5,2,,500.2") != std::string::npos);  // 500.25 printed with one decimal
  const auto back = read_samples_csv(tmp / "s.csv");
  REQUIRE(back.size() == 2);
  CHECK(std::isnan(back[0].gpu_device_mib));
  CHECK(std::isnan(back[0].cpu_pct));
  CHECK(back[1].gpu_own_mib == 1500);
  CHECK(back[1].cpu_pct == Approx(99.5));
  CHECK(back[1].procs == 2);
  lb::test::run_command("printf 'a,b\\n1,2\\n' > " + lb::test::shell_quote(tmp / "bad.csv"));
  CHECK_THROWS_WITH(read_samples_csv(tmp / "bad.csv"), Catch::Contains("not a lesionbench samples file"));
}

// Expected values are numpy 1.24's np.round (the organisers' rounding), printed without a trailing ".0".
TEST_CASE("efficiency numbers round as numpy does (half to even after scaling) and print shortest", "[efficiency]") {
  CHECK(efficiency_number(12.345678, 2) == "12.35");
  CHECK(efficiency_number(0.125, 2) == "0.12");    // exact binary half: to even
  CHECK(efficiency_number(0.375, 2) == "0.38");
  CHECK(efficiency_number(2.675, 2) == "2.68");    // 2.675 * 100 rounds to 267.5 in binary, then to even
  CHECK(efficiency_number(2048.4, 0) == "2048");
  CHECK(efficiency_number(2048.5, 0) == "2048");   // half to even
  CHECK(efficiency_number(2049.5, 0) == "2050");
  CHECK(efficiency_number(-0.001, 2) == "0");
}

TEST_CASE("efficiency.csv: official columns, FLARE's device-wide view and the contestant's own view", "[efficiency]") {
  RunRecord a;
  a.case_name = "C1";
  a.image = "C1_0000.nii.gz";
  a.status = RunStatus::ok;
  a.wall_s = 12.3456;
  a.gpu.device_max_mib = 3000.4;
  a.gpu.device_auc_mib_s = 25000.6;
  a.gpu.own_max_mib = 2500;
  a.gpu.own_auc_mib_s = 20000;
  a.system.cpu_max_pct = 87.654;
  a.system.cpu_auc_pct_s = 500.001;
  a.system.ram_max_mib = 4096.123;
  a.system.ram_auc_mib_s = 40000.4;
  a.cpu.max_pct = 199.99;
  a.cpu.auc_pct_s = 1000;
  a.ram.max_mib = 1024.555;
  a.ram.auc_mib_s = 9000.5;
  RunRecord failed = a;
  failed.case_name = "C2";
  failed.image = "C2_0000.nii.gz";
  failed.status = RunStatus::launch_error;
  RunRecord nogpu;
  nogpu.case_name = "C3";
  nogpu.image = "C3_0000.nii.gz";
  nogpu.status = RunStatus::timeout;
  nogpu.wall_s = 600.004;
  std::ostringstream flare, own;
  write_efficiency_csv(flare, {a, failed, nogpu}, EfficiencyView::flare);
  write_efficiency_csv(own, {a, failed, nogpu}, EfficiencyView::own);
  CHECK(flare.str() ==
        "Name,Time,MaxGPU_Mem,AUC_GPU_Time,MaxCPU_Utilization,AUC_CPU_Time,MaxRAM,AUC_RAM_Time\n"
        "C1_0000.nii.gz,12.35,3000,25001,87.65,500,4096.12,40000\n"
        "C3_0000.nii.gz,600,,,,,,\n");
  CHECK(own.str() ==
        "Name,Time,MaxGPU_Mem,AUC_GPU_Time,MaxCPU_Utilization,AUC_CPU_Time,MaxRAM,AUC_RAM_Time\n"
        "C1_0000.nii.gz,12.35,2500,20000,199.99,1000,1024.56,9000\n"
        "C3_0000.nii.gz,600,,,,,,\n");
}

TEST_CASE("efficiency.csv of a batch run has one row for the whole launch", "[efficiency]") {
  RunRecord a;
  a.case_name = "C1";
  a.image = "C1_0000.nii.gz";
  a.mode = "batch";
  a.status = RunStatus::ok;
  a.wall_s = 30;
  RunRecord b = a;
  b.case_name = "C2";
  std::ostringstream out;
  write_efficiency_csv(out, {a, b}, EfficiencyView::flare);
  CHECK(out.str() ==
        "Name,Time,MaxGPU_Mem,AUC_GPU_Time,MaxCPU_Utilization,AUC_CPU_Time,MaxRAM,AUC_RAM_Time\nbatch,30,,,,,,\n");
}
