// bench_stream_main [--json] [--size small|full] [--changes N] [--seconds S] [--dir D] BINARY:
// RunBenchStream without the sqlift command line, BINARY being the sqlift executable to run.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/base/parse.h"
#include "tools/bench/bench_stream.h"

int main(int argc, char** argv) {
  sqlift::BenchStreamOptions o;
  o.binary.clear();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--json") {
      o.json = true;
    } else if (a == "--size" && has_value) {
      o.size = argv[++i];
    } else if (a == "--changes" && has_value) {
      sqlift::Result<int64_t> changes = sqlift::ParseInt64(argv[++i], "--changes");
      if (!changes.ok()) {
        std::fprintf(stderr, "%s\n", changes.status().ToString().c_str());
        return 2;
      }
      o.changes = *changes;
    } else if (a == "--seconds" && has_value) {
      sqlift::Result<double> seconds = sqlift::ParseDouble(argv[++i], "--seconds");
      if (!seconds.ok()) {
        std::fprintf(stderr, "%s\n", seconds.status().ToString().c_str());
        return 2;
      }
      o.seconds = *seconds;
    } else if (a == "--dir" && has_value) {
      o.dir = argv[++i];
    } else if (a[0] != '-' && o.binary.empty()) {
      o.binary = a;
    } else {
      o.binary.clear();
      break;
    }
  }
  if (o.binary.empty()) {
    std::fprintf(stderr,
                 "usage: bench_stream_main [--json] [--size small|full] [--changes N] "
                 "[--seconds S] [--dir D] SQLIFT_BINARY\n");
    return 2;
  }
  return sqlift::RunBenchStream(o);
}
