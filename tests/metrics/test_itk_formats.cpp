// .mha/.mhd/.nrrd/.nhdr through mask_io (itk_volume.cpp): the parity set converted by ITK inside the test
// scores exactly as the .nii.gz originals; geometry survives ITK's LPS; a flipped or shifted .mha is a
// geometry mismatch; data-file references and claimed sizes are checked before any voxel is read.
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "metrics/itk_volume.h"
#include "metrics/mask_io.h"
#include "metrics/score_set.h"
#include "tests/support/test_support.h"

using namespace lb;
namespace fs = std::filesystem;

namespace {

using LabelImage = itk::Image<uint8_t, 3>;

// ITK's writer warns about NIfTI fields MetaImage cannot hold; they are noise here.
const bool quiet_itk = [] {
  itk::Object::GlobalWarningDisplayOff();
  return true;
}();

LabelImage::Pointer read_nifti_with_itk(const std::string& path) {
  auto reader = itk::ImageFileReader<LabelImage>::New();
  reader->SetImageIO(itk::NiftiImageIO::New());
  reader->SetFileName(path);
  reader->Update();
  return reader->GetOutput();
}

void write_with_itk(const LabelImage* img, const std::string& path) {
  auto writer = itk::ImageFileWriter<LabelImage>::New();
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".mha" || ext == ".mhd") writer->SetImageIO(itk::MetaImageIO::New());
  else if (ext == ".nrrd" || ext == ".nhdr") writer->SetImageIO(itk::NrrdImageIO::New());
  else writer->SetImageIO(itk::NiftiImageIO::New());
  writer->SetFileName(path);
  writer->SetInput(img);
  writer->UseCompressionOn();
  writer->Update();
}

// Every file of `from` converted by ITK into `to` with extension `ext`.
void convert_folder(const fs::path& from, const fs::path& to, const std::string& ext) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    const std::string name = e.path().filename().string();
    if (!name.ends_with(".nii.gz")) continue;
    write_with_itk(read_nifti_with_itk(e.path().string()), (to / (name.substr(0, name.size() - 7) + ext)).string());
  }
}

ScoreSet score(const fs::path& gt, const fs::path& pred) {
  ScoreSettings s;
  s.gt_dir = gt.string();
  s.pred_dir = pred.string();
  s.geometry = GeometryMode::strict;
  return score_folders(s);
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

// A hand-written MetaImage header (uint8, 4x3x2) naming `data_file`.
std::string mhd_header(const std::string& data_file, const std::string& dims = "4 3 2") {
  return "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
         "TransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = 0 0 0\nElementSpacing = 1 1 1\nDimSize = " +
         dims + "\nElementType = MET_UCHAR\nElementDataFile = " + data_file + "\n";
}

}  // namespace

TEST_CASE("itk formats: the parity set as .mha, .nrrd and .nii scores exactly as the .nii.gz originals",
          "[itk][shared]") {
  const auto parity = lb::test::shared_path("data/flare24-parity");
  if (!parity) {
    LB_SKIP("../shared/data/flare24-parity is absent");
  }
  lb::test::TempDir tmp("itk-formats");
  const ScoreSet reference = score(*parity / "gt", *parity / "pred");
  REQUIRE(reference.cases.size() == 16);
  for (const std::string ext : {".mha", ".nrrd", ".nii"}) {
    INFO("format " << ext);
    const fs::path pred = tmp.path() / ("pred" + ext), gt = tmp.path() / ("gt" + ext);
    convert_folder(*parity / "pred", pred, ext);
    convert_folder(*parity / "gt", gt, ext);
    // Predictions in the new format against the original ground truth, and the ground truth in it too.
    for (const auto& set : {score(*parity / "gt", pred), score(gt, pred), score(gt, *parity / "pred")}) {
      REQUIRE(set.cases.size() == reference.cases.size());
      for (size_t i = 0; i < set.cases.size(); ++i) {
        const auto& a = reference.cases[i];
        const auto& b = set.cases[i];
        INFO(b.name << ": " << b.message);
        CHECK(b.name == a.name);  // <Case>.nii.gz whatever the format: the official CSV's Name
        CHECK(b.status == a.status);
        CHECK(b.dsc == a.dsc);    // exactly: same voxels, same float32 spacing
        CHECK(b.nsd == a.nsd);
        CHECK(b.warnings.size() == a.warnings.size());  // no geometry warning appeared
      }
    }
    // End to end through the CLI: the official CSV, byte for byte (Name stays <Case>.nii.gz).
    const std::string csv = (tmp.path() / ("ours" + ext + ".csv")).string();
    const auto cli = lb::test::run_cli("score --gt " + lb::test::shell_quote(gt.string()) + " --pred " +
                                       lb::test::shell_quote(pred.string()) + " --csv " + lb::test::shell_quote(csv));
    INFO(cli.err);
    REQUIRE(cli.exit_code == 0);
    CHECK(lb::test::read_text(csv) == lb::test::read_text((*parity / "official.csv").string()));
    // The geometry itself, not only the scores.
    const auto orig = load_mask((*parity / "pred" / "FLARE24Val_0006.nii.gz").string());
    const auto conv = load_mask((pred / ("FLARE24Val_0006" + ext)).string());
    REQUIRE(conv.status == MaskStatus::ok);
    CHECK(conv.mask.dims == orig.mask.dims);
    CHECK(conv.mask.voxels == orig.mask.voxels);
    CHECK(geometry_difference(orig.mask.geometry, conv.mask.geometry, GeometryTolerance{}).empty());
    for (int d = 0; d < 3; ++d) CHECK(conv.mask.spacing_mm[d] == orig.mask.spacing_mm[d]);
  }
}

