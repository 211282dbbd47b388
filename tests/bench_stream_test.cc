// `sqlift bench stream` runs end to end at a tiny size (the real daemons, a throwaway
// PostgreSQL) and prints every figure. No timing is asserted: only that the run completes and
// each figure is a positive number.
#include "tools/bench/bench_stream.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace sqlift {
namespace {

TEST(BenchStreamTest, JsonHasEveryFigure) {
  std::ostringstream out, err;
  BenchStreamOptions o;
  o.json = true;
  o.changes = 500;
  o.seconds = 0.5;
  o.binary = SQLIFT_BINARY;
  o.out = &out;
  o.err = &err;
  ASSERT_EQ(RunBenchStream(o), 0) << err.str();
  const std::string json = out.str();
  for (const char* key :
       {"stream_changes_per_s", "stream_writer_changes_per_s", "sqlite_changes_per_s",
        "direct_pg_changes_per_s", "stream_vs_direct_pg", "stream_vs_sqlite",
        "offered_changes_per_s", "lag_p50_ms", "lag_p99_ms", "lag_max_ms", "lag_rows", "changes",
        "paced_seconds", "target_changes_per_s", "target_lag_p99_ms"}) {
    std::smatch m;
    std::regex value(std::string("\"") + key + R"(": ([0-9.]+)[,}])");
    ASSERT_TRUE(std::regex_search(json, m, value)) << key << " missing in " << json;
    EXPECT_GT(std::stod(m[1]), 0) << key << " in " << json;
  }
  EXPECT_NE(json.find("\"changes\": 500,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"target_changes_per_s\": 20000,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"target_lag_p99_ms\": 1000}"), std::string::npos) << json;
}

TEST(BenchStreamTest, BadOptions) {
  std::ostringstream out, err;
  BenchStreamOptions o;
  o.out = &out;
  o.err = &err;
  o.size = "huge";
  EXPECT_EQ(RunBenchStream(o), 2);
  o.size = "small";
  o.changes = 5;  // less than one transaction
  EXPECT_EQ(RunBenchStream(o), 2);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace sqlift
