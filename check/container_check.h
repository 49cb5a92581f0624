#pragma once
// `lesionbench check --image`: a dry run of a team's container as the organisers run it, before it is
// handed in. It reuses the runner: the ContainerLauncher (same flags as `run`) and the Scheduler (FLARE's
// per-case protocol: fresh inputs/outputs folders, one launch per case, measured, time limit), on a sample
// of the cases; then the prediction check (prediction_check.h) on what the sample wrote. One verdict per
// contract rule, informational figures, and the list of ways lesionbench's run is stricter than the
// organisers' published command, so a team can tell whose rule a failure comes from.
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "check/prediction_check.h"
#include "runner/container_launcher.h"
#include "runner/nvml.h"
#include "runner/record.h"

namespace lb::check {

struct ContainerCheckSettings {
  runner::ContainerSettings container;  // image or image_archive, engine and limits, as `run` takes them
  std::filesystem::path cases_dir;
  std::filesystem::path work_dir;       // the dry run's team folder goes here (records, logs, predictions)
  size_t sample = 3;                    // cases run, spread evenly over the sorted list; 0: all
  std::optional<int> gpu_index;
  double timeout_s = 600;               // per case, as `run`
  double probe_timeout_s = 120;         // for the /bin/bash probe
  double sample_ms = 100;
  bool geometry_strict = true;
  const std::atomic<bool>* stop = nullptr;  // Ctrl-C: the case in flight is killed, the image cleaned up
};

enum class Verdict { pass, fail, not_checked };
const char* verdict_name(Verdict v);  // "pass", "fail", "not checked"

struct RuleVerdict {
  std::string rule;    // e.g. "the image loads"
  Verdict verdict = Verdict::not_checked;
  std::string detail;  // what was seen; for a failure, what to fix
};

struct InfoItem {
  std::string name, value;
};

struct ContainerCheck {
  std::vector<std::string> sample;             // case names run
  std::vector<RuleVerdict> rules;
  std::vector<InfoItem> info;                  // image size, start-up time, engine: not verdicts
  std::vector<std::string> stricter;           // where lesionbench's run is stricter than the organisers' command
  std::vector<runner::RunRecord> records;      // one per sampled case
  std::optional<PredictionCheck> predictions;  // the prediction check of what the sample wrote
  std::vector<std::string> notes;              // launcher clean-up
  bool interrupted = false;                    // stopped by `stop`: the verdicts are incomplete
  bool passed() const;
  std::string verdict_text() const;            // "would pass" or "would fail: <rules>"
};

// Cases spread evenly over `n` sorted cases, `k` of them (all when k is 0 or >= n); indices, ascending.
std::vector<size_t> pick_sample(size_t n, size_t k);

// Where `run_argv` (the launcher's real command line) is stricter than the organisers' published command
// (`docker container run --shm-size=28gb -m 28G --gpus=... -v inputs -v outputs IMAGE /bin/bash -c "sh predict.sh"`).
std::vector<std::string> stricter_than_organisers(const std::vector<std::string>& run_argv);

// Throws CheckUnusable when the cases cannot be used; everything about the container is a verdict.
ContainerCheck check_container(const ContainerCheckSettings& settings, std::shared_ptr<runner::Nvml> nvml);

nlohmann::json to_json(const ContainerCheck& check);
std::string format_report(const ContainerCheck& check);

}  // namespace lb::check
