// ZIP writing and reading for the upload archive; see zip_archive.h. Format: PKWARE APPNOTE 6.3, the
// subset every unzip reads: local file header + data per entry, central directory, end record.
#include "check/zip_archive.h"

#include <libdeflate.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <set>

namespace fs = std::filesystem;

namespace lb::check {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint64_t kZip32Limit = 0xFFFFFFFFull;

void put16(std::string& b, uint16_t v) {
  b += static_cast<char>(v & 0xFF);
  b += static_cast<char>(v >> 8);
}
void put32(std::string& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v & 0xFFFF));
  put16(b, static_cast<uint16_t>(v >> 16));
}
uint16_t get16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | (static_cast<uint8_t>(b[at + 1]) << 8));
}
uint32_t get32(const std::string& b, size_t at) { return get16(b, at) | (static_cast<uint32_t>(get16(b, at + 2)) << 16); }

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

uint32_t crc_of(const std::string& data) {
  return libdeflate_crc32(0, data.data(), data.size());
}

// MS-DOS date and time of now (local time, as zip tools show it).
void dos_time(uint16_t& time, uint16_t& date) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  time = static_cast<uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  date = static_cast<uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

bool plain_name(const std::string& n) {
  return !n.empty() && n[0] != '.' && n.find('/') == std::string::npos && n.find('\\') == std::string::npos &&
         n.size() < 0xFFFF;
}

}  // namespace

std::string write_zip(const fs::path& archive, const std::vector<ZipEntry>& entries) {
  if (entries.empty()) return "no file to archive";
  std::set<std::string> seen;
  for (const auto& e : entries) {
    if (!plain_name(e.name)) return "'" + e.name + "' is not a plain file name for the archive's root";
    if (!seen.insert(e.name).second) return e.name + " is given twice";
  }
  const fs::path tmp = archive.string() + ".part";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return "cannot create " + tmp.string();
  uint16_t time = 0, date = 0;
  dos_time(time, date);
  std::string central;
  uint64_t offset = 0;
  auto fail = [&](const std::string& why) {
    out.close();
    std::error_code ec;
    fs::remove(tmp, ec);
    return why;
  };
  for (const auto& e : entries) {
    std::string data;
    if (!read_file(e.source, data)) return fail("cannot read " + e.source.string());
    if (data.size() >= kZip32Limit || offset >= kZip32Limit) return fail(e.name + ": the archive would need ZIP64 (4 GiB or more)");
    const uint32_t crc = crc_of(data);
    const auto size = static_cast<uint32_t>(data.size());
    std::string local;
    put32(local, kLocalSig);
    put16(local, 20);  // version needed: 2.0
    put16(local, 0);   // flags
    put16(local, 0);   // method: stored
    put16(local, time);
    put16(local, date);
    put32(local, crc);
    put32(local, size);  // compressed size
    put32(local, size);  // uncompressed size
    put16(local, static_cast<uint16_t>(e.name.size()));
    put16(local, 0);  // extra field length
    local += e.name;
    out.write(local.data(), static_cast<std::streamsize>(local.size()));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    put32(central, kCentralSig);
    put16(central, (3 << 8) | 20);  // made by: Unix, 2.0
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, time);
    put16(central, date);
    put32(central, crc);
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<uint16_t>(e.name.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, static_cast<uint32_t>(0100644) << 16);  // external: a regular file, rw-r--r--
    put32(central, static_cast<uint32_t>(offset));
    central += e.name;
    offset += local.size() + data.size();
  }
  if (offset + central.size() >= kZip32Limit || entries.size() >= 0xFFFF) return fail("the archive would need ZIP64");
  std::string end;
  put32(end, kEndSig);
  put16(end, 0);
  put16(end, 0);
  put16(end, static_cast<uint16_t>(entries.size()));
  put16(end, static_cast<uint16_t>(entries.size()));
  put32(end, static_cast<uint32_t>(central.size()));
  put32(end, static_cast<uint32_t>(offset));
  put16(end, 0);
  out.write(central.data(), static_cast<std::streamsize>(central.size()));
  out.write(end.data(), static_cast<std::streamsize>(end.size()));
  out.flush();
  if (!out) return fail("cannot write " + tmp.string() + " (disk full?)");
  out.close();
  std::error_code ec;
  fs::rename(tmp, archive, ec);
  if (ec) return fail("cannot rename " + tmp.string() + " to " + archive.string() + ": " + ec.message());
  return {};
}

