#include "capture/outbox/outbox.h"

#include <fmt/format.h>

#include <optional>

#include "common/sqlite/sqlite_status.h"

namespace sqlift::outbox {
namespace {

// The text of the first row's first column of `sql` with ?1 bound to `param` (a NULL reads as
// ""); nullopt when there is no row.
Result<std::optional<std::string>> QueryText(sqlite3* db, const char* sql, std::string_view param,
                                             const char* what) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_bind_text(stmt, 1, param.data(), static_cast<int>(param.size()), SQLITE_STATIC);
  }
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  std::optional<std::string> out;
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    out = text ? std::string(reinterpret_cast<const char*>(text),
                             static_cast<size_t>(sqlite3_column_bytes(stmt, 0)))
               : std::string();
    rc = SQLITE_DONE;
  }
  std::string msg = fmt::format("{}: {}", what, sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return SqliteStatus(rc, msg);
  return out;
}

}  // namespace

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

Result<std::string> ReadCaptureMode(sqlite3* db) {
  SQLIFT_ASSIGN_OR_RETURN(
      std::optional<std::string> table,
      QueryText(db, "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name = ?1",
                kStateTable, "look for _sqlift_state"));
  if (!table) return std::string(kCaptureModeRecorder);  // a database never initialised
  SQLIFT_ASSIGN_OR_RETURN(std::optional<std::string> mode,
                          QueryText(db, "SELECT value FROM main._sqlift_state WHERE key = ?1",
                                    kStateCaptureMode, "read the capture mode"));
  if (!mode) return std::string(kCaptureModeRecorder);  // initialised before the key existed
  if (*mode == kCaptureModeRecorder || *mode == kCaptureModeWal) return *mode;
  return Status::Corruption(fmt::format("_sqlift_state.{} is '{}', neither '{}' nor '{}'",
                                        kStateCaptureMode, *mode, kCaptureModeRecorder,
                                        kCaptureModeWal));
}

}  // namespace sqlift::outbox
