#pragma once
// What a contestant leaves behind, handled without trusting it: how much it wrote (for the output caps,
// polled while it runs), and keeping a failed case's files for a look (rejected/<case>/) in a form that
// cannot hurt the host. A container's root can create setuid binaries, device nodes, FIFOs and links in
// its outputs folder; kept as they were, any local user could run a root-owned setuid binary. So a kept
// file is a fresh copy owned by lesionbench's user (mode 0644, no setuid/setgid/sticky bit, no second
// link to anything), folders are 0755, and devices, FIFOs, sockets and links are listed, not kept. What
// is kept is capped in bytes and files.
#include <cstdint>
#include <filesystem>
#include <string>

namespace lb::runner {

struct OutputUsage {
  uint64_t bytes = 0;    // allocated on disk (st_blocks × 512), the larger of that and the apparent size
  uint64_t entries = 0;  // files, folders, links and everything else, the top folder not counted
  bool over = false;     // the walk stopped early because a cap was passed
};

// Sums what is under `dir` (never following links; at most 64 folders deep). Stops early once `max_bytes`
// or `max_entries` (0: no cap) is passed. A folder that vanishes or cannot be read counts as empty.
OutputUsage output_usage(const std::filesystem::path& dir, uint64_t max_bytes = 0, uint64_t max_entries = 0);

struct KeepSummary {
  uint64_t kept_files = 0, kept_bytes = 0;
  uint64_t skipped_special = 0;  // links, devices, FIFOs, sockets: never kept
  uint64_t dropped = 0;          // regular files (or parts) left out by the caps
  std::string note;              // for the record, empty when everything was kept as is
};

// Copies the regular files and folders under `src` into `dest` (created, mode 0755) as described above,
// at most `max_bytes` (a file that does not fit is cut) and `max_files`. `src` is left as it was (the
// caller removes it). Errors (a full disk) end the copy; what was copied stays.
KeepSummary keep_sanitized(const std::filesystem::path& src, const std::filesystem::path& dest, uint64_t max_bytes,
                           uint64_t max_files);

}  // namespace lb::runner
