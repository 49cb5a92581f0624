// Label volumes through ITK (MetaImage, NRRD); see itk_volume.h. The only file of lesionbench that includes
// ITK's IO headers. The IO classes are created by name (no object factory): only these two formats are
// ever parsed, whatever a file claims to be.
#include "metrics/itk_volume.h"

#include <itkImageIORegion.h>
#include <itkMetaImageIO.h>
#include <itkNrrdImageIO.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace lb {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// What the header says about where the voxels are, read by us before ITK touches the file.
struct DataLayout {
  std::optional<std::string> data_file;  // a separate file; none: after the header in the same file
  uint64_t header_bytes = 0;             // where the voxels start in the same file
  bool compressed = false;
};

struct HeaderProblem : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The header text: MetaImage ends at the ElementDataFile line, NRRD at the first blank line.
DataLayout parse_layout(const std::string& path, bool nrrd) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw HeaderProblem("cannot be opened");
  DataLayout d;
  std::string line;
  uint64_t at = 0;
  const uint64_t kMaxHeader = 1 << 20;
  bool first = true;
  while (std::getline(f, line)) {
    at += line.size() + 1;
    if (at > kMaxHeader) throw HeaderProblem("header longer than 1 MiB");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (nrrd) {
      if (first) {
        if (line.rfind("NRRD000", 0) != 0) throw HeaderProblem("not a NRRD file (no NRRD000x magic line)");
        first = false;
        continue;
      }
      if (line.empty()) {
        d.header_bytes = at;
        return d;
      }
      if (line[0] == '#') continue;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string key = lower(trim(line.substr(0, colon)));
      std::string value = line.substr(colon + 1);
      if (!value.empty() && value[0] == '=') continue;  // "key:=value": a key/value comment, not a field
      value = trim(value);
      if (key == "data file" || key == "datafile") d.data_file = value;
      else if (key == "encoding") {
        const std::string e = lower(value);
        if (e == "gzip" || e == "gz") d.compressed = true;
        else if (e != "raw")
          throw HeaderProblem("NRRD encoding '" + value + "' is not accepted for masks (raw or gzip only)");
      } else if ((key == "byte skip" || key == "byteskip" || key == "line skip" || key == "lineskip") && value != "0") {
        throw HeaderProblem("NRRD '" + key + ": " + value + "' is not accepted for masks");
      }
    } else {
      first = false;
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      // Keys compared without case: a spelling ITK might accept must not slip past this check.
      const std::string key = lower(trim(line.substr(0, eq))), value = trim(line.substr(eq + 1));
      if (key == "compresseddata") d.compressed = lower(value) == "true";
      if (key == "elementdatafile") {
        if (value != "LOCAL") d.data_file = value;
        d.header_bytes = at;
        return d;
      }
    }
  }
  if (nrrd && d.data_file) return d;  // a detached header may end without a blank line
  throw HeaderProblem(nrrd ? "the header does not end (no blank line before the data)" : "no ElementDataFile line");
}

// Only a plain file next to the header: no folders, no LIST or numbered patterns, not a link or a device.
fs::path checked_data_file(const std::string& header_path, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
      name.find_first_of(" \t%") != std::string::npos || name == "." || name == ".." || lower(name) == "list")
    throw HeaderProblem("names the data file '" + name +
                        "'; only a plain file name in the header's own folder is accepted (no path, no LIST or pattern)");
  const fs::path p = fs::path(header_path).parent_path() / name;
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) throw HeaderProblem("names the data file " + name + ", which does not exist");
  if (!S_ISREG(st.st_mode))
    throw HeaderProblem("names the data file " + name + ", which is not a regular file (a link, a folder or a device)");
  return p;
}

int16_t nifti_type_of(itk::IOComponentEnum c, size_t bytes) {
  using C = itk::IOComponentEnum;
  switch (c) {
    case C::UCHAR: return nifti::kUInt8;
    case C::CHAR: return nifti::kInt8;
    case C::SHORT: return nifti::kInt16;
    case C::USHORT: return nifti::kUInt16;
    case C::INT: return bytes == 4 ? nifti::kInt32 : 0;
    case C::UINT: return bytes == 4 ? nifti::kUInt32 : 0;
    case C::LONG:
    case C::LONGLONG: return bytes == 8 ? nifti::kInt64 : (bytes == 4 ? nifti::kInt32 : 0);
    case C::ULONG:
    case C::ULONGLONG: return bytes == 8 ? nifti::kUInt64 : (bytes == 4 ? nifti::kUInt32 : 0);
    case C::FLOAT: return nifti::kFloat32;
    case C::DOUBLE: return nifti::kFloat64;
    default: return 0;
  }
}

