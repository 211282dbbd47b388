// The check a switch runs inside its fence reads only the rows changed since the proof: the
// same changes on a small and a large table read the same number of rows, the counts come from
// the proof plus the net inserts and deletes, and a changed row that differs is found by key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/pg/pg_connection.h"
#include "common/process/process.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/sandbox/pg_suite_test.h"
#include "tools/verify/verify_run.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSmall = 100;
constexpr int64_t kLarge = 20'000;

class SwitchCheckTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sqlift_switch_check_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "app.db").string();
    db_ = std::move(SqliteDb::Open(path_, SqliteDb::Mode::kReadWriteCreate)).value();
    Sqlite(
        "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
        "CREATE TABLE large (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
        "INSERT INTO large SELECT i, 'row ' || i FROM n;"
        "INSERT INTO small SELECT id, v FROM large WHERE id <= 100;");
    static int databases = 0;
    auto uri = pg_->CreateDatabase("switch_check_" + std::to_string(++databases));
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
    auto copied = process::RunCaptured({SQLIFT_BINARY, "copy", "--sqlite", path_, "--pg", uri_});
    ASSERT_TRUE(copied.ok() && copied->exit_code == 0) << copied->out << copied->err;
    pg_conn_ = std::move(PgConnection::Connect(uri_, std::chrono::seconds(10))).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Sqlite(const std::string& sql) { ASSERT_TRUE(db_->Exec(sql).ok()) << sql; }
  void Pg(const std::string& sql) { ASSERT_TRUE(pg_conn_->Exec(sql).ok()) << sql; }
  // The same statement on both sides, as capture and apply would leave them.
  void Both(const std::string& sql) {
    Sqlite(sql);
    Pg("SET search_path = public; " + sql);
  }

  // Keys 1..10 updated, 11 deleted, 30001 inserted in both tables, on both sides.
  void ChangeBothTables() {
    for (const char* sql :
         {"UPDATE small SET v = v || ' changed' WHERE id <= 10", "DELETE FROM small WHERE id = 11",
          "INSERT INTO small VALUES (30001, 'new')",
          "UPDATE large SET v = v || ' changed' WHERE id <= 10", "DELETE FROM large WHERE id = 11",
          "INSERT INTO large VALUES (30001, 'new')"})
      Both(sql);
  }

  // What the log would show of the changes above.
  static ChangedKeys Changes() {
    ChangedKeys c;
    c.since_run = 1;
    c.since_seq = 7;
    c.counts_at_since = {{"small", kSmall}, {"large", kLarge}};
    for (const std::string table : {"small", "large"}) {
      auto add = [&](int64_t id, bool before, bool after) {
        wire::Row key;
        key.add_values()->set_integer(id);
        c.keys[table].push_back(key);
        c.fates[table].push_back(KeyFate{before, after, std::nullopt});
        ++c.count;
      };
      for (int64_t id = 1; id <= 10; ++id)
        add(id, true, true);
      add(11, true, false);
      add(30001, false, true);
    }
    return c;
  }

  Result<VerifyReport> Check(const ChangedKeys& changed) {
    VerifySpec spec;
    spec.sqlite = path_;
    spec.pg = uri_;
    spec.still = true;
    spec.changed = &changed;
    int exit = 0;
    return RunVerification(spec, &exit);
  }

  static const TableVerdict& Table(const VerifyReport& r, const std::string& name) {
    for (const TableVerdict& t : r.tables) {
      if (t.table == name) return t;
    }
    static const TableVerdict kNone;
    ADD_FAILURE() << "no table " << name;
    return kNone;
  }

  fs::path dir_;
  std::string path_, uri_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<PgConnection> pg_conn_;
};

