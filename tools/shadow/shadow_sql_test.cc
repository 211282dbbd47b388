// `sqlift shadow` without a server: the blob-literal rewrite and the other text questions
// (tools/shadow_sql.h), the result comparison (tools/shadow_compare.h), the type of a result
// column by OID, and the exit rule and report forms (tools/shadow_replay.h).
#include "tools/shadow/shadow_sql.h"

#include <gtest/gtest.h>

#include "tools/shadow/shadow_compare.h"
#include "tools/shadow/shadow_exec.h"
#include "tools/shadow/shadow_replay.h"

namespace sqlift {
namespace {

TEST(ShadowSqlTest, BlobLiteralsBecomeByteaAndNothingElseChanges) {
  EXPECT_EQ(RewriteBlobLiteralsForPg("SELECT * FROM t WHERE data = x'00FF' OR d = X'ab'"),
            "SELECT * FROM t WHERE data = '\\x00ff'::bytea OR d = '\\xab'::bytea");
  EXPECT_EQ(RewriteBlobLiteralsForPg("SELECT x''"), "SELECT '\\x'::bytea");
  // Inside strings, quoted identifiers and comments: left alone.
  const std::string untouched =
      "SELECT 'x''00''', \"x'01'\", [x'02'], `x'03'` -- x'04'\n/* x'05' */ FROM t";
  EXPECT_EQ(RewriteBlobLiteralsForPg(untouched), untouched);
  // A word ending in x is not a blob's prefix; a malformed blob is SQLite's to refuse.
  EXPECT_EQ(RewriteBlobLiteralsForPg("SELECT max'1', x'abc', x'zz'"),
            "SELECT max'1', x'abc', x'zz'");
  EXPECT_EQ(RewriteBlobLiteralsForPg("SELECT (x'01')||x'02'"),
            "SELECT ('\\x01'::bytea)||'\\x02'::bytea");
  EXPECT_EQ(RewriteBlobLiteralsForPg("SELECT 'open x'01'"), "SELECT 'open x'01'");
}

TEST(ShadowSqlTest, TopLevelOrderBy) {
  EXPECT_TRUE(HasTopLevelOrderBy("SELECT * FROM t ORDER BY id"));
  EXPECT_TRUE(HasTopLevelOrderBy("select a from t union select b from u order\n  by 1"));
  EXPECT_TRUE(HasTopLevelOrderBy("WITH c AS (SELECT 1 ORDER BY 1) SELECT * FROM c ORDER BY 1"));
  EXPECT_FALSE(HasTopLevelOrderBy("SELECT * FROM (SELECT * FROM t ORDER BY id)"));
  EXPECT_FALSE(HasTopLevelOrderBy("SELECT row_number() OVER (ORDER BY id) FROM t"));
  EXPECT_FALSE(HasTopLevelOrderBy("SELECT 'ORDER BY' FROM t -- ORDER BY x"));
  EXPECT_FALSE(HasTopLevelOrderBy("SELECT \"order\", by FROM t"));
  EXPECT_TRUE(OnlyTrivia(" ; -- c\n /* d */ ;"));
  EXPECT_FALSE(OnlyTrivia("; SELECT 2"));
}

CanonicalRow Row(std::initializer_list<const char*> values) {
  CanonicalRow r;
  for (const char* v : values) {
    r.push_back(v ? CanonicalValue{CanonicalValue::Kind::kValue, v} : CanonicalValue{});
  }
  return r;
}

ResultSide Side(std::vector<CanonicalRow> rows, size_t max = 100, int columns = 2) {
  ResultSide s(max);
  s.SetColumns(columns);
  for (const CanonicalRow& r : rows)
    s.Add(r);
  return s;
}

TEST(ShadowCompareTest, MultisetsOrderAndColumns) {
  ResultSide a = Side({Row({"1", "a"}), Row({"2", nullptr}), Row({"2", nullptr})});
  ResultSide b = Side({Row({"2", nullptr}), Row({"1", "a"}), Row({"2", nullptr})});
  EXPECT_EQ(CompareResults(a, b, false).verdict, RowsVerdict::kMatched);
  RowsComparison order = CompareResults(a, b, true);
  EXPECT_EQ(order.verdict, RowsVerdict::kOrderDiffers);
  EXPECT_EQ(order.position, 0);
  EXPECT_EQ(*order.sqlite_row, (std::vector<std::string>{"1", "'a'"}));
  EXPECT_EQ(*order.pg_row, (std::vector<std::string>{"2", "NULL"}));

  // One duplicate fewer, and NULL is not ''.
  ResultSide c = Side({Row({"1", "a"}), Row({"2", ""})});
  RowsComparison diff = CompareResults(a, c, false);
  EXPECT_EQ(diff.verdict, RowsVerdict::kDifferent);
  EXPECT_EQ(diff.detail, "3 rows on SQLite, 2 on PostgreSQL");
  EXPECT_EQ(*diff.sqlite_row, (std::vector<std::string>{"2", "NULL"}));
  EXPECT_EQ(*diff.pg_row, (std::vector<std::string>{"2", "''"}));
  ResultSide dup = Side({Row({"1", "a"}), Row({"2", nullptr})});
  RowsComparison fewer = CompareResults(a, dup, false);
  EXPECT_EQ(*fewer.sqlite_row, (std::vector<std::string>{"2", "NULL"}));
  EXPECT_FALSE(fewer.pg_row.has_value());

  RowsComparison cols = CompareResults(a, Side({}, 100, 3), false);
  EXPECT_EQ(cols.verdict, RowsVerdict::kDifferent);
  EXPECT_EQ(cols.detail, "2 columns on SQLite, 3 on PostgreSQL");

  // Over the cap: the verdict from fingerprints, no example rows.
  ResultSide big1 = Side({Row({"1", "a"}), Row({"2", "b"}), Row({"3", "c"})}, 2);
  ResultSide big2 = Side({Row({"3", "c"}), Row({"2", "b"}), Row({"1", "a"})}, 2);
  ResultSide big3 = Side({Row({"3", "c"}), Row({"2", "b"}), Row({"1", "A"})}, 2);
  EXPECT_FALSE(big1.kept_all());
  EXPECT_EQ(CompareResults(big1, big2, false).verdict, RowsVerdict::kMatched);
  EXPECT_EQ(CompareResults(big1, big2, true).verdict, RowsVerdict::kOrderDiffers);
  RowsComparison far = CompareResults(big1, big3, false);
  EXPECT_EQ(far.verdict, RowsVerdict::kDifferent);
  EXPECT_FALSE(far.sqlite_row.has_value());
}

TEST(ShadowExecTest, ResultColumnTypesByOid) {
  EXPECT_EQ(PgTypeOfOid(20).kind, PgType::Kind::kBigint);
  EXPECT_EQ(PgTypeOfOid(1700).kind, PgType::Kind::kNumeric);
  EXPECT_EQ(PgTypeOfOid(16).kind, PgType::Kind::kBoolean);
  EXPECT_EQ(PgTypeOfOid(1184).kind, PgType::Kind::kTimestamptz);
  EXPECT_EQ(PgTypeOfOid(1043).kind, PgType::Kind::kText);
  EXPECT_EQ(PgTypeOfOid(1186).kind, PgType::Kind::kOther);  // interval: compared as text
}

TEST(ShadowReportTest, ExitRuleAndForms) {
  ShadowReport r;
  r.log_path = "/tmp/shadow.log";
  r.entries = 4, r.position = 12, r.held = true, r.rate = 0.5;
  QueryReport ok{"SELECT 1", "SELECT 1", 2, 1, QueryOutcome::kMatched, "", "", {}, 1, 1};
  QueryReport gone{"SELECT * FROM dropped",  "", 1, 2, QueryOutcome::kFailedOnSqlite, "",
                   "no such table: dropped", {}, 0, 0};
  r.queries = {ok, gone};
  EXPECT_EQ(ShadowExitCode(r), 0);  // failing on SQLite is reported, not blocking
  QueryReport bad{"SELECT typeof(1)",
                  "SELECT typeof(1)",
                  1,
                  3,
                  QueryOutcome::kInvalidOnPg,
                  "42883",
                  "function typeof(integer) does not exist",
                  {},
                  0,
                  0};
  r.queries.push_back(bad);
  EXPECT_EQ(ShadowExitCode(r), 3);
  EXPECT_EQ(r.Count(QueryOutcome::kInvalidOnPg), 1);
  EXPECT_EQ(r.Entries(QueryOutcome::kMatched), 2);
  std::string text = ShadowReportText(r);
  EXPECT_NE(text.find("position: outbox seq 12; both sides read there"), std::string::npos) << text;
  EXPECT_NE(text.find("not valid on PostgreSQL          1        1"), std::string::npos) << text;
  EXPECT_NE(text.find("  SELECT typeof(1)\n    [42883] function typeof(integer) does not exist"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 of 3 queries matched; something differs (exit 3)"), std::string::npos)
      << text;
  std::string json = ShadowReportJson(r);
  EXPECT_NE(json.find(R"("invalid_on_pg":{"queries":1,"entries":1})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("exit_code":3)"), std::string::npos) << json;
  r.queries[2].sql = "SELECT '\xff'";
  EXPECT_NE(ShadowReportJson(r).find(R"("sql_hex":"53454c4543542027ff27")"), std::string::npos);
  EXPECT_NE(ShadowReportText(r).find("  SELECT '\\xff'\n"), std::string::npos);
}

}  // namespace
}  // namespace sqlift
