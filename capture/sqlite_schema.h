// SqliteSchema: what sqlift needs to know about the application's tables, read from
// sqlite_schema and PRAGMA table_xinfo: names, columns, declared types, primary keys and the
// CREATE TABLE text. Used by `init` (tables without a primary key), by the capture agent
// (column names for changesets, DDL events) and by `plan`.
//
// Thread safety: plain values; ReadSchema uses the connection it is given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/sqlite_db.h"
#include "common/result.h"

namespace sqlift {

struct ColumnSchema {
  std::string name;
  std::string declared_type;  // as written in CREATE TABLE; "" when none
  bool not_null = false;
  bool has_default = false;
  std::string default_sql;  // the default expression's text, when has_default
  int pk_position = 0;      // 1-based position in the primary key; 0 when not part of it
  bool hidden = false;      // generated or hidden column (not carried by changesets)
};

struct TableSchema {
  std::string name;
  std::string create_sql;  // sqlite_schema.sql
  std::vector<ColumnSchema> columns;
  bool without_rowid = false;

  bool HasPrimaryKey() const;
  // Indexes into `columns` of the primary key columns, in primary key order.
  std::vector<uint32_t> PrimaryKeyColumns() const;
  // Index of a column by name (case-insensitive, as SQLite compares names); -1 when absent.
  int ColumnIndex(std::string_view name) const;
};

// Reads every ordinary table of the "main" database except sqlift's own (_sqlift_*) and
// SQLite's internal ones (sqlite_*), in name order.
[[nodiscard]] Result<std::vector<TableSchema>> ReadSchema(SqliteDb& db);

// Reads one table; NotFound when there is no such table.
[[nodiscard]] Result<TableSchema> ReadTableSchema(SqliteDb& db, std::string_view table);

}  // namespace sqlift
