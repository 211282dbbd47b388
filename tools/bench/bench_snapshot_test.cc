// `sqlift bench snapshot` runs end to end on a tiny database and prints every figure. No
// timing is asserted: only that both loads complete, hold the same rows, and the output has
// its shape.
#include "tools/bench/bench_snapshot.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace sqlift {
namespace {

BenchSnapshotOptions Tiny(std::ostringstream* out, std::ostringstream* err) {
  BenchSnapshotOptions o;
  o.bookings = 2000;
  o.rooms = 50;
  o.binary = SQLIFT_BINARY;  // this test binary is not sqlift
  o.timeout = std::chrono::seconds(300);
  o.out = out;
  o.err = err;
  return o;
}

TEST(BenchSnapshotTest, JsonHasEveryFigure) {
  std::ostringstream out, err;
  BenchSnapshotOptions o = Tiny(&out, &err);
  o.json = true;
  ASSERT_EQ(RunBenchSnapshot(o), 0) << err.str();
  // 2,000 bookings + 50 rooms + 200 users, 7 business hours and 5 settings.
  std::regex shape(
      R"(\{"rows": 2262, "bookings": 2000, "rooms": 50, "copy_seconds": [0-9.]+, )"
      R"("copy_rows_per_s": [0-9]+, "snapshot_seconds": [0-9.]+, "snapshot_rows_per_s": [0-9]+, )"
      R"("snapshot_init_seconds": [0-9.]+, "ratio": [0-9.]+, "ratio_target": 0.9, "jobs": 1, )"
      R"("rounds": 1, "identical": true\}\n)");
  EXPECT_TRUE(std::regex_match(out.str(), shape)) << out.str();
}

TEST(BenchSnapshotTest, TextAndBadOptions) {
  std::ostringstream out, err;
  BenchSnapshotOptions o = Tiny(&out, &err);
  o.rounds = 2;  // the second round loads in the other order
  ASSERT_EQ(RunBenchSnapshot(o), 0) << err.str();
  EXPECT_NE(out.str().find("snapshot: init + apply + capture (wal)"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("ratio copy time / snapshot time"), std::string::npos) << out.str();
  o.rounds = 0;
  EXPECT_EQ(RunBenchSnapshot(o), 2);
}

}  // namespace
}  // namespace sqlift
