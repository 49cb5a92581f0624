#include "metrics/gzip.h"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

#include <algorithm>
#include <string>

namespace lb::gz {

bool has_gzip_magic(const uint8_t* bytes, size_t n) { return n >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

struct Inflater::State {
  inflate_state s;
};

Inflater::Inflater(const uint8_t* compressed, size_t n) : state_(std::make_unique<State>()), in_(compressed), in_n_(n) {
  isal_inflate_init(&state_->s);
  state_->s.crc_flag = ISAL_GZIP;  // parse the gzip header, verify CRC32 and length in the trailer
  state_->s.next_in = const_cast<uint8_t*>(in_);
  state_->s.avail_in = static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX));
  if (!has_gzip_magic(compressed, n)) throw Error("not a gzip stream (bad magic bytes)");
}

Inflater::~Inflater() = default;

namespace {
const char* isal_error_text(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported gzip compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC mismatch (corrupt data)";
    default: return "inflate error";
  }
}
}  // namespace

size_t Inflater::read(uint8_t* out, size_t n) {
  inflate_state& s = state_->s;
  size_t written = 0;
  while (written < n && !finished_) {
    if (next_member_pending_) {
      if (stop_at_member_end_) break;
      // Start the next member only when more output is wanted, so finish_member() can stop at a boundary.
      next_member_pending_ = false;
      const size_t left = in_n_ - static_cast<size_t>(next_member_ - in_);
      isal_inflate_reset(&s);
      s.crc_flag = ISAL_GZIP;
      s.next_in = const_cast<uint8_t*>(next_member_);
      s.avail_in = static_cast<uint32_t>(std::min<size_t>(left, UINT32_MAX));
    }
    // Feed input beyond 4 GiB in slices: avail_in is 32-bit.
    if (s.avail_in == 0) {
      const size_t consumed = static_cast<size_t>(s.next_in - in_);
      if (consumed < in_n_) s.avail_in = static_cast<uint32_t>(std::min<size_t>(in_n_ - consumed, UINT32_MAX));
    }
    const size_t chunk = std::min<size_t>(n - written, UINT32_MAX);
    s.next_out = out + written;
    s.avail_out = static_cast<uint32_t>(chunk);
    const int rc = isal_inflate(&s);
    const size_t produced = chunk - s.avail_out;
    written += produced;
    total_out_ += produced;
    if (rc < 0) throw Error(std::string("gzip stream is corrupt: ") + isal_error_text(rc));
    if (s.block_state == ISAL_BLOCK_FINISH) {
      // End of one member (its CRC and length checked): another may follow (pigz -i, bgzip). Zero padding
      // or other bytes end the stream, as gzip(1) and Python's gzip module treat them.
      ++members_ended_;
      const size_t consumed = static_cast<size_t>(s.next_in - in_);
      const size_t left = in_n_ - consumed;
      const uint8_t* rest = in_ + consumed;
      tail_bytes_ = left;
      if (left == 0) {
        tail_ = Tail::none;
        finished_ = true;
      } else if (std::all_of(rest, rest + left, [](uint8_t b) { return b == 0; })) {
        tail_ = Tail::zeros;
        finished_ = true;
      } else if (!has_gzip_magic(rest, left)) {
        tail_ = Tail::garbage;
        finished_ = true;
      } else {
        tail_ = Tail::more_members;
        next_member_pending_ = true;
        next_member_ = rest;
      }
      continue;
    }
    const size_t consumed = static_cast<size_t>(s.next_in - in_);
    if (produced == 0 && s.avail_in == 0 && consumed >= in_n_)
      throw Error("gzip stream is truncated (ends after " + std::to_string(in_n_) + " compressed bytes, " +
                  std::to_string(total_out_) + " bytes decompressed)");
  }
  return written;
}

uint64_t Inflater::drain() {
  std::vector<uint8_t> scratch(1 << 16);
  uint64_t discarded = 0;
  while (!finished_) discarded += read(scratch.data(), scratch.size());
  return discarded;
}

bool Inflater::finish_member(uint64_t max_discard) {
  if (finished_ || next_member_pending_) return true;
  std::vector<uint8_t> scratch(1 << 16);
  const uint64_t ended = members_ended_;
  uint64_t discarded = 0;
  stop_at_member_end_ = true;
  while (!finished_ && members_ended_ == ended) {
    if (discarded > max_discard) {
      stop_at_member_end_ = false;
      return false;
    }
    discarded += read(scratch.data(), scratch.size());
  }
  stop_at_member_end_ = false;
  return true;
}

std::vector<uint8_t> compress(const void* data, size_t n, int level) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(std::clamp(level, 1, 12));
  if (!c) throw Error("cannot allocate a gzip compressor");
  std::vector<uint8_t> out(libdeflate_gzip_compress_bound(c, n));
  const size_t size = libdeflate_gzip_compress(c, data, n, out.data(), out.size());
  libdeflate_free_compressor(c);
  if (size == 0) throw Error("gzip compression failed");
  out.resize(size);
  return out;
}

}  // namespace lb::gz
