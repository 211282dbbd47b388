# `sqlift bench copy` (its output, never its timing) and the copy loader's binary COPY against
# its text COPY, value by value, on a throwaway PostgreSQL.
sqlift_add_test(NAME bench_copy_test SOURCES bench_copy_test.cc copy_binary_test.cc
                LIBS sqlift_bench sqlift_pg_sink sqlift_pgsandbox sqlift_proto_testutil LABELS pg
                TIMEOUT 600)
target_compile_definitions(bench_copy_test PRIVATE SQLIFT_BINARY="$<TARGET_FILE:sqlift>")
add_dependencies(bench_copy_test sqlift)
