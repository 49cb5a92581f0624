#include "baseline/features.h"

#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "imaging/filters.h"
#include "metrics/components.h"

namespace lb::baseline {

std::string scale_name(double mm) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gmm", mm);
  return buf;
}

namespace {
std::string dog_name(const std::array<double, 2>& d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%g_%gmm", d[0], d[1]);
  return buf;
}
}  // namespace

std::vector<std::string> FeatureSettings::names() const {
  std::vector<std::string> n{"hu"};
  for (double s : smooth_mm) n.push_back("smooth_" + scale_name(s));
  for (double s : gradient_mm) n.push_back("grad_" + scale_name(s));
  for (double s : log_mm) n.push_back("log_" + scale_name(s));
  for (double s : std_mm) n.push_back("std_" + scale_name(s));
  for (const auto& d : dog_mm) n.push_back("dog_" + dog_name(d));
  for (double s : edge_mm) n.push_back("edge_" + scale_name(s));
  for (double s : hessian_mm)
    for (int e = 1; e <= 3; ++e) n.push_back("hess" + std::to_string(e) + "_" + scale_name(s));
  for (double s : fat_mm) n.push_back("fat_" + scale_name(s));
  for (double s : bone_mm) n.push_back("bone_" + scale_name(s));
  for (double s : air_mm) n.push_back("air_" + scale_name(s));
  if (distances) n.insert(n.end(), {"dist_fat", "dist_bone", "dist_air"});
  for (double s : relative_mm) n.push_back("rel_" + scale_name(s));
  if (scan_features) n.insert(n.end(), {"scan_soft_hu", "scan_bright_fraction", "scan_lung_fraction"});
  return n;
}

std::vector<std::string> ContextSettings::names() const {
  std::vector<std::string> n{"p"};
  for (double s : smooth_mm) n.push_back("p_" + scale_name(s));
  for (double s : core_diff_mm) n.push_back("core_diff_" + scale_name(s));
  if (components) n.insert(n.end(), {"comp_log_ml", "comp_mean_p", "comp_rel_volume", "comp_depth_mm"});
  return n;
}

void to_json(nlohmann::json& j, const FeatureSettings& s) {
  j = {{"working_spacing_mm", s.working_spacing_mm},
       {"soft_hu", {s.soft_lo_hu, s.soft_hi_hu}},
       {"fat_hu", {s.fat_lo_hu, s.fat_hi_hu}},
       {"bone_hu", s.bone_hu},
       {"air_hu", s.air_hu},
       {"smooth_mm", s.smooth_mm},
       {"gradient_mm", s.gradient_mm},
       {"log_mm", s.log_mm},
       {"std_mm", s.std_mm},
       {"hessian_mm", s.hessian_mm},
       {"edge_mm", s.edge_mm},
       {"dog_mm", s.dog_mm},
       {"scan_features", s.scan_features},
       {"fat_mm", s.fat_mm},
       {"bone_mm", s.bone_mm},
       {"air_mm", s.air_mm},
       {"distances", s.distances},
       {"distance_cap_mm", s.distance_cap_mm},
       {"relative_mm", s.relative_mm}};
}

void from_json(const nlohmann::json& j, FeatureSettings& s) {
  s.working_spacing_mm = j.at("working_spacing_mm").get<std::array<double, 3>>();
  s.soft_lo_hu = j.at("soft_hu").at(0);
  s.soft_hi_hu = j.at("soft_hu").at(1);
  s.fat_lo_hu = j.at("fat_hu").at(0);
  s.fat_hi_hu = j.at("fat_hu").at(1);
  s.bone_hu = j.at("bone_hu");
  s.air_hu = j.at("air_hu");
  s.smooth_mm = j.at("smooth_mm").get<std::vector<double>>();
  s.gradient_mm = j.at("gradient_mm").get<std::vector<double>>();
  s.log_mm = j.at("log_mm").get<std::vector<double>>();
  s.std_mm = j.at("std_mm").get<std::vector<double>>();
  s.hessian_mm = j.value("hessian_mm", std::vector<double>{});
  s.edge_mm = j.value("edge_mm", std::vector<double>{});
  s.dog_mm = j.value("dog_mm", std::vector<std::array<double, 2>>{});
  s.scan_features = j.value("scan_features", false);
  s.fat_mm = j.at("fat_mm").get<std::vector<double>>();
  s.bone_mm = j.at("bone_mm").get<std::vector<double>>();
  s.air_mm = j.at("air_mm").get<std::vector<double>>();
  s.distances = j.at("distances");
  s.distance_cap_mm = j.at("distance_cap_mm");
  s.relative_mm = j.at("relative_mm").get<std::vector<double>>();
}