TEST_CASE("itk formats: a non-trivial orientation survives ITK's LPS and back", "[itk]") {
  lb::test::TempDir tmp("itk-orient");
  lb::test::Vol v(12, 10, 6);
  v.box({2, 3, 1}, {7, 8, 4});
  // Rotated 90 degrees about z with a flipped k axis, an origin away from zero.
  const auto h = nifti::make_header(v.dims, {0.7, 0.9, 2.5}, {-31.5, 12.25, 88}, {0, -1, 0, 1, 0, 0, 0, 0, -1});
  nifti::write_image(tmp / "m.nii.gz", h, v.v.data());
  write_with_itk(read_nifti_with_itk(tmp / "m.nii.gz"), tmp / "m.mha");
  const auto a = load_mask(tmp / "m.nii.gz");
  const auto b = load_mask(tmp / "m.mha");
  REQUIRE(b.status == MaskStatus::ok);
  for (int i = 0; i < 3; ++i) CHECK(b.mask.geometry.origin_mm[i] == Approx(a.mask.geometry.origin_mm[i]).margin(1e-4));
  for (int i = 0; i < 9; ++i) CHECK(b.mask.geometry.direction[i] == Approx(a.mask.geometry.direction[i]).margin(1e-6));
  CHECK(b.mask.voxels == a.mask.voxels);
}

TEST_CASE("itk formats: a flipped or shifted .mha is a geometry mismatch", "[itk]") {
  lb::test::TempDir tmp("itk-flip");
  fs::create_directories(tmp.path() / "gt");
  fs::create_directories(tmp.path() / "pred");
  lb::test::Vol v(16, 14, 8);
  v.box({3, 3, 2}, {9, 10, 6});
  lb::test::write_mask(tmp / "gt/A.nii.gz", v, {0.8, 0.8, 3}, {10, -20, 5});
  lb::test::write_mask(tmp / "gt/B.nii.gz", v, {0.8, 0.8, 3}, {10, -20, 5});
  lb::test::write_mask(tmp / "gt/C.nii.gz", v, {0.8, 0.8, 3}, {10, -20, 5});
  auto img = read_nifti_with_itk(tmp / "gt/A.nii.gz");
  write_with_itk(img, tmp / "pred/C.mha");  // unchanged: must pass
  // Flipped: the first axis reversed in physical space, as a reorientation bug would leave it.
  auto flipped = read_nifti_with_itk(tmp / "gt/A.nii.gz");
  auto dir = flipped->GetDirection();
  dir[0][0] = -dir[0][0];
  flipped->SetDirection(dir);
  write_with_itk(flipped, tmp / "pred/A.mha");
  // Shifted by 4 mm along z.
  auto shifted = read_nifti_with_itk(tmp / "gt/A.nii.gz");
  auto origin = shifted->GetOrigin();
  origin[2] += 4.0;
  shifted->SetOrigin(origin);
  write_with_itk(shifted, tmp / "pred/B.mha");
  const ScoreSet set = score(tmp.path() / "gt", tmp.path() / "pred");
  REQUIRE(set.cases.size() == 3);
  CHECK(set.cases[0].status == CaseStatus::geometry_mismatch);
  CHECK_THAT(set.cases[0].message, Catch::Contains("direction"));
  CHECK(set.cases[1].status == CaseStatus::geometry_mismatch);
  CHECK_THAT(set.cases[1].message, Catch::Contains("origin"));
  CHECK(set.cases[2].status == CaseStatus::ok);
  CHECK(set.cases[2].dsc == 1.0);
}

