// Axial slice pictures with outlines (see slice_picture.h).
#include "reports/slice_picture.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lb {

namespace {

template <class T>
void convert(const nifti::Image& img, size_t first, size_t count, size_t step, float* out) {
  const T* v = reinterpret_cast<const T*>(img.data.data());
  const bool scale = img.header.has_scaling();
  const double slope = img.header.scl_slope, inter = img.header.scl_inter;
  for (size_t n = 0; n < count; ++n) {
    const double x = static_cast<double>(v[first + n * step]);
    out[n] = static_cast<float>(scale ? x * slope + inter : x);
  }
}

// count values starting at `first`, `step` apart, after scaling.
void values_of(const nifti::Image& img, size_t first, size_t count, size_t step, float* out) {
  switch (img.header.datatype) {
    case nifti::kUInt8: return convert<uint8_t>(img, first, count, step, out);
    case nifti::kInt8: return convert<int8_t>(img, first, count, step, out);
    case nifti::kInt16: return convert<int16_t>(img, first, count, step, out);
    case nifti::kUInt16: return convert<uint16_t>(img, first, count, step, out);
    case nifti::kInt32: return convert<int32_t>(img, first, count, step, out);
    case nifti::kUInt32: return convert<uint32_t>(img, first, count, step, out);
    case nifti::kInt64: return convert<int64_t>(img, first, count, step, out);
    case nifti::kUInt64: return convert<uint64_t>(img, first, count, step, out);
    case nifti::kFloat32: return convert<float>(img, first, count, step, out);
    case nifti::kFloat64: return convert<double>(img, first, count, step, out);
    default: throw std::runtime_error(std::string("unsupported datatype ") + nifti::datatype_name(img.header.datatype));
  }
}

struct Plane {
  int axis = 2;          // slice axis
  int a = 0, b = 1;      // voxel axes shown across (screen x) and down (screen y)
  bool flip_a = false, flip_b = false;
};

// Which voxel axis is closest to world z, and how the other two map to the screen (radiological view:
// screen x toward the patient's left = world -x in RAS, screen y toward posterior = world -y).
Plane plane_of(const nifti::Geometry& g) {
  auto comp = [&](int world, int axis) { return g.direction[world * 3 + axis]; };
  Plane p;
  p.axis = 0;
  for (int ax = 1; ax < 3; ++ax)
    if (std::fabs(comp(2, ax)) > std::fabs(comp(2, p.axis))) p.axis = ax;
  int o[2], n = 0;
  for (int ax = 0; ax < 3; ++ax)
    if (ax != p.axis) o[n++] = ax;
  // The axis more aligned with world x goes across.
  if (std::fabs(comp(0, o[1])) > std::fabs(comp(0, o[0]))) std::swap(o[0], o[1]);
  p.a = o[0];
  p.b = o[1];
  p.flip_a = comp(0, p.a) > 0;
  p.flip_b = comp(1, p.b) > 0;
  return p;
}

int64_t stride_of(const std::array<int64_t, 3>& dims, int axis) {
  return axis == 0 ? 1 : axis == 1 ? dims[0] : dims[0] * dims[1];
}

// Plane of a volume: out[ia + na*ib].
template <class T>
std::vector<T> plane_values(const std::vector<T>& vol, const std::array<int64_t, 3>& dims, const Plane& p, int64_t index) {
  const int64_t na = dims[p.a], nb = dims[p.b];
  const int64_t sa = stride_of(dims, p.a), sb = stride_of(dims, p.b), ss = stride_of(dims, p.axis);
  std::vector<T> out(static_cast<size_t>(na * nb));
  for (int64_t ib = 0; ib < nb; ++ib)
    for (int64_t ia = 0; ia < na; ++ia) out[static_cast<size_t>(ia + na * ib)] = vol[static_cast<size_t>(ia * sa + ib * sb + index * ss)];
  return out;
}

struct Choice {
  int64_t index = 0;
  std::string centred_on;
};

Choice choose_slice(const std::vector<uint8_t>& gt, const std::vector<uint8_t>& pred, const std::array<int64_t, 3>& dims,
                    const Plane& p) {
  const int64_t ns = dims[p.axis];
  std::vector<int64_t> gt_count(static_cast<size_t>(ns), 0), pred_count(static_cast<size_t>(ns), 0);
  const int64_t n = dims[0] * dims[1] * dims[2], ss = stride_of(dims, p.axis);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t s = (i / ss) % ns;
    gt_count[static_cast<size_t>(s)] += gt[static_cast<size_t>(i)] != 0;
    pred_count[static_cast<size_t>(s)] += pred[static_cast<size_t>(i)] != 0;
  }
  const auto best = [&](const std::vector<int64_t>& c) {
    return static_cast<int64_t>(std::max_element(c.begin(), c.end()) - c.begin());
  };
  const int64_t g = best(gt_count);
  if (gt_count[static_cast<size_t>(g)] > 0) return {g, "ground truth"};
  const int64_t q = best(pred_count);
  if (pred_count[static_cast<size_t>(q)] > 0) return {q, "prediction"};
  return {ns / 2, "middle"};
}

