#pragma once
// Gzip streams held in memory: ISA-L inflate (about 3x zlib) for reading, libdeflate for writing.
// Multi-member streams (pigz, bgzip) are read as one; a short or corrupt stream throws with the reason.
// What follows the last member (zero padding, other bytes) ends the stream and is reported by tail(), not thrown:
// gzip(1) and Python's gzip (so nibabel) accept such files too.
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
  // Reads and discards the rest of the member being read (its CRC and length are then verified), at most
  // max_discard bytes of it; later members are not read. Returns false when the member holds more than that
  // (its CRC is then left unchecked). Bounds the cost of data that follows what the caller needs.
  bool finish_member(uint64_t max_discard);
  uint64_t total_out() const { return total_out_; }

  // What follows the data read so far, once the stream or the member has ended.
  enum class Tail { none, zeros, more_members, garbage };
  Tail tail() const { return tail_; }
  uint64_t tail_bytes() const { return tail_bytes_; }  // compressed bytes after the last member read
  bool finished() const { return finished_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  const uint8_t* in_;
  size_t in_n_;
  bool finished_ = false;
  bool next_member_pending_ = false;  // a member ended and another begins at next_member_
  bool stop_at_member_end_ = false;
  const uint8_t* next_member_ = nullptr;
  uint64_t members_ended_ = 0;
  Tail tail_ = Tail::none;
  uint64_t tail_bytes_ = 0;
  uint64_t total_out_ = 0;
};

// Whole-buffer gzip compression (one member). Level 1 (fast) .. 12 (smallest); 6 is zlib's default.
std::vector<uint8_t> compress(const void* data, size_t n, int level = 6);

}  // namespace lb::gz
