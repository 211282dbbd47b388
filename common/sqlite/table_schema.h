// TableSchema: the plain description of one SQLite table (columns, declared types, primary
// key, indexes, foreign keys), as capture/sqlite_schema.h reads it.
//
// This header deliberately includes nothing from SQLite: apply/ (schema translation, type
// mapping) works on these values, and the design keeps sqlite3.h out of apply/.
//
// Thread safety: plain values.
#pragma once

#include <strings.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sqlift {

struct ColumnSchema {
  std::string name;
  std::string declared_type;  // as written in CREATE TABLE; "" when none
  bool not_null = false;
  bool has_default = false;
  std::string default_sql;         // the default expression's text, when has_default
  int pk_position = 0;             // 1-based position in the primary key; 0 when not part of it
  bool hidden = false;             // generated or hidden column (not carried by changesets)
  bool virtual_generated = false;  // GENERATED ... VIRTUAL: computed on read, not in the record
};

// One key part of an index: a column, or an expression that cannot be mapped by name.
struct IndexColumn {
  std::string name;  // column name; empty for an expression
  bool expression = false;
  bool descending = false;
  std::string collation;  // "BINARY", "NOCASE", "RTRIM" or a custom one
};

struct IndexSchema {
  std::string name;  // SQLite's name (sqlite_autoindex_* for UNIQUE constraints)
  bool unique = false;
  bool from_constraint = false;  // origin 'u': a UNIQUE constraint in CREATE TABLE
  std::vector<IndexColumn> columns;
  std::string where;       // a partial index's WHERE expression, as written; "" when not partial
  std::string create_sql;  // CREATE INDEX text; "" for constraint indexes
};

struct ForeignKeySchema {
  std::vector<std::string> columns;      // in this table
  std::string ref_table;                 // the parent table, as written
  std::vector<std::string> ref_columns;  // empty entries: the parent's primary key (implicit)
  std::string on_delete = "NO ACTION";   // SQLite spelling: NO ACTION, CASCADE, SET NULL, ...
  std::string on_update = "NO ACTION";
};

struct TableSchema {
  std::string name;
  std::string create_sql;  // sqlite_schema.sql
  std::vector<ColumnSchema> columns;
  bool without_rowid = false;
  std::vector<IndexSchema> indexes;  // in name order; the primary key's own index left out
  std::vector<ForeignKeySchema> foreign_keys;  // in SQLite's id order

  // Defined inline so that apply/ can use them without linking the SQLite side.
  bool HasPrimaryKey() const {
    return std::any_of(columns.begin(), columns.end(),
                       [](const ColumnSchema& c) { return c.pk_position > 0; });
  }
  // Indexes into `columns` of the primary key columns, in primary key order.
  std::vector<uint32_t> PrimaryKeyColumns() const {
    std::vector<std::pair<int, uint32_t>> pk;
    for (uint32_t i = 0; i < columns.size(); ++i) {
      if (columns[i].pk_position > 0) pk.emplace_back(columns[i].pk_position, i);
    }
    std::sort(pk.begin(), pk.end());
    std::vector<uint32_t> out;
    for (const auto& p : pk)
      out.push_back(p.second);
    return out;
  }
  // Index of a column by name (case-insensitive, as SQLite compares names); -1 when absent.
  int ColumnIndex(std::string_view name) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      const std::string& c = columns[i].name;
      if (c.size() == name.size() && strncasecmp(c.data(), name.data(), c.size()) == 0) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
};

}  // namespace sqlift
