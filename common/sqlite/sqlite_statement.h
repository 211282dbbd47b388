// SqliteStatement: one prepared statement on a SqliteDb, with Status-returning calls.
//
// Values are always bound (Bind*), never spliced into SQL text. Column getters are valid
// until the next Step/Reset. Owned by the caller; `*db` must outlive the statement.
// Thread safety: none; use from the thread that owns the connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/result.h"

namespace sqlift {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameter indexes start at 1, as in SQLite.
  [[nodiscard]] Status BindNull(int index);
  [[nodiscard]] Status BindInt64(int index, int64_t value);
  [[nodiscard]] Status BindDouble(int index, double value);
  [[nodiscard]] Status BindText(int index, std::string_view value);  // may hold NUL bytes
  [[nodiscard]] Status BindBlob(int index, std::string_view value);

  // true: a row is ready; false: the statement is done.
  [[nodiscard]] Result<bool> Step();
  // Runs to completion, ignoring rows (for INSERT/UPDATE/DELETE).
  [[nodiscard]] Status Run();
  // Makes the statement ready to run again; bindings are cleared too.
  [[nodiscard]] Status Reset();

  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  int ColumnType(int col) const { return sqlite3_column_type(stmt_, col); }
  bool IsNull(int col) const { return ColumnType(col) == SQLITE_NULL; }
  int64_t ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string_view ColumnText(int col) const;  // bytes as stored, NULs included
  std::string_view ColumnBlob(int col) const;
  std::string_view ColumnName(int col) const { return sqlite3_column_name(stmt_, col); }

  std::string_view sql() const { return sqlite3_sql(stmt_); }
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  [[nodiscard]] Status Check(int rc, std::string_view what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace sqlift
