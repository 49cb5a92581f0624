#pragma once
// Gzip streams held in memory: ISA-L inflate (about 3x zlib) for reading, libdeflate for writing.
// Multi-member streams (pigz, bgzip) are read as one; a short or corrupt stream throws with the reason.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace lb::gz {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool has_gzip_magic(const uint8_t* bytes, size_t n);

// Decompresses a gzip buffer incrementally into caller-owned memory.
class Inflater {
 public:
  Inflater(const uint8_t* compressed, size_t n);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Writes up to `n` bytes into `out`; returns how many were written (fewer only at the end of the stream).
  size_t read(uint8_t* out, size_t n);
  // Reads and discards the rest, verifying every member's CRC; returns the number of bytes discarded.
  uint64_t drain();
  uint64_t total_out() const { return total_out_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  const uint8_t* in_;
  size_t in_n_;
  bool finished_ = false;
  uint64_t total_out_ = 0;
};

// Whole-buffer gzip compression (one member). Level 1 (fast) .. 12 (smallest); 6 is zlib's default.
std::vector<uint8_t> compress(const void* data, size_t n, int level = 6);

}  // namespace lb::gz
