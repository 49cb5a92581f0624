#pragma once
// Writing the baseline's files (models, checkpoints) so that a crash or a full disk never leaves a torn one.
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace lb::baseline {

// `text` into path + ".tmp", checked, then renamed over `path`; throws std::runtime_error naming the file.
inline void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

}  // namespace lb::baseline
