// `report` warns when teams were timed under different conditions (host, launches at once): the records'
// provenance.host and placement.concurrent_max decide, and old records without placement ran alone.
#include <catch2/catch.hpp>

#include "reports/timing_conditions.h"

using namespace lb;
using lb::runner::Placement;
using lb::runner::RunRecord;
using lb::runner::RunStatus;

namespace {
Team team(const std::string& name, const std::string& host, std::optional<int> concurrent_max, int n = 2) {
  Team t;
  t.name = name;
  t.has_records = true;
  for (int i = 0; i < n; ++i) {
    RunRecord r;
    r.case_name = "C" + std::to_string(i);
    r.status = RunStatus::ok;
    r.provenance.host = host;
    if (concurrent_max) {
      Placement p;
      p.slots = 4;
      p.concurrent_max = i == 0 ? 1 : *concurrent_max;  // the first case started alone
      r.placement = p;
    }
    t.records.push_back(r);
  }
  return t;
}
}  // namespace

TEST_CASE("teams timed alone on one host get no warning, and old records without placement count as alone", "[timing]") {
  const Team a = team("a", "node1", std::nullopt), b = team("b", "node1", 1);
  CHECK(timing_conditions(a) == "on node1, one launch at a time");
  CHECK_FALSE(timing_conditions_warning({&a, &b}));
  const Team none;  // predictions made elsewhere: no records, no conditions
  CHECK(timing_conditions(none).empty());
  CHECK_FALSE(timing_conditions_warning({&a, &none}));
}

TEST_CASE("a team timed 4 at a time, or on another host, is named in the warning", "[timing]") {
  const Team a = team("a", "node1", std::nullopt), b = team("b", "node1", 4), c = team("c", "node2", std::nullopt);
  CHECK(timing_conditions(b) == "on node1, up to 4 launches at once");
  auto w = timing_conditions_warning({&a, &b});
  REQUIRE(w);
  CHECK_THAT(*w, Catch::Contains("a on node1, one launch at a time") && Catch::Contains("b on node1, up to 4 launches") &&
                     Catch::Contains("--parallel 1"));
  w = timing_conditions_warning({&a, &c});
  REQUIRE(w);
  CHECK_THAT(*w, Catch::Contains("c on node2"));
  // Same conditions, concurrent for both: nothing to warn about between them.
  const Team d = team("d", "node1", 4);
  CHECK_FALSE(timing_conditions_warning({&b, &d}));
}
