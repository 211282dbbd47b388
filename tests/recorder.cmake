# Recorder scenarios with several processes, and the capture benchmark
# (included from tests/CMakeLists.txt).

# A writer process that the crash test kills at chosen points of a transaction.
add_executable(recorder_test_writer ${CMAKE_CURRENT_LIST_DIR}/tools/test_writer.cc)
target_link_libraries(recorder_test_writer PRIVATE sqlift_capture)

sqlift_add_test(NAME recorder_crash_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/recorder_crash_test.cc
  LIBS sqlift_recorder_testutil sqlift_testutil LABELS e2e)
target_compile_definitions(recorder_crash_test PRIVATE
  SQLIFT_TEST_WRITER="$<TARGET_FILE:recorder_test_writer>")
add_dependencies(recorder_crash_test recorder_test_writer)

sqlift_add_test(NAME bench_capture_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_capture_test.cc
  LIBS sqlift_bench_capture LABELS unit)
