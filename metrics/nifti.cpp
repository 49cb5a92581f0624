#include "metrics/nifti.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "metrics/gzip.h"

namespace lb::nifti {

const char* datatype_name(int16_t t) {
  switch (t) {
    case kUInt8: return "uint8";
    case kInt16: return "int16";
    case kInt32: return "int32";
    case kFloat32: return "float32";
    case kFloat64: return "float64";
    case kInt8: return "int8";
    case kUInt16: return "uint16";
    case kUInt32: return "uint32";
    case kInt64: return "int64";
    case kUInt64: return "uint64";
    default: return "unsupported";
  }
}

int bytes_per_voxel(int16_t t) {
  switch (t) {
    case kUInt8: case kInt8: return 1;
    case kInt16: case kUInt16: return 2;
    case kInt32: case kUInt32: case kFloat32: return 4;
    case kFloat64: case kInt64: case kUInt64: return 8;
    default: return 0;
  }
}

int Header::effective_ndim() const {
  int n = std::clamp(ndim(), 0, 7);
  while (n > 3 && dim[n] == 1) --n;
  return n;
}

std::string Header::shape_text() const {
  std::string s;
  for (int d = 1; d <= std::clamp(ndim(), 0, 7); ++d) s += (d > 1 ? "x" : "") + std::to_string(dim[d]);
  return s;
}

int64_t Header::voxel_count() const {
  int64_t n = 1;
  for (int d = 1; d <= ndim() && d < 8; ++d)
    if (__builtin_mul_overflow(n, dim[d], &n)) return INT64_MAX;
  return n;
}

bool Header::has_scaling() const {
  if (!std::isfinite(scl_slope) || scl_slope == 0) return false;
  return !(scl_slope == 1 && scl_inter == 0);
}

std::array<std::array<double, 4>, 4> Header::affine() const {
  std::array<std::array<double, 4>, 4> a{};
  a[3] = {0, 0, 0, 1};
  // nibabel tests "!= 0": a negative code still selects the matrix.
  if (sform_code != 0) {
    for (int r = 0; r < 3; ++r) a[r] = srow[r];
    return a;
  }
  if (qform_code != 0) {
    double b = quatern_b, c = quatern_c, d = quatern_d;
    double aa = 1.0 - (b * b + c * c + d * d);
    aa = aa < 1e-7 ? 0.0 : std::sqrt(aa);  // nibabel treats tiny negatives as 0 (a 180-degree rotation)
    const double R[3][3] = {{aa * aa + b * b - c * c - d * d, 2 * (b * c - aa * d), 2 * (b * d + aa * c)},
                            {2 * (b * c + aa * d), aa * aa + c * c - b * b - d * d, 2 * (c * d - aa * b)},
                            {2 * (b * d - aa * c), 2 * (c * d + aa * b), aa * aa + d * d - c * c - b * b}};
    const double qfac = pixdim[0] == -1 ? -1.0 : 1.0;  // nibabel sets any other value to 1
    const double s[3] = {pixdim[1], pixdim[2], pixdim[3] * qfac};
    for (int r = 0; r < 3; ++r)
      for (int col = 0; col < 3; ++col) a[r][col] = R[r][col] * s[col];
    a[0][3] = qoffset_x;
    a[1][3] = qoffset_y;
    a[2][3] = qoffset_z;
    return a;
  }
  // Neither: nibabel's shape_zoom_affine, x flipped and the grid centred on the world origin.
  const int nd = std::clamp(ndim(), 0, 3);
  for (int r = 0; r < 3; ++r) {
    const double n = r < nd ? static_cast<double>(dim[r + 1]) : 1.0;
    const double zoom = (r < nd ? pixdim[r + 1] : 1.0) * (r == 0 ? -1.0 : 1.0);
    a[r][r] = zoom;
    a[r][3] = -((n - 1) / 2.0) * zoom;
  }
  return a;
}

Geometry geometry_of(const Header& h) {
  Geometry g;
  g.dims = h.dims3();
  for (int i = 0; i < 3; ++i) g.spacing_mm[i] = std::fabs(h.pixdim[i + 1]);
  const auto a = h.affine();
  for (int r = 0; r < 3; ++r) g.origin_mm[r] = a[r][3];
  for (int col = 0; col < 3; ++col) {
    const double norm = std::sqrt(a[0][col] * a[0][col] + a[1][col] * a[1][col] + a[2][col] * a[2][col]);
    for (int r = 0; r < 3; ++r) g.direction[r * 3 + col] = norm > 0 ? a[r][col] / norm : (r == col ? 1.0 : 0.0);
  }
  return g;
}

std::vector<std::string> grid_differences(const Geometry& a, const Geometry& b, const GridTolerance& tol) {
  std::vector<std::string> what;
  for (int d = 0; d < 3; ++d) {
    const double scale = std::max(a.spacing_mm[d], b.spacing_mm[d]);
    if (std::fabs(a.spacing_mm[d] - b.spacing_mm[d]) > tol.spacing_rel * scale) {
      what.push_back("spacing");
      break;
    }
  }
  const double min_spacing = std::min({a.spacing_mm[0], a.spacing_mm[1], a.spacing_mm[2]});
  for (int d = 0; d < 3; ++d)
    if (std::fabs(a.origin_mm[d] - b.origin_mm[d]) > tol.origin_voxels * min_spacing) {
      what.push_back("origin");
      break;
    }
  for (int i = 0; i < 9; ++i)
    if (std::fabs(a.direction[i] - b.direction[i]) > tol.direction) {
      what.push_back("direction");
      break;
    }
  return what;
}

std::string Geometry::describe() const {
  std::ostringstream s;
  s.precision(6);
  s << dims[0] << "x" << dims[1] << "x" << dims[2] << ", spacing " << spacing_mm[0] << "x" << spacing_mm[1] << "x"
    << spacing_mm[2] << " mm, origin (" << origin_mm[0] << ", " << origin_mm[1] << ", " << origin_mm[2]
    << ") mm, direction (";
  for (int i = 0; i < 9; ++i) s << (i ? (i % 3 == 0 ? "; " : " ") : "") << direction[i];
  s << ")";
  return s.str();
}

namespace {

template <class T>
T load(const uint8_t* p, bool swap) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if (swap) {
    auto* b = reinterpret_cast<uint8_t*>(&v);
    std::reverse(b, b + sizeof(T));
  }
  return v;
}

template <class T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

void swap_voxels(std::vector<uint8_t>& data, int width) {
  if (width <= 1) return;
  for (size_t i = 0; i + width <= data.size(); i += width) std::reverse(data.begin() + i, data.begin() + i + width);
}

std::vector<uint8_t> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("not a regular file");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      ::close(fd);
      throw Error(std::string("read failed: ") + (r < 0 ? std::strerror(errno) : "unexpected end of file"));
    }
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  return bytes;
}

