# The migration run by a plain (non-superuser) applier login holding exactly the README's
# grants. Included from tests/CMakeLists.txt.
sqlift_add_test(NAME least_privilege_e2e_test
                SOURCES ${CMAKE_CURRENT_LIST_DIR}/least_privilege_e2e_test.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/migration_scenario.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/migration_scenario_checks.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/switch_fixture.cc
                LIBS sqlift_testutil sqlift_table_compare sqlift_pgsandbox sqlift_demo LABELS pg TIMEOUT 300)
target_compile_definitions(least_privilege_e2e_test PRIVATE
  SQLIFT_BINARY="$<TARGET_FILE:sqlift>"
  SQLIFT_TESTDATA="${PROJECT_SOURCE_DIR}/testdata")
add_dependencies(least_privilege_e2e_test sqlift)
