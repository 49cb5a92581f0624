// Slice pictures: orientation from the direction cosines, the chosen slice, the outlines and the file path.
#include <catch2/catch.hpp>

#include "reports/slice_picture.h"
#include "tests/support/test_support.h"

using namespace lb;

namespace {

struct Scene {
  nifti::Geometry g;
  std::vector<float> ct;
  std::vector<uint8_t> gt, pred;
  size_t idx(int64_t i, int64_t j, int64_t k) const { return static_cast<size_t>(i + g.dims[0] * (j + g.dims[1] * k)); }
};

// 40 x 30 x 5 voxels of 1 mm, CT at 40 HU (mid-grey), a bright block at high i (x) and one at high j (y),
// a lesion box on slice 2 (and a smaller one on slice 1).
Scene scene(std::array<double, 9> direction) {
  Scene s;
  s.g = nifti::geometry_of(nifti::make_header({40, 30, 5}, {1, 1, 1}, {0, 0, 0}, direction));
  const size_t n = 40 * 30 * 5;
  s.ct.assign(n, 40.0f);
  s.gt.assign(n, 0);
  s.pred.assign(n, 0);
  for (int64_t k = 0; k < 5; ++k)
    for (int64_t j = 0; j < 30; ++j)
      for (int64_t i = 0; i < 40; ++i) {
        if (i >= 36 && j < 10) s.ct[s.idx(i, j, k)] = 1000;  // high i, low j
        if (j >= 27 && i < 10) s.ct[s.idx(i, j, k)] = -1000; // high j, low i
      }
  for (int64_t j = 12; j < 20; ++j)
    for (int64_t i = 15; i < 25; ++i) s.gt[s.idx(i, j, 2)] = 1;
  for (int64_t j = 14; j < 16; ++j)
    for (int64_t i = 18; i < 20; ++i) s.gt[s.idx(i, j, 1)] = 1;
  return s;
}

int count_colour(const RgbImage& img, const std::array<uint8_t, 3>& c) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += std::equal(c.begin(), c.end(), img.at(x, y));
  return n;
}

double mean_grey(const RgbImage& img, int x0, int x1, int y0, int y1) {
  double s = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) s += img.at(x, y)[0];
  return s / ((x1 - x0) * (y1 - y0));
}

}  // namespace

TEST_CASE("slice picture: radiological orientation for RAS voxel axes") {
  // Identity direction: i grows toward the patient's right, j toward anterior. Radiological view puts the
  // patient's right on the left of the picture and anterior at the top.
  Scene s = scene({1, 0, 0, 0, 1, 0, 0, 0, 1});
  s.pred = s.gt;
  const SliceView v = render_axial_slice(s.ct, s.gt, s.pred, s.g);
  REQUIRE(v.image.width == 320);   // the whole 40 x 30 mm plane (smaller than the 80 mm field), longer side 320
  REQUIRE(v.image.height == 240);
  // The bright block (high i, low j) is at the left (patient's right) and the bottom (posterior).
  CHECK(mean_grey(v.image, 5, 25, 175, 235) > 250);
  CHECK(mean_grey(v.image, 295, 315, 175, 235) < 200);
  // The dark block (low i, high j) is at the right and the top.
  CHECK(mean_grey(v.image, 250, 315, 5, 20) < 5);
  // Soft-tissue window: 40 HU is the middle grey.
  CHECK(mean_grey(v.image, 150, 170, 5, 20) == Approx(128).margin(1));
}

TEST_CASE("slice picture: voxel axes pointing left and posterior are not flipped") {
  Scene s = scene({-1, 0, 0, 0, -1, 0, 0, 0, 1});
  const SliceView v = render_axial_slice(s.ct, s.gt, s.pred, s.g);
  // Now high i is the patient's left (right of the picture) and low j is anterior (top).
  CHECK(mean_grey(v.image, 295, 315, 5, 65) > 250);
  CHECK(mean_grey(v.image, 5, 25, 5, 65) < 200);
}