// A byte source over either a gzip stream or plain bytes.
class Source {
 public:
  explicit Source(const std::vector<uint8_t>& file) : file_(file) {
    if (gz::has_gzip_magic(file.data(), file.size())) inflater_.emplace(file.data(), file.size());
  }
  size_t read(uint8_t* out, size_t n) {
    if (inflater_) return inflater_->read(out, n);
    const size_t k = std::min(n, file_.size() - pos_);
    if (k > 0) std::memcpy(out, file_.data() + pos_, k);  // an empty file has no data() to copy from (fuzz_nifti)
    pos_ += k;
    return k;
  }
  void skip(size_t n) {
    std::vector<uint8_t> scratch(std::min<size_t>(n, 1 << 16));
    while (n > 0) {
      const size_t k = read(scratch.data(), std::min(n, scratch.size()));
      if (k == 0) throw Error("vox_offset is past the end of the data (the file ends inside the header extensions)");
      n -= k;
    }
  }
  bool gzipped() const { return inflater_.has_value(); }
  // After the voxel data: finish the gzip member holding its last byte (so its CRC is checked), at a cost
  // bounded by `max_discard` decompressed bytes; later members or trailing bytes are only noted.
  void finish(uint64_t max_discard, std::vector<std::string>& warnings) {
    if (!inflater_) return;
    if (!inflater_->finish_member(max_discard)) {
      warnings.push_back("more than " + std::to_string(max_discard) +
                         " decompressed bytes follow the voxel data in the same gzip member; not read, CRC not checked");
      return;
    }
    using Tail = gz::Inflater::Tail;
    if (inflater_->tail() == Tail::more_members) {
      // Later members are read only up to the same bound: empty ones (bgzip's end-of-file block) pass
      // silently, anything else is ignored with a warning, as nibabel never reads past what it needs.
      const std::string what = "gzip members after the one holding the voxel data ignored (" +
                               std::to_string(inflater_->tail_bytes()) + " compressed bytes";
      std::vector<uint8_t> scratch(1 << 16);
      uint64_t got = 0;
      try {
        while (!inflater_->finished() && got <= max_discard) got += inflater_->read(scratch.data(), scratch.size());
        if (!inflater_->finished())
          warnings.push_back(what + ", not read past " + std::to_string(got) + " decompressed bytes)");
        else if (got > 0)
          warnings.push_back(what + " holding " + std::to_string(got) + " bytes)");
      } catch (const gz::Error& e) {
        warnings.push_back(what + "; " + e.what() + ")");
        return;
      }
    }
    if (inflater_->finished() && inflater_->tail() == Tail::garbage)
      warnings.push_back(std::to_string(inflater_->tail_bytes()) + " bytes of trailing data after the gzip stream ignored");
  }

