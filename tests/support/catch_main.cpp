// The Catch2 main of every test executable. It says on stderr which real-data folder the tests use (tests
// that need it skip when it is absent). Under ctest (LB_CTEST=1) podman reads an empty configuration, so
// container tests prove that lesionbench needs no machine setting even where
// /etc/containers/containers.conf exists.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "tests/support/test_support.h"

int main(int argc, char* argv[]) {
  const char* ctest = std::getenv("LB_CTEST");
  if (ctest && std::string(ctest) == "1") ::setenv("CONTAINERS_CONF", LB_EMPTY_CONTAINERS_CONF, 1);
  bool listing = false;  // catch_discover_tests lists the tests at build time: no message then
  for (int i = 1; i < argc; ++i) listing |= std::string(argv[i]).rfind("--list", 0) == 0;
  if (!listing)
    std::cerr << "test data: " << lb::test::data_dir_description()
              << (std::filesystem::exists(lb::test::data_dir()) ? "" : " - absent; tests that need it skip") << "\n";
  return Catch::Session().run(argc, argv);
}
