// WalTableLayout: how the records of one table's b-tree map to the table's columns, so that a
// row the WAL decoder read (a record as stored, capture/wal/row_changes.h) becomes the row
// SQLite itself would return.
//
// The rules of the file format: a rowid table stores its columns in table order and an
// INTEGER PRIMARY KEY (the rowid's alias) as NULL; a WITHOUT ROWID table stores the primary
// key columns first, in key order, then the others in table order; VIRTUAL generated columns
// are not stored. A record shorter than the table (a row written before ALTER TABLE ADD
// COLUMN) reads the missing columns as their DEFAULT. A column of REAL affinity reads an
// integer as a real. Hidden and generated columns are not carried, as in changesets: a row
// is the table's visible columns, in table order.
//
// Thread safety: values; MakeWalTableLayout uses the connection it is given.
#pragma once

#include <optional>
#include <vector>

#include "capture/wal/record.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/table_schema.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

struct WalTableLayout {
  TableSchema table;
  std::vector<int> record_to_column;  // record field i -> index into table.columns
  int ipk = -1;                       // the rowid alias column; -1 when there is none
  std::vector<bool> real_affinity;    // per column of the table
  std::vector<wal::Value> defaults;   // per column: its DEFAULT as SQLite evaluates it
  std::vector<int> visible;           // the carried columns (indexes into table.columns)
  std::vector<int> visible_pk;        // the primary key, as indexes into `visible`, key order
  std::vector<int> column_visible;    // per column: its index in `visible`, -1 when not carried
  std::vector<int> unstored;          // columns no record field holds (VIRTUAL generated)
  wire::TableShape shape;             // the table as log records name it (WireShapeOf)
};

// The layout of `table`, which `scratch` (a connection where the table exists with the same
// definition) is asked about: the defaults' values and whether the key is the rowid alias.
[[nodiscard]] Result<WalTableLayout> MakeWalTableLayout(TableSchema table, SqliteDb& scratch);

// The visible columns of the row stored as `record` (with `rowid`, for rowid tables).
// Corruption when the record has more fields than the table stores, or a rowid alias holds a
// value of its own.
[[nodiscard]] Result<std::vector<wal::Value>> VisibleRow(const WalTableLayout& layout,
                                                         int64_t rowid,
                                                         const std::vector<wal::Value>& record);

// Whether a declared type gives REAL affinity (https://www.sqlite.org/datatype3.html, 3.1).
bool HasRealAffinity(std::string_view declared_type);

}  // namespace sqlift
