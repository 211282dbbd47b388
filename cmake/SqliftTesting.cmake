# Test helpers. Unit tests sit beside their code; scenario tests live in tests/.
#
#   sqlift_add_test(NAME status_test SOURCES status_test.cc LIBS sqlift_base LABELS unit)
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

# A libFuzzer target whose entry point (LLVMFuzzerTestOneInput in FUZZ_SOURCE) also runs over
# its seed corpus in every build, as the unit test <NAME>_corpus_test, so the target keeps
# compiling and every input found by fuzzing stays a regression test (drop it in CORPUS).
# With SQLIFT_FUZZ (the fuzz preset) it is also built with -fsanitize=fuzzer and run for a
# short bounded time as the `fuzz`-labelled test <NAME> (longer: tools/fuzz.sh). libFuzzer adds
# new inputs to the first corpus directory, so the seeds are copied into the build tree first.
function(sqlift_add_fuzz_target)
  cmake_parse_arguments(F "" "NAME;FUZZ_SOURCE;CORPUS;SECONDS" "LIBS" ${ARGN})
  if(NOT F_SECONDS)
    set(F_SECONDS 15)
  endif()
  sqlift_add_test(NAME ${F_NAME}_corpus_test
                  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz_corpus_test.cc ${F_FUZZ_SOURCE}
                  LIBS ${F_LIBS} LABELS unit)
  target_compile_definitions(${F_NAME}_corpus_test PRIVATE SQLIFT_FUZZ_CORPUS="${F_CORPUS}")
  if(SQLIFT_FUZZ)
    add_executable(${F_NAME} ${F_FUZZ_SOURCE})
    target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
    target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/${F_NAME}.work)
    file(MAKE_DIRECTORY ${work})
    add_test(NAME ${F_NAME}_seed COMMAND ${CMAKE_COMMAND} -E copy_directory ${F_CORPUS} ${work}/corpus)
    add_test(NAME ${F_NAME}
             COMMAND ${F_NAME} -max_total_time=${F_SECONDS} -timeout=10 -artifact_prefix=${work}/
                     ${work}/corpus
             WORKING_DIRECTORY ${work})
    set_tests_properties(${F_NAME}_seed PROPERTIES LABELS fuzz FIXTURES_SETUP ${F_NAME}_seed)
    set_tests_properties(${F_NAME} PROPERTIES LABELS fuzz TIMEOUT 300
                         FIXTURES_REQUIRED ${F_NAME}_seed)
  endif()
endfunction()
