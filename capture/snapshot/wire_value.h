// The one conversion from an SQLite value to a typed wire::Value, used by the changeset
// decoder, the snapshot reader and `plan`'s data scan, so every path reads a value alike:
// INTEGER -> integer, REAL -> real, TEXT -> text (bytes as stored, NULs and invalid UTF-8
// kept), BLOB -> blob (an empty blob stays a blob), NULL -> null.
//
// Thread safety: pure functions of their arguments.
#pragma once

#include <sqlite3.h>

#include "common/sqlite/sqlite_statement.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

// Copies `v` into *out; a null pointer leaves *out unset ("not present", as an UPDATE's
// unchanged column in a changeset).
void SqliteValueToWire(sqlite3_value* v, wire::Value* out);

// Binds `v` to parameter `index` of `stmt` as the SQLite value it came from (an unset Value is
// InvalidArgument: there is nothing to bind).
[[nodiscard]] Status BindWire(SqliteStatement& stmt, int index, const wire::Value& v);

// Column `col` of the current row of `stmt`.
inline wire::Value ColumnToWire(sqlite3_stmt* stmt, int col) {
  wire::Value v;
  SqliteValueToWire(sqlite3_column_value(stmt, col), &v);
  return v;
}

}  // namespace sqlift
