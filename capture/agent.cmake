# sqlift_capture_agent: everything `sqlift capture` runs on the SQLite side.
add_library(sqlift_capture_agent
  ${CMAKE_CURRENT_LIST_DIR}/sqlite_schema.cc
  ${CMAKE_CURRENT_LIST_DIR}/changeset_decoder.cc
  ${CMAKE_CURRENT_LIST_DIR}/wire_value.cc
  ${CMAKE_CURRENT_LIST_DIR}/schema_tracker.cc
  ${CMAKE_CURRENT_LIST_DIR}/outbox_reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/change_watcher.cc
  ${CMAKE_CURRENT_LIST_DIR}/capture_agent.cc
  ${CMAKE_CURRENT_LIST_DIR}/capture_agent_run.cc
  ${CMAKE_CURRENT_LIST_DIR}/data_profiler.cc  # `plan`'s scan of every value
  ${CMAKE_CURRENT_LIST_DIR}/snapshot_reader.cc  # `copy`'s (and the snapshot's) consistent read
  ${CMAKE_CURRENT_LIST_DIR}/sqlite_snapshot_source.cc  # the snapshot the shipper sends
  ${CMAKE_CURRENT_LIST_DIR}/route_writer.cc)  # cutover and fallback change routes
target_link_libraries(sqlift_capture_agent PUBLIC sqlift_capture sqlift_proto sqlift_state
                      spdlog::spdlog fmt::fmt)

sqlift_add_test(NAME capture_agent_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/changeset_decoder_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/capture_agent_test.cc
  LIBS sqlift_capture_agent LABELS unit)
target_sources(capture_agent_test PRIVATE ${CMAKE_CURRENT_LIST_DIR}/testing/session_writer.cc)


sqlift_add_test(NAME snapshot_reader_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/snapshot_reader_test.cc
  LIBS sqlift_capture_agent LABELS unit)

# Fuzzing the changeset decoder (issue 6 part 5): corpus replay in every build, libFuzzer in
# the fuzz preset.
sqlift_add_fuzz_target(NAME changeset_decoder_fuzz
                       FUZZ_SOURCE ${CMAKE_CURRENT_LIST_DIR}/changeset_decoder_fuzz.cc
                       CORPUS ${CMAKE_CURRENT_LIST_DIR}/fuzz/changeset
                       LIBS sqlift_capture_agent)
