// Output usage and sanitized keeping of a contestant's files; see keep_files.h.
#include "runner/keep_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace lb::runner {

namespace {

constexpr int kMaxDepth = 64;

// Names in an open folder (not "." and ".."); the folder's descriptor stays ours.
std::vector<std::string> list_names(int dir_fd) {
  std::vector<std::string> names;
  const int dup_fd = ::dup(dir_fd);
  if (dup_fd < 0) return names;
  DIR* d = ::fdopendir(dup_fd);
  if (!d) {
    ::close(dup_fd);
    return names;
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

void add_usage(int dir_fd, int depth, uint64_t max_bytes, uint64_t max_entries, OutputUsage& u) {
  const int dup_fd = ::dup(dir_fd);
  if (dup_fd < 0) return;
  DIR* d = ::fdopendir(dup_fd);
  if (!d) {
    ::close(dup_fd);
    return;
  }
  // Streamed rather than listed first: a folder of a million names must not cost a million strings.
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
    ++u.entries;
    struct stat st {};
    if (::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      u.bytes += std::max<uint64_t>(static_cast<uint64_t>(st.st_blocks) * 512,
                                    S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0);
      if (S_ISDIR(st.st_mode) && depth < kMaxDepth) {
        const int sub = ::openat(dir_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
          add_usage(sub, depth + 1, max_bytes, max_entries, u);
          ::close(sub);
        }
      }
    }
    if ((max_bytes && u.bytes > max_bytes) || (max_entries && u.entries > max_entries)) {
      u.over = true;
      break;
    }
  }
  ::closedir(d);
}

bool copy_file_capped(int src_fd, int dest_dir_fd, const std::string& name, uint64_t max_bytes, uint64_t* copied,
                      bool* cut) {
  // O_EXCL: the name is new in a folder we just created; 0644 whatever the original's mode was.
  const int out = ::openat(dest_dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0) return false;
  char buf[1 << 16];
  bool ok = true;
  *copied = 0;
  *cut = false;
  for (;;) {
    if (*copied >= max_bytes) {
      char probe;
      *cut = ::read(src_fd, &probe, 1) > 0;
      break;
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof buf, max_bytes - *copied));
    const ssize_t k = ::read(src_fd, buf, want);
    if (k == 0) break;
    if (k < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    size_t done = 0;
    while (done < static_cast<size_t>(k)) {
      const ssize_t w = ::write(out, buf + done, static_cast<size_t>(k) - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        ok = false;
        break;
      }
      done += static_cast<size_t>(w);
    }
    if (!ok) break;
    *copied += static_cast<uint64_t>(k);
  }
  // The umask may have taken bits away; set exactly 0644.
  ::fchmod(out, 0644);
  ::close(out);
  return ok;
}

struct Keeper {
  uint64_t max_bytes, max_files;
  KeepSummary s;
  bool stop = false;

  void keep_dir(int src_fd, int dest_fd, int depth) {
    for (const auto& name : list_names(src_fd)) {
      if (stop) return;
      struct stat st {};
      if (::fstatat(src_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (depth >= kMaxDepth) {
          ++s.dropped;
          continue;
        }
        const int sub = ::openat(src_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) continue;
        if (::mkdirat(dest_fd, name.c_str(), 0755) == 0) {
          const int dsub = ::openat(dest_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (dsub >= 0) {
            ::fchmod(dsub, 0755);
            keep_dir(sub, dsub, depth + 1);
            ::close(dsub);
          }
        }
        ::close(sub);
        continue;
      }
      if (!S_ISREG(st.st_mode)) {
        ++s.skipped_special;  // link, device node, FIFO or socket
        continue;
      }
      if (s.kept_files >= max_files || s.kept_bytes >= max_bytes) {
        ++s.dropped;
        continue;
      }
      // O_NONBLOCK: had it become a FIFO since the stat, opening must not hang.
      const int in = ::openat(src_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (in < 0) continue;
      struct stat fst {};
      if (::fstat(in, &fst) != 0 || !S_ISREG(fst.st_mode)) {
        ::close(in);
        ++s.skipped_special;
        continue;
      }
      uint64_t copied = 0;
      bool cut = false;
      const bool ok = copy_file_capped(in, dest_fd, name, max_bytes - s.kept_bytes, &copied, &cut);
      ::close(in);
      s.kept_bytes += copied;
      ++s.kept_files;
      if (cut) ++s.dropped;
      if (!ok) stop = true;  // most likely a full disk: keep no more
    }
  }
};

std::string bytes_text(uint64_t b) {
  if (b >= (1u << 20)) return std::to_string(b >> 20) + " MiB";
  if (b >= 1024) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " bytes";
}

}  // namespace

OutputUsage output_usage(const std::filesystem::path& dir, uint64_t max_bytes, uint64_t max_entries) {
  OutputUsage u;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return u;
  add_usage(fd, 0, max_bytes, max_entries, u);
  ::close(fd);
  return u;
}

KeepSummary keep_sanitized(const std::filesystem::path& src, const std::filesystem::path& dest, uint64_t max_bytes,
                           uint64_t max_files) {
  Keeper k{max_bytes, max_files, {}, false};
  const int sfd = ::open(src.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sfd < 0) return k.s;
  std::error_code ec;
  std::filesystem::create_directories(dest.parent_path(), ec);
  if (::mkdir(dest.c_str(), 0755) != 0 && errno != EEXIST) {
    ::close(sfd);
    k.s.note = "its files could not be kept: cannot create " + dest.string();
    return k.s;
  }
  const int dfd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd >= 0) {
    ::fchmod(dfd, 0755);
    k.keep_dir(sfd, dfd, 0);
    ::close(dfd);
  }
  ::close(sfd);
  std::vector<std::string> parts;
  if (k.s.skipped_special)
    parts.push_back(std::to_string(k.s.skipped_special) + " link(s), device node(s), FIFO(s) or socket(s) not kept");
  if (k.s.dropped)
    parts.push_back(std::to_string(k.s.dropped) + " file(s) left out or cut: what is kept is capped at " +
                    bytes_text(max_bytes) + " and " + std::to_string(max_files) + " files");
  if (k.stop) parts.push_back("copying stopped on a write error (disk full?)");
  for (size_t i = 0; i < parts.size(); ++i) k.s.note += (i ? "; " : "kept in rejected/ without special bits: ") + parts[i];
  return k.s;
}

}  // namespace lb::runner
