#pragma once
// The upload archive of `check --zip`: a plain ZIP (stored entries: .nii.gz files are compressed already),
// files at its root only, each with its CRC-32 (libdeflate). Written through a temporary name and renamed,
// then read back with read_zip to prove that it holds exactly the files given, byte for byte.
// No ZIP64: an entry or archive of 4 GiB or more is refused (predictions are a few MB each).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lb::check {

struct ZipEntry {
  std::string name;               // the name in the archive: a plain file name, no folders, not hidden
  std::filesystem::path source;   // the file to store
};

// Returns an empty string when written, else why not (no archive is left behind then).
std::string write_zip(const std::filesystem::path& archive, const std::vector<ZipEntry>& entries);

struct ZipListing {
  std::string error;               // empty when the archive reads back completely
  std::vector<std::string> names;  // in archive order
  std::vector<uint32_t> crc32;
  std::vector<uint64_t> sizes;
};
// Reads the central directory and every entry, checking local headers, sizes and CRC-32s.
ZipListing read_zip(const std::filesystem::path& archive);

// write_zip, then read_zip and a byte-for-byte comparison with the sources. Empty string when all is well.
std::string write_and_verify_zip(const std::filesystem::path& archive, const std::vector<ZipEntry>& entries);

}  // namespace lb::check
