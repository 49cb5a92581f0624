// lesionbench._lesionbench: the Python module's C++ side, a thin layer over metrics/ (the same code as the
// CLI) and reports/scores_json (the same dictionaries as scores.json).
//  - Arrays are scored in their memory order: an F-contiguous array of shape (a, b, c) is the volume a x b x c
//    with index i + a*(j + b*k), as a NIfTI file stores it (nibabel's img.dataobj); a C-contiguous one is
//    the same memory seen with its axes reversed (SimpleITK's z,y,x arrays), so neither is copied.
//    Results (dims, spacing_mm, lesion boxes) are given back in the array's own axis order.
//  - bool and uint8 arrays are used in place; other integer and float types are converted to 0/1 bytes by the
//    CLI's rule (any value that is not exactly 0 or 1, NaN included, makes the case invalid_labels).
//  - The GIL is released while converting and scoring; bad input is a status, as in scores.json.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/version.h"
#include "metrics/case_scores.h"
#include "metrics/lesion_scores.h"
#include "metrics/mask_io.h"
#include "metrics/metric_set.h"
#include "metrics/nifti.h"
#include "metrics/score_set.h"
#include "reports/scores_json.h"

namespace py = pybind11;

namespace lb::python {

namespace {

// One input array as the scorer sees it: a pointer to 0/1 bytes in memory order (the array's own memory or
// `owned`), or a status saying why not. Filled in two steps: prepare() with the GIL, load() without.
struct Input {
  py::array array;                     // keeps the memory alive
  const void* raw = nullptr;
  std::array<int64_t, 3> dims{};       // memory order (fastest axis first)
  std::array<int64_t, 3> shape{};      // the array's own order
  bool reversed = false;               // C order: memory order = reversed array axes
  int16_t datatype = 0;                // NIfTI code of the dtype; 0 when unsupported
  std::string dtype_name;
  int ndim = 0;
  std::vector<int64_t> full_shape;
  MaskStatus status = MaskStatus::ok;
  std::string message;
  std::vector<uint8_t> owned;
  const uint8_t* voxels = nullptr;
};

int16_t datatype_of(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'b') return nifti::kUInt8;  // numpy bools are bytes holding 0 or 1
  if (kind == 'u') return size == 1 ? nifti::kUInt8 : size == 2 ? nifti::kUInt16 : size == 4 ? nifti::kUInt32 : size == 8 ? nifti::kUInt64 : 0;
  if (kind == 'i') return size == 1 ? nifti::kInt8 : size == 2 ? nifti::kInt16 : size == 4 ? nifti::kInt32 : size == 8 ? nifti::kInt64 : 0;
  if (kind == 'f') return size == 4 ? nifti::kFloat32 : size == 8 ? nifti::kFloat64 : 0;
  return 0;
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) t += 'x';
    t += std::to_string(s[i]);
  }
  return t;
}

Input prepare(py::handle obj) {
  Input in;
  py::module_ np = py::module_::import("numpy");
  py::array a = py::array::ensure(obj);
  if (!a) throw py::type_error("expected a numpy array (or something numpy.asarray accepts)");
  if (!py::bool_(a.dtype().attr("isnative"))) a = np.attr("asarray")(a, a.dtype().attr("newbyteorder")("="));
  in.ndim = static_cast<int>(a.ndim());
  for (int d = 0; d < in.ndim; ++d) in.full_shape.push_back(a.shape(d));
  in.dtype_name = py::str(a.dtype()).cast<std::string>();
  in.datatype = datatype_of(a.dtype());
  if (in.ndim != 3) {
    in.status = MaskStatus::read_error;
    in.message = "array is " + std::to_string(in.ndim) + "-D (" + shape_text(in.full_shape) +
                 "), a 3-D label volume is required";
    return in;
  }
  if (in.datatype == 0) {
    in.status = MaskStatus::read_error;
    in.message = "unsupported dtype " + in.dtype_name + " (bool, integers and float32/float64 are)";
    return in;
  }
  for (int64_t d : in.full_shape)
    if (d == 0) {
      in.status = MaskStatus::read_error;
      in.message = "array of shape " + shape_text(in.full_shape) + " holds no voxel";
      return in;
    }
  const bool f_contig = a.flags() & py::array::f_style;
  const bool c_contig = a.flags() & py::array::c_style;
  if (!f_contig && !c_contig) a = np.attr("asfortranarray")(a);  // a strided view: one copy is needed
  in.reversed = !f_contig && c_contig;
  for (int d = 0; d < 3; ++d) in.shape[d] = a.shape(d);
  in.dims = in.shape;
  if (in.reversed) std::reverse(in.dims.begin(), in.dims.end());
  in.array = a;
  in.raw = a.data();
  return in;
}

