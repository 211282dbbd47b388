#include "common/sqlite/sqlite_db.h"

#include <fmt/format.h>

#include <thread>

#include "common/base/text.h"
#include "common/sqlite/guard_refusal.h"
#include "common/sqlite/sqlite_status.h"

namespace sqlift {

std::string QuoteSqliteIdentifier(std::string_view name) {
  return QuoteSqlIdentifier(name);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, Mode mode,
                                                 std::chrono::milliseconds busy_timeout) {
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case Mode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = fmt::format("open SQLite database {}: {}", path,
                                  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return SqliteStatus(rc, msg);
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<SqliteDb> out(new SqliteDb(db, path));
  out->busy_.timeout = busy_timeout;
  sqlite3_busy_handler(db, &SqliteDb::OnBusy, &out->busy_);
  return out;
}

// SQLite's own busy handler (sqlite3_busy_timeout) sleeps longer and longer, up to 100 ms
// between attempts; under a steady stream of application writers a connection waiting that
// way rarely finds the lock free. sqlift's connections take the write lock for short, rare
// transactions (the agent's trim, a route change, a reverse-applied transaction), so they
// poll briefly instead and get in between the application's transactions.
int SqliteDb::OnBusy(void* arg, int attempts) {
  auto* busy = static_cast<BusyState*>(arg);
  auto now = std::chrono::steady_clock::now();
  if (attempts == 0) busy->since = now;
  if (now - busy->since >= busy->timeout) return 0;  // give up: SQLITE_BUSY
  std::this_thread::sleep_for(std::chrono::microseconds(attempts < 100 ? 50 : 500));
  return 1;
}

SqliteDb::~SqliteDb() {
  sqlite3_close_v2(db_);
}

Status SqliteDb::Exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::OK();
  std::string msg = fmt::format("{}: {}", path_, err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return SqliteWriteStatus(rc, msg);
}

Result<SqliteStatement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Status::InvalidArgument(
        fmt::format("prepare '{}' on {}: {}", sql, path_, sqlite3_errmsg(db_)));
  }
  return SqliteStatement(db_, stmt);
}

Result<int64_t> SqliteDb::QueryInt64(std::string_view sql) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, Prepare(sql));
  SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound(fmt::format("'{}' returned no row", sql));
  return stmt.ColumnInt64(0);
}

}  // namespace sqlift
