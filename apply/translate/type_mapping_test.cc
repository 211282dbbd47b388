#include "apply/translate/type_mapping.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sqlift {
namespace {

using K = PgType::Kind;

std::string Mapped(std::string_view declared) {
  return MapDeclaredType(declared).sql;
}

TEST(TypeMappingTest, KnownNames) {
  EXPECT_EQ(Mapped("INTEGER"), "bigint");
  EXPECT_EQ(Mapped("int"), "bigint");
  EXPECT_EQ(Mapped("TEXT"), "text");
  EXPECT_EQ(Mapped("CLOB"), "text");
  EXPECT_EQ(Mapped("REAL"), "double precision");
  EXPECT_EQ(Mapped("DOUBLE PRECISION"), "double precision");
  EXPECT_EQ(Mapped("FLOAT"), "double precision");
  EXPECT_EQ(Mapped("DECIMAL(10,2)"), "numeric(10,2)");
  EXPECT_EQ(Mapped("NUMERIC( 12 , 4 )"), "numeric(12,4)");
  EXPECT_EQ(Mapped("NUMERIC"), "numeric");
  EXPECT_EQ(Mapped("BOOLEAN"), "boolean");
  EXPECT_EQ(Mapped("DATETIME"), "timestamptz");
  EXPECT_EQ(Mapped("timestamp"), "timestamptz");
  EXPECT_EQ(Mapped("DATE"), "date");
  EXPECT_EQ(Mapped("BLOB"), "bytea");
  EXPECT_EQ(Mapped("JSON"), "jsonb");
  EXPECT_EQ(Mapped("VARCHAR(40)"), "text");
  EXPECT_EQ(Mapped("NVARCHAR(70)"), "text");
  EXPECT_EQ(Mapped("CHAR(2)"), "text");
}

TEST(TypeMappingTest, AffinityFallbacksFollowSqlite) {
  EXPECT_EQ(Mapped("VARYING CHARACTER(255)"), "text");
  EXPECT_EQ(Mapped("BIGINT UNSIGNED"), "bigint");
  EXPECT_EQ(Mapped("FLOATING POINT"), "bigint");  // "INT" wins, as in SQLite
  EXPECT_EQ(Mapped("CHARINT"), "bigint");         // rule 1 before rule 2
  EXPECT_EQ(Mapped("MEDIUMBLOB"), "bytea");
  EXPECT_EQ(Mapped("MONEY"), "numeric");         // no rule matches: NUMERIC affinity
  EXPECT_EQ(Mapped(""), "text");                 // no type: anything; see type_mapping.h
  EXPECT_EQ(Mapped("DECIMAL(3,9)"), "numeric");  // scale past precision: unconstrained
}

TEST(TypeMappingTest, IntegerPrimaryKeyIsIdentity) {
  TableSchema t;
  t.name = "rooms";
  t.columns = {{"id", "INTEGER", false, false, "", 1, false},
               {"n", "INT", false, false, "", 0, false}};
  Result<ColumnMapping> id = MapColumn(t, t.columns[0], {});
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(id->identity);
  EXPECT_EQ(id->type.sql, "bigint");
  EXPECT_FALSE(MapColumn(t, t.columns[1], {})->identity);
  t.without_rowid = true;
  EXPECT_FALSE(MapColumn(t, t.columns[0], {})->identity);
  t.without_rowid = false;
  t.columns[0].declared_type = "INT";  // only the exact name INTEGER makes a rowid alias
  EXPECT_FALSE(MapColumn(t, t.columns[0], {})->identity);
}

TEST(TypeMappingTest, OverridesWinAndAreChecked) {
  TableSchema t;
  t.name = "Rooms";
  t.columns = {{"Price", "DECIMAL(10,2)", false, false, "", 0, false}};
  Result<ColumnMapping> m = MapColumn(t, t.columns[0], {{"rooms.price", "NUMERIC(12, 4)"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type.sql, "numeric(12,4)");
  EXPECT_TRUE(m->overridden);
  EXPECT_EQ(ParsePgType("varchar(40)")->length, 40);
  EXPECT_EQ(ParsePgType("uuid")->kind, K::kUuid);
  EXPECT_EQ(ParsePgType("text[]")->kind, K::kOther);
  EXPECT_FALSE(ParsePgType("text; DROP TABLE x").ok());
  EXPECT_FALSE(ParsePgType("numeric(0,0)").ok());
  EXPECT_FALSE(MapColumn(t, t.columns[0], {{"rooms.price", "int)--"}}).ok());
}

TEST(TypeMappingTest, OverrideMayDeclareTheUnitOfATimeColumn) {
  TableSchema t;
  t.name = "Lead";
  t.columns = {{"capturedAt", "DATETIME", false, false, "", 0, false},
               {"price", "DECIMAL(10,2)", false, false, "", 0, false}};
  Result<ColumnMapping> m =
      MapColumn(t, t.columns[0], {{"Lead.capturedAt", {"timestamptz(3)", TimeUnit::kMillis}}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type.sql, "timestamptz(3)");  // the unit is how values are read, not DDL
  EXPECT_EQ(m->type.kind, K::kTimestamptz);
  EXPECT_EQ(m->type.time_precision, 3);
  EXPECT_EQ(m->type.unit, TimeUnit::kMillis);
  EXPECT_EQ(MapColumn(t, t.columns[0], {})->type.unit, TimeUnit::kAuto);
  Result<ColumnMapping> bad =
      MapColumn(t, t.columns[1], {{"Lead.price", {"numeric(12,2)", TimeUnit::kSeconds}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unit is for timestamp and timestamptz columns"),
            std::string::npos);
  EXPECT_EQ(*ParseTimeUnit("us"), TimeUnit::kMicros);
  EXPECT_EQ(*ParseTimeUnit("julianday"), TimeUnit::kJulianDay);
  EXPECT_FALSE(ParseTimeUnit("ns").ok());
  EXPECT_EQ(TimeUnitName(TimeUnit::kMillis), "ms");
}

wire::Value Int(int64_t v) {
  wire::Value x;
  x.set_integer(v);
  return x;
}
wire::Value Real(double v) {
  wire::Value x;
  x.set_real(v);
  return x;
}
wire::Value Text(std::string v) {
  wire::Value x;
  x.set_text(std::move(v));
  return x;
}
wire::Value Blob(std::string v) {
  wire::Value x;
  x.set_blob(std::move(v));
  return x;
}

bool Fits(const wire::Value& v, std::string_view declared) {
  return !WhyValueDoesNotFit(v, MapDeclaredType(declared)).has_value();
}
bool FitsPg(const wire::Value& v, std::string_view pg) {
  return !WhyValueDoesNotFit(v, *ParsePgType(pg)).has_value();
}

TEST(ValueCheckTest, Integers) {
  EXPECT_TRUE(Fits(Int(-5), "INTEGER"));
  EXPECT_TRUE(Fits(Text(" 42 "), "INTEGER"));
  EXPECT_TRUE(Fits(Real(3.0), "INTEGER"));
  EXPECT_FALSE(Fits(Text("abc"), "INTEGER"));
  EXPECT_FALSE(Fits(Real(1.5), "INTEGER"));
  EXPECT_FALSE(Fits(Text("99999999999999999999"), "INTEGER"));
  EXPECT_FALSE(Fits(Blob("\x01"), "INTEGER"));
  EXPECT_FALSE(FitsPg(Int(70000), "smallint"));
  EXPECT_TRUE(FitsPg(Int(-32768), "smallint"));
  EXPECT_FALSE(FitsPg(Int(1LL << 40), "integer"));
  wire::Value null;
  null.mutable_null();
  EXPECT_TRUE(Fits(null, "INTEGER"));
}

TEST(ValueCheckTest, NumericRangeAndScale) {
  EXPECT_TRUE(Fits(Real(19.99), "DECIMAL(10,2)"));
  EXPECT_TRUE(Fits(Int(12345678), "DECIMAL(10,2)"));
  EXPECT_FALSE(Fits(Int(123456789), "DECIMAL(10,2)"));
  EXPECT_TRUE(Fits(Text("-0012.3400"), "DECIMAL(4,2)"));
  EXPECT_FALSE(Fits(Text("1.005"), "DECIMAL(10,2)"));  // would be rounded: never silently
  EXPECT_TRUE(Fits(Text("1.5e2"), "DECIMAL(5,2)"));
  EXPECT_FALSE(Fits(Text("free"), "DECIMAL(10,2)"));
  EXPECT_FALSE(Fits(Real(NAN), "DECIMAL(10,2)"));
  EXPECT_TRUE(Fits(Real(NAN), "NUMERIC"));
  EXPECT_TRUE(Fits(Text("Infinity"), "REAL"));
  EXPECT_FALSE(Fits(Text("1,5"), "REAL"));
}

TEST(ValueCheckTest, Booleans) {
  for (auto v : {Int(0), Int(1), Text("true"), Text("FALSE"), Text("t"), Text("f")}) {
    EXPECT_TRUE(Fits(v, "BOOLEAN")) << v.DebugString();
  }
  EXPECT_FALSE(Fits(Text("yes"), "BOOLEAN"));
  EXPECT_FALSE(Fits(Int(2), "BOOLEAN"));
}

TEST(ValueCheckTest, Timestamps) {
  for (const char* ok : {"2024-02-29", "2024-01-31 23:59:59", "2024-01-31T23:59:59.123456",
                         "2024-01-31 10:00:00Z", "2024-01-31T10:00:00+05:30", "2024-01-31 10:00"}) {
    EXPECT_TRUE(Fits(Text(ok), "DATETIME")) << ok;
  }
  for (const char* bad : {"2024-13-45", "2023-02-29", "2024-01-31 25:00:00", "yesterday",
                          "31/01/2024", "2024-01-31 10:00:00+99:00"}) {
    EXPECT_FALSE(Fits(Text(bad), "DATETIME")) << bad;
  }
  EXPECT_TRUE(Fits(Int(1700000000), "DATETIME"));  // unix seconds
  EXPECT_TRUE(Fits(Text("2024-02-29"), "DATE"));
  EXPECT_FALSE(Fits(Text("2024-02-29 10:00"), "DATE"));
  EXPECT_FALSE(Fits(Int(20240229), "DATE"));
}

TEST(ValueCheckTest, TextMustBeUtf8WithoutNul) {
  EXPECT_TRUE(Fits(Text("h\xc3\xa9llo"), "TEXT"));
  EXPECT_TRUE(Fits(Int(7), "TEXT"));
  EXPECT_FALSE(Fits(Text("bad \xff byte"), "TEXT"));
  EXPECT_FALSE(Fits(Text(std::string("a\0b", 3)), "TEXT"));
  EXPECT_FALSE(Fits(Blob(std::string("\0\xff", 2)), ""));
  EXPECT_TRUE(Fits(Blob("plain"), ""));
  EXPECT_TRUE(FitsPg(Text("h\xc3\xa9llo"), "varchar(5)"));  // characters, not bytes
  EXPECT_FALSE(FitsPg(Text("hello!"), "varchar(5)"));
  EXPECT_TRUE(Fits(Blob(std::string("\0\xff", 2)), "BLOB"));
  EXPECT_FALSE(Fits(Int(1), "BLOB"));
}

TEST(ValueCheckTest, Json) {
  for (const char* ok : {"{}", "[1, 2.5e3, -0.1]", "{\"a\": {\"b\": [true, false, null]}}",
                         "\"s\\u00e9\"", " 42 "}) {
    EXPECT_TRUE(Fits(Text(ok), "JSON")) << ok;
  }
  for (const char* bad : {"", "{", "{'a': 1}", "[1,]", "01", "nul", "{} x", "\"\\u0000\""}) {
    EXPECT_FALSE(Fits(Text(bad), "JSON")) << bad;
  }
  EXPECT_TRUE(FitsPg(Text("\"\\u0000\""), "json"));  // json keeps the text; jsonb refuses it
  EXPECT_EQ(WhyNotJson(std::string(5000, '[')).value_or(""),
            "not JSON: nesting deeper than 1000 at byte 1001");
}

TEST(ValueCheckTest, Uuid) {
  EXPECT_TRUE(FitsPg(Text("0b5e2a3c-1d4f-4e8a-9b7c-6d5e4f3a2b1c"), "uuid"));
  EXPECT_FALSE(FitsPg(Text("0b5e2a3c"), "uuid"));
}

}  // namespace
}  // namespace sqlift
