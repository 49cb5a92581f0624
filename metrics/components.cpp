#include "metrics/components.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace lb {

namespace {

int32_t find(std::vector<int32_t>& parent, int32_t a) {
  while (parent[a] != a) {
    parent[a] = parent[parent[a]];  // path halving
    a = parent[a];
  }
  return a;
}

void unite(std::vector<int32_t>& parent, int32_t a, int32_t b) {
  a = find(parent, a);
  b = find(parent, b);
  if (a == b) return;
  // The smaller index becomes the root, so a root is always its component's first run.
  if (a < b) parent[b] = a; else parent[a] = b;
}

}  // namespace

Components label_components(const uint8_t* mask, const std::array<int64_t, 3>& dims, int connectivity) {
  if (connectivity != 6 && connectivity != 18 && connectivity != 26)
    throw std::invalid_argument("connectivity must be 6, 18 or 26");
  const int64_t n0 = dims[0], n1 = dims[1], n2 = dims[2];
  const int64_t rows = n1 * n2;
  Components c;
  c.dims = dims;

  // 1. Runs per slice in parallel, then concatenated in scan order.
  std::vector<std::vector<Run>> per_slice(static_cast<size_t>(n2));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n2), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t k = r.begin(); k < r.end(); ++k) {
      auto& out = per_slice[static_cast<size_t>(k)];
      for (int64_t j = 0; j < n1; ++j) {
        const uint8_t* row = mask + (k * n1 + j) * n0;
        int64_t x = 0;
        while (x < n0) {
          // Skip zeros a word at a time: most of a CT mask is background.
          while (x + 8 <= n0) {
            uint64_t word;
            std::memcpy(&word, row + x, 8);
            if (word) break;
            x += 8;
          }
          while (x < n0 && !row[x]) ++x;
          if (x >= n0) break;
          const int64_t start = x;
          while (x < n0 && row[x]) ++x;
          out.push_back(Run{j + n1 * k, static_cast<int32_t>(start), static_cast<int32_t>(x)});
        }
      }
    }
  });
  size_t total = 0;
  for (auto& v : per_slice) total += v.size();
  if (total > static_cast<size_t>(INT32_MAX)) throw std::length_error("too many runs for component labelling");
  c.runs.reserve(total);
  for (auto& v : per_slice) {
    c.runs.insert(c.runs.end(), v.begin(), v.end());
    std::vector<Run>().swap(v);
  }
  const int32_t nr = static_cast<int32_t>(total);

  // Index of each row's first run, so neighbour rows are found directly.
  std::vector<int32_t> row_begin(static_cast<size_t>(rows) + 1, 0);
  for (const Run& r : c.runs) ++row_begin[static_cast<size_t>(r.row) + 1];
  for (int64_t r = 0; r < rows; ++r) row_begin[r + 1] += row_begin[r];

  // 2. Join runs with the runs of earlier neighbour rows. slack 1 lets runs touch diagonally along i.
  struct Neighbour {
    int dj, dk, slack;
  };
  std::vector<Neighbour> nbrs;
  const int face_slack = connectivity == 6 ? 0 : 1;
  nbrs.push_back({-1, 0, face_slack});
  nbrs.push_back({0, -1, face_slack});
  if (connectivity != 6) {
    const int edge_slack = connectivity == 26 ? 1 : 0;
    nbrs.push_back({-1, -1, edge_slack});
    nbrs.push_back({1, -1, edge_slack});
  }
  std::vector<int32_t> parent(static_cast<size_t>(nr));
  std::iota(parent.begin(), parent.end(), 0);
  for (int64_t row = 0; row < rows; ++row) {
    const int32_t a_begin = row_begin[row], a_end = row_begin[row + 1];
    if (a_begin == a_end) continue;
    const int64_t j = row % n1, k = row / n1;
    for (const Neighbour& nb : nbrs) {
      const int64_t jj = j + nb.dj, kk = k + nb.dk;
      if (jj < 0 || jj >= n1 || kk < 0) continue;
      const int64_t other = jj + n1 * kk;
      int32_t b = row_begin[other];
      const int32_t b_end = row_begin[other + 1];
      int32_t a = a_begin;
      while (a < a_end && b < b_end) {
        const Run& ra = c.runs[a];
        const Run& rb = c.runs[b];
        if (ra.x0 < rb.x1 + nb.slack && rb.x0 < ra.x1 + nb.slack) unite(parent, a, b);
        if (ra.x1 < rb.x1) ++a; else ++b;
      }
    }
  }

  // 3. Number components by their first run (roots are first runs), in scan order.
  c.run_label.assign(static_cast<size_t>(nr), -1);
  std::vector<int32_t> label_of_root(static_cast<size_t>(nr), -1);
  for (int32_t r = 0; r < nr; ++r) {
    const int32_t root = find(parent, r);
    if (label_of_root[root] < 0) label_of_root[root] = c.count++;
    c.run_label[r] = label_of_root[root];
  }

  // 4. Sizes, boxes, first voxels, and the runs of each component.
  c.voxels.assign(static_cast<size_t>(c.count), 0);
  c.boxes.assign(static_cast<size_t>(c.count), Box{});
  c.first_index.assign(static_cast<size_t>(c.count), -1);
  c.run_start.assign(static_cast<size_t>(c.count) + 1, 0);
  for (int32_t r = 0; r < nr; ++r) {
    const Run& run = c.runs[r];
    const int32_t l = c.run_label[r];
    const int64_t j = run.row % n1, k = run.row / n1;
    c.voxels[l] += run.x1 - run.x0;
    Box& b = c.boxes[l];
    if (c.first_index[l] < 0) {
      c.first_index[l] = run.x0 + n0 * run.row;
      b = Box{{run.x0, j, k}, {run.x1, j + 1, k + 1}};
    } else {
      b.lo = {std::min<int64_t>(b.lo[0], run.x0), std::min(b.lo[1], j), std::min(b.lo[2], k)};
      b.hi = {std::max<int64_t>(b.hi[0], run.x1), std::max(b.hi[1], j + 1), std::max(b.hi[2], k + 1)};
    }
    ++c.run_start[l + 1];
  }
  for (int32_t l = 0; l < c.count; ++l) c.run_start[l + 1] += c.run_start[l];
  c.run_order.resize(static_cast<size_t>(nr));
  std::vector<int64_t> fill(c.run_start.begin(), c.run_start.end() - 1);
  for (int32_t r = 0; r < nr; ++r) c.run_order[fill[c.run_label[r]]++] = r;
  return c;
}

