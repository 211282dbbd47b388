# Test helpers. Unit tests sit beside their code; scenario tests live in tests/.
#
#   sqlift_add_test(NAME status_test SOURCES status_test.cc LIBS sqlift_common LABELS unit)
#
# Tests are discovered when ctest runs (PRE_TEST), so building never runs a test binary.
# Label `pg` marks tests that start a throwaway PostgreSQL; they take a lock so that two
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
  set(props LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
  if("pg" IN_LIST T_LABELS)
    list(APPEND props RESOURCE_LOCK postgres)
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST PROPERTIES ${props})
endfunction()
