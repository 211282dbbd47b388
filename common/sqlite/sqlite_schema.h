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

#include "capture/sqlite_db.h"
#include "capture/table_schema.h"
#include "common/result.h"

namespace sqlift {

// Reads every ordinary table of the "main" database except sqlift's own (_sqlift_*) and
// SQLite's internal ones (sqlite_*), in name order.
[[nodiscard]] Result<std::vector<TableSchema>> ReadSchema(SqliteDb& db);

// Reads one table; NotFound when there is no such table.
[[nodiscard]] Result<TableSchema> ReadTableSchema(SqliteDb& db, std::string_view table);

}  // namespace sqlift
