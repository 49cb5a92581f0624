// Team folders for the report and compare tests (see report_fixtures.h).
#include "tests/reports/report_fixtures.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "metrics/nifti.h"
#include "runner/record.h"

namespace fs = std::filesystem;

namespace lb::test {

namespace {

using Volume = std::vector<uint8_t>;

// One 6-neighbour step of dilation (grow) or erosion (shrink).
Volume morph(const Volume& v, const std::array<int64_t, 3>& d, bool grow) {
  Volume out = v;
  auto at = [&](int64_t i, int64_t j, int64_t k) -> uint8_t {
    if (i < 0 || j < 0 || k < 0 || i >= d[0] || j >= d[1] || k >= d[2]) return 0;
    return v[static_cast<size_t>(i + d[0] * (j + d[1] * k))];
  };
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) {
        const int n = at(i - 1, j, k) + at(i + 1, j, k) + at(i, j - 1, k) + at(i, j + 1, k) + at(i, j, k - 1) + at(i, j, k + 1);
        uint8_t& o = out[static_cast<size_t>(i + d[0] * (j + d[1] * k))];
        if (grow && n > 0) o = 1;
        if (!grow && n < 6) o = 0;
      }
  return out;
}

Volume shift(const Volume& v, const std::array<int64_t, 3>& d, int64_t di) {
  Volume out(v.size(), 0);
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) {
        const int64_t s = i - di;
        if (s >= 0 && s < d[0]) out[static_cast<size_t>(i + d[0] * (j + d[1] * k))] = v[static_cast<size_t>(s + d[0] * (j + d[1] * k))];
      }
  return out;
}

void write_text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

// A record and a sample series for one case, with made-up but consistent figures.
void add_run(const fs::path& team, const std::string& name, const std::string& key, double wall_s, double peak_mib,
             runner::RunStatus status, std::string& records, std::string& efficiency) {
  runner::RunRecord r;
  r.case_name = key;
  r.image = key + "_0000.nii.gz";
  r.status = status;
  r.message = status == runner::RunStatus::ok ? "" : "killed after 120 s (time limit)";
  r.exit_code = status == runner::RunStatus::ok ? std::optional<int>(0) : std::optional<int>(137);
  r.wall_s = wall_s;
  r.output_s = wall_s - 1.5;
  if (status == runner::RunStatus::ok) r.prediction = "predictions/" + key + ".nii.gz";
  r.timeout_s = 120;
  r.started_at = "2026-11-26T20:13:10.123Z";
  r.gpu.available = true;
  r.gpu.index = 0;
  r.gpu.name = "NVIDIA H100 80GB HBM3";
  r.gpu.driver = "580.65.06";
  r.gpu.total_mib = 81559;
  r.gpu.own_available = true;
  r.provenance.contestant = name;
  r.provenance.kind = "command";
  r.provenance.command = "predict {inputs} {outputs}";
  r.provenance.host = "test";
  r.files.samples = "samples/" + key + ".csv";
  r.files.stdout_log = "logs/" + key + ".stdout.txt";
  r.files.stderr_log = "logs/" + key + ".stderr.txt";
  // Samples every 0.5 s: 480 MiB of driver reserve, then a ramp to the peak while the model loads.
  std::string csv = "t_s,gpu_device_mib,gpu_own_mib,cpu_pct,rss_mib,procs,sys_cpu_pct,sys_ram_mib\n";
  double max_dev = 0, auc_dev = 0, max_own = 0, auc_own = 0, prev_t = 0, prev_dev = 0, prev_own = 0;
  const int n = static_cast<int>(wall_s / 0.5);
  for (int i = 0; i <= n; ++i) {
    const double t = i * 0.5;
    const double phase = std::min(1.0, t / (0.3 * wall_s));
    // Rounded as the file holds it, so that the record's figures are those of the file.
    const double own = std::round(phase * (peak_mib - 480) * (i % 7 == 0 ? 0.95 : 1.0) * 10) / 10;
    const double dev = 480 + own;
    char line[160];
    std::snprintf(line, sizeof line, "%.3f,%.1f,%.1f,%s,%.1f,3,%.1f,%.1f\n", t, dev, own, i ? "95.0" : "", 900.0 + own / 10,
                  47.5, 12000.0);
    csv += line;
    if (i) {
      auc_dev += 0.5 * (dev + prev_dev) * (t - prev_t);
      auc_own += 0.5 * (own + prev_own) * (t - prev_t);
    }
    max_dev = std::max(max_dev, dev), max_own = std::max(max_own, own);
    prev_t = t, prev_dev = dev, prev_own = own;
  }
  write_text(team / r.files.samples, csv);
  r.gpu.device_max_mib = max_dev;
  r.gpu.device_auc_mib_s = auc_dev;
  r.gpu.own_max_mib = max_own;
  r.gpu.own_auc_mib_s = auc_own;
  r.cpu.max_pct = 95;
  r.cpu.auc_pct_s = 95 * wall_s;
  r.ram.max_mib = 900 + max_own / 10;
  r.sampler.interval_ms = 500;
  r.sampler.samples = n + 1;
  records += nlohmann::json(r).dump() + "\n";
  char row[200];
  std::snprintf(row, sizeof row, "%s_0000.nii.gz,%.2f,%.0f,%.0f,47.5,%.2f,%.2f,%.0f\n", key.c_str(), wall_s, max_dev, auc_dev,
                47.5 * wall_s, 12000.0, 12000.0 * wall_s);
  efficiency += row;
}

}  // namespace