// Without the GIL: the 0/1 bytes, checked by the CLI's rule. In place for bool/uint8 holding only 0 and 1.
void load(Input& in) {
  if (in.status != MaskStatus::ok) return;
  const int64_t n = in.dims[0] * in.dims[1] * in.dims[2];
  if (in.datatype == nifti::kUInt8) {
    const auto* p = static_cast<const uint8_t*>(in.raw);
    uint8_t top = 0;
    for (int64_t i = 0; i < n; ++i) top = std::max(top, p[i]);
    if (top <= 1) {
      in.voxels = p;
      return;
    }
  }
  // Other types (and bad uint8, to list its values): the reader's own conversion of decoded voxels.
  nifti::Image img;
  img.header = nifti::make_header(in.dims, {1, 1, 1}, {}, {1, 0, 0, 0, 1, 0, 0, 0, 1}, in.datatype);
  const size_t bytes = static_cast<size_t>(n) * static_cast<size_t>(nifti::bytes_per_voxel(in.datatype));
  img.data.resize(bytes);
  if (bytes) std::memcpy(img.data.data(), in.raw, bytes);
  MaskLoad m = mask_from_image(std::move(img));
  in.status = m.status;
  in.message = m.message;
  in.owned = std::move(m.mask.voxels);
  in.voxels = in.owned.data();
}

nlohmann::json case_document(const CaseRecord& rec, const ScoreSettings& settings) {
  ScoreSet set;
  set.settings = settings;
  set.cases.push_back(rec);
  return scores_to_json(set, ToolInfo{"lesionbench", version(), git_commit()})["cases"][0];
}

py::object to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

template <class T>
std::array<T, 3> reversed(std::array<T, 3> a) {
  std::reverse(a.begin(), a.end());
  return a;
}

// The extra metrics and the matching, as the CLI's --metrics, --nsd-at-mm and --matching take them.
void choose_metrics(ScoreSettings& s, const std::vector<std::string>& metrics, const std::vector<double>& nsd_at_mm,
                    const std::string& matching) {
  std::string list;
  for (const auto& m : metrics) list += (list.empty() ? "" : ",") + m;
  s.metrics.nsd_at_mm.clear();
  for (double t : nsd_at_mm) {
    if (!std::isfinite(t) || t < 0) throw py::value_error("nsd_at_mm values must be finite and >= 0");
    s.metrics.nsd_at_mm.push_back(t);
  }
  if (const std::string why = parse_metric_list(list, s.metrics); !why.empty()) throw py::value_error("metrics: " + why);
  if (const std::string why = parse_matching(matching, s.lesion.matching); !why.empty())
    throw py::value_error("matching: " + why);
}

