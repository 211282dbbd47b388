// SqliteDb: one SQLite connection owned by sqlift (the agent's, the snapshot reader's, the
// tests'), with Status-returning calls. The recorder does not use it: it attaches to the
// application's own `sqlite3*`.
//
// Thread safety: none; a connection belongs to one thread at a time.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/result.h"
#include "common/sqlite/sqlite_statement.h"

namespace sqlift {

// Quotes an SQLite identifier: "name" with embedded double quotes doubled. Table and column
// names come from user data, so every name in generated SQL goes through this.
std::string QuoteSqliteIdentifier(std::string_view name);

class SqliteDb {
 public:
  enum class Mode { kReadOnly, kReadWrite, kReadWriteCreate };

  // busy_timeout: how long a statement waits for another connection's lock before failing
  // with Unavailable. The wait polls every 50-500 µs (see OnBusy in sqlite_db.cc), so a
  // sqlift connection gets the write lock between an application's busy writers.
  [[nodiscard]] static Result<std::unique_ptr<SqliteDb>> Open(
      const std::string& path, Mode mode,
      std::chrono::milliseconds busy_timeout = std::chrono::milliseconds(5000));

  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without parameters (DDL, PRAGMA, BEGIN/COMMIT).
  [[nodiscard]] Status Exec(std::string_view sql);
  [[nodiscard]] Result<SqliteStatement> Prepare(std::string_view sql);
  // Runs a query returning one integer (e.g. "PRAGMA data_version"); NotFound on no row.
  [[nodiscard]] Result<int64_t> QueryInt64(std::string_view sql);

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  struct BusyState {
    std::chrono::milliseconds timeout{0};
    std::chrono::steady_clock::time_point since;
  };
  static int OnBusy(void* arg, int attempts);

  sqlite3* db_;
  std::string path_;
  BusyState busy_;
};

}  // namespace sqlift
