// lesionbench check: before uploading (a folder of predictions) or handing in (a container), would the
// organisers accept it? Thin wiring over check/ (prediction_check, zip_archive, container_check).
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "check/container_check.h"
#include "check/prediction_check.h"
#include "check/zip_archive.h"
#include "args/args.h"
#include "cli/commands.h"
#include "runner/contestant.h"
#include "runner/util.h"

namespace fs = std::filesystem;

namespace lb::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_check_stop(int) { g_stop.store(true); }

// Ctrl-C during a dry run: the container in flight is killed and an image loaded from an archive removed;
// a second Ctrl-C ends lesionbench at once (SA_RESETHAND).
void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_check_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

struct Options {
  std::string cases_dir, pred_dir, zip, json, geometry = "strict";
  std::string image, image_archive, engine = "auto", gpu = "auto", work_dir, memory = "28g", shm_size = "28g";
  std::vector<std::string> engine_args;
  int sample = 3;
  double timeout_s = 600;
  bool quiet = false;
};

void write_json(const std::string& path, const nlohmann::json& j) {
  runner::write_file_atomic(path, j.dump(2) + "\n");
}

std::optional<int> resolve_gpu(const std::string& gpu, const runner::Nvml& nvml) {
  if (gpu == "none") return std::nullopt;
  if (gpu == "auto") return nvml.available() && nvml.device_count() > 0 ? std::optional<int>(0) : std::nullopt;
  try {
    size_t used = 0;
    const int idx = std::stoi(gpu, &used);
    if (used == gpu.size() && idx >= 0) return idx;
  } catch (const std::exception&) {
  }
  throw UsageError("--gpu must be auto, none or a device index, not '" + gpu + "'");
}

int check_predictions_cmd(const Options& o) {
  check::PredictionCheckSettings s;
  s.cases_dir = o.cases_dir;
  s.pred_dir = o.pred_dir;
  s.geometry_strict = o.geometry == "strict";
  check::PredictionCheck r;
  try {
    r = check::check_predictions(s);
  } catch (const check::CheckUnusable& e) {
    std::cerr << "lesionbench check: " << e.what() << "\n";
    return 2;
  }
  std::cout << format_table(r, !o.quiet);
  nlohmann::json j = check::to_json(r);
  int code = r.passed() ? 0 : 1;
  if (!o.zip.empty()) {
    if (!r.passed()) {
      std::cout << "no archive written: the check failed (" << o.zip << " left as it was)\n";
      j["zip"] = {{"path", o.zip}, {"written", false}, {"reason", "the check failed"}};
    } else {
      std::vector<check::ZipEntry> entries;
      for (const auto& f : r.archive_files()) entries.push_back({f, s.pred_dir / f});
      const std::string err = check::write_and_verify_zip(o.zip, entries);
      if (err.empty()) {
        std::cout << "wrote " << o.zip << ": " << entries.size()
                  << " prediction(s) at the archive's root, read back and compared byte for byte\n";
        j["zip"] = {{"path", o.zip}, {"written", true}, {"files", entries.size()}};
      } else {
        std::cerr << "lesionbench check: " << err << "\n";
        j["zip"] = {{"path", o.zip}, {"written", false}, {"reason", err}};
        code = 2;
      }
    }
  }
  if (!o.json.empty()) write_json(o.json, j);
  return code;
}

int check_container_cmd(const Options& o) {
  check::ContainerCheckSettings s;
  s.container.engine = o.engine;
  s.container.image = o.image;
  s.container.image_archive = o.image_archive;
  s.container.engine_args = o.engine_args;
  s.container.memory = o.memory;
  s.container.shm_size = o.shm_size;
  s.cases_dir = o.cases_dir;
  s.sample = static_cast<size_t>(o.sample);
  s.timeout_s = o.timeout_s;
  s.geometry_strict = o.geometry == "strict";
  s.stop = &g_stop;
  install_stop_handler();
  const auto nvml = runner::Nvml::load();
  s.gpu_index = resolve_gpu(o.gpu, *nvml);
  std::optional<fs::path> scratch;
  if (o.work_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "lesionbench-check-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      std::cerr << "lesionbench check: cannot create a scratch folder in " << fs::temp_directory_path() << "\n";
      return 2;
    }
    scratch = tmpl;
    s.work_dir = tmpl;
  } else {
    s.work_dir = o.work_dir;
  }
  std::cout << "dry run of " << (o.image.empty() ? o.image_archive : o.image) << " on " << (o.sample ? std::to_string(o.sample) : "all")
            << " case(s) of " << o.cases_dir << ", GPU " << (s.gpu_index ? std::to_string(*s.gpu_index) : "none")
            << ", time limit " << o.timeout_s << " s per case\n";
  std::cout.flush();
  check::ContainerCheck c;
  try {
    c = check::check_container(s, nvml);
  } catch (const check::CheckUnusable& e) {
    std::cerr << "lesionbench check: " << e.what() << "\n";
    if (scratch) fs::remove_all(*scratch);
    return 2;
  }
  std::cout << format_report(c);
  if (scratch) {
    std::error_code ec;
    fs::remove_all(*scratch, ec);
  } else {
    std::cout << "logs, records and predictions of the dry run: " << (s.work_dir / "dry-run").string() << "\n";
  }
  if (!o.json.empty()) write_json(o.json, check::to_json(c));
  if (c.interrupted) return 130;
  return c.passed() ? 0 : 1;
}

}  // namespace