 private:
  const std::vector<uint8_t>& file_;
  std::optional<gz::Inflater> inflater_;
  size_t pos_ = 0;
};

constexpr size_t kHeader1 = 348, kHeader2 = 540;

struct Opened {
  Header header;
  bool swapped = false;
  size_t header_bytes = 0;  // bytes of the stream consumed so far
};

Opened open_header(Source& src) {
  uint8_t buf[kHeader2];
  size_t got = src.read(buf, kHeader1);
  if (got < 4) throw Error("file is empty or too short to be NIfTI");
  const int32_t raw_size = load<int32_t>(buf, false);
  const bool is2 = raw_size == 540 || __builtin_bswap32(static_cast<uint32_t>(raw_size)) == 540u;
  if (is2 && got == kHeader1) got += src.read(buf + kHeader1, kHeader2 - kHeader1);
  Opened o;
  o.header = parse_header(buf, got, &o.swapped);
  o.header_bytes = got;
  return o;
}

// Checks dims and datatype; returns the voxel data size in bytes, overflow-checked and capped.
uint64_t check_layout(const Header& h) {
  if (h.dim[0] < 1 || h.dim[0] > 7) throw Error("invalid dim[0] = " + std::to_string(h.dim[0]));
  for (int d = 1; d <= h.ndim(); ++d)
    if (h.dim[d] < 1) throw Error("invalid dim[" + std::to_string(d) + "] = " + std::to_string(h.dim[d]));
  if (bytes_per_voxel(h.datatype) == 0)
    throw Error("unsupported NIfTI datatype code " + std::to_string(h.datatype));
  int64_t n = 1;
  for (int d = 1; d <= h.ndim(); ++d)
    if (__builtin_mul_overflow(n, h.dim[d], &n) || n > kMaxVoxels)
      throw Error("dims " + h.shape_text() + " hold more than " + std::to_string(kMaxVoxels) +
                  " voxels, the most this reader accepts");
  return static_cast<uint64_t>(n) * static_cast<uint64_t>(bytes_per_voxel(h.datatype));
}

// Deflate expands at most 1032:1, so a gzip file of n bytes cannot hold more than this.
uint64_t gzip_capacity(size_t compressed) { return static_cast<uint64_t>(compressed) * 1032 + (1 << 16); }

