#include "common/base/parse.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace sqlift {
namespace {

TEST(ParseTest, Int64) {
  EXPECT_EQ(*ParseInt64("0", "n"), 0);
  EXPECT_EQ(*ParseInt64("-42", "n"), -42);
  EXPECT_EQ(*ParseInt64("9223372036854775807", "n"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*ParseInt64("-9223372036854775808", "n"), std::numeric_limits<int64_t>::min());
}

TEST(ParseTest, Int64RejectsWhatIsNotAllANumber) {
  for (const char* bad : {"", " 1", "1 ", "12x", "x12", "+", "-", "1.5", "0x10"}) {
    Result<int64_t> r = ParseInt64(bad, "port");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(r.status().message(), std::string("port: '") + bad + "' is not a 64-bit integer");
  }
}

TEST(ParseTest, Int64OutOfRange) {
  Result<int64_t> r = ParseInt64("9223372036854775808", "seq");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "seq: '9223372036854775808' is out of range for a 64-bit integer");
}

TEST(ParseTest, Uint64) {
  EXPECT_EQ(*ParseUint64("18446744073709551615", "n"), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(ParseUint64("-1", "n").ok());  // never wraps
  EXPECT_FALSE(ParseUint64("18446744073709551616", "n").ok());
}

TEST(ParseTest, Double) {
  EXPECT_EQ(*ParseDouble("1.5", "x"), 1.5);
  EXPECT_EQ(*ParseDouble("-2e3", "x"), -2000.0);
  EXPECT_EQ(*ParseDouble("3", "x"), 3.0);
  Result<double> r = ParseDouble("1.5s", "timeout");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "timeout: '1.5s' is not a number");
  EXPECT_FALSE(ParseDouble("", "x").ok());
  EXPECT_FALSE(ParseDouble("1e999", "x").ok());
}

}  // namespace
}  // namespace sqlift
