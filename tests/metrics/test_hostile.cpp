// Hostile and pathological files (issue 12): sizes claimed by a header, overflowing dims, one-slice volumes,
// vox_offset and pixdim edge cases, nibabel's affine fallback, trailing gzip data, and what `score` makes of them.
// Each test names the item it covers; on 992f10f each of them failed.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <map>

#include "metrics/components.h"
#include "metrics/gzip.h"
#include "metrics/lesion_scores.h"
#include "metrics/mask_io.h"
#include "metrics/nifti.h"
#include "metrics/score_set.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::TempDir;
using lb::test::Vol;

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
void put(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

// A plain NIfTI-1 file of a 3-D uint8 volume (lesionbench's writer), as bytes to patch.
std::vector<uint8_t> nifti1_bytes(const TempDir& tmp, const Vol& v, std::array<double, 3> spacing = {1, 1, 1}) {
  lb::test::write_mask(tmp / "base.nii", v, spacing);
  return file_bytes(tmp / "base.nii");
}

// A NIfTI-2 header with the given dims and `data_bytes` bytes of uint8 data after it.
std::vector<uint8_t> nifti2_bytes(const std::array<int64_t, 8>& dim, size_t data_bytes) {
  std::vector<uint8_t> b(544 + data_bytes, 0);
  put(b, 0, int32_t{540});
  std::memcpy(b.data() + 4, "n+2\0\r\n\032\n", 8);
  put(b, 12, int16_t{nifti::kUInt8});
  put(b, 14, int16_t{8});
  for (int i = 0; i < 8; ++i) put(b, 16 + 8 * i, dim[i]);
  for (int i = 0; i < 8; ++i) put(b, 104 + 8 * i, 1.0);
  put(b, 168, int64_t{544});
  put(b, 176, 1.0);
  for (size_t i = 0; i < data_bytes; ++i) b[544 + i] = i % 2;
  return b;
}

// The first 352 bytes of `header_file` followed by 2 MiB of random bytes.
std::vector<uint8_t> incompressible_nifti(const std::vector<uint8_t>& header_file) {
  std::vector<uint8_t> raw(header_file.begin(), header_file.begin() + 352);
  std::mt19937 rng(5);
  for (int i = 0; i < (2 << 20); ++i) raw.push_back(static_cast<uint8_t>(rng()));
  return raw;
}

// A field of /proc/self/status in KiB ("VmHWM" is the peak resident memory).
size_t status_kib(const char* field) {
  std::ifstream st("/proc/self/status");
  std::string line;
  while (std::getline(st, line))
    if (line.rfind(field, 0) == 0) return std::stoul(line.substr(std::strlen(field) + 1));
  return 0;
}

// Runs `fn` in a child process and returns its exit code, or 50 when the child's peak resident memory grew by
// more than `extra_mib` while `fn` ran: a reader that fills a buffer of what the header claims fails there.
template <class Fn>
int in_limited_child(size_t extra_mib, Fn fn) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The peak so far (the parent's) is reset so that only this child's growth counts.
    std::ofstream("/proc/self/clear_refs") << "5";
    const size_t before = status_kib("VmHWM:");
    const int rc = fn();
    ::_exit(rc != 0 ? rc : status_kib("VmHWM:") > before + extra_mib * 1024 ? 50 : 0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

TEST_CASE("item 1: a header cannot make the reader allocate more than the file holds", "[hostile][nifti]") {
  TempDir tmp("claim");
  Vol v(4, 4, 4);
  auto b = nifti1_bytes(tmp, v);
  // 2000 x 2000 x 500 uint8 (2 GB) in a 416-byte .nii.
  put(b, 40 + 2, int16_t{2000});
  put(b, 40 + 4, int16_t{2000});
  put(b, 40 + 6, int16_t{500});
  put_bytes(tmp / "huge.nii", b);
  // The same claim in a .nii.gz holding 2 MiB of incompressible voxels: deflate could expand a file of that
  // size to 2 GB, so only the stream can tell; the buffer grows with what it really holds.
  put_bytes(tmp / "huge.nii.gz", gz::compress(incompressible_nifti(b).data(), incompressible_nifti(b).size(), 1));
  const int rc = in_limited_child(256, [&] {
    const MaskLoad a = load_mask(tmp / "huge.nii");
    if (a.status != MaskStatus::read_error || a.message.find("needs 2000000000 bytes") == std::string::npos) return 1;
    const MaskLoad z = load_mask(tmp / "huge.nii.gz");
    if (z.status != MaskStatus::read_error || z.message.find("truncated: 2097152 of 2000000000") == std::string::npos)
      return 2;
    return 0;
  });
  CHECK(rc == 0);
  // A claim beyond what deflate can expand the file to is refused before inflating anything.
  const auto small = gz::compress(b.data(), b.size());
  put_bytes(tmp / "tiny.nii.gz", small);
  const MaskLoad t = load_mask(tmp / "tiny.nii.gz");
  CHECK(t.status == MaskStatus::read_error);
  CHECK_THAT(t.message, Catch::Contains("more than a gzip file of"));
}

TEST_CASE("item 1: a prediction's shape is checked from its header before its voxels are read", "[hostile][score]") {
  TempDir tmp("predshape");
  {
    std::filesystem::create_directories(tmp / "gt");
    std::filesystem::create_directories(tmp / "pred");
  }
  Vol g(10, 10, 10);
  g.box({2, 2, 2}, {6, 6, 6});
  lb::test::write_mask(tmp / "gt/c.nii.gz", g);
  auto b = nifti1_bytes(tmp, g);
  put(b, 40 + 2, int16_t{2000});
  put(b, 40 + 4, int16_t{2000});
  put(b, 40 + 6, int16_t{500});
  put_bytes(tmp / "pred/c.nii.gz", gz::compress(incompressible_nifti(b).data(), incompressible_nifti(b).size(), 1));
  ScoreSettings st;
  const CaseRecord r = score_files("c.nii.gz", tmp / "gt/c.nii.gz", tmp / "pred/c.nii.gz", st);
  CHECK(r.status == CaseStatus::shape_mismatch);
  CHECK_THAT(r.message, Catch::Contains("2000x2000x500") && Catch::Contains("10x10x10"));
}

TEST_CASE("item 2: dims whose product overflows are read errors, never a wrapped size", "[hostile][nifti]") {
  TempDir tmp("overflow");
  // 2^22 x 2^21 x 2^21 = 2^64 wraps to 0 bytes.
  put_bytes(tmp / "wrap0.nii", nifti2_bytes({3, int64_t{1} << 22, int64_t{1} << 21, int64_t{1} << 21, 1, 1, 1, 1}, 0));
  // 3 x 6148914691236517206 x 2 wraps to 4 voxels, and the file holds 4 bytes.
  put_bytes(tmp / "wrap4.nii", nifti2_bytes({3, 3, 6148914691236517206, 2, 1, 1, 1, 1}, 4));
  // Just above the cap without overflow: 65536 x 65536 x 2.
  put_bytes(tmp / "cap.nii", nifti2_bytes({3, 65536, 65536, 2, 1, 1, 1, 1}, 16));
  for (const char* name : {"wrap0.nii", "wrap4.nii", "cap.nii"}) {
    INFO(name);
    const MaskLoad m = load_mask(tmp / name);
    CHECK(m.status == MaskStatus::read_error);
    CHECK_THAT(m.message, Catch::Contains("voxels, the most this reader accepts"));
    CHECK_THROWS_AS(nifti::read_header(tmp / name), nifti::Error);
  }
}

TEST_CASE("item 3: one-slice volumes are 3-D and axes beyond the third must be 1", "[hostile][nifti]") {
  TempDir tmp("slices");
  auto write_dims = [&](const std::string& name, std::array<int64_t, 8> dim) {
    auto h = nifti::make_header({1, 1, 1}, {1, 1, 1});
    h.dim = dim;
    std::vector<uint8_t> v(static_cast<size_t>(h.voxel_count()), 1);
    nifti::write_image(tmp / name, h, v.data());
    return load_mask(tmp / name);
  };
  CHECK(write_dims("5x5x1.nii.gz", {3, 5, 5, 1, 1, 1, 1, 1}).status == MaskStatus::ok);
  CHECK(write_dims("1x1x1.nii.gz", {3, 1, 1, 1, 1, 1, 1, 1}).status == MaskStatus::ok);
  CHECK(write_dims("1x5x5.nii.gz", {3, 1, 5, 5, 1, 1, 1, 1}).status == MaskStatus::ok);
  CHECK(write_dims("5x5x1x1.nii.gz", {4, 5, 5, 1, 1, 1, 1, 1}).status == MaskStatus::ok);
  const auto m = write_dims("5x5x1.nii.gz", {3, 5, 5, 1, 1, 1, 1, 1});
  CHECK(m.mask.dims == std::array<int64_t, 3>{5, 5, 1});
  CHECK(write_dims("2d.nii.gz", {2, 5, 5, 1, 1, 1, 1, 1}).status == MaskStatus::read_error);
  const auto four = write_dims("5x5x1x2.nii.gz", {4, 5, 5, 1, 2, 1, 1, 1});
  CHECK(four.status == MaskStatus::read_error);
  CHECK_THAT(four.message, Catch::Contains("5x5x1x2"));
  nifti::Header h;
  h.dim = {3, 5, 5, 1, 1, 1, 1, 1};
  CHECK(h.is_volume3d());
  h.dim = {2, 5, 5, 1, 1, 1, 1, 1};
  CHECK(!h.is_volume3d());
  // The official scorer scores a one-slice case: so does score.
  std::filesystem::create_directories(tmp / "gt");
  std::filesystem::create_directories(tmp / "pred");
  Vol g(5, 5, 1), p(5, 5, 1);
  g.box({1, 1, 0}, {4, 4, 1});
  p.box({1, 1, 0}, {4, 3, 1});
  lb::test::write_mask(tmp / "gt/c.nii.gz", g);
  lb::test::write_mask(tmp / "pred/c.nii.gz", p);
  const CaseRecord r = score_files("c.nii.gz", tmp / "gt/c.nii.gz", tmp / "pred/c.nii.gz", ScoreSettings{});
  CHECK(r.status == CaseStatus::ok);
  CHECK(r.dsc == Approx(2.0 * 6 / (9 + 6)));
}

TEST_CASE("item 7: vox_offset is checked as nibabel checks it", "[hostile][nifti]") {
  TempDir tmp("voxoff");
  Vol v(4, 4, 4);
  std::fill(v.v.begin(), v.v.end(), 1);
  const auto base = nifti1_bytes(tmp, v);
  auto with_offset = [&](const std::string& name, float offset) {
    auto b = base;
    put(b, 108, offset);
    put_bytes(tmp / name, b);
    return load_mask(tmp / name);
  };
  for (float off : {348.0f, 349.0f, 351.0f, 100.0f, -5.0f}) {
    const auto m = with_offset("low.nii", off);
    INFO(off);
    CHECK(m.status == MaskStatus::read_error);
    CHECK_THAT(m.message, Catch::Contains("inside the header"));
  }
  auto m = with_offset("nan.nii", NAN);
  CHECK(m.status == MaskStatus::read_error);
  CHECK_THAT(m.message, Catch::Contains("not a number"));
  m = with_offset("inf.nii", INFINITY);
  CHECK(m.status == MaskStatus::read_error);
  m = with_offset("huge.nii", 3e38f);
  CHECK(m.status == MaskStatus::read_error);
  CHECK_THAT(m.message, Catch::Contains("past"));
  m = with_offset("past.nii", 4096.0f);
  CHECK(m.status == MaskStatus::read_error);
  CHECK_THAT(m.message, Catch::Contains("vox_offset 4096 is past the end of the file"));
  m = with_offset("zero.nii", 0.0f);  // 0: right after the header, as nibabel reads it
  CHECK(m.status == MaskStatus::ok);
  m = with_offset("ok.nii", 352.0f);
  CHECK(m.status == MaskStatus::ok);
  // In a .nii.gz, an offset past the inflated data.
  auto b = base;
  put(b, 108, 100000.0f);
  put_bytes(tmp / "past.nii.gz", gz::compress(b.data(), b.size()));
  m = load_mask(tmp / "past.nii.gz");
  CHECK(m.status == MaskStatus::read_error);
  CHECK_THAT(m.message, Catch::Contains("vox_offset is past the end of the data"));
  // NIfTI-2: 540-543 is inside its header.
  auto n2 = nifti2_bytes({3, 2, 2, 2, 1, 1, 1, 1}, 8);
  put(n2, 168, int64_t{541});
  put_bytes(tmp / "n2.nii", n2);
  CHECK(load_mask(tmp / "n2.nii").status == MaskStatus::read_error);
}

TEST_CASE("item 8: pixdim 0 is read as 1 mm with a warning, as nibabel does", "[hostile][nifti]") {
  TempDir tmp("pix0");
  Vol v(4, 4, 4);
  v.box({1, 1, 1}, {3, 3, 3});
  auto b = nifti1_bytes(tmp, v, {0.8f, 0.8f, 2.5f});
  put(b, 76 + 4 * 3, 0.0f);   // pixdim[3] = 0
  put(b, 76 + 4 * 1, -0.8f);  // pixdim[1] negative: nibabel takes the absolute value
  put_bytes(tmp / "pix0.nii", b);
  const MaskLoad m = load_mask(tmp / "pix0.nii");
  REQUIRE(m.status == MaskStatus::ok);
  CHECK(m.mask.spacing_mm[2] == 1.0);
  CHECK(m.mask.spacing_mm[0] == Approx(0.8));
  bool warned = false;
  for (const auto& w : m.warnings) warned |= w.find("pixdim[3] is 0; 1 mm used") != std::string::npos;
  CHECK(warned);
}

TEST_CASE("item 9: no qform and no sform gives nibabel's centred, x-flipped affine", "[hostile][nifti]") {
  TempDir tmp("noform");
  Vol v(5, 7, 3);
  auto b = nifti1_bytes(tmp, v, {0.5f, 2.0f, 3.0f});
  put(b, 252, int16_t{0});
  put(b, 254, int16_t{0});
  put_bytes(tmp / "none.nii", b);
  const auto h = nifti::read_header(tmp / "none.nii");
  const auto a = h.affine();
  // nibabel: diag(-0.5, 2, 3), translation -((shape - 1) / 2) * zooms.
  CHECK(a[0][0] == -0.5);
  CHECK(a[1][1] == 2.0);
  CHECK(a[2][2] == 3.0);
  CHECK(a[0][3] == 1.0);    // -(2) * -0.5
  CHECK(a[1][3] == -6.0);   // -(3) * 2
  CHECK(a[2][3] == -3.0);   // -(1) * 3
  const auto g = nifti::geometry_of(h);
  CHECK(g.direction[0] == -1.0);
  // sform_code -1 still selects the sform (nibabel tests != 0); qfac other than -1 counts as 1.
  put(b, 254, int16_t{-1});
  for (int c = 0; c < 4; ++c) put(b, 280 + 4 * c, c == 0 ? 7.0f : 0.0f);
  put_bytes(tmp / "neg.nii", b);
  CHECK(nifti::read_header(tmp / "neg.nii").affine()[0][0] == 7.0);
  auto q = nifti1_bytes(tmp, v, {1, 1, 1});
  put(q, 254, int16_t{0});
  put(q, 76, -0.5f);  // pixdim[0] = qfac
  put_bytes(tmp / "qfac.nii", q);
  CHECK(nifti::read_header(tmp / "qfac.nii").affine()[2][2] == 1.0);
}

TEST_CASE("item 10: data after the gzip member holding the last voxel is ignored with a warning", "[hostile][gzip]") {
  TempDir tmp("trail");
  Vol v(20, 20, 10);
  v.box({2, 2, 2}, {9, 9, 5});
  lb::test::write_mask(tmp / "plain.nii", v);
  const auto raw = file_bytes(tmp / "plain.nii");
  const auto member = gz::compress(raw.data(), raw.size());
  auto has = [](const MaskLoad& m, const std::string& text) {
    for (const auto& w : m.warnings)
      if (w.find(text) != std::string::npos) return true;
    return false;
  };
  // Trailing garbage (gzip -t and nibabel accept it).
  auto garbage = member;
  for (char c : std::string("not gzip at all")) garbage.push_back(static_cast<uint8_t>(c));
  put_bytes(tmp / "garbage.nii.gz", garbage);
  MaskLoad m = load_mask(tmp / "garbage.nii.gz");
  REQUIRE(m.status == MaskStatus::ok);
  CHECK(m.mask.voxels == v.v);
  CHECK(has(m, "trailing data after the gzip stream ignored"));
  // A second member, corrupt: never inflated.
  std::vector<uint8_t> big(64 << 20, 0);
  auto second = gz::compress(big.data(), big.size(), 1);
  second[second.size() / 2] ^= 0x55;
  second[second.size() - 6] ^= 0xff;
  auto two = member;
  two.insert(two.end(), second.begin(), second.end());
  put_bytes(tmp / "two.nii.gz", two);
  m = load_mask(tmp / "two.nii.gz");
  REQUIRE(m.status == MaskStatus::ok);
  CHECK(has(m, "gzip members after the one holding the voxel data ignored"));
  CHECK_NOTHROW(nifti::read_header(tmp / "two.nii.gz", true));
  // An empty member after the data (bgzip's end-of-file block) is no reason for a warning.
  auto eof = member;
  const uint8_t none = 0;
  const auto empty = gz::compress(&none, 0);
  eof.insert(eof.end(), empty.begin(), empty.end());
  put_bytes(tmp / "bgzip-eof.nii.gz", eof);
  m = load_mask(tmp / "bgzip-eof.nii.gz");
  REQUIRE(m.status == MaskStatus::ok);
  CHECK(m.warnings.empty());
  // A small corrupt later member: ignored too, the reason in the warning.
  std::vector<uint8_t> few(1000, 7);
  auto bad_small = gz::compress(few.data(), few.size());
  bad_small[bad_small.size() - 6] ^= 0xff;
  auto three = member;
  three.insert(three.end(), bad_small.begin(), bad_small.end());
  put_bytes(tmp / "bad-small.nii.gz", three);
  m = load_mask(tmp / "bad-small.nii.gz");
  REQUIRE(m.status == MaskStatus::ok);
  CHECK(has(m, "CRC"));
  // The member holding the last voxel byte still has its CRC checked.
  auto crc = member;
  crc[crc.size() - 6] ^= 0xff;
  crc.insert(crc.end(), second.begin(), second.end());
  put_bytes(tmp / "crc.nii.gz", crc);
  m = load_mask(tmp / "crc.nii.gz");
  CHECK(m.status == MaskStatus::read_error);
  CHECK_THAT(m.message, Catch::Contains("CRC"));
  // A member that goes on far past the voxel data: read up to a bound, then left unchecked with a warning.
  std::vector<uint8_t> longer = raw;
  longer.resize(raw.size() + (64 << 20), 0);
  put_bytes(tmp / "long.nii.gz", gz::compress(longer.data(), longer.size(), 1));
  m = load_mask(tmp / "long.nii.gz");
  REQUIRE(m.status == MaskStatus::ok);
  CHECK(has(m, "follow the voxel data in the same gzip member"));
}

TEST_CASE("item 4: absurd spacings are scored as stored with a warning", "[hostile][score]") {
  TempDir tmp("metres");
  std::filesystem::create_directories(tmp / "gt");
  std::filesystem::create_directories(tmp / "pred");
  Vol g(30, 30, 10), p(30, 30, 10);
  g.box({5, 5, 2}, {15, 15, 6});
  p.box({20, 20, 2}, {28, 28, 6});
  lb::test::write_mask(tmp / "gt/c.nii.gz", g, {0.0008, 0.0008, 0.003});
  lb::test::write_mask(tmp / "pred/c.nii.gz", p, {0.0008, 0.0008, 0.003});
  const CaseRecord r = score_files("c.nii.gz", tmp / "gt/c.nii.gz", tmp / "pred/c.nii.gz", ScoreSettings{});
  REQUIRE(r.status == CaseStatus::ok);
  CHECK(r.nsd_ungated == 1.0);  // 2 mm covers the whole 24 x 24 x 30 micrometre grid
  bool warned = false;
  for (const auto& w : r.warnings) warned |= w.find("implausible for CT") != std::string::npos;
  CHECK(warned);
  ScoreSettings bad;
  bad.gt_dir = tmp / "gt";
  bad.pred_dir = tmp / "pred";
  bad.case_settings.tolerance_mm = INFINITY;
  CHECK_THROWS_AS(score_folders(bad), UnusableInput);
}

TEST_CASE("item 5: lesion-wise NSD equals the box-of-g-and-P(g) definition at a cost bounded per lesion",
          "[hostile][lesion]") {
  // Many small lesions inside one large predicted blob (an over-segmenting model on a patient with many
  // metastases), a few more partly covered by small components, and false positives.
  std::mt19937_64 rng(99);
  const std::array<int64_t, 3> dims = {96, 90, 40};
  Vol g(dims[0], dims[1], dims[2]), p(dims[0], dims[1], dims[2]);
  p.box({4, 4, 4}, {80, 80, 34});
  for (int n = 0; n < 120; ++n) {
    const int64_t i = 5 + rng() % 70, j = 5 + rng() % 70, k = 5 + rng() % 26;
    g.box({i, j, k}, {i + 1 + static_cast<int64_t>(rng() % 3), j + 2, k + 1 + static_cast<int64_t>(rng() % 2)});
  }
  for (int n = 0; n < 10; ++n) {
    const int64_t i = 84 + rng() % 6, j = 5 + rng() % 70, k = 5 + rng() % 26;
    g.box({i, j, k}, {i + 3, j + 3, k + 3});
    p.box({i + 1, j, k}, {i + 4, j + 2, k + 2});
  }
  for (double tol : {2.0, 5.0, 1e300}) {
    const std::array<double, 3> s = {0.8f, 0.9f, 2.5f};
    LesionSettings st;
    const LesionWise lwise = score_lesions(g.v.data(), p.v.data(), dims, s, tol, st);
    // The definition, computed the long way for every lesion: the box of g ∪ P(g) holding only those.
    const Components gc = label_components(g.v.data(), dims, 26), pc = label_components(p.v.data(), dims, 26);
    std::map<int64_t, double> expected;  // by first voxel index
    std::vector<int32_t> plabel(g.v.size(), -1);
    for (int32_t q = 0; q < pc.count; ++q) {
      std::vector<uint8_t> b(g.v.size(), 0);
      rasterize(pc, q, Box{{0, 0, 0}, dims}, b.data());
      for (size_t x = 0; x < b.size(); ++x)
        if (b[x]) plabel[x] = q;
    }
    for (int32_t c = 0; c < gc.count; ++c) {
      std::set<int32_t> touched;
      std::vector<uint8_t> a(g.v.size(), 0);
      rasterize(gc, c, Box{{0, 0, 0}, dims}, a.data());
      for (size_t x = 0; x < a.size(); ++x)
        if (a[x] && plabel[x] >= 0) touched.insert(plabel[x]);
      const std::vector<int32_t> linked(touched.begin(), touched.end());
      if (linked.empty()) {
        expected[gc.first_index[c]] = 0;
        continue;
      }
      Box box = gc.boxes[c];
      for (int32_t q : linked)
        for (int d = 0; d < 3; ++d) {
          box.lo[d] = std::min(box.lo[d], pc.boxes[q].lo[d]);
          box.hi[d] = std::max(box.hi[d], pc.boxes[q].hi[d]);
        }
      const std::array<int64_t, 3> bd = {box.size(0), box.size(1), box.size(2)};
      std::vector<uint8_t> gb(static_cast<size_t>(box.voxels()), 0), pb(gb.size(), 0);
      rasterize(gc, c, box, gb.data());
      for (int32_t q : linked) rasterize(pc, q, box, pb.data());
      expected[gc.first_index[c]] =
          surface_dice(count_surfels(MaskView::of(gb.data(), bd), MaskView::of(pb.data(), bd), s, tol), s).nsd();
    }
    INFO("tolerance " << tol);
    REQUIRE(lwise.lesions.size() == expected.size());
    for (const Lesion& l : lwise.lesions) {
      INFO("lesion at " << l.first_index);
      CHECK(l.nsd == Approx(expected.at(l.first_index)).epsilon(1e-12).margin(1e-15));
    }
    // The blob's NSD work is done once, not once per lesion inside it.
    const int64_t volume = dims[0] * dims[1] * dims[2];
    if (tol == 2.0) CHECK(lwise.nsd_work_voxels < 2 * volume);
  }
}

TEST_CASE("fuzz regression: an empty .nii is a read error without copying from a null buffer", "[hostile][fuzz]") {
  // fuzz_nifti's first find (fuzz/regressions/nifti/empty.nii): memcpy from the empty file's null data()
  // with a length of 0, undefined behaviour that UBSan reports (scripts/sanitize.sh runs this test under it).
  TempDir tmp("empty");
  put_bytes(tmp / "empty.nii", {});
  const MaskLoad m = load_mask(tmp / "empty.nii");
  CHECK(m.status == MaskStatus::read_error);
  CHECK_THAT(m.message, Catch::Contains("empty or too short"));
}
