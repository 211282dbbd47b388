# Shadow reads (issue 5 part 2): the sampler, its log and the SQL lexer (capture/, unit; it also
# loads the extension in-process for sqlift_shadow()), the replayer's text questions, comparison
# and report forms (unit), and `sqlift shadow` against a throwaway PostgreSQL (pg).
sqlift_add_test(NAME shadow_sampler_test
                SOURCES ${PROJECT_SOURCE_DIR}/capture/shadow_sampler_test.cc
                LIBS sqlift_recorder_testutil ${CMAKE_DL_LIBS} LABELS unit)
add_dependencies(shadow_sampler_test sqlift_capture_ext)
target_compile_definitions(shadow_sampler_test PRIVATE
  SQLIFT_CAPTURE_EXT="$<TARGET_FILE:sqlift_capture_ext>")

sqlift_add_test(NAME shadow_sql_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/shadow_sql_test.cc
                LIBS sqlift_cli LABELS unit)

sqlift_add_test(NAME shadow_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/shadow_test.cc
                LIBS sqlift_cli sqlift_testutil sqlift_pgsandbox LABELS pg)
target_compile_definitions(shadow_test PRIVATE SQLIFT_BINARY="$<TARGET_FILE:sqlift>")
add_dependencies(shadow_test sqlift)