// Checks that the file can hold vox_offset + data bytes at all, before anything is allocated for them.
void check_claim(const Header& h, uint64_t data_bytes, size_t file_bytes, bool gzipped) {
  const uint64_t need = static_cast<uint64_t>(h.vox_offset) + data_bytes;
  if (!gzipped) {
    if (static_cast<uint64_t>(h.vox_offset) > file_bytes)
      throw Error("vox_offset " + std::to_string(h.vox_offset) + " is past the end of the file (" +
                  std::to_string(file_bytes) + " bytes)");
    if (need > file_bytes)
      throw Error("file is truncated: the header (" + h.shape_text() + " " + datatype_name(h.datatype) + ") needs " +
                  std::to_string(data_bytes) + " bytes of voxel data, the file holds " +
                  std::to_string(file_bytes - static_cast<uint64_t>(h.vox_offset)));
    return;
  }
  const uint64_t cap = gzip_capacity(file_bytes);
  if (static_cast<uint64_t>(h.vox_offset) > cap)
    throw Error("vox_offset " + std::to_string(h.vox_offset) + " is past the end of the data: a gzip file of " +
                std::to_string(file_bytes) + " bytes holds at most " + std::to_string(cap) + " bytes");
  if (need > cap)
    throw Error("file is truncated: the header (" + h.shape_text() + " " + datatype_name(h.datatype) + ") needs " +
                std::to_string(data_bytes) + " bytes of voxel data, more than a gzip file of " +
                std::to_string(file_bytes) + " bytes can hold");
}

}  // namespace

Header parse_header(const uint8_t* b, size_t n, bool* byte_swapped) {
  if (n < kHeader1) throw Error("file is too short to hold a NIfTI header (" + std::to_string(n) + " bytes)");
  int32_t size = load<int32_t>(b, false);
  bool swap = false;
  if (size != 348 && size != 540) {
    swap = true;
    size = load<int32_t>(b, true);
  }
  if (size != 348 && size != 540) throw Error("not a NIfTI file (sizeof_hdr is neither 348 nor 540)");
  Header h;
  if (size == 348) {
    if (std::memcmp(b + 344, "n+1\0", 4) != 0 && std::memcmp(b + 344, "ni1\0", 4) != 0)
      throw Error("not a NIfTI-1 file (bad magic; an Analyze 7.5 header is not supported)");
    if (std::memcmp(b + 344, "ni1\0", 4) == 0)
      throw Error("a NIfTI-1 .hdr/.img pair is not supported; use a single .nii or .nii.gz file");
    h.version = 1;
    for (int i = 0; i < 8; ++i) h.dim[i] = load<int16_t>(b + 40 + 2 * i, swap);
    h.datatype = load<int16_t>(b + 70, swap);
    h.bitpix = load<int16_t>(b + 72, swap);
    for (int i = 0; i < 8; ++i) h.pixdim[i] = load<float>(b + 76 + 4 * i, swap);
    const float offset = load<float>(b + 108, swap);
    if (!std::isfinite(offset)) throw Error("vox_offset is not a number (" + std::to_string(offset) + ")");
    if (offset != 0 && offset < 352)
      throw Error("vox_offset " + std::to_string(offset) +
                  " is inside the header: a single-file .nii needs 0 or at least 352, as nibabel checks");
    if (offset > 9.0e18f) throw Error("vox_offset " + std::to_string(offset) + " is past any file's end");
    h.vox_offset = offset == 0 ? 352 : static_cast<int64_t>(offset);
    h.scl_slope = load<float>(b + 112, swap);
    h.scl_inter = load<float>(b + 116, swap);
    h.xyzt_units = static_cast<uint8_t>(b[123]);
    h.descrip.assign(reinterpret_cast<const char*>(b + 148), strnlen(reinterpret_cast<const char*>(b + 148), 80));
    h.qform_code = load<int16_t>(b + 252, swap);
    h.sform_code = load<int16_t>(b + 254, swap);
    h.quatern_b = load<float>(b + 256, swap);
    h.quatern_c = load<float>(b + 260, swap);
    h.quatern_d = load<float>(b + 264, swap);
    h.qoffset_x = load<float>(b + 268, swap);
    h.qoffset_y = load<float>(b + 272, swap);
    h.qoffset_z = load<float>(b + 276, swap);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) h.srow[r][c] = load<float>(b + 280 + 16 * r + 4 * c, swap);
  } else {
    if (n < kHeader2) throw Error("file is too short to hold a NIfTI-2 header");
    if (std::memcmp(b + 4, "n+2\0", 4) != 0) throw Error("not a NIfTI-2 file (bad magic)");
    h.version = 2;
    h.datatype = load<int16_t>(b + 12, swap);
    h.bitpix = load<int16_t>(b + 14, swap);
    for (int i = 0; i < 8; ++i) h.dim[i] = load<int64_t>(b + 16 + 8 * i, swap);
    for (int i = 0; i < 8; ++i) h.pixdim[i] = load<double>(b + 104 + 8 * i, swap);
    h.vox_offset = load<int64_t>(b + 168, swap);
    h.scl_slope = load<double>(b + 176, swap);
    h.scl_inter = load<double>(b + 184, swap);
    h.descrip.assign(reinterpret_cast<const char*>(b + 240), strnlen(reinterpret_cast<const char*>(b + 240), 80));
    h.qform_code = load<int32_t>(b + 344, swap);
    h.sform_code = load<int32_t>(b + 348, swap);
    h.quatern_b = load<double>(b + 352, swap);
    h.quatern_c = load<double>(b + 360, swap);
    h.quatern_d = load<double>(b + 368, swap);
    h.qoffset_x = load<double>(b + 376, swap);
    h.qoffset_y = load<double>(b + 384, swap);
    h.qoffset_z = load<double>(b + 392, swap);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) h.srow[r][c] = load<double>(b + 400 + 32 * r + 8 * c, swap);
    h.xyzt_units = load<int32_t>(b + 500, swap);
    if (h.vox_offset != 0 && h.vox_offset < 544)
      throw Error("vox_offset " + std::to_string(h.vox_offset) +
                  " is inside the header: a single-file NIfTI-2 needs 0 or at least 544, as nibabel checks");
    if (h.vox_offset == 0) h.vox_offset = 544;
  }
  // nibabel's header fixes, which the official scorer therefore sees: 0 -> 1, negative -> absolute value.
  for (int i = 1; i <= 3; ++i) {
    if (h.pixdim[i] == 0) {
      h.warnings.push_back("pixdim[" + std::to_string(i) + "] is 0; 1 mm used, as nibabel does");
      h.pixdim[i] = 1;
    } else if (h.pixdim[i] < 0) {
      h.warnings.push_back("pixdim[" + std::to_string(i) + "] is negative; its absolute value used, as nibabel does");
      h.pixdim[i] = -h.pixdim[i];
    }
  }
  if (byte_swapped) *byte_swapped = swap;
  return h;
}

