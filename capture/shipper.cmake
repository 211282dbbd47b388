# sqlift_shipper: the agent's sending side of the wire protocol (shipper.h) and the packing of
# log records into wire batches (batch_packer.h). Included from capture/CMakeLists.txt.
add_library(sqlift_shipper ${CMAKE_CURRENT_LIST_DIR}/shipper.cc
                           ${CMAKE_CURRENT_LIST_DIR}/shipper_stream.cc
                           ${CMAKE_CURRENT_LIST_DIR}/batch_packer.cc)
target_link_libraries(sqlift_shipper PUBLIC sqlift_transport sqlift_state
                      PRIVATE spdlog::spdlog fmt::fmt)

sqlift_add_test(NAME batch_packer_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/batch_packer_test.cc
                LIBS sqlift_shipper LABELS unit)
