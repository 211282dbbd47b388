# Test helpers. Unit tests sit beside their code; scenario tests live in tests/.
#
#   sqlift_add_test(NAME status_test SOURCES status_test.cc LIBS sqlift_common LABELS unit)
#
# Tests are discovered when ctest runs (PRE_TEST), so building never runs a test binary.
# Labels: `unit` (in-process, no server), `e2e` (runs the sqlift binary or several processes,
# no PostgreSQL), `pg` (starts a throwaway PostgreSQL). `pg` tests take a lock so that two
# clusters never compete for the 2 cores of a CI machine at once.
enable_testing()
include(GoogleTest)

function(sqlift_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  # One label per test: CMake 3.25's gtest_discover_tests flattens list-valued properties.
  list(LENGTH T_LABELS n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "sqlift_add_test(${T_NAME}): give exactly one label (unit, pg, e2e)")
  endif()
  if(T_LABELS STREQUAL "pg")
    # One ctest test for the whole binary, so its cases share one throwaway cluster (initdb
    # is most of a test's cost) instead of starting one per case.
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    set_tests_properties(${T_NAME} PROPERTIES LABELS pg TIMEOUT ${T_TIMEOUT} RESOURCE_LOCK postgres)
  else()
    gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST TEST_PREFIX "${T_NAME}."
                         PROPERTIES LABELS ${T_LABELS} TIMEOUT ${T_TIMEOUT})
  endif()
endfunction()
