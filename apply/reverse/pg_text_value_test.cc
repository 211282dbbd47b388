// PostgreSQL text values → SQLite values: every type rule of pg_text_value.h, malformed values
// refused, and what SQLite finally stores (typeof) when the reverse applier writes them.
#include "apply/reverse/pg_text_value.h"

#include <gtest/gtest.h>

#include <cmath>

#include "apply/reverse/testing/reverse_fixture.h"

namespace sqlift {
namespace {

using Kind = SqliteValue::Kind;

SqliteValue Convert(uint32_t oid, const std::string& text) {
  auto v = PgTextToSqlite(oid, {pgchange::Datum::Kind::kText, text});
  EXPECT_TRUE(v.ok()) << oid << " '" << text << "': " << v.status().ToString();
  return v.ok() ? std::move(v).value() : SqliteValue::Null();
}

TEST(PgTextValueTest, NullIsNullForEveryType) {
  for (uint32_t oid : {pgoid::kBool, pgoid::kInt4, pgoid::kBytea, pgoid::kTimestamptz, 1186u}) {
    auto v = PgTextToSqlite(oid, {});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->kind, Kind::kNull);
  }
}

TEST(PgTextValueTest, UnchangedToastHasNoValue) {
  auto v = PgTextToSqlite(pgoid::kText, {pgchange::Datum::Kind::kUnchanged, {}});
  EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
}

// Prisma's native connector stores DateTime as integer milliseconds: a column declared so in
// [mapping] gets its instants back from PostgreSQL as numbers in that unit, never as text.
TEST(PgTextValueTest, DeclaredTimeUnitsWriteNumbers) {
  auto in = [](uint32_t oid, const std::string& text, TimeUnit unit) {
    auto v = PgTextToSqlite(oid, {pgchange::Datum::Kind::kText, text}, unit);
    EXPECT_TRUE(v.ok()) << text << ": " << v.status().ToString();
    return v.ok() ? std::move(v).value() : SqliteValue::Null();
  };
  SqliteValue ms = in(pgoid::kTimestamptz, "2025-12-06 00:00:00+00", TimeUnit::kMillis);
  EXPECT_EQ(ms.kind, Kind::kInteger);
  EXPECT_EQ(ms.integer, 1764979200000);
  EXPECT_EQ(in(pgoid::kTimestamptz, "2025-12-06 00:00:00.123+00", TimeUnit::kMillis).integer,
            1764979200123);
  EXPECT_EQ(in(pgoid::kTimestamp, "2025-12-06 00:00:00", TimeUnit::kMillis).integer, 1764979200000);
  EXPECT_EQ(in(pgoid::kTimestamptz, "2025-12-06 00:00:00+00", TimeUnit::kSeconds).integer,
            1764979200);
  SqliteValue frac = in(pgoid::kTimestamptz, "2025-12-06 00:00:00.5+00", TimeUnit::kSeconds);
  EXPECT_EQ(frac.kind, Kind::kReal);
  EXPECT_DOUBLE_EQ(frac.real, 1764979200.5);
  EXPECT_EQ(in(pgoid::kTimestamptz, "1969-12-31 23:59:59+00", TimeUnit::kMicros).integer, -1000000);
  SqliteValue jd = in(pgoid::kTimestamptz, "2025-12-06 12:00:00+00", TimeUnit::kJulianDay);
  EXPECT_EQ(jd.kind, Kind::kReal);
  EXPECT_DOUBLE_EQ(jd.real, 2461016.0);
  // Undeclared: ISO text, as before; other types are not touched.
  EXPECT_EQ(in(pgoid::kTimestamptz, "2025-12-06 00:00:00+00", TimeUnit::kAuto).kind, Kind::kText);
  EXPECT_EQ(in(pgoid::kText, "2025-12-06", TimeUnit::kMillis).kind, Kind::kText);
  auto inf = PgTextToSqlite(pgoid::kTimestamptz, {pgchange::Datum::Kind::kText, "infinity"},
                            TimeUnit::kMillis);
  EXPECT_EQ(inf.status().code(), Status::Code::kInvalidArgument);
}

TEST(PgTextValueTest, BoolsAndIntegers) {
  EXPECT_EQ(Convert(pgoid::kBool, "t").integer, 1);
  EXPECT_EQ(Convert(pgoid::kBool, "f").kind, Kind::kInteger);
  EXPECT_EQ(Convert(pgoid::kBool, "f").integer, 0);
  EXPECT_EQ(Convert(pgoid::kInt2, "-32768").integer, -32768);
  EXPECT_EQ(Convert(pgoid::kInt4, "2147483647").integer, 2147483647);
  EXPECT_EQ(Convert(pgoid::kInt8, "-9223372036854775808").integer, INT64_MIN);
  EXPECT_EQ(Convert(pgoid::kOid, "4294967295").integer, 4294967295);
}

TEST(PgTextValueTest, Floats) {
  EXPECT_EQ(Convert(pgoid::kFloat8, "1.5").real, 1.5);
  EXPECT_EQ(Convert(pgoid::kFloat8, "-1.7976931348623157e+308").real, -1.7976931348623157e308);
  EXPECT_EQ(Convert(pgoid::kFloat8, "5e-324").real, 5e-324);
  EXPECT_EQ(Convert(pgoid::kFloat4, "0.1").real, 0.1);
  EXPECT_TRUE(std::signbit(Convert(pgoid::kFloat8, "-0").real));
  SqliteValue inf = Convert(pgoid::kFloat8, "Infinity");
  EXPECT_EQ(inf.kind, Kind::kReal);
  EXPECT_TRUE(std::isinf(inf.real) && inf.real > 0);
  EXPECT_TRUE(Convert(pgoid::kFloat4, "-Infinity").real < 0);
  SqliteValue nan = Convert(pgoid::kFloat8, "NaN");  // SQLite would store a NaN real as NULL
  EXPECT_EQ(nan.kind, Kind::kText);
  EXPECT_EQ(nan.bytes, "NaN");
}

TEST(PgTextValueTest, NumericIsCheckedTextForTheColumnAffinity) {
  for (const char* n :
       {"12.50", "-0.001", "100000000000000000000000000001", "NaN", "Infinity", "-Infinity"}) {
    SqliteValue v = Convert(pgoid::kNumeric, n);
    EXPECT_EQ(v.kind, Kind::kText);
    EXPECT_EQ(v.bytes, n);
  }
}

TEST(PgTextValueTest, ByteaHexBecomesABlob) {
  SqliteValue v = Convert(pgoid::kBytea, "\\x00ff41Ab");
  EXPECT_EQ(v.kind, Kind::kBlob);
  EXPECT_EQ(v.bytes, std::string("\x00\xff\x41\xab", 4));
  SqliteValue empty = Convert(pgoid::kBytea, "\\x");
  EXPECT_EQ(empty.kind, Kind::kBlob);
  EXPECT_EQ(empty.bytes, "");
}

TEST(PgTextValueTest, TimestamptzInUtcLosesItsOffset) {
  EXPECT_EQ(Convert(pgoid::kTimestamptz, "2026-11-22 09:00:00+00").bytes, "2026-11-22 09:00:00");
  EXPECT_EQ(Convert(pgoid::kTimestamptz, "2026-11-22 09:00:00.123456+00").bytes,
            "2026-11-22 09:00:00.123456");
  EXPECT_EQ(Convert(pgoid::kTimestamptz, "2026-11-22 09:00:00.5+00").bytes,
            "2026-11-22 09:00:00.5");
  EXPECT_EQ(Convert(pgoid::kTimestamptz, "12026-01-01 00:00:00+00").bytes, "12026-01-01 00:00:00");
  EXPECT_EQ(Convert(pgoid::kTimestamptz, "infinity").bytes, "infinity");
}

TEST(PgTextValueTest, EverythingElseIsTextAsGiven) {
  struct Case {
    uint32_t oid;
    const char* text;
  } cases[] = {{pgoid::kTimestamp, "2026-11-22 09:00:00.25"},
               {pgoid::kDate, "2026-11-22"},
               {pgoid::kTime, "09:00:00"},
               {pgoid::kJson, "{\"a\": [1, 2]}"},
               {pgoid::kJsonb, "{\"a\": [1, 2]}"},
               {pgoid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
               {pgoid::kText, "x'y\n🚀"},
               {pgoid::kVarchar, "v"},
               {pgoid::kBpchar, "ab   "},
               {1186, "1 day 02:00:00"},  // interval: not known, text
               {pgoid::kInt4 + 100000, "whatever"}};
  for (const Case& c : cases) {
    SqliteValue v = Convert(c.oid, c.text);
    EXPECT_EQ(v.kind, Kind::kText) << c.oid;
    EXPECT_EQ(v.bytes, c.text) << c.oid;
  }
}

TEST(PgTextValueTest, MalformedValuesAreRefusedNamingTheValue) {
  struct Case {
    uint32_t oid;
    const char* text;
  } cases[] = {{pgoid::kBool, "x"},
               {pgoid::kBool, "true"},
               {pgoid::kInt4, "12a"},
               {pgoid::kInt8, "99999999999999999999"},
               {pgoid::kInt2, ""},
               {pgoid::kFloat8, "abc"},
               {pgoid::kFloat8, "inf"},
               {pgoid::kFloat8, "1e999"},
               {pgoid::kNumeric, "1e5"},
               {pgoid::kNumeric, "1.2.3"},
               {pgoid::kNumeric, "-"},
               {pgoid::kBytea, "abc"},
               {pgoid::kBytea, "\\x0"},
               {pgoid::kBytea, "\\xzz"},
               {pgoid::kTimestamptz, "2026-11-22 09:00:00+05:30"},
               {pgoid::kTimestamptz, "2026-11-22 09:00:00"},
               {pgoid::kTimestamptz, "0044-03-15 12:00:00+00 BC"},
               {pgoid::kTimestamptz, "2026-11-22T09:00:00+00"}};
  for (const Case& c : cases) {
    auto v = PgTextToSqlite(c.oid, {pgchange::Datum::Kind::kText, c.text});
    ASSERT_FALSE(v.ok()) << c.oid << " '" << c.text << "'";
    EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(v.status().message().find(std::string("'") + c.text + "'"), std::string::npos)
        << v.status().ToString();
  }
}

// What SQLite stores once the applier binds each converted value into a typed column.
class PgTextStorageTest : public testing::ReverseFixture {};

TEST_F(PgTextStorageTest, StoredTypesAndValues) {
  Exec(
      "CREATE TABLE v (id INTEGER PRIMARY KEY, b BOOLEAN, i2 SMALLINT, i8 BIGINT, o INTEGER, "
      "f4 REAL, f8 DOUBLE, pinf REAL, ninf REAL, fnan REAL, n1 DECIMAL(10,2), n2 NUMERIC, "
      "n3 NUMERIC, ntext TEXT, bin BLOB, ts DATETIME, tsf DATETIME, tsz TIMESTAMP, d DATE, "
      "t TIME, j JSON, jb JSON, u TEXT, vc VARCHAR(10), bp CHAR(5), other TEXT)");
  SetRoute("*", "postgres", 1);
  std::vector<std::pair<const char*, uint32_t>> cols = {
      {"id", pgoid::kInt8},         {"b", pgoid::kBool},
      {"i2", pgoid::kInt2},         {"i8", pgoid::kInt8},
      {"o", pgoid::kOid},           {"f4", pgoid::kFloat4},
      {"f8", pgoid::kFloat8},       {"pinf", pgoid::kFloat8},
      {"ninf", pgoid::kFloat8},     {"fnan", pgoid::kFloat8},
      {"n1", pgoid::kNumeric},      {"n2", pgoid::kNumeric},
      {"n3", pgoid::kNumeric},      {"ntext", pgoid::kNumeric},
      {"bin", pgoid::kBytea},       {"ts", pgoid::kTimestamptz},
      {"tsf", pgoid::kTimestamptz}, {"tsz", pgoid::kTimestamp},
      {"d", pgoid::kDate},          {"t", pgoid::kTime},
      {"j", pgoid::kJson},          {"jb", pgoid::kJsonb},
      {"u", pgoid::kUuid},          {"vc", pgoid::kVarchar},
      {"bp", pgoid::kBpchar},       {"other", 1186}};
  std::vector<pgchange::Column> columns;
  for (auto& [name, oid] : cols)
    columns.push_back({name, oid, -1, std::string(name) == "id"});
  auto rel = Rel(18000, "v", columns);
  std::vector<pgchange::Datum> row = {T("1"),
                                      T("t"),
                                      T("-5"),
                                      T("9000000000"),
                                      T("26"),
                                      T("0.5"),
                                      T("2.25"),
                                      T("Infinity"),
                                      T("-Infinity"),
                                      T("NaN"),
                                      T("12.50"),
                                      T("12"),
                                      T("NaN"),
                                      T("12.50"),
                                      T("\\xdeadbeef"),
                                      T("2026-11-22 09:00:00+00"),
                                      T("2026-11-22 09:00:00.123456+00"),
                                      T("2026-11-22 09:00:00"),
                                      T("2026-11-22"),
                                      T("09:30:00"),
                                      T("{\"a\":1}"),
                                      T("{\"a\": 1}"),
                                      T("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                                      T("vc"),
                                      T("ab   "),
                                      T("1 day")};
  ReverseApplierOptions options;
  options.tables["v"] = {"v", {}, {}, false, {}};
  auto applier = OpenApplier(options);
  ASSERT_NE(applier, nullptr);
  auto stats = applier->Apply(Txn(100, {Insert(rel, row)}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  // Infinity compared, not quoted: quote() spells it differently across SQLite versions.
  std::string sql = "SELECT ";
  for (size_t i = 1; i < cols.size(); ++i) {
    std::string c = cols[i].first;
    std::string shown = c == "pinf"   ? "(pinf = 9e999)"
                        : c == "ninf" ? "(ninf = -9e999)"
                                      : "quote(" + c + ")";
    sql += std::string(i > 1 ? ", " : "") + "typeof(" + c + ") || ':' || " + shown;
  }
  std::string got = Rows(sql + " FROM v");
  EXPECT_EQ(got,
            "integer:1|integer:-5|integer:9000000000|integer:26|real:0.5|real:2.25|"
            "real:1|real:1|text:'NaN'|real:12.5|integer:12|text:'NaN'|"
            "text:'12.50'|blob:X'DEADBEEF'|text:'2026-11-22 09:00:00'|"
            "text:'2026-11-22 09:00:00.123456'|text:'2026-11-22 09:00:00'|text:'2026-11-22'|"
            "text:'09:30:00'|text:'{\"a\":1}'|text:'{\"a\": 1}'|"
            "text:'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'|text:'vc'|text:'ab   '|text:'1 day'\n");
}

}  // namespace
}  // namespace sqlift
