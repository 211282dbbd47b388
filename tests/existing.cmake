# [target] schema_mode = "existing": plan and copy against a Prisma-style schema deployed first.
sqlift_add_test(NAME existing_schema_e2e_test SOURCES existing_schema_e2e_test.cc
                LIBS sqlift_testutil sqlift_sqlite sqlift_pgconn sqlift_pgsandbox LABELS pg)
target_compile_definitions(existing_schema_e2e_test PRIVATE SQLIFT_BINARY="$<TARGET_FILE:sqlift>")
add_dependencies(existing_schema_e2e_test sqlift)

# The applier (snapshot, then streamed changes) into the same kind of schema, capture in WAL mode.
sqlift_add_test(NAME existing_apply_e2e_test SOURCES existing_apply_e2e_test.cc
                LIBS sqlift_testutil sqlift_sqlite sqlift_pgconn sqlift_pgsandbox LABELS pg
                TIMEOUT 600)
target_compile_definitions(existing_apply_e2e_test PRIVATE SQLIFT_BINARY="$<TARGET_FILE:sqlift>")
add_dependencies(existing_apply_e2e_test sqlift)
