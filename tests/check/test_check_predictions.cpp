// lesionbench check --pred: a good set passes (and zips, read back by Python's zipfile), a set with every kind
// of problem fails with each problem named by its file, and the CLI's exit codes, --json and --geometry.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "check/prediction_check.h"
#include "check/zip_archive.h"
#include "metrics/nifti.h"
#include "tests/check/check_test_util.h"
#include "tests/support/test_support.h"

using namespace lb::check;
using namespace lb::test::check_util;
using lb::test::shell_quote;
namespace fs = std::filesystem;

namespace {

const CaseCheck& case_named(const PredictionCheck& r, const std::string& name) {
  for (const auto& c : r.cases)
    if (c.case_name == name) return c;
  FAIL("no case " << name);
  throw std::logic_error("unreachable");
}

bool any_contains(const std::vector<std::string>& v, const std::string& a, const std::string& b = "") {
  for (const auto& s : v)
    if (s.find(a) != std::string::npos && s.find(b) != std::string::npos) return true;
  return false;
}

struct GoodSet {
  lb::test::TempDir tmp{"check-good"};
  fs::path cases = tmp.path() / "cases", pred = tmp.path() / "pred";
  GoodSet() {
    for (const char* n : {"FLARE24Val_0001", "FLARE24Val_0002", "FLARE24Val_0003"}) {
      write_image(cases, n);
      write_prediction(pred / (std::string(n) + ".nii.gz"));
    }
  }
};

}  // namespace

TEST_CASE("check --pred: a good set passes and its archive holds exactly the predictions at its root", "[check]") {
  GoodSet g;
  PredictionCheckSettings s;
  s.cases_dir = g.cases;
  s.pred_dir = g.pred;
  const PredictionCheck r = check_predictions(s);
  REQUIRE(r.cases.size() == 3);
  CHECK(r.passed());
  CHECK(r.n_warnings() == 0);
  for (const auto& c : r.cases) {
    CHECK(c.status == "ok");
    CHECK(c.datatype == "uint8");
    CHECK(c.lesion_voxels == 4 * 4 * 2);
  }
  // Through the CLI: exit 0, a zip Python reads back with the same bytes, --json.
  const std::string zip = g.tmp / "submission.zip", json = g.tmp / "check.json";
  const auto cli = lb::test::run_cli("check --cases " + shell_quote(g.cases.string()) + " --pred " +
                                     shell_quote(g.pred.string()) + " --zip " + shell_quote(zip) + " --json " + shell_quote(json));
  INFO(cli.out << cli.err);
  CHECK(cli.exit_code == 0);
  CHECK_THAT(cli.out, Catch::Contains("verdict: would pass"));
  const auto py = lb::test::run_command(
      "python3 -c " + shell_quote("import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n"
                                  "for i in z.infolist():\n    print(i.filename, i.file_size, i.CRC)\n"
                                  "import hashlib\nprint(hashlib.sha256(z.read('FLARE24Val_0002.nii.gz')).hexdigest())\n") +
      " " + shell_quote(zip));
  INFO(py.err);
  REQUIRE(py.exit_code == 0);
  CHECK_THAT(py.out, Catch::StartsWith("FLARE24Val_0001.nii.gz ") && Catch::Contains("\nFLARE24Val_0003.nii.gz "));
  const auto sha = lb::test::run_command("sha256sum " + shell_quote((g.pred / "FLARE24Val_0002.nii.gz").string()));
  CHECK_THAT(py.out, Catch::Contains(sha.out.substr(0, 64)));
  const auto j = nlohmann::json::parse(lb::test::read_text(json));
  CHECK(j["schema_version"] == kCheckSchemaVersion);
  CHECK(j["passed"] == true);
  CHECK(j["zip"]["written"] == true);
  CHECK(j["cases"].size() == 3);
  CHECK(check_schema_errors(json) == "");
}

