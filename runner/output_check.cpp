// Output checks; see output_check.h.
#include "runner/output_check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include "runner/util.h"

namespace lb::runner {

std::string grid_difference(const nifti::Geometry& a, const nifti::Geometry& b, const GridTolerance& tol) {
  if (a.dims != b.dims)
    return "shape " + std::to_string(b.dims[0]) + "x" + std::to_string(b.dims[1]) + "x" + std::to_string(b.dims[2]) +
           " differs from its input image's " + std::to_string(a.dims[0]) + "x" + std::to_string(a.dims[1]) + "x" +
           std::to_string(a.dims[2]);
  const std::vector<std::string> what = nifti::grid_differences(a, b, tol);
  if (what.empty()) return {};
  std::string s = "grid differs from its input image (";
  for (size_t i = 0; i < what.size(); ++i) s += (i ? ", " : "") + what[i];
  return s + "): input " + a.describe() + "; output " + b.describe();
}

OutputsFolder::OutputsFolder(const std::filesystem::path& dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd_ < 0) {
    error_ = "the outputs folder " + dir.string() + " cannot be opened (" + std::strerror(errno) +
             "); was it removed or replaced by a link?";
    return;
  }
  const int dup_fd = ::dup(fd_);
  DIR* d = dup_fd >= 0 ? ::fdopendir(dup_fd) : nullptr;
  if (!d) {
    if (dup_fd >= 0) ::close(dup_fd);
    return;
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") entries_.push_back(name);
  }
  ::closedir(d);
  std::sort(entries_.begin(), entries_.end());
}

OutputsFolder::~OutputsFolder() {
  if (fd_ >= 0) ::close(fd_);
}

std::string describe_extras(const OutputsFolder& folder, const std::vector<std::string>& expected, size_t max_listed) {
  const std::set<std::string> want(expected.begin(), expected.end());
  std::vector<std::string> extra;
  for (const auto& e : folder.entries())
    if (!want.count(e)) extra.push_back(e);
  if (extra.empty()) return {};
  std::string s;
  for (size_t i = 0; i < extra.size() && i < max_listed; ++i) s += (i ? ", " : "") + printable(extra[i], 60);
  if (extra.size() > max_listed) s += " and " + std::to_string(extra.size() - max_listed) + " more";
  return s;
}

OutputVerdict check_prediction(const OutputsFolder& folder, const std::string& expected,
                               const std::optional<nifti::Geometry>& input_grid, bool strict_geometry) {
  OutputVerdict v;
  auto bad = [&](const std::string& why) {
    v.status = RunStatus::bad_output;
    v.message = why;
    return v;
  };
  if (!folder.ok()) return bad(folder.error());
  struct stat st {};
  if (::fstatat(folder.fd(), expected.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (folder.entries().empty()) {
      v.status = RunStatus::no_output;
      v.message = "wrote nothing: no " + expected + " in the outputs folder";
      return v;
    }
    const std::string found = describe_extras(folder, {expected});
    return bad("no " + expected + " in the outputs folder; it holds " + std::to_string(folder.entries().size()) +
               " other entr" + (folder.entries().size() == 1 ? "y" : "ies") + ": " + found);
  }
  if (S_ISLNK(st.st_mode)) return bad(expected + " is a symbolic link (not followed; write the file itself)");
  if (S_ISDIR(st.st_mode)) return bad(expected + " is a folder, not a file");
  if (!S_ISREG(st.st_mode)) return bad(expected + " is not a regular file");
  if (st.st_size == 0) return bad(expected + " is empty (0 bytes)");
  const int fd = ::openat(folder.fd(), expected.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return bad(expected + " cannot be opened: " + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const bool gzip = ::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!gzip) {
    ::close(fd);
    return bad(expected + " is not gzip-compressed (a .nii.gz must be; nibabel would not read it)");
  }
  try {
    // Through /proc/self/fd: the file we opened, whatever the name points to by now.
    const nifti::Header h = nifti::read_header("/proc/self/fd/" + std::to_string(fd), /*verify_data=*/true);
    ::close(fd);
    // The scorer's rule (nifti::Header::is_volume3d): ndim >= 3, every axis beyond the third of size 1.
    if (!h.is_volume3d()) return bad(expected + " has " + std::to_string(h.ndim()) + " dimensions; a 3-D mask is expected");
    // What the reader fixed or ignored as nibabel does (trailing gzip data, pixdim 0): kept, and said.
    for (const auto& w : h.warnings) v.warning += (v.warning.empty() ? "" : "; ") + expected + ": " + w;
    if (input_grid) {
      const nifti::Geometry out = nifti::geometry_of(h);
      const std::string diff = grid_difference(*input_grid, out);
      if (!diff.empty()) {
        if (strict_geometry || out.dims != input_grid->dims) return bad(expected + ": " + diff + (strict_geometry && out.dims == input_grid->dims ? " (--geometry strict)" : ""));
        v.warning += (v.warning.empty() ? "" : "; ") + expected + ": " + diff +
                     "; kept and scored as `score --geometry warn` scores it (--geometry strict rejects it)";
      }
    }
  } catch (const nifti::Error& e) {
    ::close(fd);
    return bad(expected + " is not a readable NIfTI file: " + e.what());
  } catch (const std::exception& e) {
    ::close(fd);
    return bad(expected + " cannot be read: " + e.what());
  }
  return v;
}

std::string move_prediction(const OutputsFolder& folder, const std::string& name, const std::filesystem::path& dest_dir) {
  const int dest = ::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dest < 0) return "cannot open " + dest_dir.string() + ": " + std::strerror(errno);
  // A file with another hard link would keep that link's owner's say over it (and chmod would change the
  // other name too): such a file is copied, never moved.
  struct stat st {};
  const bool linked = ::fstatat(folder.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink > 1;
  if (!linked && ::renameat(folder.fd(), name.c_str(), dest, name.c_str()) == 0) {
    // Whatever mode the contestant gave it (a container's root may set setuid): a plain data file.
    const int fd = ::openat(dest, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      ::fchmod(fd, 0644);
      ::close(fd);
    }
    ::close(dest);
    return {};
  }
  if (!linked && errno != EXDEV) {
    const std::string err = std::strerror(errno);
    ::close(dest);
    return "cannot move " + name + " into " + dest_dir.string() + ": " + err;
  }
  // Across file systems (or hard-linked): copy through the descriptors, then rename into place.
  const int in = ::openat(folder.fd(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  const std::string tmp = name + ".part";
  const int out = ::openat(dest, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::string err;
  if (in < 0 || out < 0) err = std::strerror(errno);
  char buf[1 << 16];
  while (err.empty()) {
    const ssize_t k = ::read(in, buf, sizeof buf);
    if (k == 0) break;
    if (k < 0 || ::write(out, buf, static_cast<size_t>(k)) != k) err = std::strerror(errno);
  }
  if (in >= 0) ::close(in);
  if (out >= 0) {
    ::fchmod(out, 0644);
    ::close(out);
  }
  if (err.empty() && ::renameat(dest, tmp.c_str(), dest, name.c_str()) != 0) err = std::strerror(errno);
  if (!err.empty()) ::unlinkat(dest, tmp.c_str(), 0);
  ::close(dest);
  return err.empty() ? std::string() : "cannot copy " + name + " into " + dest_dir.string() + ": " + err;
}

}  // namespace lb::runner
