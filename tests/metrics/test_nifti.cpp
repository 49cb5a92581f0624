// NIfTI reading and writing: datatypes, byte order, NIfTI-2, geometry, gzip faults.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>

#include "metrics/gzip.h"
#include "metrics/mask_io.h"
#include "metrics/nifti.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::TempDir;

namespace {

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void put_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

template <class T>
void write_typed(const std::string& path, std::array<int64_t, 3> dims, const std::vector<T>& values, int16_t type,
                 double slope = 1, double inter = 0) {
  auto h = nifti::make_header(dims, {1, 1, 1}, {0, 0, 0}, {1, 0, 0, 0, 1, 0, 0, 0, 1}, type);
  h.scl_slope = slope;
  h.scl_inter = inter;
  nifti::write_image(path, h, values.data());
}

// A NIfTI-1 header and data written by hand in big-endian byte order.
std::vector<uint8_t> big_endian_nifti(int16_t n0, int16_t n1, int16_t n2, const std::vector<int16_t>& data) {
  std::vector<uint8_t> b(352 + data.size() * 2, 0);
  auto be32 = [&](size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  };
  auto be16 = [&](size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
  };
  auto bef = [&](size_t off, float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    be32(off, u);
  };
  be32(0, 348);
  const int16_t dim[8] = {3, n0, n1, n2, 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) be16(40 + 2 * i, static_cast<uint16_t>(dim[i]));
  be16(70, nifti::kInt16);
  be16(72, 16);
  const float pix[8] = {1, 0.5f, 0.75f, 2.5f, 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) bef(76 + 4 * i, pix[i]);
  bef(108, 352);
  std::memcpy(b.data() + 344, "n+1\0", 4);
  for (size_t i = 0; i < data.size(); ++i) be16(352 + 2 * i, static_cast<uint16_t>(data[i]));
  return b;
}

}  // namespace

TEST_CASE("round trip of every supported datatype keeps values and grid", "[nifti]") {
  TempDir tmp("nifti");
  const std::array<int64_t, 3> dims = {3, 4, 5};
  std::vector<float> values(60);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 7) - 3.0f;
  const std::string p = tmp / "f.nii.gz";
  write_typed(p, dims, values, nifti::kFloat32);
  const auto img = nifti::read_image(p);
  REQUIRE(img.header.datatype == nifti::kFloat32);
  REQUIRE(img.data.size() == 60 * 4);
  std::vector<float> back(60);
  std::memcpy(back.data(), img.data.data(), 240);
  CHECK(back == values);
  CHECK(img.header.dims3() == dims);

  std::vector<double> d(60, 1.0);
  write_typed(tmp / "d.nii", dims, d, nifti::kFloat64);  // uncompressed .nii too
  CHECK(nifti::read_image(tmp / "d.nii").data.size() == 480);
}

TEST_CASE("geometry from sform, qform and a flipped direction", "[nifti]") {
  TempDir tmp("geo");
  // A left-handed frame (one axis flipped) needs qfac = -1 in the qform.
  const std::array<double, 9> dir = {-1, 0, 0, 0, 0, 1, 0, -1, 0};
  auto h = nifti::make_header({4, 5, 6}, {0.8, 0.9, 3.0}, {10, -20, 30}, dir);
  const auto g = nifti::geometry_of(h);
  for (int i = 0; i < 9; ++i) CHECK(g.direction[i] == Approx(dir[i]).margin(1e-6));
  CHECK(g.origin_mm[1] == Approx(-20));
  CHECK(g.spacing_mm[2] == Approx(3.0));
  // The same grid from the qform alone.
  h.sform_code = 0;
  const auto q = nifti::geometry_of(h);
  for (int i = 0; i < 9; ++i) CHECK(q.direction[i] == Approx(dir[i]).margin(1e-6));
  CHECK(q.origin_mm[0] == Approx(10));
  // And it survives a write and read.
  std::vector<uint8_t> v(4 * 5 * 6, 0);
  nifti::write_image(tmp / "g.nii.gz", h, v.data());
  const auto r = nifti::geometry_of(nifti::read_header(tmp / "g.nii.gz"));
  for (int i = 0; i < 9; ++i) CHECK(r.direction[i] == Approx(dir[i]).margin(1e-6));
}

TEST_CASE("big-endian files are read in the right byte order", "[nifti]") {
  TempDir tmp("be");
  std::vector<int16_t> data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<int16_t>(i * 100 - 900);
  put_bytes(tmp / "be.nii", big_endian_nifti(2, 3, 4, data));
  const auto img = nifti::read_image(tmp / "be.nii");
  CHECK(img.header.dims3() == std::array<int64_t, 3>{2, 3, 4});
  CHECK(img.header.pixdim[3] == Approx(2.5));
  std::vector<int16_t> back(data.size());
  std::memcpy(back.data(), img.data.data(), back.size() * 2);
  CHECK(back == data);
}

