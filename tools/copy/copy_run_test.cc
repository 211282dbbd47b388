// The copy engine against a throwaway PostgreSQL, called as a library: tables with and without
// a primary key, the report, progress, a usage error, and targets that already hold rows.
#include "tools/copy/copy_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "common/base/exit_code.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;

class CopyRunTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sqlift_copy_run_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto db = SqliteDb::Open((dir_ / "app.db").string(), SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)
                    ->Exec(R"(
      CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
      INSERT INTO rooms VALUES (1, 'Blue'), (2, 'Red'), (3, 'Green');
      CREATE TABLE room_tags (room_id INTEGER, tag TEXT);
      INSERT INTO room_tags VALUES (1, 'quiet'), (1, 'quiet'), (2, 'sunny');
    )")
                    .ok());
    auto uri = pg_->CreateDatabase(
        "copy_run_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    options_.sqlite = (dir_ / "app.db").string();
    options_.pg = *uri;
  }
  void TearDown() override { fs::remove_all(dir_); }

  int64_t Count(const std::string& table) {
    auto conn = PgConnection::Connect(options_.pg, std::chrono::seconds(10));
    EXPECT_TRUE(conn.ok());
    auto r = (*conn)->Query("SELECT count(*) FROM " + table);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::stoll(std::string(r->get(0, 0))) : -1;
  }

  fs::path dir_;
  CopyOptions options_;
};

TEST_F(CopyRunTest, CopiesTablesWithAndWithoutAPrimaryKey) {
  int exit = -1;
  std::map<std::string, int64_t> last_done;
  CopyProgress progress;
  progress.count_rows = true;
  progress.on_rows = [&](const std::string& table, int64_t done, int64_t total, double) {
    EXPECT_LE(done, total);
    last_done[table] = done;
  };
  Result<CopyReport> report = RunCopy(options_, nullptr, progress, &exit);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(exit, kExitOk);
  ASSERT_EQ(report->tables.size(), 2u);
  std::map<std::string, int64_t> rows;
  for (const CopyTableResult& t : report->tables) {
    rows[t.table] = t.rows;
    EXPECT_EQ(t.dead_letters, 0);
  }
  EXPECT_EQ(rows["rooms"], 3);
  EXPECT_EQ(rows["room_tags"], 3);  // the duplicate row survives: no key to merge it by
  EXPECT_EQ(last_done["rooms"], 3);
  EXPECT_EQ(last_done["room_tags"], 3);
  EXPECT_EQ(Count("rooms"), 3);
  EXPECT_EQ(Count("room_tags"), 3);
  EXPECT_EQ(report->snapshot_seq, 0u);  // no outbox in this file
}

TEST_F(CopyRunTest, AnUnknownTableIsAUsageError) {
  options_.tables = {"no_such_table"};
  int exit = -1;
  Result<CopyReport> report = RunCopy(options_, nullptr, {}, &exit);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(exit, kExitUsage);
  EXPECT_NE(report.status().message().find("no_such_table"), std::string::npos);
}

TEST_F(CopyRunTest, TargetsThatHoldRowsNeedTruncate) {
  int exit = -1;
  ASSERT_TRUE(RunCopy(options_, nullptr, {}, &exit).ok());
  Result<CopyReport> again = RunCopy(options_, nullptr, {}, &exit);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(exit, kExitFailure);
  EXPECT_NE(again.status().message().find("--truncate"), std::string::npos);
  EXPECT_EQ(Count("rooms"), 3);  // the refused run changed nothing

  options_.truncate = true;
  Result<CopyReport> truncated = RunCopy(options_, nullptr, {}, &exit);
  ASSERT_TRUE(truncated.ok()) << truncated.status().ToString();
  EXPECT_EQ(Count("rooms"), 3);
  EXPECT_EQ(Count("room_tags"), 3);
}

TEST_F(CopyRunTest, SelectedTablesOnly) {
  options_.tables = {"ROOMS"};  // compared as SQLite compares names
  int exit = -1;
  Result<CopyReport> report = RunCopy(options_, nullptr, {}, &exit);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->tables.size(), 1u);
  EXPECT_EQ(report->tables[0].table, "rooms");
  EXPECT_EQ(Count("rooms"), 3);
}

}  // namespace
}  // namespace sqlift
