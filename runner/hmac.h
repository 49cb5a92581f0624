#pragma once
// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), lesionbench's own so that the runner needs no crypto
// library; and the signature of run records: `run --sign-key FILE` signs each records.jsonl line with a key
// the organiser keeps, `report --verify-key FILE` refuses lines that are unsigned or altered.
//
// A signed line is the record's JSON object as written unsigned, with `,"signature":"hmac-sha256:<64 hex>"`
// inserted before its closing brace. The HMAC is over the bytes of the unsigned line (without the newline),
// so checking needs no JSON canonical form: cut the signature member off and recompute.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lb::runner {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental SHA-256: update() any number of times, then digest() once.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t bytes);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Sha256Digest digest();

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

Sha256Digest sha256(std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);
std::string to_hex(const Sha256Digest& d);  // lower case, 64 characters

// The key file of --sign-key / --verify-key: its bytes as they are (e.g. `head -c 32 /dev/urandom > key`).
// Throws std::runtime_error naming the file when it cannot be read or holds fewer than 16 bytes.
std::string read_sign_key(const std::string& path);

// The JSON object `line` (no trailing newline) with its signature member added.
std::string sign_record_line(const std::string& line, std::string_view key);

enum class LineSignature { valid, unsigned_line, altered };
// Whether a records.jsonl line (without its newline) carries a signature that matches `key`.
LineSignature check_record_line(std::string_view line, std::string_view key);
const char* signature_word(LineSignature s);  // "valid", "unsigned", "altered"

}  // namespace lb::runner
