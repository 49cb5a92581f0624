// Training the baseline's U-Net on folders of cases (see train_cnn.h).
#include "baseline/train_cnn.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <memory>
#include <sstream>

namespace lb::baseline {

namespace {

std::string duration_text(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(seconds));
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << " h " << (s % 3600) / 60 << " min";
  else if (s >= 60) out << s / 60 << " min " << s % 60 << " s";
  else out << s << " s";
  return out.str();
}

cnn::TrainCase as_train_case(TrainingCase&& k) {
  cnn::TrainCase c;
  c.name = k.files.name;
  c.hu = std::move(k.pr.work);
  c.target = std::move(k.y);
  return c;
}

}  // namespace

Model train_cnn_model(const CnnRunSettings& s, std::ostream& log, TrainReport* report) {
  const auto t_start = std::chrono::steady_clock::now();
  nlohmann::json sources;
  const std::vector<CasePair> pairs = collect_pairs(s.sources, log, sources);
  std::vector<CasePair> used, held;
  split_holdout(pairs, s.holdout, s.train.seed, used, held);
  log << "training the CNN on " << used.size() << " cases, holding out " << held.size() << "\n";
  auto load_all = [&](const std::vector<CasePair>& list, const char* what) {
    std::vector<cnn::TrainCase> out;
    for (size_t c = 0; c < list.size(); ++c) {
      TrainingCase k = load_training_case(list[c], s.working_spacing_mm);
      const auto& d = k.pr.work.grid.dims;
      log << "  " << what << " [" << c + 1 << "/" << list.size() << "] " << k.files.name << ": working grid " << d[0]
          << "x" << d[1] << "x" << d[2] << ", lesion " << std::fixed << std::setprecision(1) << k.lesion_ml << " ml\n"
          << std::flush;
      out.push_back(as_train_case(std::move(k)));
    }
    return out;
  };
  const std::vector<cnn::TrainCase> train = load_all(used, "training");
  const std::vector<cnn::TrainCase> validation = load_all(held, "held out");

  std::unique_ptr<cnn::Checkpoint> resume;
  if (!s.resume_from.empty()) {
    resume = std::make_unique<cnn::Checkpoint>(cnn::Checkpoint::load(s.resume_from));
    log << "resuming from " << s.resume_from << " at iteration " << resume->iteration << "\n";
  }
  {
    const cnn::UNet probe(s.train.net, 0);
    log << "network: channels";
    for (int c : s.train.net.channels) log << " " << c;
    log << " (" << probe.weight_count() << " weights), patch " << s.train.infer.patch[0] << "x" << s.train.infer.patch[1]
        << "x" << s.train.infer.patch[2] << ", batch " << s.train.batch << ", " << s.train.iterations << " iterations\n";
  }
  const auto on_progress = [&](const cnn::TrainProgress& p) {
    const double left_s = p.seconds_per_iteration * static_cast<double>(p.iterations - p.iteration);
    log << "  iteration " << p.iteration << "/" << p.iterations << "  loss " << std::fixed << std::setprecision(4) << p.loss
        << "  " << std::setprecision(2) << p.seconds_per_iteration << " s/it";
    if (p.heldout_dsc >= 0) log << "  held-out DSC " << std::setprecision(3) << p.heldout_dsc << " (working grid, p >= 0.5)";
    log << "  about " << duration_text(left_s) << " left\n" << std::flush;
  };
  cnn::UNet net = cnn::train_unet(train, validation, s.train, on_progress, resume.get());

  Model m;
  m.method = "cnn";
  m.features.working_spacing_mm = s.working_spacing_mm;
  m.post = s.post;
  auto cm = std::make_shared<cnn::CnnModel>();
  cm->net = std::move(net);
  cm->infer = s.train.infer;
  m.cnn = cm;

  const TrainReport rep = score_holdout(held, m, log);
  nlohmann::json names_used = nlohmann::json::array();
  for (const auto& c : used) names_used.push_back(c.name);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  m.provenance = {{"command", s.command_line},
                  {"method", "cnn"},
                  {"seed", s.train.seed},
                  {"sources", sources},
                  {"training_cases", names_used},
                  {"training", cnn::settings_json(s.train)},
                  {"resumed_from_iteration", resume ? nlohmann::json(resume->iteration) : nlohmann::json(nullptr)},
                  {"training_seconds", std::round(seconds)}};
  add_holdout_provenance(m.provenance, rep);
  if (report) *report = rep;
  return m;
}

}  // namespace lb::baseline
