# Reverse replication's reader (issue 5): the pgoutput decoder, the replication stream and the
# admin SQL of publications, slots, origins and markers. Included from apply/CMakeLists.txt.
target_sources(sqlift_apply PRIVATE ${CMAKE_CURRENT_LIST_DIR}/pgoutput_decoder.cc
               ${CMAKE_CURRENT_LIST_DIR}/pg_logical_stream.cc
               ${CMAKE_CURRENT_LIST_DIR}/pg_replication_conn.cc
               ${CMAKE_CURRENT_LIST_DIR}/pg_replication_admin.cc)

sqlift_add_test(NAME pgoutput_decoder_test
                SOURCES ${CMAKE_CURRENT_LIST_DIR}/pgoutput_decoder_test.cc
                LIBS sqlift_apply LABELS unit)
sqlift_add_test(NAME pg_replication_admin_test
                SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_replication_admin_test.cc
                LIBS sqlift_apply LABELS unit)
sqlift_add_test(NAME pg_logical_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_logical_test.cc
                LIBS sqlift_apply sqlift_pgsandbox LABELS pg)

# Fuzzing the decoder: corpus replay in every build, libFuzzer in the fuzz preset.
sqlift_add_fuzz_target(NAME pgoutput_decoder_fuzz
                       FUZZ_SOURCE ${CMAKE_CURRENT_LIST_DIR}/pgoutput_decoder_fuzz.cc
                       CORPUS ${CMAKE_CURRENT_LIST_DIR}/fuzz/pgoutput
                       LIBS sqlift_apply)
