// Connected components against a plain flood fill, for each connectivity.
#include <catch2/catch.hpp>
#include <map>
#include <queue>
#include <random>

#include "metrics/components.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::Vol;

namespace {

// Breadth-first flood fill over the 6/18/26 neighbours: the textbook definition, written independently.
std::vector<int> flood_labels(const Vol& v, int connectivity, int& count) {
  const int64_t n0 = v.dims[0], n1 = v.dims[1], n2 = v.dims[2];
  std::vector<int> label(v.v.size(), -1);
  count = 0;
  for (int64_t k = 0; k < n2; ++k)
    for (int64_t j = 0; j < n1; ++j)
      for (int64_t i = 0; i < n0; ++i) {
        const size_t start = static_cast<size_t>(i + n0 * (j + n1 * k));
        if (!v.v[start] || label[start] >= 0) continue;
        std::queue<std::array<int64_t, 3>> q;
        q.push({i, j, k});
        label[start] = count;
        while (!q.empty()) {
          auto [x, y, z] = q.front();
          q.pop();
          for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                const int moved = std::abs(dx) + std::abs(dy) + std::abs(dz);
                if (moved == 0 || (connectivity == 6 && moved > 1) || (connectivity == 18 && moved > 2)) continue;
                const int64_t a = x + dx, b = y + dy, c = z + dz;
                if (a < 0 || b < 0 || c < 0 || a >= n0 || b >= n1 || c >= n2) continue;
                const size_t idx = static_cast<size_t>(a + n0 * (b + n1 * c));
                if (v.v[idx] && label[idx] < 0) {
                  label[idx] = count;
                  q.push({a, b, c});
                }
              }
        }
        ++count;
      }
  return label;
}

std::vector<int> run_labels(const Components& c) {
  const int64_t n0 = c.dims[0];
  std::vector<int> label(static_cast<size_t>(c.dims[0] * c.dims[1] * c.dims[2]), -1);
  for (size_t r = 0; r < c.runs.size(); ++r)
    for (int32_t x = c.runs[r].x0; x < c.runs[r].x1; ++x) label[static_cast<size_t>(x + n0 * c.runs[r].row)] = c.run_label[r];
  return label;
}

}  // namespace

TEST_CASE("two cubes touching at a corner: one lesion under 26, two under 18 and 6", "[components]") {
  Vol v(6, 6, 6);
  v.box({0, 0, 0}, {2, 2, 2});
  v.box({2, 2, 2}, {4, 4, 4});
  CHECK(label_components(v.v.data(), v.dims, 26).count == 1);
  CHECK(label_components(v.v.data(), v.dims, 18).count == 2);
  CHECK(label_components(v.v.data(), v.dims, 6).count == 2);
  // Touching along an edge: one under 18 and 26, two under 6.
  Vol e(6, 6, 6);
  e.box({0, 0, 0}, {2, 2, 2});
  e.box({2, 2, 0}, {4, 4, 2});
  CHECK(label_components(e.v.data(), e.dims, 18).count == 1);
  CHECK(label_components(e.v.data(), e.dims, 6).count == 2);
}

TEST_CASE("components equal a flood fill on random volumes, numbered by first voxel", "[components]") {
  std::mt19937_64 rng(2024);
  for (int conn : {6, 18, 26})
    for (int trial = 0; trial < 25; ++trial) {
      Vol v(3 + rng() % 14, 3 + rng() % 14, 1 + rng() % 9);
      const int density = 2 + static_cast<int>(rng() % 4);
      for (auto& x : v.v) x = (rng() % density) == 0;
      int expected_count = 0;
      const auto expected = flood_labels(v, conn, expected_count);
      const Components c = label_components(v.v.data(), v.dims, conn);
      INFO("connectivity " << conn << " trial " << trial);
      REQUIRE(c.count == expected_count);
      // Both number components in scan order of their first voxel, so the labels must be identical.
      CHECK(run_labels(c) == expected);
      std::vector<int64_t> sizes(static_cast<size_t>(expected_count), 0);
      for (int l : expected)
        if (l >= 0) ++sizes[l];
      CHECK(c.voxels == sizes);
    }
}

TEST_CASE("boxes, first voxels and rasterize reproduce each component", "[components]") {
  Vol v(10, 8, 5);
  v.box({1, 1, 1}, {4, 3, 2});
  v.box({6, 2, 0}, {9, 7, 5});
  const Components c = label_components(v.v.data(), v.dims, 26);
  REQUIRE(c.count == 2);
  CHECK(c.first_index[0] == 6 + 10 * 2);  // the second box starts in slice 0
  CHECK(c.boxes[0].lo == std::array<int64_t, 3>{6, 2, 0});
  CHECK(c.boxes[0].hi == std::array<int64_t, 3>{9, 7, 5});
  CHECK(c.boxes[1].lo == std::array<int64_t, 3>{1, 1, 1});
  std::vector<uint8_t> out(static_cast<size_t>(c.boxes[1].voxels()), 0);
  rasterize(c, 1, c.boxes[1], out.data());
  CHECK(std::count(out.begin(), out.end(), 1) == 6);
}