MaskLoad fail(const std::string& message) {
  MaskLoad r;
  r.status = MaskStatus::read_error;
  r.message = message;
  return r;
}

}  // namespace

MaskLoad load_itk_volume(const std::string& path) {
  const std::string ext = lower(fs::path(path).extension().string());
  const bool nrrd = ext == ".nrrd" || ext == ".nhdr";
  // ITK prints warnings to stderr on its own; ours become statuses and messages instead.
  static const bool quiet = [] {
    itk::Object::GlobalWarningDisplayOff();
    return true;
  }();
  (void)quiet;
  try {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fail("does not exist");
    if (!S_ISREG(st.st_mode)) return fail("is not a regular file");
    const DataLayout layout = parse_layout(path, nrrd);
    uint64_t data_bytes = 0;
    if (layout.data_file) {
      const fs::path data = checked_data_file(path, *layout.data_file);
      data_bytes = fs::file_size(data);
    } else {
      data_bytes = static_cast<uint64_t>(st.st_size) > layout.header_bytes ? static_cast<uint64_t>(st.st_size) - layout.header_bytes : 0;
    }

    itk::ImageIOBase::Pointer io;
    if (nrrd) io = itk::NrrdImageIO::New();
    else io = itk::MetaImageIO::New();
    io->SetFileName(path);
    io->ReadImageInformation();
    const unsigned nd = io->GetNumberOfDimensions();
    unsigned effective = nd;
    while (effective > 3 && io->GetDimensions(effective - 1) == 1) --effective;
    if (effective != 3) {
      std::ostringstream s;
      s << "image is " << nd << "-D (";
      for (unsigned d = 0; d < nd; ++d) s << (d ? "x" : "") << io->GetDimensions(d);
      s << "), a 3-D label volume is required";
      return fail(s.str());
    }
    if (io->GetNumberOfComponents() != 1)
      return fail("has " + std::to_string(io->GetNumberOfComponents()) + " components per voxel; a label volume has 1");
    const size_t component_bytes = io->GetComponentSize();
    const int16_t datatype = nifti_type_of(io->GetComponentType(), component_bytes);
    if (datatype == 0)
      return fail(std::string("unsupported voxel type ") + itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType()));
    std::array<int64_t, 3> dims{};
    long double voxels = 1;
    for (unsigned d = 0; d < 3; ++d) {
      dims[d] = static_cast<int64_t>(io->GetDimensions(d));
      voxels *= static_cast<long double>(dims[d]);
      if (dims[d] < 1) return fail("has an empty axis");
    }
    if (voxels > static_cast<long double>(kItkMaxVoxels))
      return fail("claims " + std::to_string(dims[0]) + "x" + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                  " voxels, more than lesionbench accepts (" + std::to_string(kItkMaxVoxels) + ")");
    const uint64_t need = static_cast<uint64_t>(voxels) * component_bytes;
    // Before ITK reads a voxel: raw data must all be there; compressed data cannot inflate beyond 1032:1
    // (deflate's limit), so a tiny file cannot make us allocate gigabytes.
    if (!layout.compressed && data_bytes < need)
      return fail("claims " + std::to_string(need) + " bytes of voxels, but its data holds only " + std::to_string(data_bytes));
    if (layout.compressed && need > data_bytes * 1032 + 1024)
      return fail("claims " + std::to_string(need) + " bytes of voxels, more than its " + std::to_string(data_bytes) +
                  " compressed bytes can hold");

    itk::ImageIORegion region(nd);
    for (unsigned d = 0; d < nd; ++d) {
      region.SetIndex(d, 0);
      region.SetSize(d, io->GetDimensions(d));
    }
    io->SetIORegion(region);
    nifti::Image img;
    // LPS (ITK) to RAS (NIfTI): negate x and y.
    const double flip[3] = {-1, -1, 1};
    std::array<double, 3> spacing{}, origin{};
    std::array<double, 9> direction{};
    for (unsigned c = 0; c < 3; ++c) {
      spacing[c] = io->GetSpacing(c);
      origin[c] = flip[c] * io->GetOrigin(c);
      const std::vector<double> axis = io->GetDirection(c);  // column c: where axis c points
      for (unsigned r = 0; r < 3; ++r) direction[r * 3 + c] = flip[r] * (r < axis.size() ? axis[r] : 0.0);
    }
    img.header = nifti::make_header(dims, spacing, origin, direction, datatype);
    img.data.resize(static_cast<size_t>(need));
    io->Read(img.data.data());
    return mask_from_image(std::move(img));
  } catch (const HeaderProblem& e) {
    return fail(e.what());
  } catch (const itk::ExceptionObject& e) {
    std::string what = e.GetDescription();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    return fail("ITK cannot read it: " + what);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

}  // namespace lb
