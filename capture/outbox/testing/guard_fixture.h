// GuardFixture: what the guard trigger tests share. A fresh SQLite file with sqlift's tables,
// the tenant scheme "tenant_id", two tables (orders: per tenant; countries: no tenant column,
// so tenant '*'), one row of acme and one of globex, and guards installed.
// Thread safety: none; test code.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/testing/rows_text.h"

namespace sqlift::testing {

class GuardFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_guard_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "app.db").string();
    db_ = std::move(SqliteDb::Open(path_, SqliteDb::Mode::kReadWriteCreate)).value();
    ASSERT_TRUE(outbox::CreateTables(db_->handle()).ok());
    Exec(
        "INSERT INTO _sqlift_state (key, value) VALUES ('tenant_column', 'tenant_id');"
        "CREATE TABLE orders (tenant_id TEXT, id INTEGER, v TEXT, PRIMARY KEY (tenant_id, id));"
        "CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT);"
        "INSERT INTO orders VALUES ('acme', 1, 'a'), ('globex', 1, 'g');"
        "INSERT INTO countries VALUES ('fr', 'France')");
    scheme_.column = "tenant_id";
    Install();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Install() {
    Status st = InstallGuards(*db_, {"orders", "countries", "_sqlift_state"}, scheme_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void Exec(const std::string& sql) {
    Status st = db_->Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  // The error `sql` fails with on sqlift's own connection; "" when it succeeds.
  std::string Refusal(const std::string& sql) {
    Status st = db_->Exec(sql);
    return st.ok() ? "" : std::string(sqlite3_errmsg(db_->handle()));
  }
  // Writes the route row and refreshes the messages, as a route change does.
  void SetRoute(const std::string& tenant, const std::string& side, int64_t epoch,
                bool fenced = false) {
    auto stmt = db_->Prepare(
        "INSERT OR REPLACE INTO _sqlift_route (tenant, side, epoch, fenced, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, 0)");
    ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
    ASSERT_TRUE(stmt->BindText(1, tenant).ok() && stmt->BindText(2, side).ok() &&
                stmt->BindInt64(3, epoch).ok() && stmt->BindInt64(4, fenced ? 1 : 0).ok());
    ASSERT_TRUE(stmt->Run().ok());
    Status st = RefreshGuardMessages(*db_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  // Every row `sql` returns, as text (common/sqlite/testing/rows_text.h).
  std::string Rows(const std::string& sql) { return RowsText(*db_, sql); }
  std::string Tables() {
    return Rows("SELECT * FROM orders ORDER BY tenant_id, id") +
           Rows("SELECT * FROM countries ORDER BY code");
  }
  int64_t SchemaVersion() { return std::move(db_->QueryInt64("PRAGMA schema_version")).value(); }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDb> db_;
  TenantScheme scheme_;
};

}  // namespace sqlift::testing
