// Our NIfTI reader against ITK's on real files: voxel values, spacing, origin and direction.
// ITK reports LPS world coordinates; NIfTI (and lesionbench) report RAS, so x and y change sign.
#include <itkImage.h>
#include <itkImageFileReader.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "metrics/nifti.h"
#include "tests/support/test_support.h"

using namespace lb;

namespace {
template <class T>
void compare(const std::string& path) {
  using Image = itk::Image<T, 3>;
  auto reader = itk::ImageFileReader<Image>::New();
  reader->SetFileName(path);
  reader->Update();
  const auto* itk_img = reader->GetOutput();
  const auto ours = nifti::read_image(path);
  const auto size = itk_img->GetLargestPossibleRegion().GetSize();
  const auto g = nifti::geometry_of(ours.header);
  INFO(path);
  for (int d = 0; d < 3; ++d) {
    CHECK(static_cast<int64_t>(size[d]) == g.dims[d]);
    CHECK(itk_img->GetSpacing()[d] == Approx(g.spacing_mm[d]).epsilon(1e-6));
  }
  const double flip[3] = {-1, -1, 1};
  for (int r = 0; r < 3; ++r) {
    CHECK(itk_img->GetOrigin()[r] * flip[r] == Approx(g.origin_mm[r]).margin(1e-3));
    for (int c = 0; c < 3; ++c) CHECK(itk_img->GetDirection()[r][c] * flip[r] == Approx(g.direction[r * 3 + c]).margin(1e-5));
  }
  REQUIRE(ours.data.size() == g.dims[0] * g.dims[1] * g.dims[2] * sizeof(T));
  CHECK(std::memcmp(ours.data.data(), itk_img->GetBufferPointer(), ours.data.size()) == 0);
}
}  // namespace

TEST_CASE("reader agrees with ITK on real CT and masks", "[nifti][itk][shared]") {
  const auto sts = lb::test::shared_path("data/sts-ct");
  const auto ts = lb::test::shared_path("data/totalseg-example");
  const auto parity = lb::test::shared_path("data/flare24-parity");
  if (!sts || !ts || !parity) {
    LB_SKIP("../shared/data is absent");
  }
  compare<float>((*sts / "images/STS_001_0000.nii.gz").string());
  compare<uint8_t>((*sts / "labels/STS_001.nii.gz").string());
  compare<int16_t>((*ts / "example_ct_sm.nii.gz").string());
  compare<int32_t>((*ts / "example_ct.nii.gz").string());
  compare<uint8_t>((*ts / "example_seg.nii.gz").string());
  compare<uint8_t>((*parity / "gt/FLARE24Val_0004.nii.gz").string());
}
