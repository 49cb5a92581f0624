// Every seed and every regression input of the fuzz targets (fuzz/corpus, fuzz/regressions), read by the same
// readers in the ordinary build: each must end as a value or a reported error, never a crash.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "metrics/mask_io.h"
#include "metrics/nifti.h"
#include "reports/scores_json.h"
#include "runner/contestant.h"
#include "runner/record.h"

namespace fs = std::filesystem;

namespace {
std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(LB_SOURCE_DIR) / "fuzz" / kind / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
  }
  return files;
}
}  // namespace

TEST_CASE("fuzz inputs of the NIfTI reader end as a status", "[fuzz][nifti]") {
  const auto files = inputs_of("nifti");
  REQUIRE(files.size() >= 5);
  for (const auto& f : files) {
    INFO(f.string());
    try {
      (void)lb::nifti::read_header(f.string(), true);
    } catch (const lb::nifti::Error&) {
    }
    const lb::MaskLoad m = lb::load_mask(f.string());
    if (m.status == lb::MaskStatus::ok) CHECK(m.mask.voxels.size() == static_cast<size_t>(m.mask.size()));
    else CHECK(!m.message.empty());
  }
}

TEST_CASE("fuzz inputs of records.jsonl, the manifest and scores.json end as a value or an error", "[fuzz]") {
  for (const auto& f : inputs_of("records")) {
    INFO(f.string());
    std::vector<std::string> warnings;
    CHECK_NOTHROW(lb::runner::read_records_jsonl(f.string(), &warnings));
  }
  for (const auto& f : inputs_of("manifest")) {
    INFO(f.string());
    try {
      (void)lb::runner::read_manifest(f, lb::runner::ContestantSpec{});
    } catch (const std::exception& e) {
      CHECK(std::string(e.what()).size() > 0);
    }
  }
  for (const auto& f : inputs_of("scores_json")) {
    INFO(f.string());
    try {
      (void)lb::read_scores_file(f.string());
    } catch (const std::exception& e) {
      CHECK(std::string(e.what()).size() > 0);
    }
  }
}
