// lesionbench-baseline: the reference CPU lesion segmenter (predict, train, threshold-model).
#include <tbb/global_control.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "baseline/cli_common.h"
#include "baseline/cnn_train.h"
#include "baseline/segmenter.h"
#include "baseline/train.h"
#include "args/args.h"

extern const char* const kLbDefaultModelJson;  // default_model_embedded.cpp (generated)
int cmd_train_cnn(int argc, char** argv);          // cmd_train_cnn.cpp: train --method cnn

namespace {

using lb::args::Args;
using lb::args::UsageError;
namespace bl = lb::baseline;
using bl::cli::limit_threads;
using bl::cli::parse_triple;
using bl::cli::patched;

// The model next to the executable (../share/... in an install, baseline/models in the source tree), else
// the copy compiled in (a sandboxed command sees its program, not the folders around it); or --model.
bl::Model default_model() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::canonical("/proc/self/exe", ec);
  std::vector<fs::path> tries;
  if (!ec) {
    tries.push_back(exe.parent_path() / "default.json");
    tries.push_back(exe.parent_path() / "models" / "default.json");
  }
  tries.push_back(fs::path(LB_BASELINE_SOURCE_MODEL));
  for (const auto& p : tries)
    if (fs::exists(p, ec)) return bl::Model::load(p.string());
  return bl::Model::from_json(nlohmann::json::parse(kLbDefaultModelJson));
}

int cmd_predict(int argc, char** argv) {
  std::string input, output, model_path, post, prob_dir, inference;
  int threads = 0;
  Args a("predict", "lesionbench-baseline predict --input DIR --output DIR [--model FILE] [--threads N]",
         "Segments every <Case>_0000.nii.gz of DIR and writes <Case>.nii.gz (uint8 0/1, the input's geometry).");
  a.option("--input", "DIR", "folder of <Case>_0000.nii.gz CT images", &input, true)
      .option("--output", "DIR", "folder for the <Case>.nii.gz masks (created if absent)", &output, true)
      .option("--model", "FILE", "model JSON (default: the model shipped with the program)", &model_path)
      .option("--threads", "N", "worker threads (default 0: all cores)", &threads)
      .option("--postprocess", "JSON", "override post-processing settings of the model, e.g. '{\"threshold\":0.4}'", &post)
      .option("--probability", "DIR", "also write each case's probability map (float32, working grid) here", &prob_dir)
      .option("--inference", "JSON", "CNN models: override the sliding-window settings, e.g. '{\"overlap\":0.25}'\n"
              "(keys patch, overlap, mirror_x; less overlap is faster)", &inference)
      .epilog("Exit codes: 0 every case written; 1 some cases failed (each named with its problem on stderr,\n"
              "the others are written); 2 nothing could run (no input folder, no cases, bad model or options).");
  if (!a.parse(argc, argv)) return 0;
  const auto gc = limit_threads(threads);
  bl::Model m = model_path.empty() ? default_model() : bl::Model::load(model_path);
  m.post = patched(m.post, post, "--postprocess");
  if (!inference.empty()) {
    if (!m.cnn) throw UsageError("--inference applies to CNN models only; this model's method is " + m.method);
    auto c = std::make_shared<bl::cnn::CnnModel>(*m.cnn);
    c->infer = patched(c->infer, inference, "--inference");
    const int64_t factor = int64_t{1} << (c->net.config().channels.size() - 1);
    for (int64_t p : c->infer.patch)
      if (p % factor) throw UsageError("--inference: window dims must be divisible by " + std::to_string(factor));
    m.cnn = std::move(c);
  }
  const auto s = bl::predict_folder(input, output, m, std::cerr, prob_dir);
  std::cerr << "predicted " << s.written << " of " << s.cases << " cases into " << output;
  if (s.failed) std::cerr << "; " << s.failed << " failed:";
  std::cerr << "\n";
  for (const auto& e : s.errors) std::cerr << "  " << e << "\n";
  return s.failed ? 1 : 0;
}

