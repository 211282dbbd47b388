// The copy loader's binary COPY stores exactly what its text COPY stores: the same values of
// every type (edge cases included) go through both into the same PostgreSQL, and the tables
// are compared as PostgreSQL prints them. Values that do not fit are dead-lettered by both.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "apply/pg_sink/copy_loader.h"
#include "apply/pg_sink/pg_state_schema.h"
#include "proto/wire/frame_test_util.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

using proto::testing::Blob;
using proto::testing::Int;
using proto::testing::NullValue;
using proto::testing::Real;
using proto::testing::Text;

struct Case {
  std::string type;  // a PostgreSQL type (ParsePgType)
  std::vector<wire::Value> values;
};

const double kInf = std::numeric_limits<double>::infinity();

std::vector<Case> Cases() {
  return {
      {"bigint",
       {Int(0), Int(-5), Int(INT64_MAX), Int(INT64_MIN), Real(3.0), Text(" 42 "), Text("+7"),
        Text("-0012"), NullValue()}},
      {"integer", {Int(2147483647), Text("-2147483648"), Int(2147483648), Real(-2.0)}},
      {"smallint", {Int(-32768), Text("123"), Int(40000)}},
      {"double precision",
       {Real(0.1), Real(-0.0), Real(1e308), Real(5e-324), Int(9007199254740993), Text("1e-5"),
        Text(" 3.25 "), Text("NaN"), Text("-Infinity"), Text("inf"), Real(kInf), Text("abc")}},
      {"real",
       {Real(0.1), Real(3.4e38), Int(16777217), Text("1.17549435e-38"), Text("NaN"),
        Real(1.0 / 3)}},
      {"numeric(10,2)",
       {Real(25.5), Int(30), Text("12.34"), Text("-0.01"), Text("0"), Text("-0"), Text("1e3"),
        Text(" 7.5 "), Real(1234.5), Real(0.125), Int(123456789012)}},
      {"numeric",
       {Text("123456789012345678901234567890.000123"), Text("0.00000001"), Text("1.50"),
        Text("-1.5e-10"), Text("12e5"), Real(1e20), Real(-2.5e-7), Int(INT64_MIN), Real(kInf),
        Real(-kInf), Text("00012.3400"), Text(".5"), Text("5."), Text("1E+2"), Text("-0.000"),
        Text("99990000"), Text("0.0001")}},
      {"boolean", {Int(1), Int(0), Text("true"), Text("F"), Real(1.0), Text("yes")}},
      {"timestamp with time zone",
       {Text("2024-01-02 03:04:05"),
        Text("2024-01-02T03:04:05.123"),
        Text("2024-01-02T03:04:05Z"),
        Text("2024-01-02 03:04:05+02:00"),
        Text("2024-01-02 03:04-05"),
        Text("2024-01-02"),
        Text("2024-01-02 03:04:05.1234565"),
        Text("2024-01-02 03:04:05.9999999"),
        Text("1969-07-20 20:17:40+0530"),
        Text("0001-01-01 00:00:00"),
        Text("2000-02-29 12:00:00 Z"),
        Text("2024-01-02 03:04:05.5 -03:30"),
        Int(0),
        Int(-1),
        Int(1700000000),
        Real(1.5),
        Real(-0.25),
        Real(1700000000.123456789),
        Text("2024-02-30 00:00:00"),
        Int(1764979200000),
        Int(1764979200123456),
        Real(1764979200123.5),
        Text("2025-12-06 00:00:00 +00:00"),
        Int(100000000000000000),
        Int(-99999999999),
        Text("0001-01-01 00:00:00+01:00")}},
      {"timestamptz(3)",
       {Int(1764979200123), Text("2025-12-06 00:00:00.1235"), Text("1990-01-01 00:00:00.0005"),
        Real(1764979200.9996), Int(1764979200123456)}},
      {"timestamp without time zone",
       {Text("2024-01-02 03:04:05+02:00"), Text("2024-01-02 03:04:05"), Int(86400), Real(0.5)}},
      {"date", {Text("2024-02-29"), Text("1900-01-01"), Text("0001-01-01"), Text("2023-02-29")}},
      {"bytea", {Blob(std::string("\0\1\xff", 3)), Text("abc"), Blob("")}},
      {"text",
       {Text("héllo\ttab\nnew\\back"), Int(42), Real(1.0), Real(0.1), Real(1e100),
        Blob("utf8 blob"), Text(""), Text("\\N"), Blob("\xff\xfe")}},
      {"jsonb",
       {Text("{\"a\": [1, 2.50, null]}"), Int(5), Real(2.5), Text("\"x\""), Text("not json")}},
      {"json", {Text("{\"b\":1,  \"a\":2}"), Real(-0.5)}},
      {"uuid",
       {Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), Text("A0EEBC999C0B4EF8BB6D6BB9BD380A11")}},
      {"varchar(5)", {Text("abcde"), Text("abcdef"), Text("héllo")}},
  };
}

