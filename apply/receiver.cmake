# sqlift_receiver: the applier's listening side of the wire protocol (receiver.h) and the
# BatchSink seam with its in-memory fake (batch_sink.h). Included from apply/CMakeLists.txt.
add_library(sqlift_receiver ${CMAKE_CURRENT_LIST_DIR}/receiver.cc
                            ${CMAKE_CURRENT_LIST_DIR}/receiver_session.cc
                            ${CMAKE_CURRENT_LIST_DIR}/mem_batch_sink.cc)
target_link_libraries(sqlift_receiver PUBLIC sqlift_transport sqlift_common
                      PRIVATE spdlog::spdlog fmt::fmt)
