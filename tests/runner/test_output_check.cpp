// What a contestant writes is checked, never trusted: each kind of bad output gets its status and a message
// naming the file; links are reported, not followed; a good prediction is moved into place.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "metrics/nifti.h"
#include "runner/output_check.h"
#include "tests/runner/runner_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using namespace lb::test::runner_util;
namespace fs = std::filesystem;
namespace nifti = lb::nifti;

namespace {

struct Fixture {
  lb::test::TempDir tmp{"outcheck"};
  fs::path in = tmp.path() / "in", out = tmp.path() / "out";
  nifti::Geometry grid;
  Fixture() {
    write_case(in, "C1");
    fs::create_directories(out);
    grid = nifti::geometry_of(nifti::read_header((in / "C1_0000.nii.gz").string()));
  }
  void write_mask(const std::string& name, std::array<int64_t, 3> dims = {24, 20, 8},
                  std::array<double, 3> spacing = {0.8, 0.8, 2.5}, std::array<double, 3> origin = {-10, 5, 30}) {
    const auto h = nifti::make_header(dims, spacing, origin);
    std::vector<uint8_t> v(static_cast<size_t>(dims[0] * dims[1] * dims[2]), 0);
    nifti::write_image((out / name).string(), h, v.data(), 1);
  }
  OutputVerdict check() const {
    OutputsFolder folder(out);
    return check_prediction(folder, "C1.nii.gz", grid);
  }
};

}  // namespace

TEST_CASE("a mask on the input's grid is accepted and moved into predictions", "[output]") {
  Fixture f;
  f.write_mask("C1.nii.gz");
  const OutputVerdict v = f.check();
  CHECK(v.status == RunStatus::ok);
  CHECK(v.message.empty());
  const fs::path dest = f.tmp.path() / "predictions";
  fs::create_directories(dest);
  OutputsFolder folder(f.out);
  CHECK(move_prediction(folder, "C1.nii.gz", dest).empty());
  CHECK(fs::exists(dest / "C1.nii.gz"));
  CHECK_FALSE(fs::exists(f.out / "C1.nii.gz"));
}

TEST_CASE("an empty outputs folder is no_output", "[output]") {
  Fixture f;
  const OutputVerdict v = f.check();
  CHECK(v.status == RunStatus::no_output);
  CHECK_THAT(v.message, Catch::Contains("C1.nii.gz"));
}

TEST_CASE("only wrongly named files is bad_output, listing what was written", "[output]") {
  Fixture f;
  f.write_mask("C1_pred.nii.gz");
  const OutputVerdict v = f.check();
  CHECK(v.status == RunStatus::bad_output);
  CHECK_THAT(v.message, Catch::Contains("no C1.nii.gz") && Catch::Contains("C1_pred.nii.gz"));
}

TEST_CASE("names a contestant writes are shown printable, never used", "[output]") {
  Fixture f;
  { std::ofstream(f.out / "evil\x1b[31m\n.nii.gz") << "x"; }
  const OutputVerdict v = f.check();
  CHECK(v.status == RunStatus::bad_output);
  CHECK_THAT(v.message, Catch::Contains("evil\\x1b[31m\\x0a.nii.gz"));
}

TEST_CASE("a symbolic link named like the prediction is reported and not followed", "[output]") {
  Fixture f;
  // A link to a perfectly valid mask elsewhere: following it would accept a file outside the outputs.
  const fs::path elsewhere = f.tmp.path() / "elsewhere.nii.gz";
  f.write_mask("real.nii.gz");
  fs::rename(f.out / "real.nii.gz", elsewhere);
  fs::create_symlink(elsewhere, f.out / "C1.nii.gz");
  const OutputVerdict v = f.check();
  CHECK(v.status == RunStatus::bad_output);
  CHECK_THAT(v.message, Catch::Contains("symbolic link"));
}

TEST_CASE("an outputs folder replaced by a link is refused", "[output]") {
  Fixture f;
  fs::remove_all(f.out);
  fs::create_directories(f.tmp.path() / "other");
  fs::create_directory_symlink(f.tmp.path() / "other", f.out);
  const OutputVerdict v = f.check();
  CHECK(v.status == RunStatus::bad_output);
  CHECK_THAT(v.message, Catch::Contains("outputs folder"));
}

TEST_CASE("a folder, an empty file, garbage and an uncompressed file are each bad_output with the reason", "[output]") {
  SECTION("folder") {
    Fixture f;
    fs::create_directories(f.out / "C1.nii.gz");
    CHECK_THAT(f.check().message, Catch::Contains("is a folder"));
  }
  SECTION("empty") {
    Fixture f;
    std::ofstream(f.out / "C1.nii.gz").close();
    CHECK_THAT(f.check().message, Catch::Contains("empty"));
  }
  SECTION("garbage") {
    Fixture f;
    std::ofstream(f.out / "C1.nii.gz") << std::string(4096, 'B');
    const auto v = f.check();
    CHECK(v.status == RunStatus::bad_output);
    CHECK_THAT(v.message, Catch::Contains("not gzip-compressed"));
  }
  SECTION("uncompressed NIfTI under a .nii.gz name") {
    Fixture f;
    f.write_mask("C1.nii");
    fs::rename(f.out / "C1.nii", f.out / "C1.nii.gz");
    CHECK_THAT(f.check().message, Catch::Contains("not gzip-compressed"));
  }
  SECTION("gzip of something that is not NIfTI") {
    Fixture f;
    lb::test::run_command("(echo hello | gzip > " + lb::test::shell_quote((f.out / "C1.nii.gz").string()) + ")");
    const auto v = f.check();
    CHECK(v.status == RunStatus::bad_output);
    CHECK_THAT(v.message, Catch::Contains("not a readable NIfTI"));
  }
}

