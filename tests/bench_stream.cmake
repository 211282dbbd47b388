# `sqlift bench stream` at a tiny size: its output, never its timing.
sqlift_add_test(NAME bench_stream_test SOURCES bench_stream_test.cc
                LIBS sqlift_bench LABELS pg TIMEOUT 600)
target_compile_definitions(bench_stream_test PRIVATE SQLIFT_BINARY="$<TARGET_FILE:sqlift>")
add_dependencies(bench_stream_test sqlift)
