// AppendBinaryFieldFast against AppendBinaryField: whatever the fast path takes, it encodes to
// the same bytes; whatever it leaves, it leaves untouched.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "apply/translate/value_encoder.h"

namespace sqlift {
namespace {

using Kind = proto::ValueRef::Kind;

struct Case {
  Kind kind;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;
};

Case Null() {
  return {Kind::kNull, 0, 0, ""};
}
Case Integer(int64_t i) {
  return {Kind::kInteger, i, 0, ""};
}
Case Real(double d) {
  return {Kind::kReal, 0, d, ""};
}
Case Bytes(Kind kind, std::string bytes) {
  return {kind, 0, 0, std::move(bytes)};
}

proto::ValueRef Ref(const Case& c) {
  proto::ValueRef r;
  r.kind = c.kind;
  r.integer = c.integer;
  r.real = c.real;
  r.bytes = c.bytes;
  return r;
}

std::vector<Case> Values() {
  std::vector<Case> out = {Null()};
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{INT16_MAX}, int64_t{INT16_MAX} + 1,
                    int64_t{INT16_MIN}, int64_t{INT16_MIN} - 1, int64_t{INT32_MAX},
                    int64_t{INT32_MAX} + 1, int64_t{INT32_MIN}, int64_t{INT32_MIN} - 1,
                    std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                    int64_t{1700000000}, int64_t{1700000000123}, int64_t{1700000000123456}}) {
    out.push_back(Integer(i));
  }
  for (double d : {0.0, -0.0, 1.5, -2.25, 1e300, 1e-300, 1700000000.5, 0.1,
                   std::numeric_limits<double>::infinity(), std::nan("")}) {
    out.push_back(Real(d));
  }
  for (const char* s : {"",
                        "plain",
                        "caf\xC3\xA9",
                        "bad \xC3",
                        "nul\0inside",
                        "2024-02-29 12:34:56",
                        "2023-02-29 00:00:00",
                        "2024-01-01T00:00:00Z",
                        "2024-01-01 00:00:00.1234567",
                        "2024-01-01 23:59:59.9999999",
                        "2024-06-30 10:00:00+05:30",
                        "2024-06-30 10:00:00 -08",
                        "2024-06-30",
                        "0000-01-01 00:00:00",
                        "9999-12-31 23:59:59.9999995+00",
                        "0001-01-01 00:00:00+01",
                        "2024-13-01 00:00:00",
                        "2024-01-01 24:00:00",
                        "12",
                        " 12 ",
                        "1e3",
                        "t",
                        "true",
                        "123e4567-e89b-12d3-a456-426614174000",
                        "{\"a\":1}",
                        "abcdef"}) {
    out.push_back(Bytes(Kind::kText, s));
    out.push_back(Bytes(Kind::kBlob, s));
  }
  out.push_back(Bytes(Kind::kText, std::string("nul\0inside", 10)));
  out.push_back(Bytes(Kind::kBlob, std::string("\x00\xFF\x80", 3)));
  return out;
}

const char* const kTypes[] = {
    "bigint",    "integer",      "smallint",      "double precision", "real",
    "text",      "varchar(5)",   "bytea",         "timestamptz",      "timestamptz(3)",
    "timestamp", "timestamp(0)", "numeric(10,2)", "boolean",          "date",
    "jsonb",     "json",         "uuid"};

TEST(ValueEncoderFast, TakesOnlyWhatItEncodesAsTheOtherPathDoes) {
  int taken = 0, total = 0;
  for (const char* type_text : kTypes) {
    Result<PgType> type = ParsePgType(type_text);
    ASSERT_TRUE(type.ok()) << type_text;
    for (const Case& c : Values()) {
      const proto::ValueRef ref = Ref(c);
      wire::Value value;
      proto::CopyValueRef(ref, &value);
      std::string fast = "prefix", slow = "prefix";
      const bool took = AppendBinaryFieldFast(ref, *type, &fast);
      const Status st = AppendBinaryField(value, *type, &slow);
      ++total;
      if (!took) {
        EXPECT_EQ(fast, "prefix") << type_text << " " << value.ShortDebugString();
        continue;
      }
      ++taken;
      ASSERT_TRUE(st.ok()) << type_text << " " << value.ShortDebugString() << ": the fast path "
                           << "took a value the other refuses: " << st.ToString();
      EXPECT_EQ(fast, slow) << type_text << " " << value.ShortDebugString();
    }
  }
  EXPECT_GT(taken, total / 10);  // the fast path is taken, not just declined
}

TEST(ValueEncoderFast, TakesTheCommonValues) {
  std::string out;
  const std::string iso = "2024-02-29 12:34:56";
  EXPECT_TRUE(
      AppendBinaryFieldFast(Ref(Bytes(Kind::kText, iso)), *ParsePgType("timestamptz"), &out));
  EXPECT_TRUE(AppendBinaryFieldFast(Ref(Integer(7)), *ParsePgType("bigint"), &out));
  EXPECT_TRUE(AppendBinaryFieldFast(Ref(Bytes(Kind::kText, "x")), *ParsePgType("text"), &out));
  EXPECT_TRUE(AppendBinaryFieldFast(Ref(Null()), *ParsePgType("numeric(10,2)"), &out));
  EXPECT_FALSE(AppendBinaryFieldFast(Ref(Real(1.5)), *ParsePgType("numeric(10,2)"), &out));
}

TEST(ValueEncoderFast, RandomTimesAgree) {
  std::mt19937 rng(99);
  const PgType types[] = {*ParsePgType("timestamptz"), *ParsePgType("timestamp(2)")};
  for (int n = 0; n < 20000; ++n) {
    const std::string text = fmt::format(
        "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{}{}", rng() % 10001, rng() % 14, rng() % 33,
        rng() % 2 ? " " : "T", rng() % 25, rng() % 61, rng() % 61,
        rng() % 2 ? fmt::format(".{}", rng() % 10000000) : "",
        rng() % 3 == 0 ? fmt::format("{}{:02}:{:02}", rng() % 2 ? "+" : "-", rng() % 16, rng() % 61)
                       : "");
    for (const PgType& type : types) {
      const proto::ValueRef ref = Ref(Bytes(Kind::kText, text));
      wire::Value value;
      proto::CopyValueRef(ref, &value);
      std::string fast, slow;
      const bool took = AppendBinaryFieldFast(ref, type, &fast);
      const Status st = AppendBinaryField(value, type, &slow);
      ASSERT_EQ(took, st.ok()) << text << ": " << st.ToString();
      ASSERT_EQ(fast, slow) << text;
    }
  }
}

}  // namespace
}  // namespace sqlift
