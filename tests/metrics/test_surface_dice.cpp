#include <catch2/catch.hpp>

#include "metrics/case_scores.h"
#include "tests/support/test_support.h"

using namespace lb;
using lb::test::Vol;

TEST_CASE("identical cubes have NSD 1 and DSC 1", "[nsd]") {
  Vol g(10, 10, 10);
  g.box({2, 2, 2}, {6, 6, 6});
  const auto s = score_case(g.v.data(), g.v.data(), g.dims, {1, 1, 1}, {});
  CHECK(s.dsc == 1.0);
  CHECK(s.nsd == 1.0);
}