int cmd_train(int argc, char** argv) {
  // --method cnn has options of its own (cmd_train_cnn.cpp).
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--method" && i + 1 < argc && std::string(argv[i + 1]) == "cnn") || a == "--method=cnn")
      return cmd_train_cnn(argc, argv);
  }
  bl::TrainSettings s;
  std::vector<std::string> images, labels;
  std::string model_out, classifier = "gbdt", spacing, feature_patch, context_patch, post_patch, method = "gbdt";
  bool no_tune = false, balance_sources = false;
  int threads = 0, stages = s.stages, trees = s.gbdt.trees, depth = s.gbdt.depth, bins = s.gbdt.bins, folds = s.folds;
  int lesion_n = static_cast<int>(s.lesion_per_case), near_n = static_cast<int>(s.near_per_case),
      far_n = static_cast<int>(s.far_per_case), seed = static_cast<int>(s.seed);
  double lr = s.gbdt.learning_rate, subsample = s.gbdt.subsample, holdout = s.holdout, near_mm = s.near_mm,
         lesion_share = s.lesion_share;
  Args a("train", "lesionbench-baseline train --images DIR --labels DIR [--images DIR --labels DIR ...] --model OUT",
         "Learns a model from <Case>_0000.nii.gz images and <Case>.nii.gz masks (0 background, non-zero lesion).\n"
         "Prints progress and, with --holdout, the DSC of the held-out cases. The same command and seed on the same\n"
         "data give the same model.");
  a.repeated("--images", "DIR", "images folder (repeat with --labels to add sources)", &images)
      .repeated("--labels", "DIR", "masks folder, paired with the --images of the same position", &labels)
      .option("--model", "OUT", "where to write the model JSON", &model_out, true)
      .choice("--method", {"gbdt", "cnn"}, "gbdt: voxel features + a classifier (default, these options);\n"
              "                            cnn: a 3-D U-Net (see train --method cnn --help)", &method)
      .choice("--classifier", {"gbdt", "logistic"}, "gradient-boosted trees (default) or logistic regression", &classifier)
      .option("--stages", "N", "1 (default), or 2 for a second stage on stage-1 context features", &stages)
      .option("--trees", "N", "boosting rounds per stage (default 200)", &trees)
      .option("--depth", "N", "tree depth (default 6)", &depth)
      .option("--learning-rate", "X", "shrinkage (default 0.1)", &lr)
      .option("--subsample", "X", "fraction of rows per tree (default 0.7)", &subsample)
      .option("--bins", "N", "histogram bins per feature, 2..255 (default 64)", &bins)
      .option("--lesion-samples", "N", "training voxels per case inside the lesion (default 5000)", &lesion_n)
      .option("--near-samples", "N", "training voxels per case within --near-mm of the lesion (default 5000)", &near_n)
      .option("--far-samples", "N", "training voxels per case elsewhere (default 5000)", &far_n)
      .option("--near-mm", "MM", "width of the band around the lesion sampled apart (default 10)", &near_mm)
      .option("--lesion-share", "F", "least share of a case's training weight on its lesion voxels (default 0.2; 0: natural)", &lesion_share)
      .flag("--balance-sources", "every source (--images/--labels pair) weighs the same in training and tuning,\n"
                                 "                            shared by its cases (default: every case weighs the same)", &balance_sources)
      .option("--folds", "N", "folds of the out-of-fold maps (stage-2 rows, tuning; default 3)", &folds)
      .option("--holdout", "F", "fraction of cases held out and scored at the end (default 0.2; 0: none)", &holdout)
      .option("--seed", "S", "seed of every random choice (default 1)", &seed)
      .option("--working-spacing", "X,Y,Z", "target spacing in mm of the working grid (default 2,2,3)", &spacing)
      .option("--feature-settings", "JSON", "override feature settings (JSON merge patch)", &feature_patch)
      .option("--context-settings", "JSON", "override stage-2 context settings (JSON merge patch)", &context_patch)
      .option("--postprocess", "JSON", "post-processing settings stored in the model (JSON merge patch)", &post_patch)
      .flag("--no-tune", "keep --postprocess as given; by default threshold, keep_relative_mass and\n"
                         "                            min_volume_ml are chosen on out-of-fold maps of the training cases", &no_tune)
      .option("--threads", "N", "worker threads (default 0: all cores)", &threads)
      .epilog("Example (the shipped model; baseline/models/train-default.sh runs exactly this):\n"
              "  lesionbench synth --out phantoms --cases 40 --seed 1000 --matrix 160\n"
              "  lesionbench-baseline train --images ../shared/data/sts-ct/images --labels ../shared/data/sts-ct/labels \\\n"
              "      --images phantoms/imagesTs --labels phantoms/labelsTs --holdout 0 --seed 1 --model default.json");
  if (!a.parse(argc, argv)) return 0;
  if (images.empty() || images.size() != labels.size())
    throw UsageError("give --images and --labels in pairs (" + std::to_string(images.size()) + " --images, " +
                     std::to_string(labels.size()) + " --labels)");
  if (holdout < 0 || holdout >= 1) throw UsageError("--holdout must be in [0, 1)");
  if (bins < 2 || bins > 255) throw UsageError("--bins must be 2..255");
  if (depth < 1 || depth > 12) throw UsageError("--depth must be 1..12");
  if (trees < 1) throw UsageError("--trees must be at least 1");
  if (stages < 1 || stages > 2) throw UsageError("--stages must be 1 or 2");
  const auto gc = limit_threads(threads);
  for (size_t i = 0; i < images.size(); ++i) s.sources.emplace_back(images[i], labels[i]);
  s.classifier = classifier;
  s.stages = stages;
  s.gbdt.trees = trees;
  s.gbdt.depth = depth;
  s.gbdt.learning_rate = lr;
  s.gbdt.subsample = subsample;
  s.gbdt.bins = bins;
  s.lesion_per_case = lesion_n;
  s.near_per_case = near_n;
  s.far_per_case = far_n;
  s.near_mm = near_mm;
  if (lesion_share < 0 || lesion_share >= 1) throw UsageError("--lesion-share must be in [0, 1)");
  s.lesion_share = lesion_share;
  s.balance_sources = balance_sources;
  s.folds = folds;
  s.holdout = holdout;
  s.seed = static_cast<uint64_t>(seed);
  s.features = patched(s.features, feature_patch, "--feature-settings");
  if (!spacing.empty()) s.features.working_spacing_mm = parse_triple<double>(spacing, "--working-spacing");
  s.context = patched(s.context, context_patch, "--context-settings");
  s.post = patched(s.post, post_patch, "--postprocess");
  s.tune_post = !no_tune;
  std::string cmd = "lesionbench-baseline train";
  for (int i = 0; i < argc; ++i) cmd += std::string(" ") + argv[i];
  s.command_line = cmd;
  const bl::Model m = bl::train_model(s, std::cerr);
  m.save(model_out);
  std::cerr << "model written to " << model_out << "\n";
  return 0;
}

