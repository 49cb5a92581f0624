#include "baseline/segmenter.h"

#include "baseline/cnn_train.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <ostream>
#include <sstream>

#include "imaging/filters.h"
#include "metrics/components.h"

namespace lb::baseline {

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class T>
VolumeF downsample_typed(const nifti::Image& im, const Grid& g, const Factors& f) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  return downsample_mean(reinterpret_cast<const T*>(im.data.data()), g, f, -inf, inf);
}

}  // namespace

Prepared prepare(const nifti::Image& image, const std::array<double, 3>& working_spacing_mm) {
  const auto& h = image.header;
  if (h.ndim() < 3) throw InputError("image is " + std::to_string(h.ndim()) + "-D; a 3-D CT volume is needed");
  if (h.effective_ndim() > 3) {
    std::ostringstream s;
    s << "image is " << h.effective_ndim() << "-D (dims";
    for (int d = 1; d <= h.ndim(); ++d) s << (d > 1 ? "x" : " ") << h.dim[static_cast<size_t>(d)];
    s << "); a 3-D CT volume is needed";
    throw InputError(s.str());
  }
  Prepared p;
  const auto geo = nifti::geometry_of(h);
  p.native.dims = geo.dims;
  p.native.spacing_mm = geo.spacing_mm;
  for (int a = 0; a < 3; ++a) {
    if (p.native.dims[a] < 1) throw InputError("image has an empty axis");
    if (!(geo.spacing_mm[a] > 0) || !std::isfinite(geo.spacing_mm[a]))
      throw InputError("voxel spacing " + std::to_string(geo.spacing_mm[a]) + " along axis " + std::to_string(a) +
                       " is not a positive number");
  }
  if (static_cast<int64_t>(image.data.size()) < p.native.size() * nifti::bytes_per_voxel(h.datatype))
    throw InputError("image holds fewer voxels than its header says");
  p.factors = working_factors(p.native.spacing_mm, working_spacing_mm);
  switch (h.datatype) {
    case nifti::kUInt8: p.work = downsample_typed<uint8_t>(image, p.native, p.factors); break;
    case nifti::kInt8: p.work = downsample_typed<int8_t>(image, p.native, p.factors); break;
    case nifti::kInt16: p.work = downsample_typed<int16_t>(image, p.native, p.factors); break;
    case nifti::kUInt16: p.work = downsample_typed<uint16_t>(image, p.native, p.factors); break;
    case nifti::kInt32: p.work = downsample_typed<int32_t>(image, p.native, p.factors); break;
    case nifti::kUInt32: p.work = downsample_typed<uint32_t>(image, p.native, p.factors); break;
    case nifti::kInt64: p.work = downsample_typed<int64_t>(image, p.native, p.factors); break;
    case nifti::kUInt64: p.work = downsample_typed<uint64_t>(image, p.native, p.factors); break;
    case nifti::kFloat32: p.work = downsample_typed<float>(image, p.native, p.factors); break;
    case nifti::kFloat64: p.work = downsample_typed<double>(image, p.native, p.factors); break;
    default: throw InputError(std::string("voxel type ") + nifti::datatype_name(h.datatype) + " is not supported");
  }
  // Scaling is linear, so it commutes with the block mean; HU outside what CT stores are clamped.
  const float slope = h.has_scaling() ? static_cast<float>(h.scl_slope) : 1.0f;
  const float inter = h.has_scaling() ? static_cast<float>(h.scl_inter) : 0.0f;
  std::array<int64_t, 3> lo{p.work.grid.dims}, hi{0, 0, 0};
  for (int64_t k = 0; k < p.work.grid.dims[2]; ++k)
    for (int64_t j = 0; j < p.work.grid.dims[1]; ++j)
      for (int64_t i = 0; i < p.work.grid.dims[0]; ++i) {
        float& v = p.work.v[static_cast<size_t>(p.work.grid.index(i, j, k))];
        v = v * slope + inter;
        v = std::isfinite(v) ? std::clamp(v, -1024.0f, 3071.0f) : -1024.0f;
        if (v > -500.0f) {
          const int64_t idx[3] = {i, j, k};
          for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], idx[a]), hi[a] = std::max(hi[a], idx[a] + 1);
        }
      }
  p.full = p.work.grid;
  if (hi[0] > lo[0]) {  // else all air: keep everything
    constexpr int64_t kMargin = 8;  // working voxels of air kept around the body
    std::array<int64_t, 3> dims{};
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::max<int64_t>(0, lo[a] - kMargin);
      hi[a] = std::min<int64_t>(p.full.dims[a], hi[a] + kMargin);
      dims[a] = hi[a] - lo[a];
    }
    if (dims != p.full.dims) {
      p.crop_lo = lo;
      p.work = crop(p.work, lo, dims);
    }
  }
  return p;
}

