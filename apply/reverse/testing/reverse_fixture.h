// ReverseFixture: what the reverse applier's tests share. A fresh SQLite file with sqlift's
// tables (outbox, state, route) in a temporary directory, a second connection for set-up and
// checks, and builders for hand-made pgchange::Transaction values.
// Thread safety: none; test code.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "apply/reverse/reverse_applier.h"
#include "capture/outbox/outbox.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/testing/rows_text.h"

namespace sqlift::testing {

class ReverseFixture : public ::testing::Test {
 protected:
  using Datum = pgchange::Datum;
  using Change = pgchange::Change;
  using RelPtr = std::shared_ptr<const pgchange::Relation>;

  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_reverse_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "app.db").string();
    db_ = std::move(SqliteDb::Open(path_, SqliteDb::Mode::kReadWriteCreate)).value();
    ASSERT_TRUE(outbox::CreateTables(db_->handle()).ok());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Exec(const std::string& sql) {
    Status st = db_->Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void SetRoute(const std::string& tenant, const std::string& side, int64_t epoch,
                bool fenced = false) {
    auto stmt = db_->Prepare(
        "INSERT OR REPLACE INTO _sqlift_route (tenant, side, epoch, fenced, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, 0)");
    ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
    ASSERT_TRUE(stmt->BindText(1, tenant).ok() && stmt->BindText(2, side).ok() &&
                stmt->BindInt64(3, epoch).ok() && stmt->BindInt64(4, fenced ? 1 : 0).ok());
    ASSERT_TRUE(stmt->Run().ok());
  }

  // Every row `sql` returns, as text (common/sqlite/testing/rows_text.h).
  std::string Rows(const std::string& sql) { return RowsText(*db_, sql); }
  int64_t Count(const std::string& table) {
    return std::move(db_->QueryInt64("SELECT count(*) FROM " + QuoteSqliteIdentifier(table)))
        .value();
  }

  std::unique_ptr<ReverseApplier> OpenApplier(ReverseApplierOptions options) {
    auto applier = ReverseApplier::Open(path_, std::move(options));
    EXPECT_TRUE(applier.ok()) << applier.status().ToString();
    return applier.ok() ? std::move(applier).value() : nullptr;
  }

  // A relation: columns as {name, type oid, key}.
  static RelPtr Rel(uint32_t id, const std::string& table, std::vector<pgchange::Column> columns,
                    const std::string& schema = "public") {
    auto rel = std::make_shared<pgchange::Relation>();
    rel->id = id;
    rel->schema = schema;
    rel->table = table;
    rel->columns = std::move(columns);
    return rel;
  }
  static Datum T(std::string text) { return {Datum::Kind::kText, std::move(text)}; }
  static Datum N() { return {Datum::Kind::kNull, {}}; }
  static Datum U() { return {Datum::Kind::kUnchanged, {}}; }

  static Change Insert(RelPtr rel, std::vector<Datum> row) {
    return {Change::Op::kInsert, std::move(rel), {}, std::move(row)};
  }
  static Change Update(RelPtr rel, std::vector<Datum> old_key, std::vector<Datum> row) {
    return {Change::Op::kUpdate, std::move(rel), std::move(old_key), std::move(row)};
  }
  static Change Delete(RelPtr rel, std::vector<Datum> old_key) {
    return {Change::Op::kDelete, std::move(rel), std::move(old_key), {}};
  }
  static pgchange::Transaction Txn(pgchange::Lsn end_lsn, std::vector<Change> changes,
                                   std::string origin = "") {
    pgchange::Transaction txn;
    txn.xid = static_cast<uint32_t>(end_lsn);  // distinct per transaction, easy to read
    txn.final_lsn = end_lsn - 8;
    txn.end_lsn = end_lsn;
    txn.commit_time_us = 1'800'000'000'000'000;
    txn.origin = std::move(origin);
    txn.changes = std::move(changes);
    return txn;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDb> db_;  // the tests' own connection
};

}  // namespace sqlift::testing
