# Chaos: everything killed again and again under writers; exactly once at the
# end. Reduced size in CI; SQLIFT_CHAOS_SIZE=full for the full run (see chaos_test.cc).
sqlift_add_test(NAME chaos_test
                SOURCES ${CMAKE_CURRENT_LIST_DIR}/chaos_test.cc
                        ${CMAKE_CURRENT_LIST_DIR}/../testutil/replication_scenario.cc
                LIBS sqlift_testutil sqlift_table_compare sqlift_pgsandbox sqlift_snapshot LABELS pg TIMEOUT 3600)
target_compile_definitions(chaos_test PRIVATE
  SQLIFT_BINARY="$<TARGET_FILE:sqlift>"
  SQLIFT_WORKLOAD_WRITER="$<TARGET_FILE:workload_writer>"
  SQLIFT_CAPTURE_EXTENSION="$<TARGET_FILE:sqlift_capture_ext>")
add_dependencies(chaos_test sqlift workload_writer sqlift_capture_ext)
