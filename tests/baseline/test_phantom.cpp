// The phantom generator: deterministic for a seed, anatomy at plausible HU, lesions where the label says,
// healthy cases empty, anisotropic grids; and the synth command's files.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "phantom/phantom.h"
#include "tests/support/test_support.h"

using namespace lb::phantom;
namespace fs = std::filesystem;

namespace {

PhantomOptions small() {
  PhantomOptions o;
  o.matrix = 96;
  return o;
}

double fraction_in(const Phantom& p, double lo, double hi) {
  int64_t n = 0;
  for (int16_t v : p.ct) n += v >= lo && v <= hi;
  return double(n) / p.ct.size();
}

}  // namespace

TEST_CASE("phantoms are identical for the same seed and differ for another") {
  const Phantom a = make_phantom(3, 1, small()), b = make_phantom(3, 1, small()), c = make_phantom(4, 1, small());
  CHECK(a.ct == b.ct);
  CHECK(a.label == b.label);
  CHECK(a.ct != c.ct);
}

TEST_CASE("phantoms hold air, fat, soft tissue, lung and bone at CT values on an anisotropic grid") {
  int anisotropic = 0;
  for (int i = 1; i <= 6; ++i) {
    const Phantom p = make_phantom(21, i, small());
    REQUIRE(p.header.datatype == lb::nifti::kInt16);
    CHECK(fraction_in(p, -1024, -990) > 0.05);   // air around the body
    CHECK(fraction_in(p, -140, -60) > 0.05);     // fat
    CHECK(fraction_in(p, 20, 140) > 0.05);       // muscle and organs
    CHECK(fraction_in(p, -950, -750) > 0.005);   // lung
    CHECK(fraction_in(p, 300, 3071) > 0.001);    // bone
    anisotropic += std::fabs(p.header.pixdim[3] - p.header.pixdim[1]) > 0.2;
  }
  CHECK(anisotropic >= 4);
}

TEST_CASE("every 4th phantom is healthy, the others carry lesions that the label marks") {
  for (int i = 1; i <= 8; ++i) {
    const Phantom p = make_phantom(5, i, small());
    int64_t voxels = 0;
    for (uint8_t v : p.label) {
      REQUIRE(v <= 1);
      voxels += v;
    }
    if (i % 4 == 0) {
      CHECK(voxels == 0);
      CHECK(p.lesions.empty());
      continue;
    }
    REQUIRE(!p.lesions.empty());
    const double voxel_ml = p.header.pixdim[1] * p.header.pixdim[2] * p.header.pixdim[3] / 1000;
    double listed = 0;
    for (const auto& l : p.lesions) listed += l.volume_ml;
    CHECK(voxels * voxel_ml == Approx(listed).epsilon(1e-6));
    // Lesion HU (before noise) differs from its organ's: the mean inside the label is the lesions' mean.
    double in = 0;
    for (size_t t = 0; t < p.ct.size(); ++t) in += p.label[t] ? p.ct[t] : 0;
    in /= double(voxels);
    CHECK(in > -200);  // soft-tissue lesions, never air
    CHECK(in < 200);
  }
}

TEST_CASE("lesion sizes span a few mm to several cm over a set") {
  double smallest = 1e9, largest = 0;
  for (int i = 1; i <= 24; ++i)
    for (const auto& l : make_phantom(8, i, small()).lesions) smallest = std::min(smallest, l.radius_mm), largest = std::max(largest, l.radius_mm);
  CHECK(smallest < 6);
  CHECK(largest > 20);
}

TEST_CASE("synth writes FLARE-named images and masks on the same grid, byte-identical for a seed") {
  lb::test::TempDir a("synth-a"), b("synth-b");
  for (const auto* dir : {&a, &b}) {
    const auto r = lb::test::run_cli("synth --out " + lb::test::shell_quote(dir->path().string()) + " --cases 2 --seed 4 --matrix 64");
    REQUIRE(r.exit_code == 0);
  }
  for (const char* name : {"imagesTs/Phantom_001_0000.nii.gz", "imagesTs/Phantom_002_0000.nii.gz", "labelsTs/Phantom_001.nii.gz",
                           "labelsTs/Phantom_002.nii.gz", "phantoms.json"}) {
    REQUIRE(fs::exists(a / name));
    CHECK(lb::test::read_text(a / name) == lb::test::read_text(b / name));
  }
  const auto img = lb::nifti::read_header(a / "imagesTs/Phantom_001_0000.nii.gz");
  const auto lab = lb::nifti::read_header(a / "labelsTs/Phantom_001.nii.gz");
  CHECK(lb::nifti::geometry_of(img).describe() == lb::nifti::geometry_of(lab).describe());
  CHECK(img.datatype == lb::nifti::kInt16);
  CHECK(lab.datatype == lb::nifti::kUInt8);
  const auto doc = nlohmann::json::parse(lb::test::read_text(a / "phantoms.json"));
  CHECK(doc.at("cases").size() == 2);

  const auto bad = lb::test::run_cli("synth --out " + lb::test::shell_quote(a / "x") + " --cases 0");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--cases") != std::string::npos);
}
