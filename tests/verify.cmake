# `sqlift verify` end to end: after `sqlift copy`, chinook matches and the run
# is recorded; planted differences are found with keys and values; equivalent spellings match.
sqlift_add_test(NAME verify_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/verify_test.cc
                LIBS sqlift_testutil sqlift_pg_sink sqlift_sqlite sqlift_pgsandbox LABELS pg)
target_compile_definitions(verify_test PRIVATE
  SQLIFT_BINARY="$<TARGET_FILE:sqlift>"
  SQLIFT_TESTDATA="${PROJECT_SOURCE_DIR}/testdata")
add_dependencies(verify_test sqlift)

# The check a switch runs inside its fence: rows read do not grow with the table, counts come
# from the proof, a changed row that differs is named.
sqlift_add_test(NAME switch_check_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/switch_check_test.cc
                LIBS sqlift_verify sqlift_pgsandbox LABELS pg)
target_compile_definitions(switch_check_test PRIVATE SQLIFT_BINARY="$<TARGET_FILE:sqlift>")
add_dependencies(switch_check_test sqlift)
