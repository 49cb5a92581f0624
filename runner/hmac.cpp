// SHA-256, HMAC-SHA256 and record-line signatures (see hmac.h). Written from FIPS 180-4 §6.2 and RFC 2104;
// checked against the NIST and RFC 4231 vectors in tests/runner/test_hmac.cpp.
#include "runner/hmac.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace lb::runner {

namespace {

constexpr std::array<uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

constexpr const char* kSignaturePrefix = ",\"signature\":\"hmac-sha256:";
constexpr size_t kHexDigits = 64;

}  // namespace

Sha256::Sha256()
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::block(const uint8_t* p) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t)
    w[t] = uint32_t(p[4 * t]) << 24 | uint32_t(p[4 * t + 1]) << 16 | uint32_t(p[4 * t + 2]) << 8 | uint32_t(p[4 * t + 3]);
  for (int t = 16; t < 64; ++t) {
    const uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int t = 0; t < 64; ++t) {
    const uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[t] + w[t];
    const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d, h_[4] += e, h_[5] += f, h_[6] += g, h_[7] += h;
}

void Sha256::update(const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  total_bytes_ += bytes;
  if (buffered_) {
    const size_t take = std::min(bytes, 64 - buffered_);
    std::memcpy(buf_.data() + buffered_, p, take);
    buffered_ += take, p += take, bytes -= take;
    if (buffered_ < 64) return;
    block(buf_.data());
    buffered_ = 0;
  }
  for (; bytes >= 64; p += 64, bytes -= 64) block(p);
  std::memcpy(buf_.data(), p, bytes);
  buffered_ = bytes;
}

Sha256Digest Sha256::digest() {
  // Padding: 0x80, zeros up to 56 mod 64, then the message length in bits, big-endian.
  const uint64_t bits = total_bytes_ * 8;
  const uint8_t one = 0x80, zero = 0;
  update(&one, 1);
  while (buffered_ != 56) update(&zero, 1);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  update(len, 8);
  Sha256Digest out;
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 4; ++k) out[static_cast<size_t>(4 * i + k)] = static_cast<uint8_t>(h_[static_cast<size_t>(i)] >> (24 - 8 * k));
  return out;
}

Sha256Digest sha256(std::string_view data) {
  Sha256 s;
  s.update(data);
  return s.digest();
}

Sha256Digest hmac_sha256(std::string_view key, std::string_view message) {
  // RFC 2104: keys longer than the block are hashed first; then H((K ^ opad) || H((K ^ ipad) || m)).
  std::array<uint8_t, 64> k{};
  if (key.size() > 64) {
    const auto d = sha256(key);
    std::memcpy(k.data(), d.data(), d.size());
  } else {
    std::memcpy(k.data(), key.data(), key.size());
  }
  std::array<uint8_t, 64> pad;
  for (size_t i = 0; i < 64; ++i) pad[i] = k[i] ^ 0x36;
  Sha256 inner;
  inner.update(pad.data(), pad.size());
  inner.update(message);
  const auto inner_digest = inner.digest();
  for (size_t i = 0; i < 64; ++i) pad[i] = k[i] ^ 0x5c;
  Sha256 outer;
  outer.update(pad.data(), pad.size());
  outer.update(inner_digest.data(), inner_digest.size());
  return outer.digest();
}

std::string to_hex(const Sha256Digest& d) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : d) s += digits[b >> 4], s += digits[b & 15];
  return s;
}

std::string read_sign_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the key file " + path);
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read the key file " + path);
  if (key.size() < 16)
    throw std::runtime_error("the key file " + path + " holds " + std::to_string(key.size()) +
                             " bytes; a key needs at least 16 (e.g. head -c 32 /dev/urandom > " + path + ")");
  return key;
}

std::string sign_record_line(const std::string& line, std::string_view key) {
  if (line.size() < 3 || line.front() != '{' || line.back() != '}')
    throw std::invalid_argument("only a JSON object with members can be signed");
  return line.substr(0, line.size() - 1) + kSignaturePrefix + to_hex(hmac_sha256(key, line)) + "\"}";
}

LineSignature check_record_line(std::string_view line, std::string_view key) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  const std::string_view prefix(kSignaturePrefix);
  const size_t tail = prefix.size() + kHexDigits + 2;  // + "}
  const bool has_member = line.find("\"signature\":") != std::string_view::npos;
  if (line.size() <= tail + 1 || line.substr(line.size() - 2) != "\"}" ||
      line.substr(line.size() - tail, prefix.size()) != prefix)
    return has_member ? LineSignature::altered : LineSignature::unsigned_line;
  const std::string_view hex = line.substr(line.size() - kHexDigits - 2, kHexDigits);
  const std::string unsigned_line = std::string(line.substr(0, line.size() - tail)) + "}";
  const std::string expected = to_hex(hmac_sha256(key, unsigned_line));
  // Compared in constant time, so that timing does not tell how much of a forged signature was right.
  unsigned diff = 0;
  for (size_t i = 0; i < kHexDigits; ++i) diff |= static_cast<unsigned>(hex[i] ^ expected[i]);
  return diff == 0 ? LineSignature::valid : LineSignature::altered;
}

const char* signature_word(LineSignature s) {
  switch (s) {
    case LineSignature::valid: return "valid";
    case LineSignature::unsigned_line: return "unsigned";
    case LineSignature::altered: return "altered";
  }
  return "altered";
}

}  // namespace lb::runner