TEST_CASE("a truncated prediction is bad_output (the whole gzip stream is checked)", "[output]") {
  Fixture f;
  f.write_mask("C1.nii.gz");
  const auto size = fs::file_size(f.out / "C1.nii.gz");
  fs::resize_file(f.out / "C1.nii.gz", size - 20);
  const OutputVerdict v = f.check();
  CHECK(v.status == RunStatus::bad_output);
  CHECK_THAT(v.message, Catch::Contains("not a readable NIfTI"));
}

TEST_CASE("a valid prediction followed by trailing bytes is kept, with a warning, as the scorer reads it", "[output]") {
  // nibabel (the official scorer's reader) and `gzip -t` accept trailing garbage after the gzip stream.
  Fixture f;
  f.write_mask("C1.nii.gz");
  {
    std::ofstream app(f.out / "C1.nii.gz", std::ios::binary | std::ios::app);
    app << std::string(300, 'x');
  }
  const OutputVerdict v = f.check();
  INFO(v.message);
  CHECK(v.status == RunStatus::ok);
  CHECK_THAT(v.warning, Catch::Contains("C1.nii.gz") && Catch::Contains("trailing"));
}

TEST_CASE("a one-slice prediction of a one-slice image is a 3-D mask, a 4-D one with a second volume is not", "[output]") {
  lb::test::TempDir tmp("outcheck-1slice");
  const fs::path in = tmp.path() / "in", out = tmp.path() / "out";
  write_case(in, "C1", {24, 20, 1});
  fs::create_directories(out);
  const nifti::Geometry grid = nifti::geometry_of(nifti::read_header((in / "C1_0000.nii.gz").string()));
  std::vector<uint8_t> v(24 * 20 * 2, 0);
  nifti::write_image((out / "C1.nii.gz").string(), nifti::make_header({24, 20, 1}, {0.8, 0.8, 2.5}, {-10, 5, 30}),
                     v.data(), 1);
  CHECK(check_prediction(OutputsFolder(out), "C1.nii.gz", grid).status == RunStatus::ok);
  auto h4 = nifti::make_header({24, 20, 1}, {0.8, 0.8, 2.5}, {-10, 5, 30});
  h4.dim[0] = 4;
  h4.dim[4] = 2;
  nifti::write_image((out / "C1.nii.gz").string(), h4, v.data(), 1);
  const OutputVerdict four = check_prediction(OutputsFolder(out), "C1.nii.gz", grid);
  CHECK(four.status == RunStatus::bad_output);
  CHECK_THAT(four.message, Catch::Contains("a 3-D mask is expected"));
}

TEST_CASE("a prediction on another shape is bad_output, another grid is bad_output under strict, saying what differs", "[output]") {
  SECTION("shape") {
    Fixture f;
    f.write_mask("C1.nii.gz", {23, 20, 8});
    const auto v = f.check();
    CHECK(v.status == RunStatus::bad_output);
    CHECK_THAT(v.message, Catch::Contains("shape 23x20x8 differs from its input image's 24x20x8"));
  }
  SECTION("spacing") {
    Fixture f;
    f.write_mask("C1.nii.gz", {24, 20, 8}, {0.8, 0.8, 3.0});
    const OutputsFolder folder(f.out);
    const auto v = check_prediction(folder, "C1.nii.gz", f.grid, /*strict_geometry=*/true);
    CHECK(v.status == RunStatus::bad_output);
    CHECK_THAT(v.message, Catch::Contains("(spacing)"));
  }
  SECTION("origin") {
    Fixture f;
    f.write_mask("C1.nii.gz", {24, 20, 8}, {0.8, 0.8, 2.5}, {0, 0, 0});
    const OutputsFolder folder(f.out);
    const auto v = check_prediction(folder, "C1.nii.gz", f.grid, /*strict_geometry=*/true);
    CHECK(v.status == RunStatus::bad_output);
    CHECK_THAT(v.message, Catch::Contains("(origin)"));
  }
  SECTION("float noise in the spacing is not a difference") {
    Fixture f;
    f.write_mask("C1.nii.gz", {24, 20, 8}, {0.80000001, 0.8, 2.5});
    CHECK(f.check().status == RunStatus::ok);
  }
}

TEST_CASE("issue 11.9: another origin or spacing is kept with a warning, as `score --geometry warn` scores it", "[output]") {
  Fixture f;
  f.write_mask("C1.nii.gz", {24, 20, 8}, {0.8, 0.8, 3.0}, {0, 0, 0});
  const auto v = f.check();
  CHECK(v.status == RunStatus::ok);
  CHECK_THAT(v.warning, Catch::Contains("(spacing, origin)") && Catch::Contains("--geometry strict"));
}

TEST_CASE("extra files beside the prediction are listed", "[output]") {
  Fixture f;
  f.write_mask("C1.nii.gz");
  f.write_mask("C1_probabilities.nii.gz");
  OutputsFolder folder(f.out);
  CHECK(check_prediction(folder, "C1.nii.gz", f.grid).status == RunStatus::ok);
  CHECK(describe_extras(folder, {"C1.nii.gz"}) == "C1_probabilities.nii.gz");
}