TEST_CASE("itk formats: two predictions for one case are an error naming both", "[itk]") {
  lb::test::TempDir tmp("itk-two");
  fs::create_directories(tmp.path() / "gt");
  fs::create_directories(tmp.path() / "pred");
  lb::test::Vol v(8, 8, 4);
  v.box({2, 2, 1}, {5, 5, 3});
  lb::test::write_mask(tmp / "gt/X.nii.gz", v);
  lb::test::write_mask(tmp / "pred/X.nii.gz", v);
  write_with_itk(read_nifti_with_itk(tmp / "pred/X.nii.gz"), tmp / "pred/X.mha");
  const ScoreSet set = score(tmp.path() / "gt", tmp.path() / "pred");
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].status == CaseStatus::read_error);
  CHECK_THAT(set.cases[0].message, Catch::Contains("X.mha") && Catch::Contains("X.nii.gz"));
  CHECK(set.cases[0].dsc == 0.0);
}

TEST_CASE("itk formats: a data file outside the header's folder, a link or a short file is refused", "[itk]") {
  lb::test::TempDir tmp("itk-datafile");
  const fs::path d = tmp.path() / "pred";
  fs::create_directories(d);
  fs::create_directories(tmp.path() / "gt");
  write_text(tmp.path() / "gt" / "secret.raw", std::string(24, '\1'));
  write_text(d / "ok.raw", std::string(24, '\1'));
  write_text(d / "ok.mhd", mhd_header("ok.raw"));
  const auto good = load_mask((d / "ok.mhd").string());
  INFO(good.message);
  REQUIRE(good.status == MaskStatus::ok);
  CHECK(good.mask.dims == std::array<int64_t, 3>{4, 3, 2});

  struct Bad {
    std::string name, header, expect;
  };
  fs::create_symlink(tmp.path() / "gt" / "secret.raw", d / "link.raw");
  write_text(d / "short.raw", std::string(10, '\1'));
  const std::vector<Bad> bad = {
      {"up.mhd", mhd_header("../gt/secret.raw"), "plain file name"},
      {"abs.mhd", mhd_header("/dev/zero"), "plain file name"},
      {"list.mhd", mhd_header("LIST"), "plain file name"},
      {"pattern.mhd", mhd_header("slice%03d.raw 1 2 1"), "plain file name"},
      {"link.mhd", mhd_header("link.raw"), "not a regular file"},
      {"short.mhd", mhd_header("short.raw"), "holds only 10"},
      {"huge.mhd", mhd_header("ok.raw", "4096 4096 4096"), "more than lesionbench accepts"},
      {"lowercase.mhd", "ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nElementType = MET_UCHAR\nelementdatafile = /dev/zero\n",
       "plain file name"},
      {"up.nhdr", "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 3 2\nencoding: raw\ndata file: ../gt/secret.raw\n",
       "plain file name"},
      {"zero.nhdr", "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 3 2\nencoding: raw\ndata file: /dev/zero\n",
       "plain file name"},
  };
  for (const auto& b : bad) {
    write_text(d / b.name, b.header);
    const auto r = load_mask((d / b.name).string());
    INFO(b.name << ": " << r.message);
    CHECK(r.status == MaskStatus::read_error);
    CHECK_THAT(r.message, Catch::Contains(b.expect));
  }
  // A compressed .mha claiming far more voxels than its bytes can inflate to: refused before reading.
  write_text(d / "bomb.mha", "ObjectType = Image\nNDims = 3\nBinaryData = True\nCompressedData = True\n"
                             "DimSize = 1000 1000 1000\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n" +
                                 std::string(100, 'x'));
  const auto bomb = load_mask((d / "bomb.mha").string());
  CHECK(bomb.status == MaskStatus::read_error);
  CHECK_THAT(bomb.message, Catch::Contains("compressed bytes can hold"));
}

TEST_CASE("itk formats: labels other than 0/1 in a .nrrd are invalid_labels, as in NIfTI", "[itk]") {
  lb::test::TempDir tmp("itk-labels");
  lb::test::Vol v(6, 6, 3);
  v.box({1, 1, 1}, {4, 4, 2}, 2);
  lb::test::write_mask(tmp / "m.nii.gz", v);
  write_with_itk(read_nifti_with_itk(tmp / "m.nii.gz"), tmp / "m.nrrd");
  const auto r = load_mask(tmp / "m.nrrd");
  CHECK(r.status == MaskStatus::invalid_labels);
  CHECK_THAT(r.message, Catch::Contains("2 (9)"));
}