void to_json(nlohmann::json& j, const ContextSettings& s) {
  j = {{"smooth_mm", s.smooth_mm},
       {"components", s.components},
       {"distance_cap_mm", s.distance_cap_mm},
       {"core_diff_mm", s.core_diff_mm}};
}

void from_json(const nlohmann::json& j, ContextSettings& s) {
  s.smooth_mm = j.at("smooth_mm").get<std::vector<double>>();
  s.components = j.at("components");
  s.distance_cap_mm = j.at("distance_cap_mm");
  s.core_diff_mm = j.value("core_diff_mm", std::vector<double>{});
}

namespace {

VolumeF map(const VolumeF& in, auto fn) {
  VolumeF out(in.grid);
  tbb::parallel_for(size_t{0}, in.v.size(), size_t{1} << 16, [&](size_t b) {
    const size_t e = std::min(in.v.size(), b + (size_t{1} << 16));
    for (size_t t = b; t < e; ++t) out.v[t] = fn(in.v[t]);
  });
  return out;
}

VolumeU8 class_mask(const VolumeF& in, auto pred) {
  VolumeU8 out(in.grid);
  for (size_t t = 0; t < in.v.size(); ++t) out.v[t] = pred(in.v[t]) ? 1 : 0;
  return out;
}

VolumeF fraction(const VolumeU8& m, double sigma_mm) {
  VolumeF f(m.grid);
  for (size_t t = 0; t < m.v.size(); ++t) f.v[t] = m.v[t];
  return gaussian_multigrid(f, sigma_mm);
}

// Median of the values whose class test passes, from every 3rd voxel (plenty for a median).
float median_where(const VolumeF& values, const VolumeF& classes, auto pred, float fallback) {
  std::vector<float> picked;
  for (size_t t = 0; t < values.v.size(); t += 3)
    if (pred(classes.v[t])) picked.push_back(values.v[t]);
  if (picked.size() < 10) return fallback;
  auto mid = picked.begin() + static_cast<std::ptrdiff_t>(picked.size() / 2);
  std::nth_element(picked.begin(), mid, picked.end());
  return *mid;
}

}  // namespace

