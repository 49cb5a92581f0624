// Prediction checks; see prediction_check.h.
#include "check/prediction_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "metrics/mask_io.h"
#include "metrics/nifti.h"
#include "runner/cases.h"
#include "runner/journal.h"
#include "runner/util.h"

namespace fs = std::filesystem;

namespace lb::check {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string shape_text(const std::array<int64_t, 3>& d) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]);
}

std::string fixed(double v, int decimals) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(decimals) << v;
  return s.str();
}

// Extensions a label volume comes in, longest first, so "x.nii.gz" is stem "x" with ".nii.gz".
const std::vector<std::string> kVolumeExtensions = {".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr", ".gz"};

void add_error(CaseCheck& c, const std::string& status, const std::string& message) {
  if (c.errors.empty()) c.status = status;
  c.errors.push_back(message);
}

}  // namespace

size_t PredictionCheck::n_errors() const {
  size_t n = set_errors.size();
  for (const auto& c : cases) n += c.errors.size();
  return n;
}

size_t PredictionCheck::n_warnings() const {
  size_t n = set_warnings.size();
  for (const auto& c : cases) n += c.warnings.size();
  return n;
}

std::vector<std::string> PredictionCheck::archive_files() const {
  std::vector<std::string> files;
  for (const auto& c : cases) files.push_back(c.prediction_file);
  return files;
}

std::string suggest_name(const std::string& file, const std::vector<std::string>& case_names) {
  std::string ext;
  for (const auto& e : kVolumeExtensions)
    if (ends_with(lower(file), e)) {
      ext = e;
      break;
    }
  if (ext.empty()) return {};
  std::string stem = file.substr(0, file.size() - ext.size());
  std::vector<std::string> why;
  if (file.compare(file.size() - ext.size(), ext.size(), ext) != 0) why.push_back("the extension is lower case");
  if (ends_with(stem, "_0000")) {
    stem.resize(stem.size() - 5);
    why.push_back("drop the _0000 suffix: it marks input images, predictions are named <Case>.nii.gz");
  }
  std::string match;
  for (const auto& n : case_names)
    if (n == stem) match = n;
  if (match.empty())
    for (const auto& n : case_names)
      if (lower(n) == lower(stem)) {
        match = n;
        why.push_back("names are case-sensitive");
      }
  if (match.empty()) return {};
  if (ext == ".nii") why.push_back("compress it with gzip: the organisers read <Case>.nii.gz only");
  else if (ext != ".nii.gz" && ext != ".gz")
    why.push_back("convert it to gzip-compressed NIfTI: the organisers read <Case>.nii.gz only");
  const bool convert = ext != ".nii.gz" && ext != ".gz" && ext != ".nii";
  std::string s = (convert ? "convert it to " : "rename it to ") + match + ".nii.gz";
  if (!why.empty()) {
    s += " (";
    for (size_t i = 0; i < why.size(); ++i) s += (i ? "; " : "") + why[i];
    s += ")";
  }
  return s;
}

