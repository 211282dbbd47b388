# Routes and fences on PostgreSQL (issue 5): sqlift.route, the fence triggers and ApplyRoute
# (apply/pg_route.h). Included from apply/CMakeLists.txt.
target_sources(sqlift_apply PRIVATE ${CMAKE_CURRENT_LIST_DIR}/pg_route.cc
                                    ${CMAKE_CURRENT_LIST_DIR}/pg_route_sql.cc)
sqlift_add_test(NAME pg_route_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_route_test.cc
                LIBS sqlift_apply sqlift_pgsandbox LABELS pg)