FeatureStack compute_features(const VolumeF& work, const FeatureSettings& s, VolumeF* smooth_hu_1mm) {
  FeatureStack st;
  st.grid = work.grid;
  const float soft_lo = static_cast<float>(s.soft_lo_hu), soft_hi = static_cast<float>(s.soft_hi_hu);
  const VolumeF soft = map(work, [&](float v) { return std::clamp(v, soft_lo, soft_hi); });
  const VolumeF g1 = gaussian(work, 1.0);  // tissue classes from a lightly denoised image

  st.add("hu", map(work, [](float v) { return std::clamp(v, -1000.0f, 1500.0f); }).v);

  // Gaussians of S at every scale any family needs, computed once: exactly where derivatives are taken
  // (gradient, LoG), on a coarser grid elsewhere (plain values of wide kernels are smooth).
  std::vector<double> scales = s.smooth_mm;
  for (const auto* list : {&s.gradient_mm, &s.log_mm, &s.std_mm, &s.relative_mm}) scales.insert(scales.end(), list->begin(), list->end());
  for (const auto& d : s.dog_mm) scales.insert(scales.end(), d.begin(), d.end());
  std::sort(scales.begin(), scales.end());
  scales.erase(std::unique(scales.begin(), scales.end()), scales.end());
  auto exact = [&](double mm) {
    return std::find(s.gradient_mm.begin(), s.gradient_mm.end(), mm) != s.gradient_mm.end() ||
           std::find(s.log_mm.begin(), s.log_mm.end(), mm) != s.log_mm.end();
  };
  auto smooth = [&](const VolumeF& v, double mm) { return exact(mm) ? gaussian(v, mm) : gaussian_multigrid(v, mm); };
  std::vector<VolumeF> gs(scales.size());
  tbb::parallel_for(size_t{0}, scales.size(), [&](size_t t) { gs[t] = smooth(soft, scales[t]); });
  auto g_of = [&](double mm) -> const VolumeF& {
    return gs[static_cast<size_t>(std::find(scales.begin(), scales.end(), mm) - scales.begin())];
  };

  for (double mm : s.smooth_mm) st.add("smooth_" + scale_name(mm), g_of(mm).v);
  for (double mm : s.gradient_mm) st.add("grad_" + scale_name(mm), gradient_magnitude(g_of(mm)).v);
  for (double mm : s.log_mm) {
    const float norm = static_cast<float>(mm * mm);
    st.add("log_" + scale_name(mm), map(laplacian(g_of(mm)), [&](float v) { return norm * v; }).v);
  }
  if (!s.std_mm.empty()) {
    const VolumeF sq = map(soft, [](float v) { return v * v; });
    std::vector<VolumeF> col(s.std_mm.size());
    tbb::parallel_for(size_t{0}, s.std_mm.size(), [&](size_t t) {
      VolumeF m2 = smooth(sq, s.std_mm[t]);
      const VolumeF& m1 = g_of(s.std_mm[t]);
      for (size_t x = 0; x < m2.v.size(); ++x) m2.v[x] = std::sqrt(std::max(0.0f, m2.v[x] - m1.v[x] * m1.v[x]));
      col[t] = std::move(m2);
    });
    for (size_t t = 0; t < s.std_mm.size(); ++t) st.add("std_" + scale_name(s.std_mm[t]), std::move(col[t].v));
  }

  for (const auto& d : s.dog_mm) {
    const VolumeF& a = g_of(d[0]);
    const VolumeF& b = g_of(d[1]);
    std::vector<float> col(a.v.size());
    for (size_t t = 0; t < col.size(); ++t) col[t] = a.v[t] - b.v[t];
    st.add("dog_" + dog_name(d), std::move(col));
  }
  if (!s.edge_mm.empty()) {
    const VolumeF edges = gradient_magnitude(exact(1.0) ? g_of(1.0) : gaussian(soft, 1.0));
    std::vector<VolumeF> col(s.edge_mm.size());
    tbb::parallel_for(size_t{0}, s.edge_mm.size(), [&](size_t t) { col[t] = gaussian_multigrid(edges, s.edge_mm[t]); });
    for (size_t t = 0; t < col.size(); ++t) st.add("edge_" + scale_name(s.edge_mm[t]), std::move(col[t].v));
  }
  for (double mm : s.hessian_mm) {
    VolumeF e[3];
    hessian_eigenvalues_multigrid(soft, mm, e[0], e[1], e[2]);
    const float norm = static_cast<float>(mm * mm);
    for (int t = 0; t < 3; ++t) {
      for (float& v : e[t].v) v *= norm;
      st.add("hess" + std::to_string(t + 1) + "_" + scale_name(mm), std::move(e[t].v));
    }
  }

  const float fat_lo = static_cast<float>(s.fat_lo_hu), fat_hi = static_cast<float>(s.fat_hi_hu);
  const float bone = static_cast<float>(s.bone_hu), air = static_cast<float>(s.air_hu);
  VolumeU8 fat_m, bone_m, air_m;
  tbb::parallel_invoke([&] { fat_m = class_mask(g1, [&](float v) { return v >= fat_lo && v <= fat_hi; }); },
                       [&] { bone_m = class_mask(g1, [&](float v) { return v >= bone; }); },
                       [&] { air_m = class_mask(g1, [&](float v) { return v <= air; }); });
  struct Job { const VolumeU8* m; const char* name; double mm; };
  std::vector<Job> jobs;
  for (double mm : s.fat_mm) jobs.push_back({&fat_m, "fat_", mm});
  for (double mm : s.bone_mm) jobs.push_back({&bone_m, "bone_", mm});
  for (double mm : s.air_mm) jobs.push_back({&air_m, "air_", mm});
  std::vector<VolumeF> fr(jobs.size());
  tbb::parallel_for(size_t{0}, jobs.size(), [&](size_t t) { fr[t] = fraction(*jobs[t].m, jobs[t].mm); });
  for (size_t t = 0; t < jobs.size(); ++t) st.add(jobs[t].name + scale_name(jobs[t].mm), std::move(fr[t].v));

  if (s.distances) {
    const float cap = static_cast<float>(s.distance_cap_mm);
    VolumeF df, db, da;
    tbb::parallel_invoke([&] { df = distance_mm(fat_m, cap); }, [&] { db = distance_mm(bone_m, cap); },
                         [&] { da = distance_mm(air_m, cap); });
    st.add("dist_fat", std::move(df.v));
    st.add("dist_bone", std::move(db.v));
    st.add("dist_air", std::move(da.v));
  }
  const float med = median_where(soft, g1, [](float v) { return v > -30.0f && v <= 150.0f; }, 40.0f);
  for (double mm : s.relative_mm) st.add("rel_" + scale_name(mm), map(g_of(mm), [&](float v) { return v - med; }).v);
  if (s.scan_features) {
    int64_t body = 0, bright = 0, lung = 0;
    for (float v : g1.v) {
      if (v <= -950.0f) continue;  // air outside the body
      ++body;
      bright += v > 80.0f && v <= 250.0f;
      lung += v <= -500.0f;
    }
    const float n = static_cast<float>(std::max<int64_t>(1, body));
    st.add("scan_soft_hu", std::vector<float>(work.v.size(), med));
    st.add("scan_bright_fraction", std::vector<float>(work.v.size(), static_cast<float>(bright) / n));
    st.add("scan_lung_fraction", std::vector<float>(work.v.size(), static_cast<float>(lung) / n));
  }
  if (smooth_hu_1mm) *smooth_hu_1mm = g1;
  return st;
}

