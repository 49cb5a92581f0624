#pragma once
// A small PNG writer for the report's pictures: 8-bit RGB, one IDAT, zlib stream from libdeflate.
// Each row gets the filter (None, Sub, Up, Average or Paeth) with the smallest sum of absolute values,
// the usual heuristic (PNG specification, section 12.8).
#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, 3 bytes per pixel, top row first
  RgbImage() = default;
  RgbImage(int w, int h) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 0) {}
  uint8_t* at(int x, int y) { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
  const uint8_t* at(int x, int y) const { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
};

// Throws std::invalid_argument for an empty image or a buffer of the wrong size.
std::vector<uint8_t> encode_png(const RgbImage& image, int compression_level = 9);

std::string base64_encode(const std::vector<uint8_t>& bytes);

}  // namespace lb
