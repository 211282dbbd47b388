# sqlift_transport: frames over Asio streams (frame_stream.h), shared by the agent's shipper
# and the applier's receiver. Kept apart from sqlift_proto so that the log, the decoder and the
# fuzz target do not pull in Asio. Included from proto/CMakeLists.txt.
add_library(sqlift_transport ${CMAKE_CURRENT_LIST_DIR}/frame_stream.cc)
target_link_libraries(sqlift_transport PUBLIC sqlift_proto Boost::headers Threads::Threads
                      OpenSSL::SSL OpenSSL::Crypto PRIVATE fmt::fmt)
# Asio's awaitable needs C++20 coroutines; g++ 12 enables them with -std=c++20.
target_compile_features(sqlift_transport PUBLIC cxx_std_20)
# GCC 12 at -O2 reports Asio's awaitable frame allocator (operator new/delete of its own) as
# mismatched new/delete, a known false positive inside Boost's headers; -Werror in CI would
# otherwise stop the build. The flag travels to every target that compiles coroutines.
target_compile_options(sqlift_transport PUBLIC
                       $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