TEST_CASE("slice picture: the slice with the most ground truth, both outlines, prediction-only cases") {
  Scene s = scene({1, 0, 0, 0, 1, 0, 0, 0, 1});
  s.pred = s.gt;  // a perfect prediction: the two outlines lie side by side, both visible
  SliceView v = render_axial_slice(s.ct, s.gt, s.pred, s.g);
  CHECK(v.slice_axis == 2);
  CHECK(v.slice_index == 2);
  CHECK(v.centred_on == "ground truth");
  CHECK(v.gt_pixels == 80);
  CHECK(v.pred_pixels == 80);
  const int gt_px = count_colour(v.image, kGtColour), pred_px = count_colour(v.image, kPredColour);
  CHECK(gt_px > 100);
  CHECK(pred_px > 100);
  // The GT outline lies inside the lesion box: the box spans i 15..25 -> picture x 120..200 (flipped: 320-200..320-120).
  for (int y = 0; y < v.image.height; ++y)
    for (int x = 0; x < v.image.width; ++x)
      if (std::equal(kGtColour.begin(), kGtColour.end(), v.image.at(x, y))) {
        REQUIRE(x >= 120);
        REQUIRE(x < 200);
      }

  // No prediction: no prediction outline at all.
  std::vector<uint8_t> none(s.gt.size(), 0);
  v = render_axial_slice(s.ct, s.gt, none, s.g);
  CHECK(count_colour(v.image, kPredColour) == 0);
  CHECK(v.pred_pixels == 0);

  // Healthy case with a false positive on slice 4: centred on the prediction.
  std::vector<uint8_t> empty(s.gt.size(), 0), fp(s.gt.size(), 0);
  for (int64_t i = 5; i < 9; ++i) fp[s.idx(i, 5, 4)] = 1;
  v = render_axial_slice(s.ct, empty, fp, s.g);
  CHECK(v.slice_index == 4);
  CHECK(v.centred_on == "prediction");
  CHECK(count_colour(v.image, kGtColour) == 0);
  CHECK(count_colour(v.image, kPredColour) > 0);

  CHECK_THROWS_AS(render_axial_slice(s.ct, s.gt, std::vector<uint8_t>(7), s.g), std::invalid_argument);
}

TEST_CASE("slice picture from files: the same picture, and errors that name the file") {
  lb::test::TempDir dir("slice");
  Scene s = scene({1, 0, 0, 0, 1, 0, 0, 0, 1});
  for (int64_t i = 17; i < 27; ++i)
    for (int64_t j = 12; j < 20; ++j) s.pred[s.idx(i, j, 2)] = 1;
  // CT as int16 with a slope, as scanners write it: stored (HU + 1024) / 2 with scl_slope 2, scl_inter -1024.
  nifti::Header ct = nifti::make_header({40, 30, 5}, {1, 1, 1}, {0, 0, 0}, {1, 0, 0, 0, 1, 0, 0, 0, 1}, nifti::kInt16);
  ct.scl_slope = 2;
  ct.scl_inter = -1024;
  std::vector<int16_t> stored(s.ct.size());
  for (size_t i = 0; i < stored.size(); ++i) stored[i] = static_cast<int16_t>((s.ct[i] + 1024) / 2);
  nifti::write_image(dir / "ct.nii.gz", ct, stored.data());
  const nifti::Header m = nifti::make_header({40, 30, 5}, {1, 1, 1});
  nifti::write_image(dir / "gt.nii.gz", m, s.gt.data());
  nifti::write_image(dir / "pred.nii.gz", m, s.pred.data());

  const CaseVolumes vol = load_case_volumes(dir / "ct.nii.gz", dir / "gt.nii.gz");
  const SliceView from_files = render_case_slice(vol, dir / "pred.nii.gz");
  const SliceView in_memory = render_axial_slice(s.ct, s.gt, s.pred, s.g);
  CHECK(from_files.slice_index == in_memory.slice_index);
  CHECK(from_files.image.rgb == in_memory.image.rgb);
  // No prediction file.
  CHECK(render_case_slice(vol, "").pred_pixels == 0);

  // A prediction on another grid, and a missing CT, name the file.
  const nifti::Header other = nifti::make_header({20, 30, 5}, {1, 1, 1});
  std::vector<uint8_t> small(20 * 30 * 5, 0);
  nifti::write_image(dir / "small.nii.gz", other, small.data());
  try {
    render_case_slice(vol, dir / "small.nii.gz");
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("small.nii.gz") != std::string::npos);
    CHECK(std::string(e.what()).find("not on the grid") != std::string::npos);
  }
  try {
    load_case_volumes(dir / "nope_0000.nii.gz", dir / "gt.nii.gz");
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("nope_0000.nii.gz") != std::string::npos);
  }
}
