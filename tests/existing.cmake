# [target] schema_mode = "existing": plan and copy against a Prisma-style schema deployed first.
sqlift_add_test(NAME existing_schema_e2e_test SOURCES existing_schema_e2e_test.cc
                LIBS sqlift_testutil sqlift_sqlite sqlift_pgconn sqlift_pgsandbox LABELS pg)
target_compile_definitions(existing_schema_e2e_test PRIVATE SQLIFT_BINARY="$<TARGET_FILE:sqlift>")
add_dependencies(existing_schema_e2e_test sqlift)
