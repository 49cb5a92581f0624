// lb_nifti_same A B: exit 0 when folders A and B hold the same .nii/.nii.gz files (relative paths) with the
// same decoded images — dims, spacing, datatype, qform/sform, scaling and voxels, as lesionbench's own reader
// sees them — whatever their compressed bytes. Prints each difference; exit 1 on any, 2 on bad usage.
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include "metrics/nifti.h"

namespace fs = std::filesystem;

namespace {

std::set<std::string> images_under(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    const bool nifti = name.size() > 4 && (name.ends_with(".nii") || name.ends_with(".nii.gz"));
    if (e.is_regular_file() && nifti) out.insert(fs::relative(e.path(), root).string());
  }
  return out;
}

// The first field that differs, or "".
std::string header_difference(const lb::nifti::Header& a, const lb::nifti::Header& b) {
  if (a.dim != b.dim) return "dims";
  for (int i = 0; i < 8; ++i)
    if (a.pixdim[i] != b.pixdim[i]) return "pixdim[" + std::to_string(i) + "]";
  if (a.datatype != b.datatype) return "datatype";
  if (a.scl_slope != b.scl_slope || a.scl_inter != b.scl_inter) return "scaling";
  if (a.qform_code != b.qform_code || a.sform_code != b.sform_code) return "qform/sform code";
  if (a.quatern_b != b.quatern_b || a.quatern_c != b.quatern_c || a.quatern_d != b.quatern_d) return "quaternion";
  if (a.qoffset_x != b.qoffset_x || a.qoffset_y != b.qoffset_y || a.qoffset_z != b.qoffset_z) return "qoffset";
  if (a.srow != b.srow) return "sform rows";
  if (a.xyzt_units != b.xyzt_units) return "units";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: lb_nifti_same DIR_A DIR_B\n";
    return 2;
  }
  const fs::path a = argv[1], b = argv[2];
  if (!fs::is_directory(a) || !fs::is_directory(b)) {
    std::cerr << "lb_nifti_same: " << (fs::is_directory(a) ? b : a) << " is not a folder\n";
    return 2;
  }
  const auto in_a = images_under(a), in_b = images_under(b);
  int problems = 0;
  for (const auto& rel : in_a)
    if (!in_b.count(rel)) std::cout << rel << ": only in " << a << "\n", ++problems;
  for (const auto& rel : in_b)
    if (!in_a.count(rel)) std::cout << rel << ": only in " << b << "\n", ++problems;
  size_t same = 0;
  for (const auto& rel : in_a) {
    if (!in_b.count(rel)) continue;
    try {
      const auto ia = lb::nifti::read_image((a / rel).string());
      const auto ib = lb::nifti::read_image((b / rel).string());
      std::string diff = header_difference(ia.header, ib.header);
      if (diff.empty() && ia.data != ib.data) diff = "voxels";
      if (!diff.empty()) {
        std::cout << rel << ": " << diff << " differ\n";
        ++problems;
      } else {
        ++same;
      }
    } catch (const std::exception& e) {
      std::cout << rel << ": " << e.what() << "\n";
      ++problems;
    }
  }
  std::cout << same << " images decode the same";
  if (problems) std::cout << ", " << problems << " problem(s)";
  std::cout << "\n";
  return problems || same == 0 ? 1 : 0;
}