CaseCheck check_case(const fs::path& image_path, const std::string& case_name, const fs::path& pred_dir,
                     const PredictionCheckSettings& settings) {
  CaseCheck c;
  c.case_name = case_name;
  c.image_file = image_path.filename().string();
  c.prediction_file = case_name + ".nii.gz";
  const fs::path pred = pred_dir / c.prediction_file;
  const std::string shown = c.prediction_file;
  struct stat st {};
  if (::lstat(pred.c_str(), &st) != 0) {
    add_error(c, "missing", shown + " is missing (the organisers score a missing case 0, or leave it out)");
    return c;
  }
  if (S_ISLNK(st.st_mode)) {
    add_error(c, "not_a_file", shown + " is a symbolic link; upload the file itself");
    return c;
  }
  if (!S_ISREG(st.st_mode)) {
    add_error(c, "not_a_file", shown + " is not a regular file");
    return c;
  }
  c.file_bytes = static_cast<uintmax_t>(st.st_size);
  if (st.st_size == 0) {
    add_error(c, "unreadable", shown + " is empty (0 bytes)");
    return c;
  }
  {
    std::ifstream f(pred, std::ios::binary);
    unsigned char magic[2] = {0, 0};
    f.read(reinterpret_cast<char*>(magic), 2);
    if (!f || magic[0] != 0x1f || magic[1] != 0x8b) {
      add_error(c, "not_gzip", shown + " is not gzip-compressed: a .nii.gz must be (nibabel would refuse it)");
      return c;
    }
  }
  nifti::Header ph;
  try {
    ph = nifti::read_header(pred.string());
  } catch (const std::exception& e) {
    add_error(c, "unreadable", shown + " is not a readable NIfTI file: " + e.what());
    return c;
  }
  c.datatype = nifti::datatype_name(ph.datatype);
  if (ph.ndim() != 3) {
    std::string dims;
    for (int d = 1; d <= ph.ndim() && d < 8; ++d) dims += (d > 1 ? "x" : "") + std::to_string(ph.dim[d]);
    add_error(c, "not_3d", shown + " is " + std::to_string(ph.ndim()) + "-D (" + dims +
                               "); the organisers compare it voxel by voxel with a 3-D ground truth");
    return c;
  }
  // The same reader and label rules as `score`.
  MaskLoad m = load_mask(pred.string());
  for (const auto& w : m.warnings) c.warnings.push_back(shown + ": " + w);
  if (m.status == MaskStatus::read_error) {
    add_error(c, "unreadable", shown + ": " + m.message);
    return c;
  }
  c.dims = m.mask.dims;
  if (m.status == MaskStatus::invalid_labels) {
    add_error(c, "invalid_labels", shown + ": " + m.message + " (the organisers score such a case 0)");
  } else {
    int64_t n = 0;
    for (uint8_t v : m.mask.voxels) n += v;
    c.lesion_voxels = n;
    const auto& s = m.mask.spacing_mm;
    c.lesion_ml = static_cast<double>(n) * s[0] * s[1] * s[2] / 1000.0;
    const double total_ml = static_cast<double>(m.mask.size()) * s[0] * s[1] * s[2] / 1000.0;
    if (c.lesion_ml > settings.large_lesion_ml || (m.mask.size() > 0 && 2 * n > m.mask.size() && c.lesion_ml > 1000))
      c.warnings.push_back(shown + ": the lesion label covers " + fixed(c.lesion_ml, 0) + " ml (" +
                           fixed(100.0 * c.lesion_ml / total_ml, 0) +
                           "% of the volume), more than any lesion in FLARE24's training set; a body or organ mask?");
  }
  if (ph.datatype == nifti::kFloat32 || ph.datatype == nifti::kFloat64)
    c.warnings.push_back(shown + " is stored as " + c.datatype + "; uint8 is advised (exact, smaller, faster to read)");
  else if (ph.datatype != nifti::kUInt8 && ph.datatype != nifti::kInt8 && m.status == MaskStatus::ok)
    c.warnings.push_back(shown + " is stored as " + c.datatype + "; uint8 is advised");
  if (static_cast<double>(st.st_size) > settings.large_file_mib * 1024 * 1024)
    c.warnings.push_back(shown + " is " + fixed(static_cast<double>(st.st_size) / (1024 * 1024), 1) +
                         " MiB, unusual for a compressed mask (noise in the labels, or no compression inside?)");
  // Against the input image: the organisers score arrays as stored, so another grid means a resampling or
  // reorientation bug even when the shape agrees.
  nifti::Header ih;
  try {
    ih = nifti::read_header(image_path.string());
  } catch (const std::exception& e) {
    add_error(c, "image_unreadable", "input image " + c.image_file + " cannot be read: " + e.what());
    return c;
  }
  const auto image_grid = nifti::geometry_of(ih);
  if (image_grid.dims != c.dims) {
    add_error(c, "shape_mismatch", shown + ": shape " + shape_text(c.dims) + " differs from its image " + c.image_file +
                                       " (" + shape_text(image_grid.dims) + "); the organisers cannot score it");
    return c;
  }
  const std::string diff = runner::grid_difference(image_grid, m.mask.geometry, settings.tolerance);
  if (!diff.empty()) {
    const std::string msg = shown + ": " + diff + " (a resampling or reorientation bug?)";
    if (settings.geometry_strict) add_error(c, "geometry_mismatch", msg + "; --geometry warn makes this a warning");
    else c.warnings.push_back(msg);
  }
  return c;
}