int cmd_threshold_model(int argc, char** argv) {
  std::string out, window = "-20,120", post_patch;
  Args a("threshold-model", "lesionbench-baseline threshold-model --model OUT [--window LO,HI]",
         "Writes a model that needs no training: lesion where the 1 mm-smoothed HU lies in the window, then the\n"
         "usual post-processing. The fixed-threshold reference the trained model must beat.");
  a.option("--model", "OUT", "where to write the model JSON", &out, true)
      .option("--window", "LO,HI", "HU window (default -20,120: soft tissue)", &window)
      .option("--postprocess", "JSON", "post-processing settings (JSON merge patch)", &post_patch);
  if (!a.parse(argc, argv)) return 0;
  bl::Model m;
  m.method = "hu_window";
  const auto comma = window.find(',');
  try {
    if (comma == std::string::npos) throw std::invalid_argument("");
    m.hu_window = {std::stod(window.substr(0, comma)), std::stod(window.substr(comma + 1))};
  } catch (const std::exception&) {
    throw UsageError("--window needs LO,HI in HU, e.g. -20,120");
  }
  m.post = patched(m.post, post_patch, "--postprocess");
  m.provenance = {{"command", "lesionbench-baseline threshold-model --window " + window +
                                  (post_patch.empty() ? "" : " --postprocess '" + post_patch + "'")}};
  m.save(out);
  std::cerr << "model written to " << out << "\n";
  return 0;
}

void usage(std::ostream& out) {
  out << "Usage: lesionbench-baseline <command> [options]\n\n"
         "The reference CPU lesion segmenter of lesionbench (voxel features + gradient-boosted trees; train\n"
         "--method cnn trains a 3-D U-Net instead).\n\n"
         "Commands:\n"
         "  predict          segment a folder of <Case>_0000.nii.gz images\n"
         "  train            learn a model from images and masks\n"
         "  threshold-model  write the fixed HU-window reference model\n\n"
         "  lesionbench-baseline <command> --help   options of one command\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage(std::cout);
    return 0;
  }
  int (*run)(int, char**) = cmd == "predict" ? cmd_predict
                            : cmd == "train" ? cmd_train
                            : cmd == "threshold-model" ? cmd_threshold_model
                                                       : nullptr;
  if (!run) {
    std::cerr << "lesionbench-baseline: unknown command '" << cmd << "'\n\n";
    usage(std::cerr);
    return 2;
  }
  try {
    return run(argc - 2, argv + 2);
  } catch (const UsageError& e) {
    std::cerr << "lesionbench-baseline " << cmd << ": " << e.what() << "\nTry 'lesionbench-baseline " << cmd
              << " --help'.\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "lesionbench-baseline " << cmd << ": error: " << e.what() << "\n";
    return 2;
  }
}
