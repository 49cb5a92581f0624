#pragma once
// Checking what a contestant wrote into its outputs folder, without trusting it: the only name ever used as
// a path is the one we expect (<case>.nii.gz); it is opened relative to the folder with O_NOFOLLOW, so a
// symbolic link is reported, never followed; it must be a regular, gzip-compressed, complete NIfTI file
// (read with lesionbench_nifti, every byte of the stream checked) on the same grid as its input image.
// Names the contestant chose appear only in messages, made printable.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "metrics/nifti.h"
#include "runner/record.h"

namespace lb::runner {

using GridTolerance = nifti::GridTolerance;

// Empty when the grids agree; otherwise what differs, with both grids described.
std::string grid_difference(const nifti::Geometry& input, const nifti::Geometry& output, const GridTolerance& tol = {});

// An open outputs folder (O_NOFOLLOW: the folder itself may not have been replaced by a link).
class OutputsFolder {
 public:
  explicit OutputsFolder(const std::filesystem::path& dir);
  ~OutputsFolder();
  OutputsFolder(const OutputsFolder&) = delete;
  OutputsFolder& operator=(const OutputsFolder&) = delete;
  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }
  const std::vector<std::string>& entries() const { return entries_; }  // raw names, sorted

 private:
  int fd_ = -1;
  std::string error_;
  std::vector<std::string> entries_;
};

struct OutputVerdict {
  RunStatus status = RunStatus::ok;  // ok, no_output or bad_output
  std::string message;
  std::string warning;               // ok, but its grid differs (spacing, origin, direction): for the notes
};

// Checks `expected` (e.g. "C1.nii.gz") in the folder against its input image's grid (when known). Another
// shape is always bad_output (nothing can score it). Another spacing, origin or direction is what `score
// --geometry warn` (its default) scores with a warning: ok with `warning` set, unless `strict_geometry`
// (`run --geometry strict`), which makes it bad_output as `score --geometry strict` scores it 0.
OutputVerdict check_prediction(const OutputsFolder& folder, const std::string& expected,
                               const std::optional<nifti::Geometry>& input_grid, bool strict_geometry = false);

// Entries other than `expected` names, printable and listed for a note ("also wrote: a, b (ignored)").
std::string describe_extras(const OutputsFolder& folder, const std::vector<std::string>& expected, size_t max_listed = 5);

// Moves the checked file into `dest_dir` under the same name (rename; copy when across file systems, or
// when the file has other hard links) and makes it mode 0644: no setuid/setgid bit, not writable by others.
// Returns an empty string on success, else the error.
std::string move_prediction(const OutputsFolder& folder, const std::string& name, const std::filesystem::path& dest_dir);

}  // namespace lb::runner
