// Independent table comparison for end-to-end tests: both sides are read here, with sqlite3
// and libpq, and normalized to one canonical text per row, without sqlift's own value code
// (so a bug in the encoder cannot hide itself).
//
// Canonical text: NULL as "NULL"; integers in decimal; reals in shortest round-trip form;
// booleans as 1/0; text as is; blobs as PostgreSQL's bytea text ("\x" + lowercase hex); numerics
// without trailing zeros; timestamps as "YYYY-MM-DD HH:MM:SS" (UTC). Each value ends with '|'.
//
// Thread safety: functions over the connection they are given.
#pragma once

#include <string>
#include <vector>

#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift::testing {

// Every row of an SQLite table, normalized, sorted.
std::vector<std::string> SqliteRows(SqliteDb& db, const std::string& table);

// Every row of a PostgreSQL table of schema `public`, normalized in SQL, sorted.
std::vector<std::string> PgRows(PgConnection& conn, const std::string& table);

// The rows of one tenant of a database-per-tenant target (tenant_column = tenant), that column
// left out: what the tenant's SQLite file holds, to compare with SqliteRows.
std::vector<std::string> PgTenantRows(PgConnection& conn, const std::string& table,
                                      const std::string& tenant_column, const std::string& tenant);

// The first difference between two sorted row lists ("" when equal), for messages.
std::string FirstDifference(const std::vector<std::string>& sqlite,
                            const std::vector<std::string>& pg);

}  // namespace sqlift::testing
