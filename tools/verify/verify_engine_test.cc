// The comparison engine over in-memory readers: order does not matter, every kind of
// difference is found with its key and values, NULL is not '', the row cap bounds what is
// kept and says so, and reader errors stop the comparison.
#include "tools/verify/verify_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace sqlift {
namespace {

CanonicalValue V(std::string s) {
  return {CanonicalValue::Kind::kValue, std::move(s)};
}
const CanonicalValue kNull{};

class FakeReader : public VerifyTableReader {
 public:
  explicit FakeReader(std::vector<CanonicalRow> rows) : rows_(std::move(rows)) {}
  Status Scan(const RowSink& sink) override {
    ++scans;
    if (fail) return Status::IOError("disk gone");
    for (const CanonicalRow& r : rows_)
      SQLIFT_RETURN_IF_ERROR(sink(r));
    return Status::OK();
  }
  std::vector<CanonicalRow> rows_;
  int scans = 0;
  bool fail = false;
};

std::vector<CanonicalRow> Rows(int n) {
  std::vector<CanonicalRow> rows;
  for (int i = 1; i <= n; ++i)
    rows.push_back({V(std::to_string(i)), V("name " + std::to_string(i)), V("0.99")});
  return rows;
}

VerifyOptions Options() {
  VerifyOptions o;
  o.column_names = {"id", "name", "price"};
  o.key_columns = {0};
  return o;
}

TEST(VerifyEngine, SameRowsInAnyOrderMatch) {
  std::vector<CanonicalRow> a = Rows(5000), b = a;
  std::shuffle(b.begin(), b.end(), std::mt19937(7));
  FakeReader s(a), p(b);
  Result<TableComparison> c = CompareTable(s, p, Options());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->matched());
  EXPECT_EQ(c->sqlite_rows, 5000);
  EXPECT_EQ(c->pg_rows, 5000);
  EXPECT_EQ(s.scans, 1);  // nothing differs: one read per side
}

TEST(VerifyEngine, FindsDifferentMissingAndExtraRowsWithValues) {
  std::vector<CanonicalRow> a = Rows(5000), b = a;
  b[1233][2] = V("9.99");                     // key 1234 changed
  a[99][1] = V(""), b[99][1] = kNull;         // key 100: '' vs NULL
  b.erase(b.begin() + 6);                     // key 7 missing
  b.push_back({V("9001"), V("new"), kNull});  // key 9001 extra
  FakeReader s(a), p(b);
  Result<TableComparison> c = CompareTable(s, p, Options());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->matched());
  EXPECT_TRUE(c->complete());
  EXPECT_EQ(c->different, 2);
  EXPECT_EQ(c->missing, 1);
  EXPECT_EQ(c->extra, 1);
  ASSERT_EQ(c->examples.size(), 4u);
  // Examples by kind, keys in numeric order.
  EXPECT_EQ(c->examples[0].key, "(100)");
  EXPECT_EQ(c->examples[0].columns, std::vector<std::string>{"name"});
  EXPECT_EQ(c->examples[0].sqlite, std::vector<std::string>{"''"});
  EXPECT_EQ(c->examples[0].pg, std::vector<std::string>{"NULL"});
  EXPECT_EQ(c->examples[1].key, "(1234)");
  EXPECT_EQ(c->examples[1].columns, std::vector<std::string>{"price"});
  EXPECT_EQ(c->examples[1].sqlite, std::vector<std::string>{"0.99"});
  EXPECT_EQ(c->examples[1].pg, std::vector<std::string>{"9.99"});
  EXPECT_EQ(c->examples[2].kind, RowDiffKind::kMissing);
  EXPECT_EQ(c->examples[2].key, "(7)");
  EXPECT_EQ(c->examples[2].sqlite, (std::vector<std::string>{"7", "'name 7'", "0.99"}));
  EXPECT_EQ(c->examples[3].kind, RowDiffKind::kExtra);
  EXPECT_EQ(c->examples[3].key, "(9001)");
  EXPECT_EQ(c->examples[3].pg, (std::vector<std::string>{"9001", "'new'", "NULL"}));
}

TEST(VerifyEngine, WithoutAKeyRowsAreMatchedWholeWithDuplicates) {
  std::vector<CanonicalRow> a = {{V("x")}, {V("x")}, {V("y")}}, b = {{V("x")}, {V("y")}};
  FakeReader s(a), p(b);
  VerifyOptions o;
  o.column_names = {"v"};
  Result<TableComparison> c = CompareTable(s, p, o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->missing, 1);
  EXPECT_EQ(c->different + c->extra, 0);
}

TEST(VerifyEngine, RowCapBoundsWhatIsKeptAndSaysSo) {
  std::vector<CanonicalRow> a = Rows(20000), b;  // everything missing
  FakeReader s(a), p(b);
  VerifyOptions o = Options();
  o.bucket_bits = 4;  // 16 buckets of ~1,250 rows
  o.max_rows_kept = 5000;
  Result<TableComparison> c = CompareTable(s, p, o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->differing_buckets, 16);
  EXPECT_GT(c->examined_buckets, 0);
  EXPECT_LT(c->examined_buckets, 16);
  EXPECT_FALSE(c->complete());
  EXPECT_LE(c->missing, 5000);
  EXPECT_GT(c->missing, 0);
  EXPECT_EQ(c->examples.size(), 5u);
}

TEST(VerifyEngine, ReaderErrorsStopTheComparison) {
  FakeReader s(Rows(3)), p(Rows(3));
  p.fail = true;
  Result<TableComparison> c = CompareTable(s, p, Options());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().ToString().find("read PostgreSQL rows: IO error: disk gone"),
            std::string::npos)
      << c.status().ToString();
}

TEST(VerifyEngine, PrintableValues) {
  EXPECT_EQ(PrintableValue(kNull), "NULL");
  EXPECT_EQ(PrintableValue(V("it's")), "'it''s'");
  EXPECT_EQ(PrintableValue(V("-12.5")), "-12.5");
  EXPECT_EQ(PrintableValue(V(std::string("a\0", 2))), "x'6100'");
  EXPECT_EQ(PrintableValue({CanonicalValue::Kind::kUnfit, "why: 'v'"}), "unfit (why: 'v')");
}

}  // namespace
}  // namespace sqlift
