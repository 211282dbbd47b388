// RepairTable: one table's differences between a SQLite snapshot and PostgreSQL's snapshot, as
// the row changes that make PostgreSQL equal to SQLite (gap_repair.h says which changes).
//
// How, with memory bounded by the differing rows rather than the table (the verify engine's
// method, verify_engine.h, with its row encoding and hash):
//  1. Each side is read once; every row in scope is added to the bucket picked by the hash of
//     its canonical key: a count and a sum of row hashes, independent of the order rows come
//     in. Buckets: about 8 SQLite rows each (2^10 to 2^20 of them, 16 bytes each per side).
//  2. Each side is read again, keeping only the rows of the buckets that differ: SQLite's
//     with the values as read, PostgreSQL's as canonical values. A differing row costs the rows
//     of its bucket, a few on average.
//  3. Rows are matched by canonical key. The rows PostgreSQL must lose or change are read once
//     more from PostgreSQL by key (repair_pg_rows.h), in its text form, for their SQLite values.
// Both sides must give the same rows each time: one SQLite read transaction and one PostgreSQL
// REPEATABLE READ snapshot.
//
// Thread safety: uses the connections it is given from the calling thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/base/result.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/table_schema.h"
#include "proto/wire/sqlift.pb.h"
#include "tools/verify/verify_pg_reader.h"

namespace sqlift {

struct RepairTableSpec {
  const TableSchema* table = nullptr;  // must have a primary key
  const TablePlan* plan = nullptr;     // its columns are the table's visible columns, in order
  std::string schema;                  // PostgreSQL's
  bool pg_missing = false;             // PostgreSQL has no such table: compared as empty
  int tenant_col = -1;                 // the SQLite row's tenant column; -1: every row
  RowFilter tenant_filter;             // PostgreSQL's side of the tenant scope (verify_scope.h)
};

struct TableRepair {
  // DELETEs, then UPDATEs, then INSERTs, each in key order; table_index unset.
  std::vector<wire::RowChange> changes;
  uint64_t inserted = 0, updated = 0, deleted = 0;
  uint64_t refused = 0;  // changes carrying a SQLite value PostgreSQL refuses
};

// `sqlite` must be inside a read transaction and `pg` inside the snapshot.
[[nodiscard]] Result<TableRepair> RepairTable(SqliteDb& sqlite, PgConnection& pg,
                                              const RepairTableSpec& spec);

}  // namespace sqlift