class CopyBinaryTest : public PgSuiteTest {};

// Loads `c` into a fresh table in the given format; returns its rows as PostgreSQL prints
// them, "k|v" in key order, and the number of dead letters.
std::vector<std::string> Load(PgConnection& conn, PgConnection& dead, const Case& c,
                              const std::string& name, bool binary, int64_t* dead_letters) {
  Result<PgType> type = ParsePgType(c.type);
  EXPECT_TRUE(type.ok()) << c.type;
  TablePlan plan;
  plan.source_name = plan.pg_name = name;
  for (const char* col : {"k", "v"}) {
    ColumnPlan& p = plan.columns.emplace_back();
    p.source_name = p.pg_name = col;
    p.mapping.type = *col == 'k' ? PgType::Of(PgType::Kind::kBigint) : *type;
  }
  EXPECT_TRUE(conn.Exec("CREATE TABLE " + name + " (k bigint, v " + c.type + ")").ok());
  CopyLoaderOptions o;
  o.on_error = OnError::kSkipRow;
  o.binary = binary;
  o.key_columns = {0};
  CopyLoader loader(conn, dead, plan, "public", o);
  std::vector<wire::Row> rows;
  for (size_t i = 0; i < c.values.size(); ++i) {
    wire::Row& r = rows.emplace_back();
    *r.add_values() = Int(static_cast<int64_t>(i));
    *r.add_values() = c.values[i];
  }
  Status st = loader.Begin();
  if (st.ok()) st = loader.AddRows(rows);
  if (st.ok()) st = loader.Finish();
  EXPECT_TRUE(st.ok()) << c.type << (binary ? " binary: " : " text: ") << st.ToString();
  *dead_letters = loader.stats().dead_letters;
  std::vector<std::string> out;
  Result<PgResult> r = conn.Query("SELECT k, v::text FROM " + name + " ORDER BY k");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return out;
  for (int i = 0; i < r->rows(); ++i)
    out.push_back(std::string(r->get(i, 0)) + "|" + r->value(i, 1).value_or("NULL"));
  return out;
}

TEST_F(CopyBinaryTest, BinaryStoresWhatTextStores) {
  Result<std::string> uri = pg_->CreateDatabase("copy_binary");
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  auto conn = PgConnection::Connect(*uri, std::chrono::seconds(10));
  auto dead = PgConnection::Connect(*uri, std::chrono::seconds(10));
  ASSERT_TRUE(conn.ok() && dead.ok());
  ASSERT_TRUE(EnsureStateSchema(**conn).ok());
  ASSERT_TRUE((*conn)->Exec("SET TimeZone = 'UTC'; SET extra_float_digits = 3").ok());
  int n = 0;
  for (const Case& c : Cases()) {
    int64_t dead_text = 0, dead_binary = 0;
    std::vector<std::string> text =
        Load(**conn, **dead, c, "t" + std::to_string(n), false, &dead_text);
    std::vector<std::string> binary =
        Load(**conn, **dead, c, "b" + std::to_string(n), true, &dead_binary);
    ++n;
    EXPECT_EQ(text, binary) << c.type;
    EXPECT_EQ(dead_text, dead_binary) << c.type;
    EXPECT_EQ(text.size() + static_cast<size_t>(dead_text), c.values.size()) << c.type;
  }
}

}  // namespace
}  // namespace sqlift
