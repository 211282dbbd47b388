// `sqlift bench all`: the four benchmarks (capture, copy, stream, snapshot) in one run and one
// table (tools/bench/bench_all.cc).
// Thread safety: one call at a time; runs on the calling thread.
#pragma once

#include <iostream>
#include <string>

namespace sqlift {

struct BenchAllOptions {
  bool json = false;
  std::string size = "small";  // small | full
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
};

// 0 when every benchmark ran (targets are for the reader), 1 when one failed.
int RunBenchAll(const BenchAllOptions& options);

}  // namespace sqlift
