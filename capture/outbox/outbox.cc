#include "capture/outbox/outbox.h"

#include <fmt/format.h>

#include "common/sqlite/sqlite_status.h"

namespace sqlift::outbox {

Status CreateTables(sqlite3* db) {
  static constexpr const char* kSql =
      "CREATE TABLE IF NOT EXISTS _sqlift_outbox ("
      "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  committed_at INTEGER NOT NULL,"
      "  kind INTEGER NOT NULL,"
      "  payload BLOB NOT NULL);"
      "CREATE TABLE IF NOT EXISTS _sqlift_state ("
      "  key TEXT PRIMARY KEY,"
      "  value);"
      "CREATE TABLE IF NOT EXISTS _sqlift_route ("
      "  tenant TEXT PRIMARY KEY,"
      "  side TEXT NOT NULL CHECK (side IN ('sqlite', 'postgres')),"
      "  epoch INTEGER NOT NULL,"
      "  fenced INTEGER NOT NULL DEFAULT 0,"
      "  updated_at INTEGER NOT NULL);";
  char* err = nullptr;
  int rc = sqlite3_exec(db, kSql, nullptr, nullptr, &err);
  std::string msg = fmt::format("create sqlift tables: {}", err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return SqliteStatus(rc, msg);
}

Status CheckTables(sqlite3* db) {
  int rc = sqlite3_table_column_metadata(db, "main", "_sqlift_outbox", "payload", nullptr, nullptr,
                                         nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_table_column_metadata(db, "main", "_sqlift_route", "fenced", nullptr, nullptr,
                                       nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) return Status::OK();
  return Status::FailedPrecondition(fmt::format(
      "{} has no sqlift outbox or route table (_sqlift_outbox, _sqlift_route): run `sqlift "
      "init` first",
      sqlite3_db_filename(db, "main") ? sqlite3_db_filename(db, "main") : "database"));
}

}  // namespace sqlift::outbox
