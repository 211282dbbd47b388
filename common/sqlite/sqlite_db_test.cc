#include "common/sqlite/sqlite_db.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

namespace sqlift {
namespace {

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_db_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST(QuoteSqliteIdentifierTest, DoublesQuotes) {
  EXPECT_EQ(QuoteSqliteIdentifier("users"), "\"users\"");
  EXPECT_EQ(QuoteSqliteIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteSqliteIdentifier("\"; DROP TABLE x; --"), "\"\"\"; DROP TABLE x; --\"");
}

TEST_F(SqliteDbTest, BoundValuesRoundTrip) {
  auto db = SqliteDb::Open(Path("a.db"), SqliteDb::Mode::kReadWriteCreate);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  std::string table = "we\"ird table é";
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TABLE " + QuoteSqliteIdentifier(table) +
                         " (id INTEGER PRIMARY KEY, i, r, t, b)")
                  .ok());
  auto ins = (*db)->Prepare("INSERT INTO " + QuoteSqliteIdentifier(table) +
                            " (id, i, r, t, b) VALUES (?, ?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  const std::string text_with_nul("a\0b\xff", 4);
  ASSERT_TRUE(ins->BindInt64(1, 1).ok());
  ASSERT_TRUE(ins->BindInt64(2, std::numeric_limits<int64_t>::min()).ok());
  ASSERT_TRUE(ins->BindDouble(3, -0.5).ok());
  ASSERT_TRUE(ins->BindText(4, text_with_nul).ok());
  ASSERT_TRUE(ins->BindBlob(5, "").ok());
  ASSERT_TRUE(ins->Run().ok());

  auto sel = (*db)->Prepare("SELECT i, r, t, b, typeof(b) FROM " + QuoteSqliteIdentifier(table));
  ASSERT_TRUE(sel.ok());
  auto row = sel->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(sel->ColumnInt64(0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(sel->ColumnDouble(1), -0.5);
  EXPECT_EQ(sel->ColumnText(2), text_with_nul);
  EXPECT_EQ(sel->ColumnBlob(3), "");
  EXPECT_EQ(sel->ColumnText(4), "blob");  // an empty blob stays a blob, not NULL
  auto done = sel->Step();
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(*done);
}

TEST_F(SqliteDbTest, ErrorsCarryCodeAndPath) {
  auto missing = SqliteDb::Open(Path("nope/x.db"), SqliteDb::Mode::kReadWrite);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);

  auto db = SqliteDb::Open(Path("b.db"), SqliteDb::Mode::kReadWriteCreate);
  ASSERT_TRUE(db.ok());
  Status bad = (*db)->Exec("CREATE TABLE");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("b.db"), std::string::npos);

  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (1)").ok());
  Status dup = (*db)->Exec("INSERT INTO t VALUES (1)");
  EXPECT_EQ(dup.code(), Status::Code::kFailedPrecondition);
}

TEST_F(SqliteDbTest, SecondWriterIsBusyNotBlockedForever) {
  std::string path = Path("c.db");
  auto a = SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate, std::chrono::milliseconds(0));
  auto b = SqliteDb::Open(path, SqliteDb::Mode::kReadWrite, std::chrono::milliseconds(0));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t (x)").ok());
  ASSERT_TRUE((*a)->Exec("BEGIN IMMEDIATE").ok());
  Status busy = (*b)->Exec("BEGIN IMMEDIATE");
  EXPECT_EQ(busy.code(), Status::Code::kUnavailable) << busy.ToString();
  EXPECT_TRUE(busy.Retryable());
  ASSERT_TRUE((*a)->Exec("COMMIT").ok());
  auto n = (*b)->QueryInt64("SELECT count(*) FROM t");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

}  // namespace
}  // namespace sqlift
