// `sqlift bench capture` runs end to end on a small workload and prints every figure. No
// timing is asserted: only that the run completes and reports positive rates.
#include "tools/bench/bench_capture.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace sqlift {
namespace {

TEST(BenchCaptureTest, JsonHasEveryFigure) {
  std::ostringstream out, err;
  BenchCaptureOptions o;
  o.json = true;
  o.transactions = 50;
  o.rounds = 1;
  o.lag_txn_per_s = 500;
  o.lag_seconds = 0.1;
  o.out = &out;
  o.err = &err;
  ASSERT_EQ(RunBenchCapture(o), 0) << err.str();
  std::regex shape(
      R"(\{"baseline_txn_per_s": [0-9.]+, "recorder_txn_per_s": [0-9.]+, "ratio": [0-9.]+, )"
      R"("overhead_ms_per_txn": -?[0-9.]+, "transactions": 50, "rounds": 1, )"
      R"("wal_txn_per_s": [0-9.]+, "wal_ratio": [0-9.]+, "wal_overhead_ms_per_txn": -?[0-9.]+, )"
      R"("wal_agent_cpu_ms_per_1000_txn": [0-9.]+, "wal_catch_up_ms": [0-9.]+, )"
      R"("wal_restarts": [0-9.]+, "wal_writers_held_max_ms": [0-9.]+, )"
      R"("wal_growing_txn_per_s": [0-9.]+, "wal_growing_ratio": [0-9.]+, )"
      R"("wal_decode_changes_per_s": [0-9.]+, "wal_decode_changes": 100, )"
      R"("wal_lag_p50_ms": -?[0-9.]+, "wal_lag_p99_ms": -?[0-9.]+, "wal_lag_max_ms": -?[0-9.]+, )"
      R"("wal_lag_txn_per_s": [0-9.]+, "wal_lag_transactions": [1-9][0-9]*, )"
      R"("wal_lag_offered_txn_per_s": 500(\.0)?, "wal_lag_agent_cpu_ms_per_1000_txn": [0-9.]+, )"
      R"("wal_lag_wal_max_mb": [0-9.]+, "wal_lag_restarts": [0-9]+, )"
      R"("wal_lag_writers_held_max_ms": [0-9.]+, "wal_growing_lag_wal_max_mb": [0-9.]+, )"
      R"("wal_growing_lag_p99_ms": -?[0-9.]+\}\n)");
  EXPECT_TRUE(std::regex_match(out.str(), shape)) << out.str();
}

TEST(BenchCaptureTest, TextAndBadOptions) {
  std::ostringstream out, err;
  BenchCaptureOptions o;
  o.transactions = 20;
  o.rounds = 2;
  o.lag_seconds = 0.1;
  o.out = &out;
  o.err = &err;
  ASSERT_EQ(RunBenchCapture(o), 0) << err.str();
  for (const char* line : {"with recorder", "with wal agent", "agent CPU", "catch-up",
                           "WAL restarts", "WAL growing", "decode rate", "lag p99", "WAL size"})
    EXPECT_NE(out.str().find(line), std::string::npos) << line << " in " << out.str();
  o.rounds = 0;
  EXPECT_EQ(RunBenchCapture(o), 2);
  o.rounds = 1;
  o.lag_seconds = 0;
  EXPECT_EQ(RunBenchCapture(o), 2);
}

}  // namespace
}  // namespace sqlift
