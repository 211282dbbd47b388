// The copy loader's binary COPY stores exactly what its text COPY stores: the same values of
// every type (edge cases included) go through both into the same PostgreSQL, and the tables
// are compared as PostgreSQL prints them. Values that do not fit are dead-lettered by both.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "apply/copy_loader.h"
#include "apply/pg_state_schema.h"
#include "deploy/testing/pg_suite_test.h"

namespace sqlift {
namespace {

wire::Value I(int64_t x) {
  wire::Value v;
  v.set_integer(x);
  return v;
}
wire::Value R(double x) {
  wire::Value v;
  v.set_real(x);
  return v;
}
wire::Value T(const std::string& s) {
  wire::Value v;
  v.set_text(s);
  return v;
}
wire::Value B(const std::string& s) {
  wire::Value v;
  v.set_blob(s);
  return v;
}
wire::Value Null() {
  wire::Value v;
  v.mutable_null();
  return v;
}

struct Case {
  std::string type;  // a PostgreSQL type (ParsePgType)
  std::vector<wire::Value> values;
};

const double kInf = std::numeric_limits<double>::infinity();

std::vector<Case> Cases() {
  return {
      {"bigint",
       {I(0), I(-5), I(INT64_MAX), I(INT64_MIN), R(3.0), T(" 42 "), T("+7"), T("-0012"), Null()}},
      {"integer", {I(2147483647), T("-2147483648"), I(2147483648), R(-2.0)}},
      {"smallint", {I(-32768), T("123"), I(40000)}},
      {"double precision",
       {R(0.1), R(-0.0), R(1e308), R(5e-324), I(9007199254740993), T("1e-5"), T(" 3.25 "), T("NaN"),
        T("-Infinity"), T("inf"), R(kInf), T("abc")}},
      {"real", {R(0.1), R(3.4e38), I(16777217), T("1.17549435e-38"), T("NaN"), R(1.0 / 3)}},
      {"numeric(10,2)",
       {R(25.5), I(30), T("12.34"), T("-0.01"), T("0"), T("-0"), T("1e3"), T(" 7.5 "), R(1234.5),
        R(0.125), I(123456789012)}},
      {"numeric",
       {T("123456789012345678901234567890.000123"), T("0.00000001"), T("1.50"), T("-1.5e-10"),
        T("12e5"), R(1e20), R(-2.5e-7), I(INT64_MIN), R(kInf), R(-kInf), T("00012.3400"), T(".5"),
        T("5."), T("1E+2"), T("-0.000"), T("99990000"), T("0.0001")}},
      {"boolean", {I(1), I(0), T("true"), T("F"), R(1.0), T("yes")}},
      {"timestamp with time zone",
       {T("2024-01-02 03:04:05"), T("2024-01-02T03:04:05.123"), T("2024-01-02T03:04:05Z"),
        T("2024-01-02 03:04:05+02:00"), T("2024-01-02 03:04-05"), T("2024-01-02"),
        T("2024-01-02 03:04:05.1234565"), T("2024-01-02 03:04:05.9999999"),
        T("1969-07-20 20:17:40+0530"), T("0001-01-01 00:00:00"), T("2000-02-29 12:00:00 Z"),
        T("2024-01-02 03:04:05.5 -03:30"), I(0), I(-1), I(1700000000), R(1.5), R(-0.25),
        R(1700000000.123456789), T("2024-02-30 00:00:00")}},
      {"timestamp without time zone",
       {T("2024-01-02 03:04:05+02:00"), T("2024-01-02 03:04:05"), I(86400), R(0.5)}},
      {"date", {T("2024-02-29"), T("1900-01-01"), T("0001-01-01"), T("2023-02-29")}},
      {"bytea", {B(std::string("\0\1\xff", 3)), T("abc"), B("")}},
      {"text",
       {T("héllo\ttab\nnew\\back"), I(42), R(1.0), R(0.1), R(1e100), B("utf8 blob"), T(""),
        T("\\N"), B("\xff\xfe")}},
      {"jsonb", {T("{\"a\": [1, 2.50, null]}"), I(5), R(2.5), T("\"x\""), T("not json")}},
      {"json", {T("{\"b\":1,  \"a\":2}"), R(-0.5)}},
      {"uuid", {T("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), T("A0EEBC999C0B4EF8BB6D6BB9BD380A11")}},
      {"varchar(5)", {T("abcde"), T("abcdef"), T("héllo")}},
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
    *r.add_values() = I(static_cast<int64_t>(i));
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