TEST_CASE("check --pred: every kind of problem is named with its file and a suggestion", "[check]") {
  lb::test::TempDir tmp("check-bad");
  const fs::path cases = tmp.path() / "cases", pred = tmp.path() / "pred";
  const std::vector<std::string> names = {"A_ok",        "B_suffix",  "C_nii",   "D_mha",       "E_notgz",  "F_trunc",
                                          "G_4d",        "H_label2",  "I_float", "J_shape",     "K_origin", "L_missing",
                                          "M_upper",     "N_symlink", "O_body"};
  for (const auto& n : names) write_image(cases, n);
  write_prediction(pred / "A_ok.nii.gz");
  write_prediction(pred / "B_suffix_0000.nii.gz");
  write_prediction(pred / "C_nii.nii");
  { std::ofstream(pred / "D_mha.mha") << "ObjectType = Image\n"; }
  write_prediction(pred / "E_notgz.nii");
  fs::rename(pred / "E_notgz.nii", pred / "E_notgz.nii.gz");
  write_prediction(pred / "F_trunc.nii.gz");
  fs::resize_file(pred / "F_trunc.nii.gz", fs::file_size(pred / "F_trunc.nii.gz") / 2);
  {
    auto h = lb::nifti::make_header(kDims, kSpacing, kOrigin);
    h.dim = {4, kDims[0], kDims[1], kDims[2], 2, 1, 1, 1};
    std::vector<uint8_t> v(static_cast<size_t>(kDims[0] * kDims[1] * kDims[2] * 2), 0);
    lb::nifti::write_image((pred / "G_4d.nii.gz").string(), h, v.data());
  }
  write_prediction(pred / "H_label2.nii.gz", kOrigin, kDims, 2);
  {
    const auto h = lb::nifti::make_header(kDims, kSpacing, kOrigin, {1, 0, 0, 0, 1, 0, 0, 0, 1}, lb::nifti::kFloat32);
    std::vector<float> v(static_cast<size_t>(kDims[0] * kDims[1] * kDims[2]), 0.0f);
    v[5] = 1.0f;
    lb::nifti::write_image((pred / "I_float.nii.gz").string(), h, v.data());
  }
  write_prediction(pred / "J_shape.nii.gz", kOrigin, {20, 16, 7});
  write_prediction(pred / "K_origin.nii.gz", {-10, 5, 35});
  write_prediction(pred / "m_upper.nii.gz");
  write_prediction(tmp.path() / "elsewhere.nii.gz");
  fs::create_symlink(tmp.path() / "elsewhere.nii.gz", pred / "N_symlink.nii.gz");
  {
    lb::test::Vol v(kDims[0], kDims[1], kDims[2]);
    v.box({0, 0, 0}, {20, 16, 6});
    lb::test::write_mask((pred / "O_body.nii.gz").string(), v, kSpacing, kOrigin);
  }
  write_prediction(pred / "Z_stranger.nii.gz");
  { std::ofstream(pred / ".DS_Store") << "x"; }
  { std::ofstream(pred / "README.txt") << "x"; }

  PredictionCheckSettings s;
  s.cases_dir = cases;
  s.pred_dir = pred;
  s.large_lesion_ml = 1;  // the tiny grid holds 2.3 ml in all; "far larger than a lesion" scaled down
  const PredictionCheck r = check_predictions(s);
  INFO(format_table(r));
  REQUIRE(r.cases.size() == names.size());
  CHECK_FALSE(r.passed());
  CHECK(case_named(r, "A_ok").passed());
  CHECK(case_named(r, "B_suffix").status == "missing");
  CHECK(any_contains(case_named(r, "B_suffix").errors, "B_suffix_0000.nii.gz: rename it to B_suffix.nii.gz", "_0000"));
  CHECK(any_contains(case_named(r, "C_nii").errors, "C_nii.nii: rename it to C_nii.nii.gz", "gzip"));
  CHECK(any_contains(case_named(r, "D_mha").errors, "D_mha.mha: convert it to D_mha.nii.gz"));
  CHECK(case_named(r, "E_notgz").status == "not_gzip");
  CHECK(case_named(r, "F_trunc").status == "unreadable");
  CHECK(case_named(r, "G_4d").status == "not_3d");
  CHECK(case_named(r, "H_label2").status == "invalid_labels");
  CHECK(any_contains(case_named(r, "H_label2").errors, "H_label2.nii.gz", "2 (32)"));
  CHECK(case_named(r, "I_float").passed());  // exact 0/1 in float32: accepted, with advice
  CHECK(any_contains(case_named(r, "I_float").warnings, "float32", "uint8"));
  CHECK(case_named(r, "J_shape").status == "shape_mismatch");
  CHECK(case_named(r, "K_origin").status == "geometry_mismatch");
  CHECK(any_contains(case_named(r, "K_origin").errors, "origin", "--geometry warn"));
  CHECK(case_named(r, "L_missing").status == "missing");
  CHECK(any_contains(case_named(r, "M_upper").errors, "m_upper.nii.gz: rename it to M_upper.nii.gz", "case-sensitive"));
  CHECK(case_named(r, "N_symlink").status == "not_a_file");
  CHECK(case_named(r, "O_body").passed());
  CHECK(any_contains(case_named(r, "O_body").warnings, "lesion label covers"));
  CHECK(any_contains(r.set_errors, "Z_stranger.nii.gz", "matches no case"));
  CHECK(any_contains(r.set_warnings, ".DS_Store", "hidden"));
  CHECK(any_contains(r.set_warnings, "README.txt", "left out"));

  // --geometry warn turns the origin error into a warning and nothing else.
  s.geometry_strict = false;
  const PredictionCheck w = check_predictions(s);
  CHECK(case_named(w, "K_origin").passed());
  CHECK(any_contains(case_named(w, "K_origin").warnings, "origin"));
  CHECK(w.n_errors() == r.n_errors() - 1);

  // The CLI: exit 1, no archive, the JSON names the problems.
  const std::string zip = tmp / "s.zip", json = tmp / "c.json";
  const auto cli = lb::test::run_cli("check --cases " + shell_quote(cases.string()) + " --pred " + shell_quote(pred.string()) +
                                     " --zip " + shell_quote(zip) + " --json " + shell_quote(json));
  INFO(cli.out << cli.err);
  CHECK(cli.exit_code == 1);
  CHECK_THAT(cli.out, Catch::Contains("verdict: would fail"));
  CHECK_FALSE(fs::exists(zip));
  const auto j = nlohmann::json::parse(lb::test::read_text(json));
  CHECK(j["passed"] == false);
  CHECK(j["zip"]["written"] == false);
  CHECK(check_schema_errors(json) == "");
}