VolumeF crop(const VolumeF& v, const std::array<int64_t, 3>& lo, const std::array<int64_t, 3>& dims) {
  VolumeF out(Grid{dims, v.grid.spacing_mm});
  for (int64_t k = 0; k < dims[2]; ++k)
    for (int64_t j = 0; j < dims[1]; ++j) {
      const float* src = v.data() + v.grid.index(lo[0], lo[1] + j, lo[2] + k);
      std::copy(src, src + dims[0], out.data() + out.grid.index(0, j, k));
    }
  return out;
}

VolumeF embed(const VolumeF& part, const std::array<int64_t, 3>& lo, const Grid& full, float fill) {
  VolumeF out(full, fill);
  const auto d = part.grid.dims;
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j) {
      const float* src = part.data() + part.grid.index(0, j, k);
      std::copy(src, src + d[0], out.data() + full.index(lo[0], lo[1] + j, lo[2] + k));
    }
  return out;
}

StageInputs stage1_inputs(const VolumeF& work, const Model& m) {
  StageInputs in;
  in.stack = compute_features(work, m.features, &in.smooth_hu_1mm);
  const float lo = static_cast<float>(m.candidate_hu[0]), hi = static_cast<float>(m.candidate_hu[1]);
  for (int64_t t = 0; t < work.size(); ++t) {
    const float v = in.smooth_hu_1mm.v[static_cast<size_t>(t)];
    if (v >= lo && v <= hi) in.candidates.push_back(t);
  }
  return in;
}

VolumeF classify(const Classifier& c, const FeatureStack& st, const std::vector<int64_t>& candidates) {
  std::vector<const float*> cols;
  for (const auto& name : c.features) {
    const auto it = std::find(st.names.begin(), st.names.end(), name);
    if (it == st.names.end()) throw std::runtime_error("model needs feature '" + name + "', which its settings do not produce");
    cols.push_back(st.cols[static_cast<size_t>(it - st.names.begin())].data());
  }
  VolumeF p(st.grid, 0.0f);
  const int64_t F = static_cast<int64_t>(cols.size());
  constexpr int64_t kChunk = 512;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, static_cast<int64_t>(candidates.size()), kChunk),
                    [&](const tbb::blocked_range<int64_t>& r) {
                      std::vector<float> rows(static_cast<size_t>(kChunk * F)), out(static_cast<size_t>(kChunk));
                      for (int64_t b = r.begin(); b < r.end(); b += kChunk) {
                        const int64_t n = std::min(kChunk, r.end() - b);
                        for (int64_t x = 0; x < n; ++x) {
                          const int64_t at = candidates[static_cast<size_t>(b + x)];
                          for (int64_t f = 0; f < F; ++f) rows[static_cast<size_t>(x * F + f)] = cols[static_cast<size_t>(f)][at];
                        }
                        std::fill(out.begin(), out.begin() + n, 0.0f);
                        c.logits(rows.data(), n, out.data());
                        for (int64_t x = 0; x < n; ++x)
                          p.v[static_cast<size_t>(candidates[static_cast<size_t>(b + x)])] =
                              1.0f / (1.0f + std::exp(-out[static_cast<size_t>(x)]));
                      }
                    });
  return p;
}

VolumeF probability_map(const Model& m, const VolumeF& work) {
  if (m.method == "cnn") return cnn::predict_probability(m.cnn->net, work, m.cnn->infer);
  if (m.method == "hu_window") {
    VolumeF p = gaussian(work, 1.0);
    const float lo = static_cast<float>(m.hu_window[0]), hi = static_cast<float>(m.hu_window[1]);
    for (float& v : p.v) v = (v >= lo && v <= hi) ? 1.0f : 0.0f;
    return p;
  }
  StageInputs in = stage1_inputs(work, m);
  VolumeF p = classify(m.stages[0], in.stack, in.candidates);
  if (m.stages.size() > 1) {
    add_context_features(p, m.context, in.stack);
    p = classify(m.stages[1], in.stack, in.candidates);
  }
  return p;
}