// Renders one plane: CT bilinear, masks nearest; outlines on the picture's own pixel grid.
SliceView render_plane(const std::vector<float>& ct, const std::vector<uint8_t>& gt, const std::vector<uint8_t>& pred,
                       int64_t na, int64_t nb, double sp_a, double sp_b, const Plane& p, const SliceOptions& opt) {
  // Field of view: the box of the ground truth on this plane (else the prediction), with a margin, at least
  // min_field_mm, clamped to the plane.
  const std::vector<uint8_t>& focus = std::any_of(gt.begin(), gt.end(), [](uint8_t v) { return v; }) ? gt : pred;
  int64_t lo_a = na, hi_a = -1, lo_b = nb, hi_b = -1;
  for (int64_t ib = 0; ib < nb; ++ib)
    for (int64_t ia = 0; ia < na; ++ia)
      if (focus[static_cast<size_t>(ia + na * ib)]) {
        lo_a = std::min(lo_a, ia), hi_a = std::max(hi_a, ia);
        lo_b = std::min(lo_b, ib), hi_b = std::max(hi_b, ib);
      }
  double ca, cb, half_a_mm, half_b_mm;
  if (hi_a < 0) {  // nothing on this plane: the whole plane
    ca = na / 2.0, cb = nb / 2.0, half_a_mm = na * sp_a / 2, half_b_mm = nb * sp_b / 2;
  } else {
    ca = (lo_a + hi_a + 1) / 2.0, cb = (lo_b + hi_b + 1) / 2.0;
    const double side_mm = std::max({(hi_a - lo_a + 1) * sp_a + 2 * opt.margin_mm,
                                     (hi_b - lo_b + 1) * sp_b + 2 * opt.margin_mm, opt.min_field_mm});
    half_a_mm = half_b_mm = side_mm / 2;
  }
  auto clamp_range = [](double centre, double half_vox, int64_t n, double& lo, double& hi) {
    lo = centre - half_vox, hi = centre + half_vox;
    if (hi - lo >= n) {
      lo = 0, hi = static_cast<double>(n);
      return;
    }
    if (lo < 0) hi -= lo, lo = 0;
    if (hi > n) lo -= hi - n, hi = static_cast<double>(n);
  };
  double a0, a1, b0, b1;
  clamp_range(ca, half_a_mm / sp_a, na, a0, a1);
  clamp_range(cb, half_b_mm / sp_b, nb, b0, b1);
  const double w_mm = (a1 - a0) * sp_a, h_mm = (b1 - b0) * sp_b;
  const double px_per_mm = opt.max_side_px / std::max(w_mm, h_mm);
  const int W = std::max(1, static_cast<int>(std::lround(w_mm * px_per_mm)));
  const int H = std::max(1, static_cast<int>(std::lround(h_mm * px_per_mm)));

  SliceView view;
  view.image = RgbImage(W, H);
  std::vector<uint8_t> gmask(static_cast<size_t>(W) * H), pmask(static_cast<size_t>(W) * H);
  const double lo_hu = opt.window_center_hu - opt.window_width_hu / 2;
  for (int y = 0; y < H; ++y) {
    const double vb_screen = b0 + (y + 0.5) / H * (b1 - b0);                 // continuous voxel coordinate
    const double vb = p.flip_b ? (b0 + b1) - vb_screen : vb_screen;
    for (int x = 0; x < W; ++x) {
      const double va_screen = a0 + (x + 0.5) / W * (a1 - a0);
      const double va = p.flip_a ? (a0 + a1) - va_screen : va_screen;
      // Bilinear on voxel centres (at integer + 0.5).
      const double fa = std::clamp(va - 0.5, 0.0, static_cast<double>(na - 1));
      const double fb = std::clamp(vb - 0.5, 0.0, static_cast<double>(nb - 1));
      const int64_t ia = std::min<int64_t>(static_cast<int64_t>(fa), na - 1), ib = std::min<int64_t>(static_cast<int64_t>(fb), nb - 1);
      const int64_t ia1 = std::min(ia + 1, na - 1), ib1 = std::min(ib + 1, nb - 1);
      const double ta = fa - ia, tb = fb - ib;
      const auto v = [&](int64_t i, int64_t j) { return static_cast<double>(ct[static_cast<size_t>(i + na * j)]); };
      const double hu = (1 - tb) * ((1 - ta) * v(ia, ib) + ta * v(ia1, ib)) + tb * ((1 - ta) * v(ia, ib1) + ta * v(ia1, ib1));
      const double g = std::clamp((hu - lo_hu) / opt.window_width_hu, 0.0, 1.0);
      const uint8_t grey = static_cast<uint8_t>(std::lround(g * 255));
      uint8_t* px = view.image.at(x, y);
      px[0] = px[1] = px[2] = grey;
      const int64_t na_i = std::clamp<int64_t>(static_cast<int64_t>(std::floor(va)), 0, na - 1);
      const int64_t nb_i = std::clamp<int64_t>(static_cast<int64_t>(std::floor(vb)), 0, nb - 1);
      gmask[static_cast<size_t>(y) * W + x] = gt[static_cast<size_t>(na_i + na * nb_i)] != 0;
      pmask[static_cast<size_t>(y) * W + x] = pred[static_cast<size_t>(na_i + na * nb_i)] != 0;
    }
  }
  // Outline width grows a little with the zoom so that it stays visible.
  const int r = px_per_mm * std::min(sp_a, sp_b) >= 4 ? 2 : 1;
  const auto touches = [&](const std::vector<uint8_t>& m, int x, int y, uint8_t other) {
    for (int dy = -r; dy <= r; ++dy)
      for (int dx = -r; dx <= r; ++dx) {
        const int xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= W || yy >= H) {
          if (other == 0) return true;  // the picture's edge counts as outside
          continue;
        }
        if (m[static_cast<size_t>(yy) * W + xx] == other) return true;
      }
    return false;
  };
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t i = static_cast<size_t>(y) * W + x;
      uint8_t* px = view.image.at(x, y);
      if (gmask[i] && touches(gmask, x, y, 0)) std::copy(kGtColour.begin(), kGtColour.end(), px);      // inside GT
      if (!pmask[i] && touches(pmask, x, y, 1)) std::copy(kPredColour.begin(), kPredColour.end(), px);  // outside pred
    }
  return view;
}

}  // namespace

