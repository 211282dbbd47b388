// Every conversion of the value encoder, COPY escaping, and the values it refuses.
#include "apply/translate/value_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "proto/wire/frame_test_util.h"

namespace sqlift {
namespace {

using proto::testing::Blob;
using proto::testing::Int;
using proto::testing::NullValue;
using proto::testing::Real;
using proto::testing::Text;

// The COPY field for `v` in a column declared `declared` in SQLite; "ERROR: ..." on refusal.
std::string Field(const wire::Value& v, const std::string& declared) {
  std::string out;
  Status st = AppendCopyField(v, MapDeclaredType(declared), &out);
  return st.ok() ? out : "ERROR: " + st.message();
}

TEST(ValueEncoder, NullIsBackslashN) {
  wire::Value null;
  null.mutable_null();
  EXPECT_EQ(Field(null, "INTEGER"), "\\N");
  EXPECT_EQ(Field(wire::Value(), "TEXT"), "\\N");
}

TEST(ValueEncoder, CopyEscaping) {
  EXPECT_EQ(Field(Text("a\\b\tc\nd\re"), "TEXT"), "a\\\\b\\tc\\nd\\re");
  EXPECT_EQ(Field(Text("\\N"), "TEXT"), "\\\\N");  // the text \N, not NULL
  EXPECT_EQ(Field(Text("héllo 'q' \"d\""), "TEXT"), "héllo 'q' \"d\"");
}

TEST(ValueEncoder, Booleans) {
  for (auto v : {Int(1), Text("true"), Text("T"), Text("1"), Text("TRUE"), Real(1.0)})
    EXPECT_EQ(Field(v, "BOOLEAN"), "t");
  for (auto v : {Int(0), Text("false"), Text("f"), Text("0"), Real(0.0)})
    EXPECT_EQ(Field(v, "BOOLEAN"), "f");
  EXPECT_EQ(Field(Text("maybe"), "BOOLEAN").rfind("ERROR: not 0/1/true/false/t/f", 0), 0u);
  EXPECT_EQ(Field(Int(2), "BOOLEAN").rfind("ERROR:", 0), 0u);
}

TEST(ValueEncoder, Timestamps) {
  // Every spelling arrives as the UTC instant it means (apply/value_repr.h reads it).
  EXPECT_EQ(Field(Text("2024-01-02 03:04:05"), "DATETIME"), "2024-01-02 03:04:05+00");
  EXPECT_EQ(Field(Text("2024-01-02T03:04:05.123"), "DATETIME"), "2024-01-02 03:04:05.123000+00");
  EXPECT_EQ(Field(Text("2024-01-02T03:04:05Z"), "DATETIME"), "2024-01-02 03:04:05+00");
  EXPECT_EQ(Field(Text("2024-01-02 03:04:05+02:00"), "TIMESTAMP"), "2024-01-02 01:04:05+00");
  EXPECT_EQ(Field(Text("2024-01-02 03:04-05"), "DATETIME"), "2024-01-02 08:04:00+00");
  EXPECT_EQ(Field(Text("2025-12-06 00:00:00 +00:00"), "DATETIME"), "2025-12-06 00:00:00+00");
  EXPECT_EQ(Field(Text("2024-01-02"), "DATETIME"), "2024-01-02 00:00:00+00");
  EXPECT_EQ(Field(Int(0), "DATETIME"), "1970-01-01 00:00:00+00");
  EXPECT_EQ(Field(Int(1700000000), "DATETIME"), "2023-11-14 22:13:20+00");
  EXPECT_EQ(Field(Int(-1), "DATETIME"), "1969-12-31 23:59:59+00");
  EXPECT_EQ(Field(Real(1.5), "DATETIME"), "1970-01-01 00:00:01.500000+00");
  EXPECT_EQ(Field(Int(1764979200000), "DATETIME"), "2025-12-06 00:00:00+00");  // milliseconds
  EXPECT_EQ(Field(Int(1764979200123456), "DATETIME"), "2025-12-06 00:00:00.123456+00");
  EXPECT_EQ(Field(Text("2024-02-30 00:00:00"), "DATETIME").rfind("ERROR: day 30", 0), 0u);
  EXPECT_EQ(Field(Text("yesterday"), "DATETIME").rfind("ERROR:", 0), 0u);
  EXPECT_EQ(Field(Int(100000000000000000), "DATETIME").rfind("ERROR: a number too large", 0), 0u);
}

TEST(ValueEncoder, Dates) {
  EXPECT_EQ(Field(Text("2024-02-29"), "DATE"), "2024-02-29");
  EXPECT_EQ(Field(Text("2023-02-29"), "DATE").rfind("ERROR:", 0), 0u);
  EXPECT_EQ(Field(Int(20240101), "DATE").rfind("ERROR:", 0), 0u);
}

TEST(ValueEncoder, Bytea) {
  EXPECT_EQ(Field(Blob(std::string("\x00\xff\x10", 3)), "BLOB"), "\\\\x00ff10");
  EXPECT_EQ(Field(Text("AB"), "BLOB"), "\\\\x4142");
  EXPECT_EQ(Field(Blob(""), "BLOB"), "\\\\x");
  EXPECT_EQ(Field(Int(7), "BLOB").rfind("ERROR: a number in a bytea column", 0), 0u);
}

TEST(ValueEncoder, NumbersInNumericAndDouble) {
  EXPECT_EQ(Field(Int(42), "NUMERIC(10,2)"), "42");
  EXPECT_EQ(Field(Real(9.99), "NUMERIC(10,2)"), "9.99");
  EXPECT_EQ(Field(Text("12.50"), "DECIMAL(10,2)"), "12.50");
  EXPECT_EQ(Field(Real(12.345), "NUMERIC(10,2)").rfind("ERROR: 3 decimal places", 0), 0u);
  EXPECT_EQ(Field(Real(0.1), "REAL"), "0.1");
  EXPECT_EQ(Field(Real(1.0 / 3), "DOUBLE"), "0.3333333333333333");
  EXPECT_EQ(Field(Real(1e300), "REAL"), "1e+300");
  EXPECT_EQ(Field(Real(std::numeric_limits<double>::infinity()), "REAL"), "Infinity");
  EXPECT_EQ(Field(Real(-std::numeric_limits<double>::infinity()), "REAL"), "-Infinity");
  EXPECT_EQ(Field(Real(std::nan("")), "REAL"), "NaN");
  EXPECT_EQ(Field(Int(-5), "REAL"), "-5");
  EXPECT_EQ(Field(Text("abc"), "REAL").rfind("ERROR: text that is not a number", 0), 0u);
}

TEST(ValueEncoder, Integers) {
  EXPECT_EQ(Field(Int(INT64_MIN), "INTEGER"), "-9223372036854775808");
  EXPECT_EQ(Field(Real(3.0), "INTEGER"), "3");
  EXPECT_EQ(Field(Text("17"), "INTEGER"), "17");
  EXPECT_EQ(Field(Text("abc"), "INTEGER").rfind("ERROR: text that is not an integer", 0), 0u);
  EXPECT_EQ(Field(Real(2.5), "INTEGER").rfind("ERROR:", 0), 0u);
}

TEST(ValueEncoder, NumbersInTextAsSqliteWritesThem) {
  EXPECT_EQ(Field(Real(1.0), "TEXT"), "1.0");
  EXPECT_EQ(Field(Real(100.0), "TEXT"), "100.0");
  EXPECT_EQ(Field(Real(0.1), "TEXT"), "0.1");
  EXPECT_EQ(Field(Real(1.0 / 3), "TEXT"), "0.333333333333333");
  EXPECT_EQ(Field(Real(1e20), "TEXT"), "1.0e+20");
  EXPECT_EQ(Field(Real(1.5e-7), "TEXT"), "1.5e-07");
  EXPECT_EQ(Field(Real(123456789012345678.0), "TEXT"), "1.23456789012346e+17");
  EXPECT_EQ(Field(Real(std::numeric_limits<double>::infinity()), "TEXT"), "Inf");
  EXPECT_EQ(Field(Int(-12), "TEXT"), "-12");
  EXPECT_EQ(Field(Blob("blob text"), "TEXT"), "blob text");
}

TEST(ValueEncoder, JsonAndUuid) {
  EXPECT_EQ(Field(Text("{\"a\": \"x\\ny\"}"), "JSON"), "{\"a\": \"x\\\\ny\"}");
  EXPECT_EQ(Field(Text("{not json"), "JSON").rfind("ERROR:", 0), 0u);
  EXPECT_EQ(Field(Int(3), "JSON"), "3");
  EXPECT_EQ(Field(Text("123e4567-e89b-12d3-a456-426614174000"), "UUID"),
            "123e4567-e89b-12d3-a456-426614174000");
}

TEST(ValueEncoder, RefusesNulAndInvalidUtf8) {
  EXPECT_EQ(Field(Text(std::string("a\0b", 3)), "TEXT"),
            "ERROR: text holds a NUL byte (column type text)");
  EXPECT_EQ(Field(Text("\xff\xfe"), "TEXT").rfind("ERROR: text is not valid UTF-8", 0), 0u);
  EXPECT_EQ(Field(Blob("\xff"), ""), "ERROR: a blob is not valid UTF-8 (column type text)");
  PgType other = *ParsePgType("inet");
  std::string out;
  EXPECT_FALSE(AppendCopyField(Text(std::string("\0", 1)), other, &out).ok());
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace sqlift