py::object score_case_py(py::handle gt_obj, py::handle pred_obj, std::vector<double> spacing_mm, double tolerance_mm,
                         bool lesion_wise, int connectivity, const std::string& name, std::vector<std::string> metrics,
                         std::vector<double> nsd_at_mm, const std::string& matching) {
  if (spacing_mm.size() != 3) throw py::value_error("spacing_mm needs 3 values, one per array axis");
  for (double s : spacing_mm)
    if (!(s > 0) || !std::isfinite(s)) throw py::value_error("spacing_mm values must be finite and > 0");
  if (!(tolerance_mm > 0) || !std::isfinite(tolerance_mm)) throw py::value_error("tolerance_mm must be > 0");
  if (connectivity != 6 && connectivity != 18 && connectivity != 26)
    throw py::value_error("connectivity must be 6, 18 or 26");
  ScoreSettings settings;
  settings.case_settings.tolerance_mm = tolerance_mm;
  settings.lesion_wise = lesion_wise;
  settings.lesion.connectivity = connectivity;
  choose_metrics(settings, metrics, nsd_at_mm, matching);
  Input gt = prepare(gt_obj), pred = prepare(pred_obj);

  CaseRecord rec;
  rec.name = name;
  {
    py::gil_scoped_release release;
    const auto t0 = std::chrono::steady_clock::now();
    load(gt);
    load(pred);
    // The order of score_files: the ground truth, then the prediction, then the shapes.
    if (gt.status == MaskStatus::read_error) {
      rec.status = CaseStatus::read_error;
      rec.message = "ground truth array (" + gt.dtype_name + "): " + gt.message;
    } else if (gt.status == MaskStatus::invalid_labels) {
      rec.status = CaseStatus::invalid_labels;
      rec.message = "ground truth array is invalid: " + gt.message;
    } else if (pred.status == MaskStatus::read_error) {
      rec.status = CaseStatus::read_error;
      rec.message = "prediction array (" + pred.dtype_name + "): " + pred.message;
    } else if (pred.status == MaskStatus::invalid_labels) {
      rec.status = CaseStatus::invalid_labels;
      rec.message = "prediction array: " + pred.message + " (scored 0, 0)";
    } else if (gt.shape != pred.shape) {
      rec.status = CaseStatus::shape_mismatch;
      rec.message = "prediction shape " + shape_text(pred.full_shape) + " differs from ground truth shape " +
                    shape_text(gt.full_shape) + " (scored 0, 0)";
    }
    if (rec.status == CaseStatus::ok && gt.reversed != pred.reversed) {
      // Same shape, different memory orders (one C, one F): the prediction is copied into the ground truth's.
      const auto& s = pred.shape;  // array order (a, b, c)
      std::vector<uint8_t> copy(static_cast<size_t>(s[0] * s[1] * s[2]));
      for (int64_t x = 0; x < s[0]; ++x)
        for (int64_t y = 0; y < s[1]; ++y)
          for (int64_t z = 0; z < s[2]; ++z) {
            const int64_t f = x + s[0] * (y + s[1] * z), c = z + s[2] * (y + s[1] * x);
            copy[static_cast<size_t>(gt.reversed ? c : f)] = pred.voxels[pred.reversed ? c : f];
          }
      pred.owned = std::move(copy);
      pred.voxels = pred.owned.data();
    }
    std::array<double, 3> spacing{spacing_mm[0], spacing_mm[1], spacing_mm[2]};
    if (gt.reversed) spacing = reversed(spacing);
    if (gt.status != MaskStatus::read_error) {
      rec.dims = gt.dims;
      rec.spacing_mm = spacing;
    }
    if (rec.status == CaseStatus::ok) {
      score_masks(rec, gt.voxels, pred.voxels, gt.dims, spacing, settings);
      if (rec.lesion_wise && gt.reversed)
        for (auto& l : rec.lesion_wise->lesions) l.bbox = Box{reversed(l.bbox.lo), reversed(l.bbox.hi)};
    } else {
      mark_unscored(rec, settings);
    }
    if (gt.reversed) {
      rec.dims = reversed(rec.dims);
      rec.spacing_mm = reversed(rec.spacing_mm);
    }
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  nlohmann::json doc = case_document(rec, settings);
  if (!lesion_wise) doc.erase("lesion_wise");
  return to_python(doc);
}

py::object score_folders_py(const std::string& gt_dir, const std::string& pred_dir, double tolerance_mm,
                            bool lesion_wise, int connectivity, int threads, const std::string& geometry,
                            const std::string& missing, std::vector<double> volume_buckets_ml,
                            std::vector<std::string> metrics, std::vector<double> nsd_at_mm, const std::string& matching) {
  ScoreSettings s;
  s.gt_dir = gt_dir;
  s.pred_dir = pred_dir;
  if (!(tolerance_mm > 0) || !std::isfinite(tolerance_mm)) throw py::value_error("tolerance_mm must be > 0");
  s.case_settings.tolerance_mm = tolerance_mm;
  s.lesion_wise = lesion_wise;
  if (connectivity != 6 && connectivity != 18 && connectivity != 26)
    throw py::value_error("connectivity must be 6, 18 or 26");
  s.lesion.connectivity = connectivity;
  if (threads < 0) throw py::value_error("threads must be 0 (all cores) or more");
  s.threads = threads;
  if (geometry != "warn" && geometry != "strict") throw py::value_error("geometry must be 'warn' or 'strict'");
  s.geometry = geometry == "strict" ? GeometryMode::strict : GeometryMode::warn;
  if (missing != "zero" && missing != "skip") throw py::value_error("missing must be 'zero' or 'skip'");
  s.missing = missing == "skip" ? MissingMode::skip : MissingMode::zero;
  for (size_t i = 0; i < volume_buckets_ml.size(); ++i)
    if (!(volume_buckets_ml[i] > 0) || (i && !(volume_buckets_ml[i] > volume_buckets_ml[i - 1])))
      throw py::value_error("volume_buckets_ml must be increasing values > 0");
  s.lesion.bucket_edges_ml = volume_buckets_ml;
  choose_metrics(s, metrics, nsd_at_mm, matching);
  nlohmann::json doc;
  std::string unusable;
  {
    py::gil_scoped_release release;
    try {
      doc = scores_to_json(lb::score_folders(s), ToolInfo{"lesionbench", version(), git_commit()});
    } catch (const UnusableInput& e) {
      unusable = e.what();
    }
  }
  if (!unusable.empty()) throw py::value_error(unusable);  // the CLI's exit code 2: nothing could be scored
  return to_python(doc);
}

// For the tests: how an array reaches the scorer — in place (the caller's own memory) or through a copy, in
// which memory order, with which dims — and its label status.
py::dict input_layout_py(py::handle obj) {
  const py::array original = py::array::ensure(obj);
  Input in = prepare(obj);
  {
    py::gil_scoped_release release;
    load(in);
  }
  py::dict d;
  d["status"] = in.status == MaskStatus::ok ? "ok" : in.status == MaskStatus::invalid_labels ? "invalid_labels" : "read_error";
  d["in_place"] = in.voxels != nullptr && original && static_cast<const void*>(in.voxels) == original.data();
  d["memory_order"] = in.reversed ? "C" : "F";
  d["dims"] = std::vector<int64_t>(in.dims.begin(), in.dims.end());
  return d;
}

}  // namespace

}  // namespace lb::python