std::vector<float> image_as_float(const nifti::Image& image) {
  const size_t n = static_cast<size_t>(image.header.voxel_count());
  std::vector<float> out(n);
  values_of(image, 0, n, 1, out.data());
  return out;
}

std::vector<uint8_t> image_as_mask(const nifti::Image& image) {
  const std::vector<float> v = image_as_float(image);
  std::vector<uint8_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] != 0;
  return out;
}

SliceView render_axial_slice(const std::vector<float>& ct_hu, const std::vector<uint8_t>& gt,
                             const std::vector<uint8_t>& pred, const nifti::Geometry& g, const SliceOptions& opt) {
  const size_t n = static_cast<size_t>(g.dims[0] * g.dims[1] * g.dims[2]);
  if (n == 0 || ct_hu.size() != n || gt.size() != n || pred.size() != n)
    throw std::invalid_argument("render_axial_slice: volumes do not match the geometry's dims");
  const Plane p = plane_of(g);
  const Choice c = choose_slice(gt, pred, g.dims, p);
  SliceView view = render_plane(plane_values(ct_hu, g.dims, p, c.index), plane_values(gt, g.dims, p, c.index),
                                plane_values(pred, g.dims, p, c.index), g.dims[p.a], g.dims[p.b], g.spacing_mm[p.a],
                                g.spacing_mm[p.b], p, opt);
  view.slice_axis = p.axis;
  view.slice_index = c.index;
  view.centred_on = c.centred_on;
  for (uint8_t v : plane_values(gt, g.dims, p, c.index)) view.gt_pixels += v != 0;
  for (uint8_t v : plane_values(pred, g.dims, p, c.index)) view.pred_pixels += v != 0;
  return view;
}

