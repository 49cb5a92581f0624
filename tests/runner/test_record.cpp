// Run records: JSON round trip, null for unmeasured figures, tolerant reading of records.jsonl.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runner/record.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using nlohmann::json;

TEST_CASE("run record round-trips through JSON with every field", "[record]") {
  RunRecord r;
  r.case_name = "C1";
  r.image = "C1_0000.nii.gz";
  r.status = RunStatus::signal;
  r.message = "killed by signal 11 (SIGSEGV)";
  r.notes = {"a", "b"};
  r.exit_code = 139;
  r.signal = 11;
  r.wall_s = 1.25;
  r.output_s = 0.5;
  r.prediction = "predictions/C1.nii.gz";
  r.mode = "batch";
  r.timeout_s = 600;
  r.started_at = "2026-11-26T20:13:10.123Z";
  r.gpu.available = true;
  r.gpu.index = 0;
  r.gpu.name = "GPU";
  r.gpu.total_mib = 81559;
  r.gpu.device_max_mib = 2048;
  r.gpu.device_auc_mib_s = 100.5;
  r.gpu.own_available = true;
  r.gpu.own_max_mib = 1500;
  r.gpu.own_auc_mib_s = 80;
  r.cpu.max_pct = 180;
  r.cpu.auc_pct_s = 90;
  r.cpu.time_s = 0.9;
  r.ram.max_mib = 300;
  r.ram.auc_mib_s = 250;
  r.system.cpu_max_pct = 95;
  r.system.cpu_count = 2;
  r.system.ram_total_mib = 24000;
  r.sampler.interval_ms = 100;
  r.sampler.samples = 13;
  r.sampler.cpu_s = 0.01;
  r.provenance.contestant = "team-a";
  r.provenance.kind = "command";
  r.provenance.launch = {"/bin/sh", "-c", "x"};
  r.files.samples = "samples/C1.csv";
  const json j = r;
  CHECK(j["case"] == "C1");
  CHECK(j["status"] == "signal");
  CHECK(j["schema_version"] == kRunRecordSchemaVersion);
  const RunRecord back = json::parse(j.dump()).get<RunRecord>();
  CHECK(json(back) == j);
  CHECK(back.status == RunStatus::signal);
  CHECK(back.signal == 11);
  CHECK(back.gpu.own_max_mib == 1500);
  CHECK(back.provenance.launch.size() == 3);
}

TEST_CASE("unmeasured and non-finite figures are null, never NaN", "[record]") {
  RunRecord r;
  r.case_name = "C0001";
  r.wall_s = 1;
  r.cpu.max_pct = std::numeric_limits<double>::quiet_NaN();
  const json j = r;
  CHECK(j["gpu"]["device_max_mib"].is_null());
  CHECK(j["cpu"]["max_pct"].is_null());
  CHECK(j["exit_code"].is_null());
  CHECK(j.dump().find("NaN") == std::string::npos);
  const RunRecord back = j.get<RunRecord>();
  CHECK_FALSE(back.cpu.max_pct.has_value());
  CHECK_FALSE(back.exit_code.has_value());
}

TEST_CASE("every status name parses back to itself, unknown names are rejected", "[record]") {
  for (RunStatus s : kAllRunStatuses) CHECK(parse_status(status_name(s)) == s);
  CHECK_FALSE(parse_status("fine").has_value());
  json j = RunRecord{};
  j["status"] = "fine";
  CHECK_THROWS_WITH(j.get<RunRecord>(), Catch::Contains("unknown status 'fine'"));
  j["status"] = "ok";
  j["schema_version"] = "2.0";
  CHECK_THROWS_WITH(j.get<RunRecord>(), Catch::Contains("not supported"));
}

TEST_CASE("records.jsonl reader skips a torn last line and keeps the later record of a case", "[record]") {
  lb::test::TempDir tmp("rec");
  const std::string path = tmp / "records.jsonl";
  RunRecord a, b, a2;
  a.case_name = "A";
  a.status = RunStatus::timeout;
  b.case_name = "B";
  b.status = RunStatus::ok;
  a2.case_name = "A";
  a2.status = RunStatus::ok;
  {
    std::ofstream out(path);
    out << json(a).dump() << "\n" << json(b).dump() << "\n" << json(a2).dump() << "\n";
    const std::string torn = json(b).dump();
    out << torn.substr(0, torn.size() / 2);
  }
  std::vector<std::string> warnings;
  const auto records = read_records_jsonl(path, &warnings);
  REQUIRE(records.size() == 2);
  CHECK(records[0].case_name == "A");
  CHECK(records[0].status == RunStatus::ok);
  CHECK(records[1].case_name == "B");
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("line 4"));
}
