// PNG writer (see png.h): signature, IHDR, IDAT, IEND; CRC-32 and zlib from libdeflate.
#include "reports/png.h"

#include <libdeflate.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace lb {

namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

// length, type, data, CRC over type and data
void put_chunk(std::vector<uint8_t>& out, const char type[4], const uint8_t* data, size_t n) {
  put_u32(out, static_cast<uint32_t>(n));
  const size_t type_at = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data, data + n);
  put_u32(out, libdeflate_crc32(0, out.data() + type_at, n + 4));
}

uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return static_cast<uint8_t>(a);
  return static_cast<uint8_t>(pb <= pc ? b : c);
}

// Filtered scanlines: one filter byte, then the row filtered with it.
std::vector<uint8_t> filter_rows(const RgbImage& img) {
  const size_t stride = static_cast<size_t>(img.width) * 3;
  std::vector<uint8_t> out;
  out.reserve((stride + 1) * img.height);
  std::vector<uint8_t> zero(stride, 0), trial(stride), best(stride);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* row = img.at(0, y);
    const uint8_t* up = y > 0 ? img.at(0, y - 1) : zero.data();
    long best_cost = -1;
    uint8_t best_type = 0;
    for (uint8_t type = 0; type < 5; ++type) {
      long cost = 0;
      for (size_t i = 0; i < stride; ++i) {
        const int a = i >= 3 ? row[i - 3] : 0, b = up[i], c = i >= 3 ? up[i - 3] : 0;
        uint8_t pred = 0;
        switch (type) {
          case 1: pred = static_cast<uint8_t>(a); break;
          case 2: pred = static_cast<uint8_t>(b); break;
          case 3: pred = static_cast<uint8_t>((a + b) / 2); break;
          case 4: pred = paeth(a, b, c); break;
          default: break;
        }
        trial[i] = static_cast<uint8_t>(row[i] - pred);
        cost += trial[i] < 128 ? trial[i] : 256 - trial[i];  // as signed bytes
      }
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best_type = type;
        best.swap(trial);
      }
    }
    out.push_back(best_type);
    out.insert(out.end(), best.begin(), best.end());
  }
  return out;
}

}  // namespace

std::vector<uint8_t> encode_png(const RgbImage& img, int compression_level) {
  if (img.width <= 0 || img.height <= 0) throw std::invalid_argument("encode_png: empty image");
  if (img.rgb.size() != static_cast<size_t>(img.width) * img.height * 3)
    throw std::invalid_argument("encode_png: buffer size does not match width x height x 3");
  const std::vector<uint8_t> raw = filter_rows(img);
  std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> comp(
      libdeflate_alloc_compressor(compression_level), &libdeflate_free_compressor);
  if (!comp) throw std::runtime_error("encode_png: cannot allocate a compressor");
  std::vector<uint8_t> z(libdeflate_zlib_compress_bound(comp.get(), raw.size()));
  const size_t zn = libdeflate_zlib_compress(comp.get(), raw.data(), raw.size(), z.data(), z.size());
  if (zn == 0) throw std::runtime_error("encode_png: compression failed");

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, static_cast<uint32_t>(img.width));
  put_u32(ihdr, static_cast<uint32_t>(img.height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // bit depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace
  put_chunk(png, "IHDR", ihdr.data(), ihdr.size());
  put_chunk(png, "IDAT", z.data(), zn);
  put_chunk(png, "IEND", nullptr, 0);
  return png;
}

std::string base64_encode(const std::vector<uint8_t>& bytes) {
  static const char* tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += tab[v >> 18];
    out += tab[(v >> 12) & 63];
    out += tab[(v >> 6) & 63];
    out += tab[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = bytes[i] << 16;
    out += tab[v >> 18];
    out += tab[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += tab[v >> 18];
    out += tab[(v >> 12) & 63];
    out += tab[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace lb
