#pragma once
// Names read from files (case names in scores.json and records.jsonl, sample paths in run records) become
// paths only through these functions: a name is one file-name component — not empty, not "." or "..", no
// '/' or '\', no control character, at most 255 bytes — so that nothing a team folder says can make
// `report` read or write outside the folders it was given (docs/security.md).
#include <filesystem>
#include <stdexcept>
#include <string>

namespace lb {

// Why `name` cannot be used as a single file name; empty when it can.
std::string file_name_problem(const std::string& name);

// Thrown when a name read from a file is not a safe file name; the message names it and says why.
struct UnsafeName : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// dir / name, after checking name (what: where the name came from, for the message). Throws UnsafeName.
std::filesystem::path path_in(const std::filesystem::path& dir, const std::string& name, const std::string& what);

// dir / "a/b/c" for a relative path whose every component passes file_name_problem (e.g. a run record's
// "samples/STS_001.csv"). Throws UnsafeName for an absolute path, "..", or any bad component.
std::filesystem::path relative_path_in(const std::filesystem::path& dir, const std::string& relative, const std::string& what);

}  // namespace lb
