// Checking names before they become paths (see names.h).
#include "reports/names.h"

#include "runner/util.h"

namespace lb {

namespace {
// The runner's rule for showing a name in a message (control and non-ASCII bytes as \xNN).
std::string printable(const std::string& s) { return runner::printable(s, 200); }
}  // namespace

std::string file_name_problem(const std::string& name) {
  if (name.empty()) return "it is empty";
  if (name == "." || name == "..") return "'" + name + "' is not a file name";
  if (name.size() > 255) return "it is longer than 255 bytes";
  for (unsigned char c : name) {
    if (c == '/' || c == '\\') return "it holds a path separator";
    if (c < 0x20 || c == 0x7f) return "it holds a control character";
  }
  return "";
}

std::filesystem::path path_in(const std::filesystem::path& dir, const std::string& name, const std::string& what) {
  if (const std::string why = file_name_problem(name); !why.empty())
    throw UnsafeName(what + " '" + printable(name) + "' cannot be a file name: " + why);
  return dir / name;
}

std::filesystem::path relative_path_in(const std::filesystem::path& dir, const std::string& relative,
                                       const std::string& what) {
  if (relative.empty()) throw UnsafeName(what + " is empty");
  if (relative.front() == '/') throw UnsafeName(what + " '" + printable(relative) + "' is an absolute path");
  std::filesystem::path p = dir;
  size_t start = 0;
  while (start <= relative.size()) {
    const size_t slash = relative.find('/', start);
    const std::string part = relative.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (const std::string why = file_name_problem(part); !why.empty())
      throw UnsafeName(what + " '" + printable(relative) + "' is not a path inside the team folder: component '" +
                       printable(part) + "': " + why);
    p /= part;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return p;
}

}  // namespace lb
