# Both sides of a table read and normalized independently of sqlift's value code.
add_library(sqlift_table_compare testutil/table_compare.cc)
target_link_libraries(sqlift_table_compare PUBLIC sqlift_capture sqlift_pgconn)

# `sqlift copy` end to end (issue 4, part 3): chinook compared row by row, dead letters, refusals.
sqlift_add_test(NAME copy_test SOURCES copy_test.cc
                LIBS sqlift_testutil sqlift_table_compare sqlift_apply sqlift_pgsandbox LABELS pg)
target_compile_definitions(copy_test PRIVATE
  SQLIFT_BINARY="$<TARGET_FILE:sqlift>"
  SQLIFT_SHARED_DATA="${PROJECT_SOURCE_DIR}/../shared/data"
  SQLIFT_TESTDATA="${PROJECT_SOURCE_DIR}/testdata")
add_dependencies(copy_test sqlift)
