// The test side of the differential tests: databases made by the real SQLite library in WAL
// mode with a chosen page size, text encoding, reserved bytes and auto_vacuum; the shapes of
// their tables (from PRAGMA table_info); their rows as SQLite returns them (the oracle);
// and the same rows decoded from pages by sqlift_wal, put in the same shape.
//
// A row is [rowid,] column values in declaration order ([rowid] for rowid tables only). A
// record with fewer fields than the table has columns (a row older than an ALTER TABLE ADD
// COLUMN) is shaped as SQLite reads it: each missing trailing column takes its default.
// Thread safety: none; one test thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture/wal/btree_walk.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift::wal::testing {

struct DbConfig {
  uint32_t page_size = 4096;
  std::string encoding = "UTF-8";  // PRAGMA encoding value
  int reserved_bytes = 0;
  std::string auto_vacuum = "NONE";  // NONE, FULL or INCREMENTAL
  // ON (Debian's default) writes every freed page (zeroed); OFF and FAST may not, so pages
  // leave a b-tree without appearing in the WAL.
  std::string secure_delete = "OFF";
  // Databases are made with synchronous=OFF: syncing changes no byte SQLite writes (the unix
  // VFS declares powersafe overwrite, so a WAL commit is never padded), and no test crashes.
  std::string Name() const;
};

struct TableShape {
  std::string name;
  bool without_rowid = false;
  int ipk = -1;                      // INTEGER PRIMARY KEY column: stored NULL, is the rowid
  std::vector<std::string> columns;  // names, in declaration order
  std::vector<bool> real_affinity;   // per column
  std::vector<Value> defaults;       // per column: what SQLite reads where a record is short
  std::vector<int> record_columns;   // WITHOUT ROWID: record field i is column record_columns[i]
  int pk_count = 0;                  // WITHOUT ROWID: leading record fields forming the key
  std::string order_by;              // SQL ORDER BY of the table's b-tree order
};

using Row = std::vector<Value>;

// Opens (creating) a database at `path` configured as `config`, in WAL mode with automatic
// checkpoints off, so every committed transaction stays in the -wal file.
[[nodiscard]] Result<std::unique_ptr<SqliteDb>> CreateWalDatabase(const std::string& path,
                                                                  const DbConfig& config);

// Seeds the random numbers SQLite itself draws (a new rowid once the largest is taken, WAL
// salts), so a seeded workload replays exactly. Process-wide.
void SeedSqliteRandomness(uint32_t seed);

[[nodiscard]] Result<std::vector<TableShape>> ReadShapes(SqliteDb& db);
[[nodiscard]] Result<std::vector<Row>> OracleRows(SqliteDb& db, const TableShape& table);

// Root page of every table and index, by name, from sqlite_schema (page 1).
[[nodiscard]] Result<std::map<std::string, uint32_t>> RootPages(const DecodeContext& ctx);
// How a record shorter than the table is shaped: with the columns' defaults (as SQLite reads
// the row), or with NULLs (as SQLite 3.40's session extension gives such a row's old values).
enum class MissingFields { kDefault, kNull };

// One decoded b-tree entry in the table's row shape (IPK filled in, missing trailing fields
// filled, REAL affinity applied). Corruption when the record has more fields than columns.
[[nodiscard]] Result<Row> ShapeRow(const TableShape& table, BtreeEntry entry,
                                   MissingFields missing = MissingFields::kDefault);
// The rows of `table` from its b-tree at `root`, in b-tree order.
[[nodiscard]] Result<std::vector<Row>> DecodedRows(const DecodeContext& ctx, uint32_t root,
                                                   const TableShape& table);

std::string RowString(const Row& row);

}  // namespace sqlift::wal::testing