void rasterize(const Components& comps, int32_t c, const Box& box, uint8_t* out) {
  const int64_t n1 = comps.dims[1];
  const int64_t bx = box.size(0), by = box.size(1);
  // A component's runs are in scan order (rising row): only those in the box's rows are visited.
  const int64_t row_lo = box.lo[1] + n1 * box.lo[2], row_hi = (box.hi[1] - 1) + n1 * (box.hi[2] - 1);
  const auto first = comps.run_order.begin() + comps.run_start[c], last = comps.run_order.begin() + comps.run_start[c + 1];
  const auto from = std::partition_point(first, last, [&](int32_t r) { return comps.runs[r].row < row_lo; });
  for (auto it = from; it != last; ++it) {
    const Run& run = comps.runs[*it];
    if (run.row > row_hi) break;
    const int64_t j = run.row % n1, k = run.row / n1;
    if (j < box.lo[1] || j >= box.hi[1] || k < box.lo[2] || k >= box.hi[2]) continue;
    const int64_t x0 = std::max<int64_t>(run.x0, box.lo[0]), x1 = std::min<int64_t>(run.x1, box.hi[0]);
    if (x0 >= x1) continue;
    std::memset(out + (x0 - box.lo[0]) + bx * ((j - box.lo[1]) + by * (k - box.lo[2])), 1,
                static_cast<size_t>(x1 - x0));
  }
}

}  // namespace lb
