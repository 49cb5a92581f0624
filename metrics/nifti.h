#pragma once
// NIfTI-1 and NIfTI-2 images (.nii or .nii.gz), read and written without ITK.
//
// Semantics follow nibabel, which the official FLARE scorer reads with:
//  - voxels in stored order, index = i + n_i*(j + n_j*k) (no reorientation);
//  - spacing = pixdim[1..3] as stored (float32 in NIfTI-1), like get_zooms();
//  - scaling applied when scl_slope is finite and non-zero: value = raw*slope + inter;
//  - the affine is sform when sform_code > 0, else qform when qform_code > 0, else pixdim on the diagonal.
// Errors throw lb::nifti::Error with a message that says what is wrong (the caller adds the file name).
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

  int ndim() const { return static_cast<int>(dim[0]); }
  // Number of dimensions once trailing singleton axes (dim[n] == 1) are dropped.
  int effective_ndim() const;
  std::array<int64_t, 3> dims3() const { return {dim[1], dim[2], dim[3]}; }
  int64_t voxel_count() const;  // product of dim[1..ndim]
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

struct Image {
  Header header;
  std::vector<uint8_t> data;  // voxel_count() * bytes_per_voxel(datatype), native byte order
};

// Reads only the header (and with verify_data, decompresses the whole file to check it is complete).
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