PYBIND11_MODULE(_lesionbench, m) {
  using namespace pybind11::literals;
  m.doc() = "lesionbench's scorer (the C++ of the lesionbench CLI); use the lesionbench package";
  m.def("score_case", &lb::python::score_case_py, "gt"_a, "pred"_a, "spacing_mm"_a, "tolerance_mm"_a = 2.0,
        "lesion_wise"_a = false, "connectivity"_a = 26, "name"_a = "",
        "metrics"_a = std::vector<std::string>{"dsc", "nsd"}, "nsd_at_mm"_a = std::vector<double>{},
        "matching"_a = "overlap");
  m.def("score_folders", &lb::python::score_folders_py, "gt_dir"_a, "pred_dir"_a, "tolerance_mm"_a = 2.0,
        "lesion_wise"_a = false, "connectivity"_a = 26, "threads"_a = 0, "geometry"_a = "warn", "missing"_a = "zero",
        "volume_buckets_ml"_a = std::vector<double>{0.5, 5, 50},
        "metrics"_a = std::vector<std::string>{"dsc", "nsd"}, "nsd_at_mm"_a = std::vector<double>{},
        "matching"_a = "overlap");
  m.def("_input_layout", &lb::python::input_layout_py, "array"_a);
  m.attr("__version__") = lb::version();
}