std::optional<ReportFixture> make_report_fixture(const TempDir& dir, size_t n_cases) {
  const auto sts = shared_path("data/sts-ct");
  if (!sts) return std::nullopt;
  ReportFixture f;
  f.cases_dir = dir / "images";
  f.gt_dir = dir / "gt";
  fs::create_directories(f.gt_dir);
  fs::create_directories(f.cases_dir);
  std::vector<fs::path> labels;
  for (const auto& e : fs::directory_iterator(*sts / "labels")) labels.push_back(e.path());
  std::sort(labels.begin(), labels.end());
  labels.resize(std::min(labels.size(), n_cases));
  // One healthy case as well: the first case's CT under another name, with an empty ground truth.
  labels.push_back(fs::path("HEALTHY"));
  f.alpha = dir / "alpha";
  f.bravo = dir / "bravo";
  f.charlie = dir / "charlie";
  std::string rec_a, rec_b, eff_a = "Name,Time,MaxGPU_Mem,AUC_GPU_Time,MaxCPU_Utilization,AUC_CPU_Time,MaxRAM,AUC_RAM_Time\n";
  std::string eff_b = eff_a;
  const size_t n_tumours = labels.size() - 1;
  for (size_t c = 0; c < labels.size(); ++c) {
    const bool healthy = c == n_tumours;
    const fs::path label = healthy ? labels[0] : labels[c];
    const std::string source_key = label.filename().string().substr(0, label.filename().string().size() - 7);
    const std::string key = healthy ? "STS_999" : source_key;
    const std::string file = key + ".nii.gz";
    f.cases.push_back(key);
    fs::create_symlink(*sts / "images" / (source_key + "_0000.nii.gz"), fs::path(f.cases_dir) / (key + "_0000.nii.gz"));
    const nifti::Image img = nifti::read_image(label.string());
    const auto d = img.header.dims3();
    Volume gt(img.data.begin(), img.data.end());
    if (healthy) std::fill(gt.begin(), gt.end(), 0);
    const nifti::Header h = nifti::header_like(img.header, nifti::kUInt8);
    nifti::write_image((fs::path(f.gt_dir) / file).string(), h, gt.data());
    auto write = [&](const std::string& team, const Volume& v) {
      fs::create_directories(fs::path(team) / "predictions");
      nifti::write_image((fs::path(team) / "predictions" / file).string(), h, v.data());
    };
    // alpha: one voxel too big everywhere (close to the truth), fast.
    write(f.alpha, morph(gt, d, true));
    add_run(f.alpha, "alpha", key, 20 + 2.0 * c, 6000 + 300 * c, runner::RunStatus::ok, rec_a, eff_a);
    // bravo: shifted by 6 voxels; its last tumour case timed out and left no prediction.
    const bool timed_out = c + 1 == n_tumours;
    if (!timed_out) write(f.bravo, shift(gt, d, 6));
    add_run(f.bravo, "bravo", key, timed_out ? 120 : 45 + 3.0 * c, 9000 + 500 * c,
            timed_out ? runner::RunStatus::timeout : runner::RunStatus::ok, rec_b, eff_b);
    // charlie (predictions made elsewhere, never scored): eroded twice; the first case predicted empty,
    // the second and the healthy one with a false-positive block far from the tumour.
    Volume ch = morph(morph(gt, d, false), d, false);
    if (c == 0) std::fill(ch.begin(), ch.end(), 0);
    if (c == 1 || healthy)
      for (int64_t k = 0; k < 4; ++k)
        for (int64_t j = 0; j < 6; ++j)
          for (int64_t i = 0; i < 6; ++i) ch[static_cast<size_t>(i + d[0] * (j + d[1] * k))] = 1;
    write(f.charlie, ch);
  }
  write_text(fs::path(f.alpha) / "records.jsonl", rec_a);
  write_text(fs::path(f.bravo) / "records.jsonl", rec_b);
  write_text(fs::path(f.alpha) / "efficiency.csv", eff_a);
  write_text(fs::path(f.bravo) / "efficiency.csv", eff_b);
  for (const auto& team : {f.alpha, f.bravo}) {
    const auto r = run_cli("score --gt " + shell_quote(f.gt_dir) + " --pred " + shell_quote(team + "/predictions") +
                           " --json " + shell_quote(team + "/scores.json") + " --lesion-wise --quiet");
    if (r.exit_code != 0) throw std::runtime_error("score failed: " + r.err);
  }
  return f;
}

std::string schema_validator_missing() {
  if (run_command("command -v node").exit_code != 0) return "node is not installed (scripts/setup.sh installs it)";
  if (!fs::exists(fs::path(LB_SOURCE_DIR) / "reports/web/node_modules/ajv"))
    return "reports/web/node_modules has no ajv (scripts/setup.sh runs npm ci there)";
  return "";
}

CommandResult validate_json(const std::string& schema, const std::vector<std::string>& files) {
  std::string cmd = "node " + shell_quote(std::string(LB_SOURCE_DIR) + "/reports/web/validate.mjs") + " " +
                    shell_quote(std::string(LB_SOURCE_DIR) + "/schemas/" + schema);
  for (const auto& f : files) cmd += " " + shell_quote(f);
  return run_command(cmd);
}

}  // namespace lb::test
