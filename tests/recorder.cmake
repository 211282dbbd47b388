# Recorder scenarios with several processes
# (included from tests/CMakeLists.txt).

# A writer process that the crash test kills at chosen points of a transaction.
add_executable(recorder_test_writer ${CMAKE_CURRENT_LIST_DIR}/tools/test_writer.cc)
target_link_libraries(recorder_test_writer PRIVATE sqlift_recorder)

sqlift_add_test(NAME recorder_crash_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/recorder_crash_test.cc
  LIBS sqlift_recorder_testutil sqlift_testutil LABELS e2e)
target_compile_definitions(recorder_crash_test PRIVATE
  SQLIFT_TEST_WRITER="$<TARGET_FILE:recorder_test_writer>")
add_dependencies(recorder_crash_test recorder_test_writer)