PredictionCheck check_predictions(const PredictionCheckSettings& settings) {
  PredictionCheck r;
  r.settings = settings;
  std::vector<runner::CaseInput> inputs;
  try {
    inputs = runner::find_cases(settings.cases_dir, &r.ignored_inputs);
  } catch (const runner::SetupError& e) {
    throw CheckUnusable(e.what());
  }
  std::error_code ec;
  if (!fs::is_directory(settings.pred_dir, ec))
    throw CheckUnusable("predictions folder " + settings.pred_dir.string() + " does not exist or is not a folder");
  if (!settings.only_cases.empty()) {
    const std::set<std::string> only(settings.only_cases.begin(), settings.only_cases.end());
    std::erase_if(inputs, [&](const runner::CaseInput& c) { return !only.count(c.name); });
  }
  std::vector<std::string> names;
  for (const auto& c : inputs) names.push_back(c.name);
  for (const auto& c : inputs) r.cases.push_back(check_case(c.path, c.name, settings.pred_dir, settings));

  // Everything else in the folder: the organisers' scorer walks the uploaded files, so a stray volume
  // breaks or skews it; other files are only left out of the archive.
  const auto expected_files = r.archive_files();
  const std::set<std::string> expected(expected_files.begin(), expected_files.end());
  std::map<std::string, std::string> suggestion_for_case;  // case file -> misnamed file found
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(settings.pred_dir, ec)) entries.push_back(e.path().filename().string());
  std::sort(entries.begin(), entries.end());
  std::set<std::string> all_names;
  for (const auto& c : inputs) all_names.insert(c.name);
  for (const auto& file : entries) {
    if (expected.count(file)) continue;
    const std::string shown = runner::printable(file);
    if (!settings.only_cases.empty()) {
      // A sample: files of cases outside it are not extras.
      bool other_case = false;
      for (const auto& ext : kVolumeExtensions)
        if (ends_with(file, ext) && !all_names.count(file.substr(0, file.size() - ext.size()))) other_case = true;
      if (other_case) continue;
    }
    if (file[0] == '.') {
      r.set_warnings.push_back(shown + " is a hidden file; it is left out of the archive");
      continue;
    }
    if (fs::is_directory(settings.pred_dir / file, ec)) {
      r.set_warnings.push_back(shown + "/ is a folder; the archive holds files at its root only, so it is left out");
      continue;
    }
    const std::string hint = suggest_name(file, names);
    if (!hint.empty()) {
      const std::string msg = shown + ": " + hint;
      // Attach it to the case it should have been, when that case is missing.
      bool attached = false;
      for (auto& c : r.cases)
        if (c.status == "missing" && hint.find(" to " + c.prediction_file) != std::string::npos) {
          c.errors.back() += "; found " + msg;
          attached = true;
        }
      if (!attached) r.set_errors.push_back(msg);
      continue;
    }
    bool volume = false;
    for (const auto& ext : kVolumeExtensions) volume = volume || ends_with(lower(file), ext);
    if (volume)
      r.set_errors.push_back(shown + " matches no case of " + settings.cases_dir.string() +
                             " (no such <Case>_0000.nii.gz): the organisers have no ground truth for it");
    else
      r.set_warnings.push_back(shown + " is not a prediction; it is left out of the archive");
  }
  size_t read = 0, empty = 0;
  for (const auto& c : r.cases)
    if (c.lesion_voxels >= 0) {
      ++read;
      if (c.lesion_voxels == 0) ++empty;
    }
  if (read > 1 && empty == read)
    r.set_warnings.push_back("every prediction is empty: healthy cases would score 1, every case with a lesion 0");
  return r;
}

