# Transport scenarios: Shipper -> Receiver -> MemBatchSink over loopback,
# with cut connections, refusals, garbage, oversized frames, a slow loris and back-pressure.
# Included from tests/CMakeLists.txt.

sqlift_add_test(NAME transport_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/transport_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/transport_abuse_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/transport_snapshot_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/transport_tls_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/testutil/transport_fixture.cc
  LIBS sqlift_receiver sqlift_shipper sqlift_testutil LABELS unit)
