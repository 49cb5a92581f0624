#include "metrics/mask_io.h"

#include "metrics/itk_volume.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

namespace lb {

namespace {

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  // Shortest text that reads back as the stored value: float32 data prints as 0.9999, not 0.999899983.
  char buf[64];
  const float f = static_cast<float>(v);
  const auto res = static_cast<double>(f) == v ? std::to_chars(buf, buf + sizeof buf, f)
                                               : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// Offending values: the few most frequent, with counts, and the total.
std::string describe_invalid(const std::map<double, int64_t>& bad, int64_t nan_count, int64_t total_bad) {
  std::vector<std::pair<double, int64_t>> items(bad.begin(), bad.end());
  std::sort(items.begin(), items.end(), [](auto& a, auto& b) { return a.second > b.second; });
  std::ostringstream s;
  s << "labels must be 0 or 1, but " << total_bad << " voxel" << (total_bad == 1 ? " holds" : "s hold")
    << " other values: ";
  int shown = 0;
  if (nan_count > 0) {
    s << "NaN (" << nan_count << ")";
    ++shown;
  }
  for (const auto& [value, count] : items) {
    if (shown == 6) {
      s << ", ...";
      break;
    }
    s << (shown ? ", " : "") << format_value(value) << " (" << count << ")";
    ++shown;
  }
  return s.str();
}

template <class T>
bool convert(const uint8_t* raw, int64_t n, bool scaled, double slope, double inter, uint8_t* out,
             std::map<double, int64_t>& bad, int64_t& nan_count, int64_t& total_bad) {
  const T* v = reinterpret_cast<const T*>(raw);
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) {
    T x;
    std::memcpy(&x, v + i, sizeof(T));
    const double d = scaled ? static_cast<double>(x) * slope + inter : static_cast<double>(x);
    if (d == 0.0) {
      out[i] = 0;
    } else if (d == 1.0) {
      out[i] = 1;
    } else {
      ok = false;
      out[i] = 0;
      ++total_bad;
      if (std::isnan(d)) {
        ++nan_count;
      } else if (bad.size() < 4096 || bad.count(d)) {
        ++bad[d];
      }
    }
  }
  return ok;
}

}  // namespace

std::string shape_problem(const nifti::Header& h) {
  if (h.is_volume3d()) return {};
  return "image is " + std::to_string(h.ndim()) + "-D (" + h.shape_text() +
         "), a 3-D label volume is required (axes beyond the third must be 1)";
}

MaskLoad mask_from_image(nifti::Image&& img) {
  MaskLoad r;
  const nifti::Header& h = img.header;
  const std::string shape = shape_problem(h);
  if (!shape.empty()) {
    r.status = MaskStatus::read_error;
    r.message = shape;
    return r;
  }
  for (const auto& w : h.warnings) r.warnings.push_back(w);
  if (h.ndim() > 3) r.warnings.push_back("trailing singleton axes dropped (dim[0] = " + std::to_string(h.ndim()) + ")");
  Mask& m = r.mask;
  m.dims = h.dims3();
  m.geometry = nifti::geometry_of(h);
  m.spacing_mm = m.geometry.spacing_mm;
  for (double s : m.spacing_mm) {
    if (!(s > 0) || !std::isfinite(s)) {
      r.status = MaskStatus::read_error;
      r.message = "invalid voxel spacing " + m.geometry.describe();
      return r;
    }
  }
  // CT spacings are 0.3-10 mm; far outside that the file is likely in other units (metres). Scored as stored,
  // as the official scorer does, but said.
  for (double s : m.spacing_mm)
    if (s < kPlausibleSpacingMm[0] || s > kPlausibleSpacingMm[1]) {
      std::ostringstream w;
      w << "voxel spacing " << m.spacing_mm[0] << "x" << m.spacing_mm[1] << "x" << m.spacing_mm[2]
        << " mm is implausible for CT (units not mm?); scored as stored, as the official scorer does";
      r.warnings.push_back(w.str());
      break;
    }
  const int64_t n = h.voxel_count();
  const bool scaled = h.has_scaling();
  if (scaled) {
    std::ostringstream s;
    s << "scl_slope " << h.scl_slope << " and scl_inter " << h.scl_inter << " applied to the stored values";
    r.warnings.push_back(s.str());
  }
  if (h.datatype == nifti::kUInt8 && !scaled) {
    // Fast path for the usual file: a max over the bytes (vectorised); values are counted only when bad.
    const uint8_t* p = img.data.data();
    uint8_t top = 0;
    for (int64_t i = 0; i < n; ++i) top = std::max(top, p[i]);
    int64_t total_bad = 0;
    std::map<double, int64_t> bad;
    if (top > 1) {
      std::array<int64_t, 256> hist{};
      for (int64_t i = 0; i < n; ++i) ++hist[p[i]];
      for (int v = 2; v < 256; ++v)
        if (hist[v]) {
          bad[v] = hist[v];
          total_bad += hist[v];
        }
    }
    m.voxels = std::move(img.data);
    if (total_bad) {
      r.status = MaskStatus::invalid_labels;
      r.message = describe_invalid(bad, 0, total_bad);
      std::replace_if(m.voxels.begin(), m.voxels.end(), [](uint8_t v) { return v > 1; }, uint8_t{0});
    }
    return r;
  }
  m.voxels.resize(static_cast<size_t>(n));
  std::map<double, int64_t> bad;
  int64_t nan_count = 0, total_bad = 0;
  const double slope = h.scl_slope, inter = h.scl_inter;
  const uint8_t* raw = img.data.data();
  uint8_t* out = m.voxels.data();
  bool ok = true;
  switch (h.datatype) {
    case nifti::kUInt8: ok = convert<uint8_t>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kInt8: ok = convert<int8_t>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kInt16: ok = convert<int16_t>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kUInt16: ok = convert<uint16_t>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kInt32: ok = convert<int32_t>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kUInt32: ok = convert<uint32_t>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kInt64: ok = convert<int64_t>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kUInt64: ok = convert<uint64_t>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kFloat32: ok = convert<float>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    case nifti::kFloat64: ok = convert<double>(raw, n, scaled, slope, inter, out, bad, nan_count, total_bad); break;
    default:
      r.status = MaskStatus::read_error;
      r.message = std::string("unsupported datatype ") + nifti::datatype_name(h.datatype);
      return r;
  }
  if (!ok) {
    r.status = MaskStatus::invalid_labels;
    r.message = describe_invalid(bad, nan_count, total_bad);
  }
  return r;
}

bool is_itk_volume_path(const std::string& path) {
  std::string p = path;
  for (auto& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string ext : {".mha", ".mhd", ".nrrd", ".nhdr"})
    if (p.size() > ext.size() && p.ends_with(ext)) return true;
  return false;
}

MaskLoad load_mask(const std::string& path) {
  // Formats other than NIfTI go through ITK (full build only); the label rules are the same.
  if (is_itk_volume_path(path)) return load_itk_volume(path);
  try {
    return mask_from_image(nifti::read_image(path));
  } catch (const std::exception& e) {
    MaskLoad r;
    r.status = MaskStatus::read_error;
    r.message = e.what();
    return r;
  }
}

}  // namespace lb