namespace {

// Reads the voxel data into a buffer that grows with what the stream really holds: a header claiming more
// than the file contains costs no more memory than the file's contents.
void read_voxels(Source& src, uint64_t need, size_t file_bytes, std::vector<uint8_t>& data) {
  if (!src.gzipped()) {
    data.resize(need);
    const size_t got = src.read(data.data(), need);
    if (got < need)
      throw Error("file is truncated: " + std::to_string(got) + " of " + std::to_string(need) +
                  " bytes of voxel data present");
    return;
  }
  // Address space for the whole claim is reserved (untouched pages cost no memory), and the buffer is sized up
  // as the stream fills it: growing within the reservation copies nothing, and only what the stream really
  // holds (plus one step) is ever written. Where the reservation itself is refused, growing reallocates.
  try {
    data.reserve(need);
  } catch (const std::bad_alloc&) {
  }
  // Steps double from twice the compressed size (at least 1 MiB): at most twice what the stream holds is written.
  uint64_t size = std::min<uint64_t>(need, std::max<uint64_t>(uint64_t{1} << 20, uint64_t{2} * file_bytes));
  uint64_t got = 0;
  for (;;) {
    data.resize(size);
    got += src.read(data.data() + got, size - got);
    if (got < size || size == need) break;
    size = std::min<uint64_t>(need, 2 * size);
  }
  if (got < need)
    throw Error("file is truncated: " + std::to_string(got) + " of " + std::to_string(need) +
                " bytes of voxel data present");
}

struct Checked {
  Opened o;
  uint64_t data_bytes = 0;
};

Checked open_checked(Source& src, size_t file_bytes) {
  Checked c;
  c.o = open_header(src);
  c.data_bytes = check_layout(c.o.header);
  check_claim(c.o.header, c.data_bytes, file_bytes, src.gzipped());
  const int64_t gap = c.o.header.vox_offset - static_cast<int64_t>(c.o.header_bytes);
  if (gap < 0) throw Error("vox_offset points inside the header");
  src.skip(static_cast<size_t>(gap));
  return c;
}

// Decompressed bytes read past the voxel data to finish its gzip member: as many as the data, at least 1 MiB.
uint64_t finish_budget(uint64_t data_bytes) { return std::max<uint64_t>(data_bytes, uint64_t{1} << 20); }

}  // namespace