namespace {

nifti::Image read_3d(const std::string& path) {
  try {
    nifti::Image img = nifti::read_image(path);
    // The scorer's rule (nifti::Header::is_volume3d): ndim >= 3, axes beyond the third of size 1.
    if (!img.header.is_volume3d()) throw nifti::Error("not a 3-D image (" + img.header.shape_text() + ")");
    return img;
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

std::vector<uint8_t> mask_on_grid(const std::string& path, const CaseVolumes& v) {
  const nifti::Image img = read_3d(path);
  if (img.header.dims3() != v.geometry.dims)
    throw std::runtime_error(path + ": " + nifti::geometry_of(img.header).describe() + " is not on the grid of " +
                             v.ct_path + " (" + v.geometry.describe() + ")");
  return image_as_mask(img);
}

}  // namespace

CaseVolumes load_case_volumes(const std::string& ct_path, const std::string& gt_path) {
  CaseVolumes v;
  v.ct_path = ct_path;
  v.ct = read_3d(ct_path);
  v.geometry = nifti::geometry_of(v.ct.header);
  v.gt = mask_on_grid(gt_path, v);
  return v;
}

SliceView render_case_slice(const CaseVolumes& v, const std::string& pred_path, const SliceOptions& opt) {
  const nifti::Geometry& g = v.geometry;
  const std::vector<uint8_t> pred = pred_path.empty() ? std::vector<uint8_t>(v.gt.size(), 0) : mask_on_grid(pred_path, v);
  const Plane p = plane_of(g);
  const Choice c = choose_slice(v.gt, pred, g.dims, p);
  // Only the chosen plane of the CT is converted: a whole-body CT as float would be large.
  const int64_t na = g.dims[p.a], nb = g.dims[p.b];
  std::vector<float> ct_plane(static_cast<size_t>(na * nb));
  const int64_t sa = stride_of(g.dims, p.a), sb = stride_of(g.dims, p.b), ss = stride_of(g.dims, p.axis);
  for (int64_t ib = 0; ib < nb; ++ib)
    values_of(v.ct, static_cast<size_t>(ib * sb + c.index * ss), static_cast<size_t>(na), static_cast<size_t>(sa),
              &ct_plane[static_cast<size_t>(na * ib)]);
  const auto gt_plane = plane_values(v.gt, g.dims, p, c.index);
  const auto pred_plane = plane_values(pred, g.dims, p, c.index);
  SliceView view = render_plane(ct_plane, gt_plane, pred_plane, na, nb, g.spacing_mm[p.a], g.spacing_mm[p.b], p, opt);
  view.slice_axis = p.axis;
  view.slice_index = c.index;
  view.centred_on = c.centred_on;
  for (uint8_t x : gt_plane) view.gt_pixels += x != 0;
  for (uint8_t x : pred_plane) view.pred_pixels += x != 0;
  return view;
}

}  // namespace lb
