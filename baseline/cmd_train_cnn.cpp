// lesionbench-baseline train --method cnn: the 3-D U-Net's options (train_cnn.h).
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "args/args.h"
#include "baseline/cli_common.h"
#include "baseline/train_cnn.h"

int cmd_train_cnn(int argc, char** argv) {
  namespace bl = lb::baseline;
  using lb::args::Args;
  using lb::args::UsageError;
  bl::CnnRunSettings s;
  auto& t = s.train;
  std::vector<std::string> images, labels;
  std::string model_out, method, channels, patch, spacing, post_patch, checkpoint, resume;
  int threads = 0, seed = static_cast<int>(t.seed), batch = t.batch, iterations = static_cast<int>(t.iterations),
      checkpoint_every = static_cast<int>(t.checkpoint_every), validate_every = 200,
      progress_every = static_cast<int>(t.progress_every);
  double lr = t.lr, lesion_fraction = t.lesion_fraction, overlap = t.infer.overlap, holdout = s.holdout,
         rotation_deg = t.rotation_deg, augment_share = t.rotation_share;
  std::string zoom;
  bool mirror = false, no_mirror = false, no_flips = false;
  Args a("train --method cnn",
         "lesionbench-baseline train --method cnn --images DIR --labels DIR [--images DIR --labels DIR ...] --model OUT",
         "Trains the 3-D U-Net on <Case>_0000.nii.gz images and <Case>.nii.gz masks, on the working grid (block means\n"
         "towards 2 x 2 x 3 mm): patches centred on lesions for --lesion-fraction of the draws, flips, axial\n"
         "rotations, zooms and intensity jitter, Dice + cross-entropy, AdamW with polynomial decay. A progress line every --progress-every\n"
         "iterations gives the loss, the speed and, with held-out cases, their DSC. The same command gives the same\n"
         "model on any number of threads; --checkpoint saves the state and --resume-from continues an interrupted run\n"
         "exactly as if it had not stopped.");
  a.repeated("--images", "DIR", "images folder (repeat with --labels to add sources)", &images)
      .repeated("--labels", "DIR", "masks folder, paired with the --images of the same position", &labels)
      .option("--model", "OUT", "where to write the model JSON", &model_out, true)
      .choice("--method", {"gbdt", "cnn"}, "cnn here", &method)
      .option("--channels", "C0,C1,...", "channels per level (default 12,24,48,96)", &channels)
      .option("--patch", "X,Y,Z", "training patch and inference window in working voxels (default 64,64,32)", &patch)
      .option("--iterations", "N", "optimiser steps (default 4000)", &iterations)
      .option("--batch", "N", "patches per step (default 2)", &batch)
      .option("--learning-rate", "X", "AdamW's initial rate, decayed polynomially to 0 (default 0.002)", &lr)
      .option("--lesion-fraction", "F", "share of patches centred on a lesion voxel (default 0.67)", &lesion_fraction)
      .flag("--no-flips", "no random mirroring of patches", &no_flips)
      .option("--rotation", "DEG", "largest axial rotation of a patch, either way (default 15; 0: none)", &rotation_deg)
      .option("--zoom", "MIN,MAX", "range of patch zoom factors, > 1 shows less (default 0.85,1.25; 1,1: none)", &zoom)
      .option("--augment-share", "F", "share of patches rotated, and independently of patches zoomed (default 0.2)", &augment_share)
      .option("--overlap", "F", "overlap of the inference windows (default 0.5)", &overlap)
      .flag("--mirror", "average every window's prediction with its left-right mirror (the default)", &mirror)
      .flag("--no-mirror", "one pass per window: half the prediction time", &no_mirror)
      .option("--holdout", "F", "fraction of cases held out: the progress DSC and the final score (default 0.2; 0: none)", &holdout)
      .option("--validate-every", "N", "iterations between held-out DSC checks (default 200; 0: at the end only)", &validate_every)
      .option("--progress-every", "N", "iterations between progress lines (default 20)", &progress_every)
      .option("--checkpoint", "FILE", "save the training state here (atomically) every --checkpoint-every iterations", &checkpoint)
      .option("--checkpoint-every", "N", "iterations between checkpoints (default 200)", &checkpoint_every)
      .option("--resume-from", "FILE", "continue the run saved in this checkpoint (same data and settings)", &resume)
      .option("--seed", "S", "seed of the weights and every draw (default 1)", &seed)
      .option("--working-spacing", "X,Y,Z", "target spacing in mm of the working grid (default 2,2,3)", &spacing)
      .option("--postprocess", "JSON", "post-processing settings stored in the model (JSON merge patch; the recipe's:\n"
              "                            threshold and seed_threshold 0.7, keep_relative_mass 1: the largest component)", &post_patch)
      .option("--threads", "N", "worker threads (default 0: all cores; the result does not depend on it)", &threads)
      .epilog("Example (4000 iterations of batch 2 take hours on 2 cores; see docs/baseline.md):\n"
              "  lesionbench-baseline train --method cnn --images ../shared/data/sts-ct/images \\\n"
              "      --labels ../shared/data/sts-ct/labels --model cnn.json --checkpoint cnn.ckpt.json");
  if (!a.parse(argc, argv)) return 0;
  if (images.empty() || images.size() != labels.size())
    throw UsageError("give --images and --labels in pairs (" + std::to_string(images.size()) + " --images, " +
                     std::to_string(labels.size()) + " --labels)");
  if (holdout < 0 || holdout >= 1) throw UsageError("--holdout must be in [0, 1)");
  if (iterations < 1 || batch < 1) throw UsageError("--iterations and --batch must be at least 1");
  if (!(lr > 0)) throw UsageError("--learning-rate must be > 0");
  if (!(lesion_fraction >= 0 && lesion_fraction <= 1)) throw UsageError("--lesion-fraction must be in [0, 1]");
  if (!(overlap >= 0 && overlap < 1)) throw UsageError("--overlap must be in [0, 1)");
  if (!(rotation_deg >= 0 && rotation_deg <= 180)) throw UsageError("--rotation must be in [0, 180] degrees");
  if (!(augment_share >= 0 && augment_share <= 1)) throw UsageError("--augment-share must be in [0, 1]");
  if (!zoom.empty()) {
    const auto pos = zoom.find(',');
    try {
      if (pos == std::string::npos) throw std::invalid_argument("");
      size_t u1 = 0, u2 = 0;
      t.zoom_min = std::stod(zoom.substr(0, pos), &u1);
      t.zoom_max = std::stod(zoom.substr(pos + 1), &u2);
      if (u1 != pos || u2 != zoom.size() - pos - 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError("--zoom needs two factors MIN,MAX, e.g. 0.85,1.25");
    }
    if (!(t.zoom_min >= 0.25 && t.zoom_min <= t.zoom_max && t.zoom_max <= 4))
      throw UsageError("--zoom needs 0.25 <= MIN <= MAX <= 4");
  }
  if (seed < 0 || checkpoint_every < 0 || validate_every < 0 || progress_every < 0)
    throw UsageError("--seed, --checkpoint-every, --validate-every and --progress-every must be >= 0");
  const auto gc = bl::cli::limit_threads(threads);
  for (size_t i = 0; i < images.size(); ++i) s.sources.emplace_back(images[i], labels[i]);
  if (!channels.empty()) {
    t.net.channels.clear();
    std::stringstream in(channels);
    std::string item;
    while (std::getline(in, item, ',')) {
      try {
        size_t used = 0;
        const int c = std::stoi(item, &used);
        if (used != item.size() || c < 1 || c > 1024) throw std::invalid_argument("");
        t.net.channels.push_back(c);
      } catch (const std::exception&) {
        throw UsageError("--channels needs counts 1..1024 separated by commas, e.g. 12,24,48,96");
      }
    }
    if (t.net.channels.empty() || t.net.channels.size() > 6) throw UsageError("--channels needs 1 to 6 levels");
  }
  if (!patch.empty()) t.infer.patch = bl::cli::parse_triple<int64_t>(patch, "--patch");
  const int64_t factor = int64_t{1} << (t.net.channels.size() - 1);
  for (int64_t p : t.infer.patch)
    if (p < factor || p % factor || p > 512)
      throw UsageError("--patch dims must be multiples of " + std::to_string(factor) + " (2^(levels-1)), at most 512");
  if (!spacing.empty()) s.working_spacing_mm = bl::cli::parse_triple<double>(spacing, "--working-spacing");
  t.iterations = iterations;
  t.batch = batch;
  t.lr = lr;
  t.lesion_fraction = lesion_fraction;
  t.flips = !no_flips;
  t.rotation_deg = rotation_deg;
  t.rotation_share = t.zoom_share = augment_share;
  t.infer.overlap = overlap;
  if (mirror && no_mirror) throw UsageError("--mirror and --no-mirror contradict each other");
  t.infer.mirror_x = !no_mirror;
  t.seed = static_cast<uint64_t>(seed);
  t.checkpoint_every = checkpoint_every;
  t.checkpoint_path = checkpoint;
  t.validate_every = validate_every;
  t.progress_every = progress_every;
  s.holdout = holdout;
  s.resume_from = resume;
  s.post = bl::cli::patched(s.post, post_patch, "--postprocess");
  std::string cmd = "lesionbench-baseline train";
  for (int i = 0; i < argc; ++i) cmd += std::string(" ") + argv[i];
  s.command_line = cmd;
  const bl::Model m = bl::train_cnn_model(s, std::cerr);
  m.save(model_out);
  std::cerr << "model written to " << model_out << "\n";
  return 0;
}