Header read_header(const std::string& path, bool verify_data) {
  try {
    const auto file = read_file(path);
    Source src(file);
    if (!verify_data) {
      Opened o = open_header(src);
      const uint64_t data_bytes = check_layout(o.header);
      check_claim(o.header, data_bytes, file.size(), src.gzipped());
      return o.header;
    }
    Checked c = open_checked(src, file.size());
    std::vector<uint8_t> scratch(1 << 16);
    uint64_t got = 0;
    while (got < c.data_bytes) {
      const size_t k = src.read(scratch.data(), static_cast<size_t>(std::min<uint64_t>(c.data_bytes - got, scratch.size())));
      if (k == 0) break;
      got += k;
    }
    if (got < c.data_bytes)
      throw Error("file is truncated: " + std::to_string(got) + " of " + std::to_string(c.data_bytes) +
                  " bytes of voxel data present");
    src.finish(finish_budget(c.data_bytes), c.o.header.warnings);
    return c.o.header;
  } catch (const gz::Error& e) {
    throw Error(e.what());
  }
}

Image read_image(const std::string& path) {
  try {
    const auto file = read_file(path);
    Source src(file);
    Checked c = open_checked(src, file.size());
    Image img;
    read_voxels(src, c.data_bytes, file.size(), img.data);
    src.finish(finish_budget(c.data_bytes), c.o.header.warnings);
    img.header = std::move(c.o.header);
    if (c.o.swapped) swap_voxels(img.data, bytes_per_voxel(img.header.datatype));
    return img;
  } catch (const gz::Error& e) {
    throw Error(e.what());
  } catch (const std::bad_alloc&) {
    throw Error("out of memory while reading the voxel data");
  }
}

namespace {
// Rotation (with qfac for a left-handed frame) to a NIfTI quaternion (b, c, d).
void rotation_to_quatern(const std::array<double, 9>& m_in, double& b, double& c, double& d, double& qfac) {
  std::array<double, 9> m = m_in;
  const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                     m[2] * (m[3] * m[7] - m[4] * m[6]);
  qfac = 1;
  if (det < 0) {
    qfac = -1;
    m[2] = -m[2];
    m[5] = -m[5];
    m[8] = -m[8];
  }
  const double tr = m[0] + m[4] + m[8] + 1.0;
  double a;
  if (tr > 0.5) {
    a = 0.5 * std::sqrt(tr);
    b = 0.25 * (m[7] - m[5]) / a;
    c = 0.25 * (m[2] - m[6]) / a;
    d = 0.25 * (m[3] - m[1]) / a;
  } else {
    const double xd = 1.0 + m[0] - (m[4] + m[8]), yd = 1.0 + m[4] - (m[0] + m[8]), zd = 1.0 + m[8] - (m[0] + m[4]);
    if (xd > 1.0) {
      b = 0.5 * std::sqrt(xd);
      c = 0.25 * (m[1] + m[3]) / b;
      d = 0.25 * (m[2] + m[6]) / b;
      a = 0.25 * (m[7] - m[5]) / b;
    } else if (yd > 1.0) {
      c = 0.5 * std::sqrt(yd);
      b = 0.25 * (m[1] + m[3]) / c;
      d = 0.25 * (m[5] + m[7]) / c;
      a = 0.25 * (m[2] - m[6]) / c;
    } else {
      d = 0.5 * std::sqrt(zd);
      b = 0.25 * (m[2] + m[6]) / d;
      c = 0.25 * (m[5] + m[7]) / d;
      a = 0.25 * (m[3] - m[1]) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
}
}  // namespace

Header make_header(std::array<int64_t, 3> dims, std::array<double, 3> spacing_mm, std::array<double, 3> origin_mm,
                   std::array<double, 9> direction, int16_t datatype) {
  Header h;
  h.version = 1;
  h.dim = {3, dims[0], dims[1], dims[2], 1, 1, 1, 1};
  double qfac = 1;
  rotation_to_quatern(direction, h.quatern_b, h.quatern_c, h.quatern_d, qfac);
  h.pixdim = {qfac, static_cast<double>(static_cast<float>(spacing_mm[0])),
              static_cast<double>(static_cast<float>(spacing_mm[1])),
              static_cast<double>(static_cast<float>(spacing_mm[2])), 1, 1, 1, 1};
  h.datatype = datatype;
  h.bitpix = static_cast<int16_t>(8 * bytes_per_voxel(datatype));
  h.scl_slope = 1;
  h.scl_inter = 0;
  h.qform_code = 1;
  h.sform_code = 1;
  h.qoffset_x = origin_mm[0];
  h.qoffset_y = origin_mm[1];
  h.qoffset_z = origin_mm[2];
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) h.srow[r][c] = direction[r * 3 + c] * h.pixdim[c + 1];
    h.srow[r][3] = origin_mm[r];
  }
  h.xyzt_units = 2 | 8;  // mm, seconds
  return h;
}

