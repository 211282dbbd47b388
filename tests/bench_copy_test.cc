// `sqlift bench copy` runs end to end on a tiny database and prints every figure. No timing is
// asserted: only that both loads complete, hold the same rows, and the output has its shape.
#include "tools/bench/bench_copy.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace sqlift {
namespace {

BenchCopyOptions Tiny(std::ostringstream* out, std::ostringstream* err) {
  BenchCopyOptions o;
  o.bookings = 2000;
  o.rooms = 50;
  o.sqlift_binary = SQLIFT_BINARY;  // this test binary is not sqlift
  o.out = out;
  o.err = err;
  return o;
}

TEST(BenchCopyTest, JsonHasEveryFigure) {
  std::ostringstream out, err;
  BenchCopyOptions o = Tiny(&out, &err);
  o.json = true;
  ASSERT_EQ(RunBenchCopy(o), 0) << err.str();
  // 2,000 bookings + 50 rooms + 200 users, 7 business hours and 5 settings.
  std::regex shape(
      R"(\{"rows": 2262, "bookings": 2000, "rooms": 50, "pipe_seconds": [0-9.]+, )"
      R"("pipe_rows_per_s": [0-9]+, "sqlift_seconds": [0-9.]+, "sqlift_rows_per_s": [0-9]+, )"
      R"("ratio": [0-9.]+, "ratio_target": 1.2, "sqlift_peak_rss_mb": [0-9.]+, )"
      R"("rss_target_mb": 256, "jobs": 1, "rounds": 1, "identical": true\}\n)");
  EXPECT_TRUE(std::regex_match(out.str(), shape)) << out.str();
}

TEST(BenchCopyTest, TextAndBadOptions) {
  std::ostringstream out, err;
  BenchCopyOptions o = Tiny(&out, &err);
  o.jobs = 2;
  ASSERT_EQ(RunBenchCopy(o), 0) << err.str();
  EXPECT_NE(out.str().find("sqlift copy --jobs 2"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("peak RSS"), std::string::npos) << out.str();
  o.rounds = 0;
  EXPECT_EQ(RunBenchCopy(o), 2);
}

}  // namespace
}  // namespace sqlift
