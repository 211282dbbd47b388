# Cutover, fallback, verify and finish through the real daemons, under
# writers in the test process that follow the route (tools/demo/route_writer.h), checked
# on data with plain SQL and tests/testutil/table_compare.h. Included from tests/CMakeLists.txt.
sqlift_add_test(NAME switch_e2e_test
                SOURCES ${CMAKE_CURRENT_LIST_DIR}/switch_e2e_test.cc
                        ${CMAKE_CURRENT_LIST_DIR}/switch_failures_e2e_test.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/migration_scenario.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/migration_scenario_checks.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/switch_fixture.cc
                LIBS sqlift_testutil sqlift_table_compare sqlift_pgsandbox sqlift_demo LABELS pg TIMEOUT 600)
target_compile_definitions(switch_e2e_test PRIVATE
  SQLIFT_BINARY="$<TARGET_FILE:sqlift>"
  SQLIFT_TESTDATA="${PROJECT_SOURCE_DIR}/testdata")
add_dependencies(switch_e2e_test sqlift)

# Database per tenant: three SQLite files, each its own source with its own daemons,
# into one PostgreSQL schema (tests/testutil/tenant_files_scenario.h).
sqlift_add_test(NAME tenant_files_e2e_test
                SOURCES ${CMAKE_CURRENT_LIST_DIR}/tenant_files_e2e_test.cc
                        ${CMAKE_CURRENT_LIST_DIR}/tenant_files_bugs_e2e_test.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/migration_scenario.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/migration_scenario_checks.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/switch_fixture.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/tenant_files_fixture.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/tenant_files_scenario.cc
                LIBS sqlift_testutil sqlift_table_compare sqlift_pgsandbox sqlift_demo LABELS pg TIMEOUT 300)
target_compile_definitions(tenant_files_e2e_test PRIVATE
  SQLIFT_BINARY="$<TARGET_FILE:sqlift>"
  SQLIFT_TESTDATA="${PROJECT_SOURCE_DIR}/testdata")
add_dependencies(tenant_files_e2e_test sqlift)

# Cutover and fallback killed at random points, at least 20 times, under a route-following
# writer: one side open at a time, never fenced for good, nothing lost.
sqlift_add_test(NAME switch_kill_e2e_test
                SOURCES ${CMAKE_CURRENT_LIST_DIR}/switch_kill_e2e_test.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/migration_scenario.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/migration_scenario_checks.cc
                        ${CMAKE_CURRENT_LIST_DIR}/testutil/switch_fixture.cc
                LIBS sqlift_testutil sqlift_table_compare sqlift_pgsandbox sqlift_demo LABELS pg TIMEOUT 600)
target_compile_definitions(switch_kill_e2e_test PRIVATE
  SQLIFT_BINARY="$<TARGET_FILE:sqlift>"
  SQLIFT_TESTDATA="${PROJECT_SOURCE_DIR}/testdata")
add_dependencies(switch_kill_e2e_test sqlift)
