// Running one logged query on each side for `sqlift shadow`, into ResultSides
// (tools/shadow_compare.h). The sides' transactions (one snapshot each) are the caller's.
//
// PostgreSQL: the text with its blob literals rewritten (tools/shadow_sql.h), inside a
// SAVEPOINT so a failing query leaves the snapshot usable; rows streamed in libpq's single-row
// mode, so memory stays bounded by ResultSide's cap. PgResult has no column types, which the
// normalization needs (PQftype), so this file drives libpq through PgConnection::raw(). Column
// types map to PgType by OID: the built-in types sqlift normalizes; every other type is kOther
// (its output text compared as it is).
//
// SQLite: the text as it is, on the snapshot's read-only connection, refused unless it is one
// statement that starts as a query (capture/sql_lexer.h StartsAsQuery) and that
// sqlite3_stmt_readonly() calls read-only, and interrupted past `deadline`.
//
// Thread safety: one thread per connection.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apply/translate/type_mapping.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/shadow/shadow_compare.h"

namespace sqlift {

// A query's own failure on one side (as opposed to a failure of the replay).
struct QueryError {
  std::string sqlstate;  // PostgreSQL's SQLSTATE; empty for SQLite
  std::string message;
};

// The type a PostgreSQL result column of type `oid` is normalized as.
PgType PgTypeOfOid(unsigned oid);

// Runs `sql` (already rewritten) on PostgreSQL into *rows and its column types into *types.
// Returns the query's error, or nullopt when it ran; the Result fails only when the replay
// itself cannot go on (the connection is lost, a SAVEPOINT fails).
[[nodiscard]] Result<std::optional<QueryError>> RunOnPg(PgConnection& conn, const std::string& sql,
                                                        std::vector<PgType>* types,
                                                        ResultSide* rows);

// Prepares `sql` on SQLite into *stmt, or says why it is refused: SQLite's error, more than one
// statement, not a query, not read-only. Run it before the PostgreSQL side: what SQLite does
// not accept as one read query never reaches PostgreSQL.
std::optional<QueryError> PrepareOnSqlite(SqliteDb& db, std::string_view sql,
                                          std::optional<SqliteStatement>* stmt);

// Steps *stmt to the end into *rows, each value normalized for types[i] (kOther past the end).
std::optional<QueryError> StepOnSqlite(SqliteDb& db, SqliteStatement& stmt,
                                       const std::vector<PgType>& types, ResultSide* rows,
                                       std::chrono::steady_clock::time_point deadline);

}  // namespace sqlift
