// The PNG writer, decoded by an independent reader (ITK's PNGImageIO, i.e. libpng), pixel for pixel.
#include <catch2/catch.hpp>
#include <fstream>

#include "reports/png.h"
#include "tests/support/test_support.h"

#ifdef LB_HAVE_ITK
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkPNGImageIO.h>
#include <itkRGBPixel.h>
#endif

using namespace lb;

namespace {

// A picture that exercises every filter: gradients, noise, flat areas, sharp edges.
RgbImage test_picture(int w, int h) {
  RgbImage img(w, h);
  uint32_t state = 12345;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.at(x, y);
      state = state * 1664525u + 1013904223u;
      if (y < h / 3) {
        p[0] = static_cast<uint8_t>(x * 255 / std::max(1, w - 1));
        p[1] = static_cast<uint8_t>(y * 7);
        p[2] = 200;
      } else if (y < 2 * h / 3) {
        p[0] = static_cast<uint8_t>(state >> 24);
        p[1] = static_cast<uint8_t>(state >> 16);
        p[2] = static_cast<uint8_t>(state >> 8);
      } else {
        const bool in = (x / 4 + y / 4) % 2 == 0;
        p[0] = p[1] = p[2] = in ? 255 : 0;
      }
    }
  return img;
}

}  // namespace

TEST_CASE("encode_png writes the PNG signature, IHDR with the size and an IEND") {
  const RgbImage img = test_picture(37, 21);
  const auto png = encode_png(img);
  REQUIRE(png.size() > 8 + 25 + 12);
  const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  CHECK(std::equal(sig, sig + 8, png.begin()));
  CHECK(std::string(png.begin() + 12, png.begin() + 16) == "IHDR");
  CHECK(png[16] == 0);
  CHECK(png[19] == 37);  // width, big-endian
  CHECK(png[23] == 21);
  CHECK(png[24] == 8);   // bit depth
  CHECK(png[25] == 2);   // RGB
  CHECK(std::string(png.end() - 8, png.end() - 4) == "IEND");
  CHECK_THROWS_AS(encode_png(RgbImage()), std::invalid_argument);
}

TEST_CASE("base64_encode matches RFC 4648 test vectors") {
  auto b = [](const std::string& s) { return base64_encode(std::vector<uint8_t>(s.begin(), s.end())); };
  CHECK(b("") == "");
  CHECK(b("f") == "Zg==");
  CHECK(b("fo") == "Zm8=");
  CHECK(b("foo") == "Zm9v");
  CHECK(b("foob") == "Zm9vYg==");
  CHECK(b("fooba") == "Zm9vYmE=");
  CHECK(b("foobar") == "Zm9vYmFy");
}

TEST_CASE("encode_png round-trips through libpng pixel for pixel") {
#ifndef LB_HAVE_ITK
  WARN("skipped: built without ITK, no independent PNG reader");
#else
  lb::test::TempDir dir("png");
  for (auto [w, h] : {std::pair{1, 1}, std::pair{37, 21}, std::pair{300, 160}}) {
    const RgbImage img = test_picture(w, h);
    const auto png = encode_png(img);
    const std::string path = dir / ("p" + std::to_string(w) + ".png");
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    using Image = itk::Image<itk::RGBPixel<unsigned char>, 2>;
    auto reader = itk::ImageFileReader<Image>::New();
    reader->SetImageIO(itk::PNGImageIO::New());
    reader->SetFileName(path);
    REQUIRE_NOTHROW(reader->Update());
    const Image* out = reader->GetOutput();
    const auto size = out->GetLargestPossibleRegion().GetSize();
    REQUIRE(size[0] == static_cast<size_t>(w));
    REQUIRE(size[1] == static_cast<size_t>(h));
    int mismatches = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const auto px = out->GetPixel({{x, y}});
        const uint8_t* want = img.at(x, y);
        mismatches += px[0] != want[0] || px[1] != want[1] || px[2] != want[2];
      }
    CHECK(mismatches == 0);
  }
#endif
}
