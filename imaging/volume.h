#pragma once
// A 3-D volume on a regular grid: the unit every stage of the baseline segmenter works on.
// Voxel order is NIfTI's: index = i + n0*(j + n1*k), axis 0 fastest.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lb::imaging {

struct Grid {
  std::array<int64_t, 3> dims{};
  std::array<double, 3> spacing_mm{1, 1, 1};

  int64_t size() const { return dims[0] * dims[1] * dims[2]; }
  int64_t index(int64_t i, int64_t j, int64_t k) const { return i + dims[0] * (j + dims[1] * k); }
  double voxel_ml() const { return spacing_mm[0] * spacing_mm[1] * spacing_mm[2] / 1000.0; }
  bool operator==(const Grid&) const = default;
};

template <class T>
struct Volume {
  Grid grid;
  std::vector<T> v;

  Volume() = default;
  explicit Volume(const Grid& g, T fill = T{}) : grid(g), v(static_cast<std::size_t>(g.size()), fill) {}
  T& at(int64_t i, int64_t j, int64_t k) { return v[static_cast<std::size_t>(grid.index(i, j, k))]; }
  T at(int64_t i, int64_t j, int64_t k) const { return v[static_cast<std::size_t>(grid.index(i, j, k))]; }
  int64_t size() const { return grid.size(); }
  T* data() { return v.data(); }
  const T* data() const { return v.data(); }
};

using VolumeF = Volume<float>;
using VolumeU8 = Volume<uint8_t>;

}  // namespace lb::imaging