void add_context_features(const VolumeF& p, const ContextSettings& s, FeatureStack& st) {
  st.add("p", p.v);
  std::vector<VolumeF> sm(s.smooth_mm.size());
  tbb::parallel_for(size_t{0}, s.smooth_mm.size(), [&](size_t t) { sm[t] = gaussian_multigrid(p, s.smooth_mm[t]); });
  for (size_t t = 0; t < sm.size(); ++t) st.add("p_" + scale_name(s.smooth_mm[t]), std::move(sm[t].v));
  VolumeU8 inside(p.grid);
  for (size_t t = 0; t < p.v.size(); ++t) inside.v[t] = p.v[t] >= 0.5f;
  for (double mm : s.core_diff_mm) {
    const std::string name = "smooth_" + scale_name(mm);
    const auto it = std::find(st.names.begin(), st.names.end(), name);
    if (it == st.names.end()) throw std::runtime_error("core_diff_" + scale_name(mm) + " needs stage-1 feature " + name);
    const std::vector<float>& sm = st.cols[static_cast<size_t>(it - st.names.begin())];
    double sw = 0, swx = 0;
    for (size_t t = 0; t < p.v.size(); ++t)
      if (inside.v[t]) sw += p.v[t], swx += double(p.v[t]) * sm[t];
    const float mu = static_cast<float>(sw > 0 ? swx / sw : 0.0);
    std::vector<float> diff(p.v.size());
    for (size_t t = 0; t < p.v.size(); ++t) diff[t] = sw > 0 ? sm[t] - mu : 0.0f;
    st.add("core_diff_" + scale_name(mm), std::move(diff));
  }
  if (!s.components) return;
  const Components comps = label_components(inside.data(), p.grid.dims, 26);
  std::vector<double> sum_p(static_cast<size_t>(comps.count), 0.0);
  std::vector<int32_t> label(p.v.size(), -1);
  const int64_t n0 = p.grid.dims[0];
  for (size_t r = 0; r < comps.runs.size(); ++r) {
    const Run& run = comps.runs[r];
    const int32_t c = comps.run_label[r];
    for (int64_t x = run.x0; x < run.x1; ++x) {
      const size_t at = static_cast<size_t>(run.row * n0 + x);
      label[at] = c;
      sum_p[static_cast<size_t>(c)] += p.v[at];
    }
  }
  int64_t largest = 1;
  for (int64_t v : comps.voxels) largest = std::max(largest, v);
  const double voxel_ml = p.grid.voxel_ml();
  std::vector<float> log_ml(p.v.size()), mean_p(p.v.size()), rel(p.v.size());
  for (size_t t = 0; t < p.v.size(); ++t) {
    const int32_t c = label[t];
    if (c < 0) {
      log_ml[t] = -3.0f;  // 1 µl: below any component
      mean_p[t] = 0.0f;
      rel[t] = 0.0f;
      continue;
    }
    const double vox = static_cast<double>(comps.voxels[static_cast<size_t>(c)]);
    log_ml[t] = static_cast<float>(std::log10(std::max(1e-3, vox * voxel_ml)));
    mean_p[t] = static_cast<float>(sum_p[static_cast<size_t>(c)] / vox);
    rel[t] = static_cast<float>(vox / static_cast<double>(largest));
  }
  // Signed distance to the border of p >= 0.5: depth inside (positive), distance outside (negative).
  const float cap = static_cast<float>(s.distance_cap_mm);
  VolumeU8 outside(p.grid);
  for (size_t t = 0; t < p.v.size(); ++t) outside.v[t] = !inside.v[t];
  VolumeF to_in, to_out;
  tbb::parallel_invoke([&] { to_in = distance_mm(inside, cap); }, [&] { to_out = distance_mm(outside, cap); });
  std::vector<float> depth(p.v.size());
  for (size_t t = 0; t < p.v.size(); ++t) depth[t] = inside.v[t] ? to_out.v[t] : -to_in.v[t];
  st.add("comp_log_ml", std::move(log_ml));
  st.add("comp_mean_p", std::move(mean_p));
  st.add("comp_rel_volume", std::move(rel));
  st.add("comp_depth_mm", std::move(depth));
}

}  // namespace lb::baseline
