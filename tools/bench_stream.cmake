# `sqlift bench stream` (tools/bench_stream.h): the real daemons against a throwaway PostgreSQL.
add_library(sqlift_bench_stream bench_stream.cc bench_stream_work.cc bench_stream_proc.cc)
target_link_libraries(sqlift_bench_stream PUBLIC sqlift_capture sqlift_pgconn sqlift_pgsandbox
                      fmt::fmt)

# bench_stream_main [--json] [--size small|full] [--changes N] [--seconds S] BINARY: the
# benchmark without the CLI, for working on it while cmd_bench.cc does not call it yet.
add_executable(bench_stream_main bench_stream_main.cc)
target_link_libraries(bench_stream_main PRIVATE sqlift_bench_stream)

# The CLI (tools/cmd_bench.cc) calls RunBenchStream.
target_link_libraries(sqlift_cli PUBLIC sqlift_bench_stream)
