# Reverse replication (issue 5): PostgreSQL transactions (proto/pg_change.h) applied into SQLite
# after cutover. Part of the agent library; no libpq, nothing from apply/.
target_sources(sqlift_capture_agent PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/pg_text_value.cc
  ${CMAKE_CURRENT_LIST_DIR}/reverse_writer.cc
  ${CMAKE_CURRENT_LIST_DIR}/reverse_tenant.cc
  ${CMAKE_CURRENT_LIST_DIR}/reverse_applier.cc)

sqlift_add_test(NAME reverse_applier_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/reverse_applier_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/reverse_tenant_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/pg_text_value_test.cc
  LIBS sqlift_capture_agent LABELS unit)