Header header_like(const Header& like, int16_t datatype) {
  Header h = like;
  h.dim = {3, like.dim[1], like.dim[2], like.dim[3], 1, 1, 1, 1};
  h.datatype = datatype;
  h.bitpix = static_cast<int16_t>(8 * bytes_per_voxel(datatype));
  h.scl_slope = 1;
  h.scl_inter = 0;
  h.vox_offset = 352;
  h.version = 1;
  h.warnings.clear();
  return h;
}

void write_image(const std::string& path, const Header& h, const void* voxels, int gzip_level) {
  const int width = bytes_per_voxel(h.datatype);
  if (width == 0) throw Error("cannot write datatype " + std::to_string(h.datatype));
  for (int d = 1; d <= h.ndim(); ++d)
    if (h.dim[d] > 32767) throw Error("dimension too large for NIfTI-1: " + std::to_string(h.dim[d]));
  const size_t data_bytes = static_cast<size_t>(h.voxel_count()) * width;
  std::vector<uint8_t> buf(352 + data_bytes, 0);
  uint8_t* b = buf.data();
  store<int32_t>(b, 348);
  for (int i = 0; i < 8; ++i) store<int16_t>(b + 40 + 2 * i, static_cast<int16_t>(h.dim[i]));
  store<int16_t>(b + 70, h.datatype);
  store<int16_t>(b + 72, static_cast<int16_t>(8 * width));
  for (int i = 0; i < 8; ++i) store<float>(b + 76 + 4 * i, static_cast<float>(h.pixdim[i]));
  store<float>(b + 108, 352.0f);
  store<float>(b + 112, static_cast<float>(h.scl_slope));
  store<float>(b + 116, static_cast<float>(h.scl_inter));
  b[123] = static_cast<uint8_t>(h.xyzt_units);
  std::memcpy(b + 148, h.descrip.data(), std::min<size_t>(h.descrip.size(), 79));
  store<int16_t>(b + 252, static_cast<int16_t>(h.qform_code));
  store<int16_t>(b + 254, static_cast<int16_t>(h.sform_code));
  store<float>(b + 256, static_cast<float>(h.quatern_b));
  store<float>(b + 260, static_cast<float>(h.quatern_c));
  store<float>(b + 264, static_cast<float>(h.quatern_d));
  store<float>(b + 268, static_cast<float>(h.qoffset_x));
  store<float>(b + 272, static_cast<float>(h.qoffset_y));
  store<float>(b + 276, static_cast<float>(h.qoffset_z));
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) store<float>(b + 280 + 16 * r + 4 * c, static_cast<float>(h.srow[r][c]));
  std::memcpy(b + 344, "n+1\0", 4);
  std::memcpy(b + 352, voxels, data_bytes);

  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot create " + tmp + ": " + std::strerror(errno));
    if (gz) {
      const auto packed = gz::compress(buf.data(), buf.size(), gzip_level);
      out.write(reinterpret_cast<const char*>(packed.data()), static_cast<std::streamsize>(packed.size()));
    } else {
      out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    }
    if (!out.flush()) throw Error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  // Rename so a reader (or a crash) never sees half a file.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Error("cannot rename " + tmp + ": " + std::strerror(errno));
}

}  // namespace lb::nifti