nlohmann::json to_json(const PredictionCheck& r) {
  nlohmann::json cases = nlohmann::json::array();
  for (const auto& c : r.cases) {
    nlohmann::json j = {{"case", c.case_name},   {"image", c.image_file},   {"prediction", c.prediction_file},
                        {"status", c.status},    {"passed", c.passed()},   {"errors", c.errors},
                        {"warnings", c.warnings}, {"file_bytes", c.file_bytes}};
    if (!c.datatype.empty()) j["datatype"] = c.datatype;
    if (c.lesion_voxels >= 0) {
      j["dims"] = c.dims;
      j["lesion_voxels"] = c.lesion_voxels;
      j["lesion_ml"] = c.lesion_ml;
    }
    cases.push_back(j);
  }
  size_t failed = 0;
  for (const auto& c : r.cases) failed += c.passed() ? 0 : 1;
  return {{"schema_version", kCheckSchemaVersion},
          {"kind", "predictions"},
          {"verdict", r.passed() ? "would pass" : "would fail"},
          {"passed", r.passed()},
          {"cases_dir", r.settings.cases_dir.string()},
          {"pred_dir", r.settings.pred_dir.string()},
          {"geometry", r.settings.geometry_strict ? "strict" : "warn"},
          {"cases", cases},
          {"set_errors", r.set_errors},
          {"set_warnings", r.set_warnings},
          {"summary",
           {{"cases", r.cases.size()}, {"cases_failed", failed}, {"errors", r.n_errors()}, {"warnings", r.n_warnings()}}}};
}

std::string format_table(const PredictionCheck& r, bool show_ok_cases) {
  std::ostringstream s;
  size_t width = 12;
  for (const auto& c : r.cases) width = std::max(width, c.prediction_file.size());
  s << std::left << std::setw(static_cast<int>(width)) << "prediction" << "  " << std::setw(18) << "status"
    << std::setw(14) << "shape" << std::setw(9) << "type" << "lesion ml\n";
  for (const auto& c : r.cases) {
    if (!show_ok_cases && c.passed() && c.warnings.empty()) continue;
    s << std::left << std::setw(static_cast<int>(width)) << c.prediction_file << "  " << std::setw(18)
      << (c.passed() && !c.warnings.empty() ? "ok (warnings)" : c.status) << std::setw(14)
      << (c.lesion_voxels >= 0 ? shape_text(c.dims) : "-") << std::setw(9) << (c.datatype.empty() ? "-" : c.datatype)
      << (c.lesion_voxels >= 0 ? fixed(c.lesion_ml, 2) : "-") << "\n";
    for (const auto& e : c.errors) s << "    error: " << e << "\n";
    for (const auto& w : c.warnings) s << "    warning: " << w << "\n";
  }
  for (const auto& e : r.set_errors) s << "error: " << e << "\n";
  for (const auto& w : r.set_warnings) s << "warning: " << w << "\n";
  size_t failed = 0;
  for (const auto& c : r.cases) failed += c.passed() ? 0 : 1;
  s << r.cases.size() << " case(s): " << r.cases.size() - failed << " accepted, " << failed << " rejected or scored 0; "
    << r.n_errors() << " error(s), " << r.n_warnings() << " warning(s)\n";
  s << (r.passed() ? "verdict: would pass\n"
                   : "verdict: would fail: " + std::to_string(r.n_errors()) + " problem(s) above\n");
  return s.str();
}

}  // namespace lb::check
