# Generates version.cpp with the project version and the git commit at build time
# (rewritten only when the commit changes, so it does not force relinks).
set(LB_VERSION_CPP ${CMAKE_BINARY_DIR}/generated/version.cpp)
add_custom_target(lb_version_stamp
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${LB_VERSION_CPP}
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/write_version.cmake
  BYPRODUCTS ${LB_VERSION_CPP}
  COMMENT "Stamping version")
add_library(lesionbench_version STATIC ${LB_VERSION_CPP})
add_dependencies(lesionbench_version lb_version_stamp)
target_include_directories(lesionbench_version PUBLIC ${CMAKE_SOURCE_DIR})