int cmd_check(int argc, char** argv) {
  Options o;
  Args args("check",
            "lesionbench check --cases CASES_DIR --pred PRED_DIR [--zip submission.zip] [--json check.json]\n"
            "                  [--geometry strict|warn]\n"
            "       lesionbench check --image IMAGE | --image-archive team.tar.gz --cases CASES_DIR [--sample 3]\n"
            "                  [--gpu N] [--json check.json]",
            "Before uploading or handing in: would the organisers accept it?\n"
            "With --pred: for every <Case>_0000.nii.gz in CASES_DIR, <Case>.nii.gz in PRED_DIR must be a\n"
            "gzip-compressed 3-D NIfTI holding only 0 and 1, on its image's grid (shape, spacing, origin,\n"
            "direction, with the tolerances of `score`). Extra and misnamed files are named with a suggestion.\n"
            "--zip writes the upload archive (the predictions at its root) only when the check passes.\n"
            "With --image or --image-archive: a dry run of `lesionbench run`'s per-case protocol on a sample of\n"
            "cases, measured, then the check above on its outputs, with one verdict per contract rule.");
  args.option("--cases", "DIR", "input images, <case>_0000.nii.gz", &o.cases_dir, true)
      .option("--pred", "DIR", "predictions to check, <case>.nii.gz", &o.pred_dir)
      .option("--zip", "FILE", "write the upload archive here when the check passes (with --pred)", &o.zip)
      .option("--json", "FILE", "write the findings as JSON (schemas/check.schema.json)", &o.json)
      .choice("--geometry", {"strict", "warn"},
              "a grid that differs from the image's: an error (strict, default) or a warning", &o.geometry)
      .option("--image", "IMAGE", "a container image following the FLARE contract (predict.sh)", &o.image)
      .option("--image-archive", "FILE", "a `docker save` archive, loaded first and removed after", &o.image_archive)
      .option("--sample", "N", "cases to run the container on, spread over the list (default 3; 0: all)", &o.sample)
      .option("--gpu", "auto|none|N", "GPU to give and to measure (default auto)", &o.gpu)
      .option("--timeout-s", "S", "time limit per case (default 600, as run)", &o.timeout_s)
      .choice("--engine", {"auto", "docker", "podman"}, "container engine (default auto)", &o.engine)
      .repeated("--engine-arg", "ARG", "extra argument for `ENGINE run` (repeatable)", &o.engine_args)
      .option("--memory", "SIZE", "container memory limit, -m (default 28g, the organisers')", &o.memory)
      .option("--shm-size", "SIZE", "container shared memory (default 28g, the organisers')", &o.shm_size)
      .option("--work-dir", "DIR", "keep the dry run's records, logs and outputs here (default: a scratch folder, removed)",
              &o.work_dir)
      .flag("--quiet", "list only the cases with findings", &o.quiet)
      .epilog(
          "Examples:\n"
          "  lesionbench check --cases imagesVal/ --pred my-predictions/ --zip submission.zip\n"
          "  lesionbench check --image-archive teamname.tar.gz --cases imagesVal/ --sample 3 --gpu 0\n\n"
          "Exit codes: 0 it would be accepted, 1 something would be rejected or scored 0 (each problem named\n"
          "with its file), 2 the check could not run, 130 interrupted.");
  if (!args.parse(argc, argv)) return 0;
  const bool container = !o.image.empty() || !o.image_archive.empty();
  if (!o.image.empty() && !o.image_archive.empty()) throw UsageError("--image and --image-archive exclude each other");
  if (container == !o.pred_dir.empty()) throw UsageError("give --pred DIR, or --image/--image-archive (one of them)");
  if (container && !o.zip.empty()) throw UsageError("--zip goes with --pred");
  if (!container && (args.given("--sample") || args.given("--gpu") || args.given("--work-dir") || args.given("--engine")))
    throw UsageError("--sample, --gpu, --engine and --work-dir go with --image/--image-archive");
  if (o.sample < 0) throw UsageError("--sample must be >= 0");
  if (o.timeout_s < 0) throw UsageError("--timeout-s must be >= 0");
  return container ? check_container_cmd(o) : check_predictions_cmd(o);
}

}  // namespace lb::cli
