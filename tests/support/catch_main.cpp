// The Catch2 main of every test executable, plus one line on stderr at the start of each run saying which
// real-data folder the tests use (tests that need it skip with a WARN when it is absent).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>

#include "tests/support/test_support.h"

namespace {

struct DataFolderListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testRunStarting(const Catch::TestRunInfo&) override {
    std::cerr << "test data: " << lb::test::data_dir_description()
              << (std::filesystem::exists(lb::test::data_dir()) ? "" : " - absent; tests that need it skip") << "\n";
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(DataFolderListener)
