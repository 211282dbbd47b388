// Canonical values for `sqlift verify`: a SQLite value and the text PostgreSQL prints for what
// it stored must meet in one spelling (numeric scale, timestamps with and without offsets and
// fractions, booleans, text vs bytea, NULL vs ''), and values that differ must stay different.
#include "tools/verify/verify_normalize.h"

#include <gtest/gtest.h>

#include "proto/wire/frame_test_util.h"

namespace sqlift {
namespace {

using proto::testing::Blob;
using proto::testing::Int;
using proto::testing::Real;
using proto::testing::Text;
using Kind = CanonicalValue::Kind;

// The canonical text of a SQLite value in a column declared `declared`; "NULL" or
// "UNFIT ..." for the other kinds.
std::string Sqlite(const wire::Value& v, const std::string& declared) {
  CanonicalValue c = CanonicalFromSqlite(v, MapDeclaredType(declared));
  if (c.kind == Kind::kNull) return "NULL";
  return c.kind == Kind::kUnfit ? "UNFIT " + c.text : c.text;
}

std::string Pg(std::string_view text, const std::string& declared) {
  return CanonicalFromPg(text, MapDeclaredType(declared));
}

TEST(VerifyNormalize, NumericScaleIsNotADifference) {
  // SQLite DECIMAL 12.5 (real), '12.50' (text), 12 (integer) vs PostgreSQL numeric(10,2).
  EXPECT_EQ(Sqlite(Real(12.5), "DECIMAL(10,2)"), "12.5");
  EXPECT_EQ(Pg("12.50", "DECIMAL(10,2)"), "12.5");
  EXPECT_EQ(Sqlite(Text("12.50"), "DECIMAL(10,2)"), "12.5");
  EXPECT_EQ(Sqlite(Int(12), "DECIMAL(10,2)"), "12");
  EXPECT_EQ(Pg("12.00", "DECIMAL(10,2)"), "12");
  EXPECT_EQ(Pg("0.00", "NUMERIC"), "0");
  EXPECT_EQ(Pg("-0.50", "NUMERIC"), "-0.5");
  EXPECT_EQ(CanonicalNumeric("1.25e2"), "125");
  EXPECT_EQ(CanonicalNumeric("-012.5E-3"), "-0.0125");
  EXPECT_EQ(CanonicalNumeric("1e+20"), "100000000000000000000");
  EXPECT_EQ(CanonicalNumeric("NaN"), "NaN");
  EXPECT_EQ(CanonicalNumeric("abc"), "abc");
  // A real change still shows.
  EXPECT_NE(Sqlite(Real(0.99), "NUMERIC(10,2)"), Pg("9.99", "NUMERIC(10,2)"));
  EXPECT_EQ(Sqlite(Real(0.99), "NUMERIC(10,2)"), Pg("0.99", "NUMERIC(10,2)"));
  // More decimals than the scale: PostgreSQL would round, so it is reported, never equal.
  EXPECT_EQ(Sqlite(Real(1.234), "NUMERIC(10,2)").rfind("UNFIT ", 0), 0u);
}

TEST(VerifyNormalize, IntegersAndFloats) {
  EXPECT_EQ(Sqlite(Int(-42), "INTEGER"), "-42");
  EXPECT_EQ(Sqlite(Text("42"), "INTEGER"), "42");
  EXPECT_EQ(Pg("-42", "INTEGER"), "-42");
  EXPECT_EQ(Sqlite(Real(0.1), "REAL"), Pg("0.10000000000000001", "REAL"));  // extra_float_digits
  EXPECT_EQ(Pg("1e+100", "DOUBLE"), "1e+100");
  EXPECT_EQ(Sqlite(Real(1e100), "DOUBLE"), "1e+100");
  EXPECT_EQ(Pg("Infinity", "DOUBLE"), "Infinity");
  EXPECT_EQ(Pg("-0", "DOUBLE"), "0");
  EXPECT_NE(Pg("0.1", "DOUBLE"), Pg("0.10000000000000002", "DOUBLE"));
  EXPECT_EQ(Canonical("0.1", PgType::Of(PgType::Kind::kReal)), "0.1");  // float4: shortest float
}

TEST(VerifyNormalize, TimestampsWithAndWithoutOffsetOrFraction) {
  const char* kUtc = "2024-05-06 07:08:09";
  EXPECT_EQ(Pg("2024-05-06 07:08:09+00", "DATETIME"), kUtc);
  EXPECT_EQ(Sqlite(Text("2024-05-06T07:08:09Z"), "DATETIME"), kUtc);
  EXPECT_EQ(Sqlite(Text("2024-05-06 07:08:09"), "DATETIME"), kUtc);  // no offset: UTC
  EXPECT_EQ(Sqlite(Text("2024-05-06T09:08:09+02:00"), "DATETIME"), kUtc);
  EXPECT_EQ(Sqlite(Text("2024-05-06T02:08:09-0500"), "DATETIME"), kUtc);
  EXPECT_EQ(Sqlite(Text("2024-05-06 09:08:09 +02"), "DATETIME"), kUtc);
  EXPECT_EQ(Sqlite(Int(1714979289), "DATETIME"), kUtc);  // unix seconds
  EXPECT_EQ(Sqlite(Text("2024-05-06"), "DATETIME"), "2024-05-06 00:00:00");
  EXPECT_EQ(Sqlite(Text("2024-05-06 07:08"), "TIMESTAMP"), "2024-05-06 07:08:00");
  // Fractions: trailing zeros do not matter, microseconds do; rounding as PostgreSQL rounds.
  EXPECT_EQ(Sqlite(Text("2024-05-06T07:08:09.500Z"), "DATETIME"), "2024-05-06 07:08:09.5");
  EXPECT_EQ(Pg("2024-05-06 07:08:09.5+00", "DATETIME"), "2024-05-06 07:08:09.5");
  EXPECT_EQ(Sqlite(Real(1714979289.25), "DATETIME"), "2024-05-06 07:08:09.25");
  EXPECT_EQ(CanonicalTimestamp("2024-05-06 07:08:09.0000004", true), kUtc);
  EXPECT_EQ(CanonicalTimestamp("2024-12-31 23:59:59.9999996+00", true), "2025-01-01 00:00:00");
  EXPECT_NE(Pg("2024-05-06 07:08:09.000001+00", "DATETIME"), kUtc);
  // An offset crossing midnight and a leap day.
  EXPECT_EQ(CanonicalTimestamp("2024-03-01T01:00:00+02:00", true), "2024-02-29 23:00:00");
  EXPECT_EQ(CanonicalTimestamp("1969-12-31 23:59:59.5Z", true), "1969-12-31 23:59:59.5");
  // timestamp without time zone ignores the offset, as PostgreSQL does.
  EXPECT_EQ(CanonicalTimestamp("2024-05-06 09:08:09+02", false), "2024-05-06 09:08:09");
  EXPECT_EQ(CanonicalTimestamp("infinity", true), "infinity");
  EXPECT_EQ(CanonicalTimestamp("not a time", true), "not a time");
}

TEST(VerifyNormalize, Booleans) {
  for (const wire::Value& v : {Int(1), Text("true"), Text("T"), Text("1"), Real(1)})
    EXPECT_EQ(Sqlite(v, "BOOLEAN"), "t") << v.ShortDebugString();
  for (const wire::Value& v : {Int(0), Text("false"), Text("f"), Text("0")})
    EXPECT_EQ(Sqlite(v, "BOOLEAN"), "f") << v.ShortDebugString();
  EXPECT_EQ(Pg("t", "BOOLEAN"), "t");
  EXPECT_EQ(Sqlite(Text("maybe"), "BOOLEAN").rfind("UNFIT ", 0), 0u);
}

TEST(VerifyNormalize, TextVersusBytea) {
  EXPECT_EQ(Sqlite(Blob(std::string("\x00\xff"
                                    "A",
                                    3)),
                   "BLOB"),
            "\\x00ff41");
  EXPECT_EQ(Pg("\\x00ff41", "BLOB"), "\\x00ff41");
  EXPECT_EQ(Sqlite(Text("A"), "BLOB"), "\\x41");  // text bytes in a bytea column
  // In a text column the same letters stay text, distinct from their bytea spelling.
  EXPECT_EQ(Sqlite(Text("\\x41"), "TEXT"), "\\x41");
  EXPECT_EQ(Sqlite(Text("A"), "TEXT"), "A");
  EXPECT_EQ(Sqlite(Real(1.0), "TEXT"), "1.0");  // as SQLite's CAST(x AS TEXT) spells it
  EXPECT_EQ(Sqlite(Text(std::string("a\0b", 3)), "TEXT").rfind("UNFIT ", 0), 0u);
}

TEST(VerifyNormalize, NullIsNotEmpty) {
  wire::Value null;
  null.mutable_null();
  CanonicalValue n = CanonicalFromSqlite(null, MapDeclaredType("TEXT"));
  CanonicalValue unset = CanonicalFromSqlite(wire::Value(), MapDeclaredType("TEXT"));
  CanonicalValue empty = CanonicalFromSqlite(Text(""), MapDeclaredType("TEXT"));
  EXPECT_EQ(n.kind, Kind::kNull);
  EXPECT_EQ(n, unset);
  EXPECT_EQ(empty.kind, Kind::kValue);
  EXPECT_EQ(empty.text, "");
  EXPECT_NE(n, empty);
}

TEST(VerifyNormalize, JsonUuidDate) {
  EXPECT_EQ(Pg("{\"b\": [1, 2.50], \"a\": \"x\\u00e9\"}", "JSON"),
            Sqlite(Text("{\"a\":\"x\xc3\xa9\",  \"b\":[1,2.5]}"), "JSON"));
  EXPECT_EQ(CanonicalJson("{\"a\":1,\"a\":2}"), "{\"a\":2}");  // jsonb keeps the last
  EXPECT_NE(CanonicalJson("[1,2]"), CanonicalJson("[2,1]"));
  EXPECT_EQ(CanonicalJson("{not json"), "{not json");
  EXPECT_EQ(Sqlite(Text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), "UUID"),
            Pg("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "UUID"));
  EXPECT_EQ(Sqlite(Text("2024-05-06"), "DATE"), Pg("2024-05-06", "DATE"));
}

}  // namespace
}  // namespace sqlift
