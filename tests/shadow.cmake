# `sqlift shadow` against a throwaway PostgreSQL (the sampler's and the rewriter's unit tests
# are in their wings).

sqlift_add_test(NAME shadow_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/shadow_test.cc
                LIBS sqlift_cli sqlift_testutil sqlift_pgsandbox LABELS pg)
target_compile_definitions(shadow_test PRIVATE SQLIFT_BINARY="$<TARGET_FILE:sqlift>")
add_dependencies(shadow_test sqlift)