ZipListing read_zip(const fs::path& archive) {
  ZipListing z;
  std::string b;
  if (!read_file(archive, b)) {
    z.error = "cannot read " + archive.string();
    return z;
  }
  // The end record: 22 bytes, at the end when there is no comment (ours has none; search a little anyway).
  size_t end = std::string::npos;
  for (size_t back = 22; back <= b.size() && back <= 22 + 0xFFFF; ++back)
    if (get32(b, b.size() - back) == kEndSig) {
      end = b.size() - back;
      break;
    }
  if (end == std::string::npos) {
    z.error = "no end-of-central-directory record";
    return z;
  }
  const uint16_t count = get16(b, end + 10);
  const uint32_t cd_size = get32(b, end + 12), cd_offset = get32(b, end + 16);
  if (static_cast<uint64_t>(cd_offset) + cd_size > end) {
    z.error = "central directory outside the file";
    return z;
  }
  size_t at = cd_offset;
  for (uint16_t i = 0; i < count; ++i) {
    if (at + 46 > end || get32(b, at) != kCentralSig) {
      z.error = "central directory entry " + std::to_string(i) + " is damaged";
      return z;
    }
    const uint16_t method = get16(b, at + 10);
    const uint32_t crc = get32(b, at + 16), csize = get32(b, at + 20), usize = get32(b, at + 24);
    const uint16_t nlen = get16(b, at + 28), xlen = get16(b, at + 30), clen = get16(b, at + 32);
    const uint32_t local = get32(b, at + 42);
    if (at + 46 + nlen > end) {
      z.error = "central directory entry " + std::to_string(i) + " is truncated";
      return z;
    }
    const std::string name = b.substr(at + 46, nlen);
    at += 46 + nlen + xlen + clen;
    if (method != 0 || csize != usize) {
      z.error = name + ": not a stored entry";
      return z;
    }
    if (static_cast<uint64_t>(local) + 30 > b.size() || get32(b, local) != kLocalSig) {
      z.error = name + ": local header missing";
      return z;
    }
    const uint16_t lnlen = get16(b, local + 26), lxlen = get16(b, local + 28);
    const uint64_t data_at = static_cast<uint64_t>(local) + 30 + lnlen + lxlen;
    if (b.compare(local + 30, lnlen, name) != 0 || data_at + csize > b.size()) {
      z.error = name + ": local header does not match the central directory";
      return z;
    }
    if (libdeflate_crc32(0, b.data() + data_at, csize) != crc) {
      z.error = name + ": CRC-32 mismatch";
      return z;
    }
    z.names.push_back(name);
    z.crc32.push_back(crc);
    z.sizes.push_back(usize);
  }
  return z;
}

std::string write_and_verify_zip(const fs::path& archive, const std::vector<ZipEntry>& entries) {
  if (std::string err = write_zip(archive, entries); !err.empty()) return err;
  const ZipListing z = read_zip(archive);
  std::string why = z.error;
  if (why.empty() && z.names.size() != entries.size()) why = "it holds " + std::to_string(z.names.size()) + " entries, not " + std::to_string(entries.size());
  for (size_t i = 0; why.empty() && i < entries.size(); ++i) {
    std::string data;
    if (z.names[i] != entries[i].name) why = "entry " + std::to_string(i) + " is " + z.names[i] + ", not " + entries[i].name;
    else if (!read_file(entries[i].source, data) || data.size() != z.sizes[i] || crc_of(data) != z.crc32[i])
      why = entries[i].name + " in the archive differs from " + entries[i].source.string();
  }
  if (!why.empty()) {
    std::error_code ec;
    fs::remove(archive, ec);
    return "the archive " + archive.string() + " did not read back (" + why + "); removed";
  }
  return {};
}

}  // namespace lb::check