TEST_CASE("check --pred: every prediction empty is a warning, not an error", "[check]") {
  lb::test::TempDir tmp("check-empty");
  fs::create_directories(tmp.path() / "pred");
  for (const char* n : {"A", "B"}) {
    write_image(tmp.path() / "cases", n);
    lb::test::write_mask(tmp / (std::string("pred/") + n + ".nii.gz"), lb::test::Vol(kDims[0], kDims[1], kDims[2]), kSpacing,
                         kOrigin);
  }
  PredictionCheckSettings s;
  s.cases_dir = tmp.path() / "cases";
  s.pred_dir = tmp.path() / "pred";
  const auto r = check_predictions(s);
  CHECK(r.passed());
  CHECK(any_contains(r.set_warnings, "every prediction is empty"));
}

TEST_CASE("check: exit code 2 when it cannot run, and flags that exclude each other", "[check]") {
  lb::test::TempDir tmp("check-unusable");
  fs::create_directories(tmp.path() / "empty");
  CHECK(lb::test::run_cli("check --cases " + shell_quote(tmp / "nope") + " --pred " + shell_quote(tmp / "empty")).exit_code == 2);
  CHECK(lb::test::run_cli("check --cases " + shell_quote(tmp / "empty") + " --pred " + shell_quote(tmp / "empty")).exit_code == 2);
  CHECK(lb::test::run_cli("check --cases " + shell_quote(tmp / "empty")).exit_code == 2);
  CHECK(lb::test::run_cli("check --cases x --pred y --image z").exit_code == 2);
  CHECK(lb::test::run_cli("check --cases x --image z --zip s.zip").exit_code == 2);
}

TEST_CASE("zip: names must be plain, a damaged archive is caught on reading back", "[check][zip]") {
  lb::test::TempDir tmp("zip");
  { std::ofstream(tmp / "a.bin") << "hello"; }
  CHECK_THAT(write_zip(tmp / "x.zip", {{"sub/a.bin", tmp / "a.bin"}}), Catch::Contains("plain file name"));
  CHECK_THAT(write_zip(tmp / "x.zip", {{".a.bin", tmp / "a.bin"}}), Catch::Contains("plain file name"));
  CHECK_FALSE(fs::exists(tmp / "x.zip"));
  REQUIRE(write_and_verify_zip(tmp / "x.zip", {{"a.bin", tmp / "a.bin"}}).empty());
  const auto ok = read_zip(tmp / "x.zip");
  CHECK(ok.error.empty());
  CHECK(ok.names == std::vector<std::string>{"a.bin"});
  // Flip one byte of the stored data: the CRC no longer matches.
  {
    std::fstream f(tmp / "x.zip", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30 + 5);
    f.put('H');
  }
  CHECK_THAT(read_zip(tmp / "x.zip").error, Catch::Contains("CRC-32"));
}