TEST_CASE("multi-member gzip (pigz, bgzip) reads as one stream", "[nifti][gzip]") {
  TempDir tmp("mm");
  lb::test::Vol v(20, 20, 10);
  v.box({2, 2, 2}, {9, 9, 5});
  lb::test::write_mask(tmp / "plain.nii", v);
  const auto raw = file_bytes(tmp / "plain.nii");
  const size_t half = raw.size() / 2;
  auto a = gz::compress(raw.data(), half), b = gz::compress(raw.data() + half, raw.size() - half);
  a.insert(a.end(), b.begin(), b.end());
  put_bytes(tmp / "mm.nii.gz", a);
  const auto m = load_mask(tmp / "mm.nii.gz");
  REQUIRE(m.status == MaskStatus::ok);
  CHECK(m.mask.voxels == v.v);
}

TEST_CASE("truncated, corrupt and non-NIfTI files are read errors with the reason", "[nifti][gzip]") {
  TempDir tmp("bad");
  lb::test::Vol v(30, 30, 20);
  v.box({3, 3, 3}, {20, 25, 15});
  lb::test::write_mask(tmp / "ok.nii.gz", v);
  auto bytes = file_bytes(tmp / "ok.nii.gz");

  put_bytes(tmp / "trunc.nii.gz", std::vector<uint8_t>(bytes.begin(), bytes.begin() + bytes.size() / 2));
  auto r = load_mask(tmp / "trunc.nii.gz");
  CHECK(r.status == MaskStatus::read_error);
  CHECK_THAT(r.message, Catch::Contains("truncated"));

  auto flipped = bytes;
  flipped[flipped.size() - 6] ^= 0xff;  // inside the CRC32 of the trailer
  put_bytes(tmp / "crc.nii.gz", flipped);
  r = load_mask(tmp / "crc.nii.gz");
  CHECK(r.status == MaskStatus::read_error);
  CHECK_THAT(r.message, Catch::Contains("corrupt"));

  put_bytes(tmp / "text.nii.gz", std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\n'});
  r = load_mask(tmp / "text.nii.gz");
  CHECK(r.status == MaskStatus::read_error);

  put_bytes(tmp / "empty.nii.gz", {});
  CHECK(load_mask(tmp / "empty.nii.gz").status == MaskStatus::read_error);

  r = load_mask(tmp / "absent.nii.gz");
  CHECK(r.status == MaskStatus::read_error);
  CHECK_THAT(r.message, Catch::Contains("cannot open"));
}

TEST_CASE("4-D images are rejected, trailing singleton axes are accepted", "[nifti]") {
  TempDir tmp("4d");
  auto h = nifti::make_header({4, 4, 4}, {1, 1, 1});
  h.dim = {4, 4, 4, 4, 2, 1, 1, 1};
  std::vector<uint8_t> v(4 * 4 * 4 * 2, 0);
  nifti::write_image(tmp / "4d.nii.gz", h, v.data());
  auto r = load_mask(tmp / "4d.nii.gz");
  CHECK(r.status == MaskStatus::read_error);
  CHECK_THAT(r.message, Catch::Contains("4-D") && Catch::Contains("4x4x4x2"));

  h.dim = {4, 4, 4, 4, 1, 1, 1, 1};
  nifti::write_image(tmp / "t1.nii.gz", h, v.data());
  r = load_mask(tmp / "t1.nii.gz");
  CHECK(r.status == MaskStatus::ok);
  CHECK(!r.warnings.empty());

  h.dim = {2, 4, 4, 1, 1, 1, 1, 1};
  nifti::write_image(tmp / "2d.nii.gz", h, v.data());
  CHECK(load_mask(tmp / "2d.nii.gz").status == MaskStatus::read_error);
}

TEST_CASE("label values are checked after scaling, and listed when wrong", "[labels]") {
  TempDir tmp("labels");
  const std::array<int64_t, 3> dims = {2, 2, 2};
  SECTION("float64 holding exact 0.0 and 1.0 is fine") {
    write_typed<double>(tmp / "f64.nii.gz", dims, {0, 1, 1, 0, 0, 0, 1, 0}, nifti::kFloat64);
    const auto r = load_mask(tmp / "f64.nii.gz");
    CHECK(r.status == MaskStatus::ok);
    CHECK(r.mask.voxels == std::vector<uint8_t>{0, 1, 1, 0, 0, 0, 1, 0});
  }
  SECTION("0.9999 is not 1 (the official cast would make it 0)") {
    write_typed<float>(tmp / "frac.nii.gz", dims, {0, 0.9999f, 1, 0, 0, 0, 0.5f, 0}, nifti::kFloat32);
    const auto r = load_mask(tmp / "frac.nii.gz");
    CHECK(r.status == MaskStatus::invalid_labels);
    CHECK_THAT(r.message, Catch::Contains("0.9999") && Catch::Contains("0.5") && Catch::Contains("2 voxels"));
  }
  SECTION("NaN, negatives and 256") {
    write_typed<float>(tmp / "nan.nii.gz", dims, {0, NAN, 1, 0, 0, 0, 0, 0}, nifti::kFloat32);
    CHECK_THAT(load_mask(tmp / "nan.nii.gz").message, Catch::Contains("NaN"));
    write_typed<int16_t>(tmp / "neg.nii.gz", dims, {0, -1, 1, 256, 0, 0, 0, 0}, nifti::kInt16);
    const auto r = load_mask(tmp / "neg.nii.gz");
    CHECK(r.status == MaskStatus::invalid_labels);
    CHECK_THAT(r.message, Catch::Contains("-1") && Catch::Contains("256"));
  }
  SECTION("uint8 label 2") {
    write_typed<uint8_t>(tmp / "two.nii.gz", dims, {0, 2, 1, 0, 0, 0, 0, 2}, nifti::kUInt8);
    const auto r = load_mask(tmp / "two.nii.gz");
    CHECK(r.status == MaskStatus::invalid_labels);
    CHECK_THAT(r.message, Catch::Contains("2 (2)"));
  }
  SECTION("scl_slope and scl_inter are applied before the check") {
    // Stored 2 and 4 with slope 0.5 and intercept -1: values 0 and 1.
    write_typed<int16_t>(tmp / "scaled.nii.gz", dims, {2, 4, 2, 2, 4, 2, 2, 2}, nifti::kInt16, 0.5, -1.0);
    const auto r = load_mask(tmp / "scaled.nii.gz");
    CHECK(r.status == MaskStatus::ok);
    CHECK(r.mask.voxels == std::vector<uint8_t>{0, 1, 0, 0, 1, 0, 0, 0});
    // Stored 1 with slope 2: value 2.
    write_typed<uint8_t>(tmp / "slope2.nii.gz", dims, {0, 1, 0, 0, 0, 0, 0, 0}, nifti::kUInt8, 2.0, 0.0);
    CHECK(load_mask(tmp / "slope2.nii.gz").status == MaskStatus::invalid_labels);
    // Slope 0.1 (float32) times 10 minus 1 is 1.5e-8, not 0: reported, not silently cast.
    write_typed<int16_t>(tmp / "inexact.nii.gz", dims, {10, 20, 10, 10, 20, 10, 10, 10}, nifti::kInt16, 0.1, -1.0);
    CHECK(load_mask(tmp / "inexact.nii.gz").status == MaskStatus::invalid_labels);
  }
}

TEST_CASE("NIfTI-2 files are read", "[nifti]") {
  TempDir tmp("n2");
  // Build a NIfTI-2 file by hand: 540-byte header, 4 extension bytes, uint8 data.
  const int64_t n0 = 3, n1 = 2, n2 = 2;
  std::vector<uint8_t> b(544 + n0 * n1 * n2, 0);
  auto put = [&](size_t off, auto v) { std::memcpy(b.data() + off, &v, sizeof v); };
  put(0, int32_t{540});
  std::memcpy(b.data() + 4, "n+2\0\r\n\032\n", 8);
  put(12, int16_t{nifti::kUInt8});
  put(14, int16_t{8});
  const int64_t dim[8] = {3, n0, n1, n2, 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) put(16 + 8 * i, dim[i]);
  const double pix[8] = {1, 0.7, 0.8, 2.0, 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) put(104 + 8 * i, pix[i]);
  put(168, int64_t{544});
  put(176, 1.0);
  for (int64_t i = 0; i < n0 * n1 * n2; ++i) b[544 + i] = i % 2;
  put_bytes(tmp / "n2.nii", b);
  const auto r = load_mask(tmp / "n2.nii");
  REQUIRE(r.status == MaskStatus::ok);
  CHECK(r.mask.dims == std::array<int64_t, 3>{3, 2, 2});
  CHECK(r.mask.spacing_mm[0] == Approx(0.7));
  CHECK(r.mask.voxels[1] == 1);
}
