# `sqlift plan` end to end: chinook and a commerce database with planted bad values, and the
# generated DDL executed on a throwaway PostgreSQL to prove it is valid SQL.
sqlift_add_test(NAME plan_test SOURCES plan_test.cc
                LIBS sqlift_testutil sqlift_apply sqlift_pgsandbox LABELS pg)
target_compile_definitions(plan_test PRIVATE
  SQLIFT_BINARY="$<TARGET_FILE:sqlift>"
  SQLIFT_SHARED_DATA="${PROJECT_SOURCE_DIR}/../shared/data"
  SQLIFT_TESTDATA="${PROJECT_SOURCE_DIR}/testdata")
add_dependencies(plan_test sqlift)
