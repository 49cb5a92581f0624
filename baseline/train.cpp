#include "baseline/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include "imaging/filters.h"
#include "baseline/segmenter.h"
#include "metrics/components.h"

#include <tbb/parallel_for.h>

namespace lb::baseline {

namespace fs = std::filesystem;

std::vector<CasePair> list_pairs(const std::string& images_dir, const std::string& labels_dir,
                                 std::vector<std::string>* unmatched) {
  if (!fs::is_directory(images_dir)) throw std::runtime_error("images folder " + images_dir + " does not exist");
  if (!fs::is_directory(labels_dir)) throw std::runtime_error("labels folder " + labels_dir + " does not exist");
  const std::string suffix = "_0000.nii.gz";
  std::vector<CasePair> out;
  for (const auto& e : fs::directory_iterator(images_dir)) {
    const std::string f = e.path().filename().string();
    if (f.size() <= suffix.size() || f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string name = f.substr(0, f.size() - suffix.size());
    const fs::path label = fs::path(labels_dir) / (name + ".nii.gz");
    if (fs::exists(label)) out.push_back({name, e.path().string(), label.string()});
    else if (unmatched) unmatched->push_back(e.path().string());
  }
  std::sort(out.begin(), out.end(), [](const CasePair& a, const CasePair& b) { return a.image < b.image; });
  return out;
}

double dice(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int64_t sa = 0, sb = 0, both = 0;
  for (size_t t = 0; t < a.size(); ++t) sa += a[t] != 0, sb += b[t] != 0, both += (a[t] != 0) && (b[t] != 0);
  return sa + sb == 0 ? 1.0 : 2.0 * both / double(sa + sb);
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

template <class T>
void nonzero_into(const nifti::Image& im, std::vector<uint8_t>& out) {
  const T* v = reinterpret_cast<const T*>(im.data.data());
  for (size_t t = 0; t < out.size(); ++t) out[t] = v[t] != T{0};
}

// A mask file as 0/1 (any non-zero voxel is lesion), checked against the image grid.
std::vector<uint8_t> read_mask(const std::string& path, const Grid& native) {
  const nifti::Image im = nifti::read_image(path);
  if (im.header.dims3() != native.dims)
    throw std::runtime_error("mask " + path + " has dims " + std::to_string(im.header.dim[1]) + "x" +
                             std::to_string(im.header.dim[2]) + "x" + std::to_string(im.header.dim[3]) +
                             ", unlike its image");
  std::vector<uint8_t> m(static_cast<size_t>(native.size()));
  switch (im.header.datatype) {
    case nifti::kUInt8: nonzero_into<uint8_t>(im, m); break;
    case nifti::kInt8: nonzero_into<int8_t>(im, m); break;
    case nifti::kInt16: nonzero_into<int16_t>(im, m); break;
    case nifti::kUInt16: nonzero_into<uint16_t>(im, m); break;
    case nifti::kInt32: nonzero_into<int32_t>(im, m); break;
    case nifti::kUInt32: nonzero_into<uint32_t>(im, m); break;
    case nifti::kInt64: nonzero_into<int64_t>(im, m); break;
    case nifti::kUInt64: nonzero_into<uint64_t>(im, m); break;
    case nifti::kFloat32: nonzero_into<float>(im, m); break;
    case nifti::kFloat64: nonzero_into<double>(im, m); break;
    default: throw std::runtime_error("mask " + path + ": unsupported voxel type");
  }
  return m;
}

using Case = TrainingCase;

// Sampled voxels of one case: index on the working grid and weight.
struct Sample {
  std::vector<int64_t> voxel;
  std::vector<float> weight;
};

Sample draw(const Case& c, const std::vector<int64_t>& candidates, const TrainSettings& s) {
  VolumeU8 lesion(c.y.grid);
  for (size_t t = 0; t < lesion.v.size(); ++t) lesion.v[t] = c.y.v[t] >= 0.5f;
  const VolumeF d = distance_mm(lesion, static_cast<float>(s.near_mm + 1));
  std::vector<int64_t> strata[3];
  for (int64_t v : candidates) {
    const size_t at = static_cast<size_t>(v);
    strata[lesion.v[at] ? 0 : (d.v[at] <= s.near_mm ? 1 : 2)].push_back(v);
  }
  const int64_t want[3] = {s.lesion_per_case, s.near_per_case, s.far_per_case};
  std::mt19937_64 rng(s.seed ^ fnv1a(c.files.name));
  Sample out;
  for (int k = 0; k < 3; ++k) {
    auto& v = strata[k];
    const int64_t n = std::min<int64_t>(want[k], static_cast<int64_t>(v.size()));
    for (int64_t t = 0; t < n; ++t) {  // partial Fisher-Yates
      std::uniform_int_distribution<int64_t> pick(t, static_cast<int64_t>(v.size()) - 1);
      std::swap(v[static_cast<size_t>(t)], v[static_cast<size_t>(pick(rng))]);
    }
    const float w = n ? static_cast<float>(double(v.size()) / double(n)) : 0.0f;
    for (int64_t t = 0; t < n; ++t) out.voxel.push_back(v[static_cast<size_t>(t)]), out.weight.push_back(w);
  }
  // Lesion rows carry at least lesion_share of the case's weight: a 2 ml lesion in a 3 l scan would
  // otherwise weigh too little for a tree to give it a leaf. (Probabilities then overstate the lesion
  // prior; the tuned threshold absorbs that.) Then every case weighs the same in total.
  const size_t n_lesion = static_cast<size_t>(std::min<int64_t>(want[0], static_cast<int64_t>(strata[0].size())));
  double lesion_w = 0, total = 0;
  for (size_t t = 0; t < out.weight.size(); ++t) (t < n_lesion ? lesion_w : total) += out.weight[t];
  if (n_lesion > 0 && s.lesion_share > 0 && lesion_w < s.lesion_share * (lesion_w + total)) {
    const double scale = s.lesion_share / (1 - s.lesion_share) * total / lesion_w;
    for (size_t t = 0; t < n_lesion; ++t) out.weight[t] = static_cast<float>(out.weight[t] * scale);
  }
  total = std::accumulate(out.weight.begin(), out.weight.end(), 0.0);
  for (float& w : out.weight) w = static_cast<float>(w / total);
  return out;
}

struct Rows {
  std::vector<int32_t> case_of;
  std::vector<int64_t> voxel;
  std::vector<float> y, w;
  std::vector<std::vector<float>> cols;  // stage-1 columns, then context columns once added
};

void append(Rows& rows, int32_t case_index, const Sample& smp, const Case& c, const FeatureStack& st) {
  if (rows.cols.empty()) rows.cols.resize(st.cols.size());
  for (size_t t = 0; t < smp.voxel.size(); ++t) {
    const size_t at = static_cast<size_t>(smp.voxel[t]);
    rows.case_of.push_back(case_index);
    rows.voxel.push_back(smp.voxel[t]);
    rows.y.push_back(c.y.v[at]);
    rows.w.push_back(smp.weight[t]);
    for (size_t f = 0; f < st.cols.size(); ++f) rows.cols[f].push_back(st.cols[f][at]);
  }
}

// Rows of the cases in `use`, first `ncols` columns; weights scaled to a mean of 1.
Dataset subset(const Rows& rows, const std::vector<uint8_t>& use, size_t ncols) {
  Dataset d;
  d.cols.resize(ncols);
  for (size_t r = 0; r < rows.y.size(); ++r) {
    if (!use[static_cast<size_t>(rows.case_of[r])]) continue;
    d.y.push_back(rows.y[r]);
    d.w.push_back(rows.w[r]);
    for (size_t f = 0; f < ncols; ++f) d.cols[f].push_back(rows.cols[f][r]);
  }
  const double mean = std::accumulate(d.w.begin(), d.w.end(), 0.0) / std::max<size_t>(1, d.w.size());
  for (float& w : d.w) w = static_cast<float>(w / mean);
  return d;
}

Classifier fit(const Dataset& d, const std::vector<std::string>& names, const TrainSettings& s, uint64_t seed,
               const std::string& label, std::ostream& log) {
  const auto t0 = std::chrono::steady_clock::now();
  log << "  " << label << ": " << d.rows() << " rows x " << d.features() << " features\n" << std::flush;
  Classifier c;
  c.features = names;
  if (s.classifier == "logistic") {
    c.type = Classifier::Type::logistic;
    c.logistic = train_logistic(d);
  } else {
    c.type = Classifier::Type::gbdt;
    GbdtParams p = s.gbdt;
    p.seed = seed;
    c.gbdt = train_gbdt(d, p, nullptr, [&](int trees, double loss, double) {
      log << "    " << trees << "/" << p.trees << " trees, training log-loss " << std::fixed << std::setprecision(4)
          << loss << "\n" << std::flush;
    }, std::max(1, p.trees / 4));
    const auto imp = c.gbdt.importance(d.features());
    std::vector<size_t> order(imp.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return imp[a] > imp[b]; });
    const double total = std::accumulate(imp.begin(), imp.end(), 0.0);
    log << "    most used features (share of split gain):";
    for (size_t t = 0; t < std::min<size_t>(8, order.size()); ++t)
      log << " " << names[order[t]] << " " << std::setprecision(2) << 100.0 * imp[order[t]] / std::max(total, 1e-12) << "%";
    log << "\n";
  }
  log << "  " << label << " done in " << std::fixed << std::setprecision(1) << seconds_since(t0) << " s\n" << std::flush;
  return c;
}

std::vector<int> sources_of(const std::vector<Case>& cases) {
  std::vector<int> out;
  for (const Case& c : cases) out.push_back(c.files.source);
  return out;
}

// Chooses the threshold and the component rules by the mean DSC, on the working grid, of the cases'
// out-of-fold maps (a healthy case scores 1 when nothing is kept, else 0, as in FLARE). Components are
// labelled once per case and threshold; every rule is then a pass over the component list.
Postprocess tune_postprocess(const std::vector<Case>& cases, const std::vector<std::vector<uint8_t>>& oof,
                             const TrainSettings& s, std::ostream& log) {
  struct Comp {
    int64_t voxels, hits;
    double mass;
    float peak;
  };
  const size_t nt = s.tune_thresholds.size();
  std::vector<std::vector<std::vector<Comp>>> comps(cases.size(), std::vector<std::vector<Comp>>(nt));
  std::vector<int64_t> truth(cases.size(), 0);
  tbb::parallel_for(size_t{0}, cases.size() * nt, [&](size_t job) {
    const size_t c = job / nt, t = job % nt;
    const VolumeF& y = cases[c].y;
    const float thr = static_cast<float>(s.tune_thresholds[t]);
    VolumeU8 m(y.grid);
    for (size_t v = 0; v < m.v.size(); ++v) m.v[v] = oof[c][v] / 255.0f >= thr;
    const Components lab = label_components(m.data(), y.grid.dims, s.post.connectivity);
    std::vector<Comp> out(static_cast<size_t>(lab.count), Comp{0, 0, 0.0, 0.0f});
    const int64_t n0 = y.grid.dims[0];
    for (size_t r = 0; r < lab.runs.size(); ++r) {
      Comp& k = out[static_cast<size_t>(lab.run_label[r])];
      for (int64_t x = lab.runs[r].x0; x < lab.runs[r].x1; ++x) {
        const size_t at = static_cast<size_t>(lab.runs[r].row * n0 + x);
        const float p = oof[c][at] / 255.0f;
        k.voxels += 1;
        k.hits += y.v[at] >= 0.5f;
        k.mass += p;
        k.peak = std::max(k.peak, p);
      }
    }
    comps[c][t] = std::move(out);
    if (t == 0) truth[c] = std::count_if(y.v.begin(), y.v.end(), [](float v) { return v >= 0.5f; });
  });

  auto case_dsc = [&](size_t c, size_t t, double keep, double min_ml, float seed) {
    const double voxel_ml = cases[c].y.grid.voxel_ml();
    double top = 0;
    for (const Comp& k : comps[c][t]) top = std::max(top, k.mass);
    int64_t kept = 0, hits = 0;
    for (const Comp& k : comps[c][t])
      if (k.voxels * voxel_ml >= min_ml && k.peak >= seed && k.mass >= keep * top) kept += k.voxels, hits += k.hits;
    return truth[c] == 0 ? (kept == 0 ? 1.0 : 0.0) : 2.0 * hits / double(kept + truth[c]);
  };
  const std::vector<double> weight = case_weights(sources_of(cases), s.balance_sources);
  Postprocess best = s.post;
  size_t best_t = 0;
  double best_score = -1;
  log << "post-processing on out-of-fold maps (mean DSC on the working grid"
      << (s.balance_sources && s.sources.size() > 1 ? ", each source weighing the same" : "")
      << "), rows: keep_relative_mass,"
         " min_volume_ml; columns: threshold\n    " << std::fixed;
  for (double thr : s.tune_thresholds) log << std::setw(7) << std::setprecision(2) << thr;
  log << "\n";
  for (double keep : s.tune_keep_relative_mass)
    for (double min_ml : s.tune_min_volume_ml) {
      log << "  " << std::setprecision(2) << keep << " " << std::setw(4) << std::setprecision(1) << min_ml << ":";
      for (size_t t = 0; t < nt; ++t) {
        const float thr = static_cast<float>(s.tune_thresholds[t]);
        const float seed = std::max(s.post.seed_threshold, thr);
        double score = 0;
        for (size_t c = 0; c < cases.size(); ++c) score += weight[c] * case_dsc(c, t, keep, min_ml, seed);
        log << std::setw(7) << std::setprecision(4) << score;
        if (score > best_score + 1e-9) {
          best_score = score;
          best_t = t;
          best = s.post;
          best.threshold = thr;
          best.seed_threshold = seed;
          best.keep_relative_mass = keep;
          best.min_volume_ml = min_ml;
        }
      }
      log << "\n";
    }
  log << "chose threshold " << std::setprecision(2) << best.threshold << ", keep_relative_mass " << best.keep_relative_mass
      << ", min_volume_ml " << best.min_volume_ml << " (out-of-fold mean DSC " << std::setprecision(4) << best_score
      << ")\n";
  if (s.sources.size() > 1)
    for (size_t src = 0; src < s.sources.size(); ++src) {
      double sum = 0;
      int n = 0;
      for (size_t c = 0; c < cases.size(); ++c)
        if (cases[c].files.source == static_cast<int>(src))
          sum += case_dsc(c, best_t, best.keep_relative_mass, best.min_volume_ml, best.seed_threshold), ++n;
      if (n) log << "  of which " << s.sources[src].first << ": " << std::setprecision(4) << sum / n << " over " << n << " cases\n";
    }
  log << std::flush;
  return best;
}

}  // namespace

std::vector<CasePair> collect_pairs(const std::vector<std::pair<std::string, std::string>>& sources, std::ostream& log,
                                    nlohmann::json& sources_json) {
  std::vector<CasePair> pairs;
  sources_json = nlohmann::json::array();
  for (const auto& [images, labels] : sources) {
    std::vector<std::string> unmatched;
    auto p = list_pairs(images, labels, &unmatched);
    for (auto& c : p) c.source = static_cast<int>(sources_json.size());
    for (const auto& u : unmatched) log << "warning: " << u << " has no mask in " << labels << "; not used\n";
    sources_json.push_back({{"images", images}, {"labels", labels}, {"cases", p.size()}});
    pairs.insert(pairs.end(), p.begin(), p.end());
  }
  if (pairs.size() < 2) throw std::runtime_error("training needs at least 2 image/mask pairs, found " + std::to_string(pairs.size()));
  return pairs;
}

void split_holdout(const std::vector<CasePair>& pairs, double holdout, uint64_t seed, std::vector<CasePair>& used,
                   std::vector<CasePair>& held) {
  std::vector<size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t n_hold = holdout > 0 ? std::min(pairs.size() - 2, std::max<size_t>(1, static_cast<size_t>(std::lround(holdout * pairs.size())))) : 0;
  used.clear();
  held.clear();
  for (size_t t = 0; t < order.size(); ++t) (t < n_hold ? held : used).push_back(pairs[order[t]]);
  std::sort(used.begin(), used.end(), [](const CasePair& a, const CasePair& b) { return a.image < b.image; });
}

TrainingCase load_training_case(const CasePair& files, const std::array<double, 3>& working_spacing_mm) {
  TrainingCase k;
  k.files = files;
  try {
    k.pr = prepare(nifti::read_image(k.files.image), working_spacing_mm);
    const auto mask = read_mask(k.files.label, k.pr.native);
    k.y = crop(downsample_mean(mask.data(), k.pr.native, k.pr.factors, 0.0f, 1.0f), k.pr.crop_lo, k.pr.work.grid.dims);
    k.lesion_ml = static_cast<double>(std::count(mask.begin(), mask.end(), 1)) * k.pr.native.voxel_ml();
  } catch (const std::exception& e) {
    throw std::runtime_error(k.files.name + ": " + e.what());
  }
  return k;
}

void add_holdout_provenance(nlohmann::json& provenance, const TrainReport& rep) {
  if (rep.holdout_dsc.empty()) return;
  nlohmann::json h = nlohmann::json::object();
  for (const auto& [n, d] : rep.holdout_dsc) h[n] = std::round(d * 1e4) / 1e4;
  provenance["holdout_dsc"] = h;
  provenance["holdout_mean_dsc"] = std::round(rep.holdout_mean_dsc * 1e4) / 1e4;
}

TrainReport score_holdout(const std::vector<CasePair>& held, const Model& m, std::ostream& log) {
  TrainReport rep;
  if (held.empty()) return rep;
  double sum = 0;
  for (const auto& h : held) {
    const nifti::Image im = nifti::read_image(h.image);
    const auto pred = segment(im, m);
    const auto truth = read_mask(h.label, prepare(im, m.features.working_spacing_mm).native);
    const double d = dice(pred, truth);
    rep.holdout_dsc.emplace_back(h.name, d);
    sum += d;
    log << "  held out " << h.name << ": DSC " << std::fixed << std::setprecision(4) << d << "\n" << std::flush;
  }
  rep.holdout_mean_dsc = sum / static_cast<double>(held.size());
  log << "held-out mean DSC " << std::fixed << std::setprecision(4) << rep.holdout_mean_dsc << " over " << held.size()
      << " cases\n";
  return rep;
}

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

std::vector<double> case_weights(const std::vector<int>& source_of_case, bool balance_sources) {
  const size_t n = source_of_case.size();
  std::vector<double> w(n, 1.0 / static_cast<double>(std::max<size_t>(1, n)));
  if (!balance_sources || n == 0) return w;
  std::map<int, size_t> per_source;
  for (int s : source_of_case) ++per_source[s];
  for (size_t c = 0; c < n; ++c)
    w[c] = 1.0 / (static_cast<double>(per_source.size()) * static_cast<double>(per_source[source_of_case[c]]));
  return w;
}

Model train_model(const TrainSettings& s, std::ostream& log, TrainReport* report) {
  const auto t_start = std::chrono::steady_clock::now();
  if (s.sources.empty()) throw std::runtime_error("no training data: give --images and --labels");
  if (s.stages < 1 || s.stages > 2) throw std::runtime_error("stages must be 1 or 2");
  if (s.stages == 2 && s.folds < 2) throw std::runtime_error("two stages need at least 2 folds");

  nlohmann::json sources;
  const std::vector<CasePair> pairs = collect_pairs(s.sources, log, sources);
  std::vector<CasePair> held, used;
  split_holdout(pairs, s.holdout, s.seed, used, held);
  log << "training on " << used.size() << " cases, holding out " << held.size() << "\n";

  Model m;
  m.method = "classifier";
  m.features = s.features;
  m.context = s.context;
  m.post = s.post;

  // 1. Load every training case onto the working grid.
  std::vector<Case> cases(used.size());
  std::vector<float> lesion_hu;
  for (size_t c = 0; c < used.size(); ++c) {
    const auto t0 = std::chrono::steady_clock::now();
    Case& k = cases[c];
    k = load_training_case(used[c], s.features.working_spacing_mm);
    const VolumeF g1 = gaussian(k.pr.work, 1.0);
    for (size_t t = 0; t < k.y.v.size(); t += 2)
      if (k.y.v[t] >= 0.5f) lesion_hu.push_back(g1.v[t]);
    const auto& wd = k.pr.work.grid.dims;
    log << "  [" << c + 1 << "/" << used.size() << "] " << k.files.name << ": working grid " << wd[0] << "x" << wd[1]
        << "x" << wd[2] << ", lesion " << std::fixed << std::setprecision(1) << k.lesion_ml << " ml ("
        << std::setprecision(2) << seconds_since(t0) << " s)\n" << std::flush;
  }
  // Candidates: the G_1mm*HU range of lesion voxels, widened; everything outside is background unseen.
  if (lesion_hu.size() > 100) {
    std::sort(lesion_hu.begin(), lesion_hu.end());
    const double lo = lesion_hu[static_cast<size_t>(0.002 * (lesion_hu.size() - 1))];
    const double hi = lesion_hu[static_cast<size_t>(0.998 * (lesion_hu.size() - 1))];
    m.candidate_hu = {std::min(-100.0, std::floor(lo - 50)), std::max(200.0, std::ceil(hi + 50))};
  }
  log << "candidate voxels: G_1mm*HU in [" << m.candidate_hu[0] << ", " << m.candidate_hu[1] << "]\n";

  // 2. Stage-1 rows.
  Rows rows;
  std::vector<Sample> samples(cases.size());
  std::vector<std::string> names1;
  const std::vector<double> case_weight = case_weights(sources_of(cases), s.balance_sources);
  for (size_t c = 0; c < cases.size(); ++c) {
    StageInputs in = stage1_inputs(cases[c].pr.work, m);
    samples[c] = draw(cases[c], in.candidates, s);
    if (s.balance_sources) {  // each case's rows sum to 1 so far
      const double scale = case_weight[c] * static_cast<double>(cases.size());
      for (float& w : samples[c].weight) w = static_cast<float>(w * scale);
    }
    append(rows, static_cast<int32_t>(c), samples[c], cases[c], in.stack);
    names1 = in.stack.names;
  }
  log << "stage 1: " << rows.y.size() << " training voxels from " << cases.size() << " cases\n";
  const std::vector<uint8_t> all(cases.size(), 1);

  // 3. Folds: out-of-fold stage-1 maps give the stage-2 context rows; with tuning, out-of-fold maps of the
  //    last stage choose the post-processing.
  std::vector<std::string> names2;
  const bool folds_needed = s.stages == 2 || s.tune_post;
  std::vector<size_t> fold_of(cases.size(), 0);
  std::vector<Classifier> c1_fold;
  const size_t n1 = names1.size();
  if (folds_needed) {
    if (static_cast<int>(cases.size()) < s.folds) throw std::runtime_error("fewer training cases than folds");
    std::vector<size_t> perm(cases.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::mt19937_64 frng(s.seed + 17);
    std::shuffle(perm.begin(), perm.end(), frng);
    for (size_t t = 0; t < perm.size(); ++t) fold_of[perm[t]] = t % static_cast<size_t>(s.folds);
    for (int f = 0; f < s.folds; ++f) {
      std::vector<uint8_t> use(cases.size());
      for (size_t c = 0; c < cases.size(); ++c) use[c] = fold_of[c] != static_cast<size_t>(f);
      c1_fold.push_back(fit(subset(rows, use, n1), names1, s, s.seed + 100 + f,
                            "stage 1, fold " + std::to_string(f + 1) + "/" + std::to_string(s.folds), log));
    }
  }
  // Out-of-fold maps of the last stage, quantised to 1/255 (enough to choose a threshold), per case.
  std::vector<std::vector<uint8_t>> oof(cases.size());
  auto keep_map = [&](size_t c, const VolumeF& p) {
    oof[c].resize(p.v.size());
    for (size_t t = 0; t < p.v.size(); ++t) oof[c][t] = static_cast<uint8_t>(std::lround(p.v[t] * 255.0f));
  };
  if (s.stages == 2) {
    std::vector<std::vector<std::vector<float>>> ctx_per_case(cases.size());
    for (size_t c = 0; c < cases.size(); ++c) {
      StageInputs in = stage1_inputs(cases[c].pr.work, m);
      const VolumeF p1 = classify(c1_fold[fold_of[c]], in.stack, in.candidates);
      add_context_features(p1, m.context, in.stack);
      names2.assign(in.stack.names.begin() + static_cast<std::ptrdiff_t>(n1), in.stack.names.end());
      auto& per = ctx_per_case[c];
      per.resize(names2.size());
      for (size_t k = 0; k < names2.size(); ++k)
        for (int64_t v : samples[c].voxel) per[k].push_back(in.stack.cols[n1 + k][static_cast<size_t>(v)]);
    }
    // Context columns in row order (rows are grouped by case, in case order).
    const size_t nctx = names2.size();
    rows.cols.resize(n1 + nctx);
    for (size_t c = 0; c < cases.size(); ++c)
      for (size_t k = 0; k < nctx; ++k)
        rows.cols[n1 + k].insert(rows.cols[n1 + k].end(), ctx_per_case[c][k].begin(), ctx_per_case[c][k].end());
  }
  std::vector<std::string> names_all = names1;
  names_all.insert(names_all.end(), names2.begin(), names2.end());
  if (s.tune_post) {
    for (int f = 0; f < s.folds; ++f) {
      std::vector<uint8_t> use(cases.size());
      for (size_t c = 0; c < cases.size(); ++c) use[c] = fold_of[c] != static_cast<size_t>(f);
      Classifier c2;
      if (s.stages == 2)
        c2 = fit(subset(rows, use, names_all.size()), names_all, s, s.seed + 200 + f,
                 "stage 2, fold " + std::to_string(f + 1) + "/" + std::to_string(s.folds), log);
      for (size_t c = 0; c < cases.size(); ++c) {
        if (use[c]) continue;
        StageInputs in = stage1_inputs(cases[c].pr.work, m);
        VolumeF p = classify(c1_fold[static_cast<size_t>(f)], in.stack, in.candidates);
        if (s.stages == 2) {
          add_context_features(p, m.context, in.stack);
          p = classify(c2, in.stack, in.candidates);
        }
        keep_map(c, p);
      }
    }
    m.post = tune_postprocess(cases, oof, s, log);
  }
  m.stages.push_back(fit(subset(rows, all, n1), names1, s, s.seed + 1, "stage 1, all cases", log));
  if (s.stages == 2)
    m.stages.push_back(fit(subset(rows, all, names_all.size()), names_all, s, s.seed + 2, "stage 2, all cases", log));

  // 4. Held-out score.
  const TrainReport rep = score_holdout(held, m, log);

  nlohmann::json names_used = nlohmann::json::array();
  for (const auto& c : cases) names_used.push_back(c.files.name);
  m.provenance = {{"command", s.command_line},
                  {"trained_utc", utc_now()},
                  {"seed", s.seed},
                  {"sources", sources},
                  {"training_cases", names_used},
                  {"classifier", s.classifier},
                  {"stages", s.stages},
                  {"gbdt", {{"trees", s.gbdt.trees}, {"depth", s.gbdt.depth}, {"learning_rate", s.gbdt.learning_rate},
                            {"l2", s.gbdt.l2}, {"subsample", s.gbdt.subsample}, {"bins", s.gbdt.bins}}},
                  {"samples_per_case", {s.lesion_per_case, s.near_per_case, s.far_per_case}},
                  {"near_mm", s.near_mm},
                  {"lesion_share", s.lesion_share},
                  {"balance_sources", s.balance_sources},
                  {"tuned_postprocess", s.tune_post},
                  {"training_seconds", std::round(seconds_since(t_start))}};
  add_holdout_provenance(m.provenance, rep);
  if (report) *report = rep;
  return m;
}

}  // namespace lb::baseline