namespace {

VolumeU8 ball_open(const VolumeU8& m, double radius_mm) {
  VolumeU8 outside(m.grid), eroded(m.grid), opened(m.grid);
  for (size_t t = 0; t < m.v.size(); ++t) outside.v[t] = !m.v[t];
  const float cap = static_cast<float>(radius_mm * 2 + 1);
  const VolumeF d_out = distance_mm(outside, cap);
  for (size_t t = 0; t < m.v.size(); ++t) eroded.v[t] = m.v[t] && d_out.v[t] > radius_mm;
  const VolumeF d_in = distance_mm(eroded, cap);
  for (size_t t = 0; t < m.v.size(); ++t) opened.v[t] = d_in.v[t] <= radius_mm;
  return opened;
}

// Background components that do not touch the volume border (6-connected) are holes.
void fill_holes(VolumeU8& k) {
  VolumeU8 bg(k.grid);
  for (size_t t = 0; t < k.v.size(); ++t) bg.v[t] = !k.v[t];
  const Components c = label_components(bg.data(), k.grid.dims, 6);
  const auto n = k.grid.dims;
  std::vector<uint8_t> touches(static_cast<size_t>(c.count), 0);
  for (int32_t i = 0; i < c.count; ++i) {
    const Box& b = c.boxes[static_cast<size_t>(i)];
    for (int a = 0; a < 3; ++a)
      if (b.lo[a] == 0 || b.hi[a] == n[a]) touches[static_cast<size_t>(i)] = 1;
  }
  for (size_t r = 0; r < c.runs.size(); ++r) {
    if (touches[static_cast<size_t>(c.run_label[r])]) continue;
    const Run& run = c.runs[r];
    std::fill(k.v.begin() + run.row * n[0] + run.x0, k.v.begin() + run.row * n[0] + run.x1, uint8_t{2});
  }
}

}  // namespace

VolumeF postprocess(const VolumeF& p, const Postprocess& post, PostInfo* info) {
  VolumeU8 m(p.grid);
  for (size_t t = 0; t < p.v.size(); ++t) m.v[t] = p.v[t] >= post.threshold;
  if (post.opening_mm > 0) {
    VolumeU8 o = ball_open(m, post.opening_mm);
    for (size_t t = 0; t < m.v.size(); ++t) m.v[t] = m.v[t] && o.v[t];
  }
  const Components c = label_components(m.data(), p.grid.dims, post.connectivity);
  const int64_t n0 = p.grid.dims[0];
  std::vector<double> mass(static_cast<size_t>(c.count), 0.0);
  std::vector<float> peak(static_cast<size_t>(c.count), 0.0f);
  for (size_t r = 0; r < c.runs.size(); ++r)
    for (int64_t x = c.runs[r].x0; x < c.runs[r].x1; ++x) {
      const float v = p.v[static_cast<size_t>(c.runs[r].row * n0 + x)];
      mass[static_cast<size_t>(c.run_label[r])] += v;
      peak[static_cast<size_t>(c.run_label[r])] = std::max(peak[static_cast<size_t>(c.run_label[r])], v);
    }
  const double voxel_ml = p.grid.voxel_ml();
  double best_mass = 0;
  for (double s : mass) best_mass = std::max(best_mass, s);
  std::vector<uint8_t> keep(static_cast<size_t>(c.count), 0);
  PostInfo pi;
  pi.components_found = c.count;
  for (int32_t i = 0; i < c.count; ++i) {
    const double vox = static_cast<double>(c.voxels[static_cast<size_t>(i)]);
    const double mean_p = mass[static_cast<size_t>(i)] / vox;
    keep[static_cast<size_t>(i)] = vox * voxel_ml >= post.min_volume_ml && mean_p >= post.min_mean_probability &&
                                   peak[static_cast<size_t>(i)] >= post.seed_threshold &&
                                   mass[static_cast<size_t>(i)] >= post.keep_relative_mass * best_mass;
    if (keep[static_cast<size_t>(i)]) ++pi.components_kept, pi.kept_ml += vox * voxel_ml;
  }
  VolumeU8 k(p.grid);  // 1 kept component, 2 filled hole
  for (size_t r = 0; r < c.runs.size(); ++r)
    if (keep[static_cast<size_t>(c.run_label[r])])
      std::fill(k.v.begin() + c.runs[r].row * n0 + c.runs[r].x0, k.v.begin() + c.runs[r].row * n0 + c.runs[r].x1, uint8_t{1});
  if (post.fill_holes && pi.components_kept > 0) fill_holes(k);

  VolumeF q(p.grid, 0.0f);
  const auto n = p.grid.dims;
  const float below = std::nextafter(post.threshold, 0.0f);
  tbb::parallel_for(int64_t{0}, n[2], [&](int64_t kk) {
    for (int64_t j = 0; j < n[1]; ++j)
      for (int64_t i = 0; i < n[0]; ++i) {
        const size_t at = static_cast<size_t>(p.grid.index(i, j, kk));
        if (k.v[at] == 1) { q.v[at] = p.v[at]; continue; }
        if (k.v[at] == 2) { q.v[at] = 1.0f; continue; }
        bool rim = false;
        for (int64_t dk = -1; dk <= 1 && !rim; ++dk)
          for (int64_t dj = -1; dj <= 1 && !rim; ++dj)
            for (int64_t di = -1; di <= 1 && !rim; ++di) {
              const int64_t x = i + di, y = j + dj, z = kk + dk;
              if (x < 0 || y < 0 || z < 0 || x >= n[0] || y >= n[1] || z >= n[2]) continue;
              rim = k.v[static_cast<size_t>(p.grid.index(x, y, z))] != 0;
            }
        if (rim) q.v[at] = std::min(p.v[at], below);
      }
  });
  if (info) *info = pi;
  return q;
}

