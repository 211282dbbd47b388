#include "common/base/clock.h"

#include <gtest/gtest.h>

#include <chrono>

namespace sqlift {
namespace {

TEST(ClockTest, NowMicrosIsTheSystemClockInMicroseconds) {
  auto micros = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t before = micros();
  int64_t now = NowMicros();
  int64_t after = micros();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

TEST(ClockTest, SteadyNowMicrosNeverGoesBack) {
  int64_t first = SteadyNowMicros();
  EXPECT_LE(first, SteadyNowMicros());
}

TEST(ClockTest, FormatMicrosUtc) {
  EXPECT_EQ(FormatMicrosUtc(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatMicrosUtc(1'795'305'256'123'456), "2026-11-21T23:54:16.123456Z");
  EXPECT_EQ(FormatMicrosUtc(-1), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace sqlift
