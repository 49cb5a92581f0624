#pragma once
// NIfTI-1 and NIfTI-2 images (.nii or .nii.gz), read and written without ITK.
//
// Semantics follow nibabel, which the official FLARE scorer reads with:
//  - voxels in stored order, index = i + n_i*(j + n_j*k) (no reorientation);
//  - spacing = pixdim[1..3] as stored (float32 in NIfTI-1), like get_zooms(), after nibabel's header fixes:
//    a pixdim[1..3] of 0 becomes 1 and a negative one its absolute value (with a warning);
//  - scaling applied when scl_slope is finite and non-zero: value = raw*slope + inter;
//  - the affine is sform when sform_code != 0, else qform when qform_code != 0 (qfac -1 only when
//    pixdim[0] is exactly -1), else nibabel's fallback: diag(-pixdim[1], pixdim[2], pixdim[3]) centred on the grid;
//  - vox_offset 0 means "right after the header"; any other value below 352 (NIfTI-2: 544), NaN or
//    infinite is an error, as nibabel's header check raises.
// Errors throw lb::nifti::Error with a message that says what is wrong (the caller adds the file name).
// Sizes are checked against what the file can hold before anything is allocated: a header cannot make the
// reader hold more memory than the file's contents justify (see docs/scoring.md "Hostile files").
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lb::nifti {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum DataType : int16_t {
  kUInt8 = 2, kInt16 = 4, kInt32 = 8, kFloat32 = 16, kFloat64 = 64,
  kInt8 = 256, kUInt16 = 512, kUInt32 = 768, kInt64 = 1024, kUInt64 = 1280,
};
const char* datatype_name(int16_t datatype);  // "uint8", ..., or "unsupported"
int bytes_per_voxel(int16_t datatype);        // 0 when unsupported

struct Header {
  int version = 1;                    // 1 or 2
  std::array<int64_t, 8> dim{};       // dim[0] = number of dimensions
  std::array<double, 8> pixdim{};     // as stored; pixdim[0] is qfac
  int16_t datatype = kUInt8;
  int16_t bitpix = 8;
  int64_t vox_offset = 352;
  double scl_slope = 0, scl_inter = 0;
  int32_t qform_code = 0, sform_code = 0;
  double quatern_b = 0, quatern_c = 0, quatern_d = 0;
  double qoffset_x = 0, qoffset_y = 0, qoffset_z = 0;
  std::array<std::array<double, 4>, 3> srow{};
  int32_t xyzt_units = 0;
  std::string descrip;
  std::vector<std::string> warnings;  // header fixes applied on reading (pixdim 0 -> 1), trailing data ignored


  int ndim() const { return static_cast<int>(dim[0]); }
  // Number of dimensions once trailing singleton axes beyond the third (dim[n] == 1, n > 3) are dropped:
  // a 5x5x1 volume is 3-D, a 5x5x5x1 one too; a 2-D image stays 2-D.
  int effective_ndim() const;
  // The one rule for a label or CT volume, used everywhere: ndim >= 3 and every axis beyond the third is 1.
  bool is_volume3d() const { return ndim() >= 3 && effective_ndim() == 3; }
  std::string shape_text() const;  // "512x512x121" or "4x4x4x2"
  std::array<int64_t, 3> dims3() const { return {dim[1], dim[2], dim[3]}; }
  int64_t voxel_count() const;  // product of dim[1..ndim]; INT64_MAX when it overflows
  bool has_scaling() const;     // nibabel: slope finite and non-zero, and not the identity
  // 4x4 voxel-to-world affine as nibabel builds it (get_best_affine), row-major, last row 0 0 0 1.
  std::array<std::array<double, 4>, 4> affine() const;
};

// What two images must share to be on the same grid.
struct Geometry {
  std::array<int64_t, 3> dims{};
  std::array<double, 3> spacing_mm{};   // |pixdim[1..3]|
  std::array<double, 3> origin_mm{};    // affine translation
  std::array<double, 9> direction{};    // unit columns of the affine's 3x3 part, row-major
  std::string describe() const;         // "512x512x121, spacing 0.8x0.8x3 mm, origin (..), direction (..)"
};
Geometry geometry_of(const Header& h);

// Differences up to these are float noise, not a different grid (`score`, `run` and `check` use the same).
struct GridTolerance {
  double spacing_rel = 1e-4;    // relative to the larger spacing
  double origin_voxels = 1e-2;  // in units of the smallest spacing of `a`
  double direction = 1e-4;      // per direction cosine
};
// Which of "spacing", "origin", "direction" differ between the grids beyond `tol` (dims are not compared:
// callers say a shape mismatch in their own words). Empty: the same grid.
std::vector<std::string> grid_differences(const Geometry& a, const Geometry& b, const GridTolerance& tol = {});

struct Image {
  Header header;
  std::vector<uint8_t> data;  // voxel_count() * bytes_per_voxel(datatype), native byte order
};

// Largest image the reader accepts, whatever the file holds: 2^32 voxels (a 512x512x1000 CT is 2.6e8).
inline constexpr int64_t kMaxVoxels = int64_t{1} << 32;

// Reads only the header (and with verify_data, decompresses the voxel data and the rest of the gzip member that
// holds its last byte, to check the file is complete and its CRC right; later members and trailing bytes are
// ignored with a warning, as nibabel and gzip -t do).
Header read_header(const std::string& path, bool verify_data = false);
// Reads header and voxels. Supported: the integer and float types of DataType.
Image read_image(const std::string& path);
Header parse_header(const uint8_t* bytes, size_t n, bool* byte_swapped = nullptr);

// A NIfTI-1 header for a new 3-D image: dims, spacing, origin and direction (LPS-free: the NIfTI world, RAS).
Header make_header(std::array<int64_t, 3> dims, std::array<double, 3> spacing_mm, std::array<double, 3> origin_mm = {},
                   std::array<double, 9> direction = {1, 0, 0, 0, 1, 0, 0, 0, 1}, int16_t datatype = kUInt8);
// The same grid as `like` (qform, sform, pixdim, units copied bit for bit) with a new datatype and 3-D dims.
Header header_like(const Header& like, int16_t datatype);

// Writes a NIfTI-1 file; gzip-compressed when the name ends in ".gz". `voxels` holds voxel_count() values.
void write_image(const std::string& path, const Header& header, const void* voxels, int gzip_level = 6);

}  // namespace lb::nifti
