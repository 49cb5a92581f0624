#include "metrics/surface_table.h"

#include <cmath>

namespace lb::surface {

std::array<double, 256> surfel_areas(const std::array<double, 3>& s) {
  std::array<double, 256> area{};
  for (int code = 0; code < 256; ++code) {
    double sum = 0;
    for (int t = 0; t < kCodeNormals[code].count; ++t) {
      const auto& e = kCodeNormals[code].eighths[t];
      const double n0 = (e[0] / 8.0) * s[1] * s[2];
      const double n1 = (e[1] / 8.0) * s[0] * s[2];
      const double n2 = (e[2] / 8.0) * s[0] * s[1];
      sum += std::sqrt(n0 * n0 + n1 * n1 + n2 * n2);
    }
    area[code] = sum;
  }
  return area;
}

}  // namespace lb::surface