TEST_F(SwitchCheckTest, TheSameChangesReadTheSameRowsOnASmallAndALargeTable) {
  ChangeBothTables();
  ChangedKeys changed = Changes();
  auto report = Check(changed);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->matched()) << ReportText(*report);
  const TableVerdict& small = Table(*report, "small");
  const TableVerdict& large = Table(*report, "large");
  // 11 keys found on each side (10 updated, 1 inserted; the deleted one is on neither).
  EXPECT_EQ(small.rows_read, 22);
  EXPECT_EQ(large.rows_read, small.rows_read);
  // The counts: proven at the proof, plus one insert, less one delete; no count(*) read.
  EXPECT_TRUE(small.counted);
  EXPECT_EQ(small.comparison.sqlite_rows, kSmall);
  EXPECT_EQ(small.comparison.pg_rows, kSmall);
  EXPECT_EQ(large.comparison.sqlite_rows, kLarge);
}

TEST_F(SwitchCheckTest, AChangedRowThatDiffersIsFoundByItsKey) {
  ChangeBothTables();
  Pg("UPDATE public.large SET v = 'corrupted' WHERE id = 7");
  ChangedKeys changed = Changes();
  auto report = Check(changed);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->matched());
  const TableVerdict& large = Table(*report, "large");
  EXPECT_EQ(large.status, TableStatus::kDifferent);
  ASSERT_FALSE(large.comparison.examples.empty());
  EXPECT_EQ(large.comparison.examples[0].key, "(7)");
  EXPECT_EQ(Table(*report, "small").status, TableStatus::kMatched);
}

TEST_F(SwitchCheckTest, WithoutProvenCountsTheCountsAreNotClaimed) {
  Both("UPDATE small SET v = 'x' WHERE id = 1");
  ChangedKeys changed = Changes();
  changed.counts_at_since.clear();
  auto report = Check(changed);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(Table(*report, "small").counted);
  EXPECT_FALSE(Table(*report, "large").counted);
}

// A fallback settles the changed keys before its fence (no position to hold): every key equal
// on both sides (or absent from both, as the deleted one) is settled and not read again inside
// the fence; a key whose row differs is not, though the rest of its batch is, and the check
// inside the fence still finds that row by its key. A later round reads only what is left.
TEST_F(SwitchCheckTest, ASettleLeavesOnlyTheRowThatDiffersToTheFence) {
  ChangeBothTables();
  Pg("UPDATE public.large SET v = 'corrupted' WHERE id = 7");
  ChangedKeys changed = Changes();
  changed.to_seq = changed.since_seq;
  VerifySpec spec;
  spec.sqlite = path_;
  spec.pg = uri_;
  auto settled = SettleChangedKeys(spec, &changed, /*batch=*/4);
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  // 24 keys in batches of 4, 12 per table: every key settles but the corrupted one.
  EXPECT_EQ(settled->batches, 6u);
  EXPECT_EQ(settled->settled, 23u);
  EXPECT_EQ(UnsettledCount(changed), 1u);
  EXPECT_TRUE(KeysToRead(changed, "small").empty());
  ASSERT_EQ(KeysToRead(changed, "large").size(), 1u);
  EXPECT_EQ(KeysToRead(changed, "large")[0].values(0).integer(), 7);

  // The next round reads the one key left, in one batch, and it still differs.
  auto again = SettleChangedKeys(spec, &changed, /*batch=*/4);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->batches, 1u);
  EXPECT_EQ(again->settled, 0u);

  auto report = Check(changed);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->matched());
  const TableVerdict& large = Table(*report, "large");
  EXPECT_EQ(large.status, TableStatus::kDifferent);
  ASSERT_FALSE(large.comparison.examples.empty());
  EXPECT_EQ(large.comparison.examples[0].key, "(7)");
  EXPECT_EQ(large.rows_read, 2);  // only the unsettled key, on both sides
  EXPECT_EQ(Table(*report, "small").rows_read, 0);
  // The counts still come from every key's fate.
  EXPECT_EQ(Table(*report, "small").comparison.sqlite_rows, kSmall);
  EXPECT_EQ(large.comparison.sqlite_rows, kLarge);
}

}  // namespace
}  // namespace sqlift
