// SqliteSchema: what sqlift needs to know about the application's tables, read from
// sqlite_schema and the table_xinfo, index_list, index_xinfo and foreign_key_list pragmas:
// names, columns, declared types, primary keys, indexes, foreign keys and the CREATE TABLE
// text. The values are declared in capture/table_schema.h, which apply/ can include without
// sqlite3.h. Used by `init` (tables without a primary key), by the capture agent (column
// names for changesets, DDL events) and by `plan`.
//
// Thread safety: plain values; ReadSchema uses the connection it is given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/table_schema.h"

namespace sqlift {

// sqlift's own tables inside the application's file (the outbox, state and route tables) start
// with this prefix; they are never captured, copied or compared.
inline constexpr std::string_view kSqliftTablePrefix = "_sqlift_";
inline bool IsSqliftTable(std::string_view name) {
  return name.substr(0, kSqliftTablePrefix.size()) == kSqliftTablePrefix;
}

// Reads every ordinary table of the "main" database except sqlift's own (_sqlift_*) and
// SQLite's internal ones (sqlite_*), in name order.
[[nodiscard]] Result<std::vector<TableSchema>> ReadSchema(SqliteDb& db);

// Reads one table; NotFound when there is no such table.
[[nodiscard]] Result<TableSchema> ReadTableSchema(SqliteDb& db, std::string_view table);

// Tables read with ReadSchema, without `excluded` (compared as SQLite does).
[[nodiscard]] Result<std::vector<TableSchema>> ReadTables(SqliteDb& db,
                                                          const std::vector<std::string>& excluded);

// --tables: the named tables (compared as SQLite does), in name order; a name the database
// does not have is InvalidArgument (a usage error). All of them when `names` is empty.
[[nodiscard]] Result<std::vector<TableSchema>> SelectTables(std::vector<TableSchema> all,
                                                            const std::vector<std::string>& names);

// Indexes into `tables`, parents before the tables whose foreign keys name them (a target
// whose foreign keys are not deferrable takes rows only in that order); a cycle keeps the
// given order for the tables in it.
std::vector<size_t> ParentsFirst(const std::vector<TableSchema>& tables);

}  // namespace sqlift