std::vector<uint8_t> segment(const nifti::Image& image, const Model& m, SegmentInfo* info) {
  const auto t0 = std::chrono::steady_clock::now();
  Prepared pr = prepare(image, m.features.working_spacing_mm);
  const VolumeF p = embed(probability_map(m, pr.work), pr.crop_lo, pr.full, 0.0f);
  const double t_feat = seconds_since(t0);
  PostInfo pi;
  const VolumeF q = postprocess(p, m.post, &pi);
  std::vector<uint8_t> mask(static_cast<size_t>(pr.native.size()));
  upsample_threshold(q, pr.factors, pr.native, m.post.threshold, mask.data());
  if (info) {
    info->working_dims = pr.full.dims;
    info->factors = pr.factors;
    info->post = pi;
    info->seconds_features = t_feat;
    info->seconds_total = seconds_since(t0);
    if (info->keep_probability) info->probability = p;
  }
  return mask;
}

PredictSummary predict_folder(const std::string& input_dir, const std::string& output_dir, const Model& m,
                              std::ostream& log, const std::string& probability_dir) {
  if (!fs::is_directory(input_dir)) throw std::runtime_error("input folder " + input_dir + " does not exist");
  std::vector<std::pair<std::string, fs::path>> cases;  // case name, image path
  const std::string suffix = "_0000.nii.gz";
  for (const auto& e : fs::directory_iterator(input_dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      cases.emplace_back(name.substr(0, name.size() - suffix.size()), e.path());
  }
  std::sort(cases.begin(), cases.end());
  if (cases.empty()) throw std::runtime_error("no <Case>_0000.nii.gz images in " + input_dir);
  fs::create_directories(output_dir);

  PredictSummary s;
  s.cases = static_cast<int>(cases.size());
  for (const auto& [name, path] : cases) {
    const std::string out_path = (fs::path(output_dir) / (name + ".nii.gz")).string();
    try {
      const auto t0 = std::chrono::steady_clock::now();
      nifti::Image image;
      try {
        image = nifti::read_image(path.string());
      } catch (const std::exception& e) {
        throw InputError(std::string("cannot read: ") + e.what());
      }
      SegmentInfo info;
      info.keep_probability = !probability_dir.empty();
      const auto mask = segment(image, m, &info);
      nifti::write_image(out_path, nifti::header_like(image.header, nifti::kUInt8), mask.data());
      if (info.keep_probability) {
        fs::create_directories(probability_dir);
        // The working grid's first voxel is the centre of the first block of native voxels.
        const auto g = nifti::geometry_of(image.header);
        const auto A = image.header.affine();
        const auto& wg = info.probability.grid;
        std::array<double, 3> origin{};
        for (int r = 0; r < 3; ++r) {
          origin[r] = A[r][3];
          for (int c = 0; c < 3; ++c) origin[r] += A[r][c] * 0.5 * (info.factors[c] - 1);
        }
        nifti::write_image((fs::path(probability_dir) / (name + "_probability.nii.gz")).string(),
                           nifti::make_header(wg.dims, wg.spacing_mm, origin, g.direction, nifti::kFloat32),
                           info.probability.data());
      }
      ++s.written;
      log << name << ": " << info.post.components_kept << " component" << (info.post.components_kept == 1 ? "" : "s")
          << ", " << std::fixed << std::setprecision(1) << info.post.kept_ml << " ml, " << std::setprecision(2)
          << seconds_since(t0) << " s\n";
    } catch (const std::exception& e) {
      ++s.failed;
      s.errors.push_back(path.filename().string() + ": " + e.what());
      log << name << ": error: " << path.string() << ": " << e.what() << "\n";
    }
    log.flush();
  }
  return s;
}

}  // namespace lb::baseline
