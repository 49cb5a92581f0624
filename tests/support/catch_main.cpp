// The Catch2 main of every test executable. Under ctest (LB_CTEST=1) podman reads an empty configuration,
// so container tests prove that lesionbench needs no machine setting even where
// /etc/containers/containers.conf exists.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

int main(int argc, char* argv[]) {
  const char* ctest = std::getenv("LB_CTEST");
  if (ctest && std::string(ctest) == "1") ::setenv("CONTAINERS_CONF", LB_EMPTY_CONTAINERS_CONF, 1);
  return Catch::Session().run(argc, argv);
}
