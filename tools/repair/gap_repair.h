// BuildGapRepair: the one transaction that makes PostgreSQL equal to a SQLite snapshot, for a gap
// in wal capture mode (the application checkpointed and restarted or deleted the WAL while the
// capture agent was stopped, so committed transactions are gone from it). The agent blocks
// writers, opens a SQLite read transaction exactly at the WAL's end E and calls this; it logs
// the result as one transaction, seq logged_seq + 1, together with E, and streams on. A gap
// never needs a full reload.
//
// How:
//  1. PostgreSQL: waits until sqlift.positions.applied_seq of the source is logged_seq (the
//     applier has applied the whole log; nothing else can move PostgreSQL's captured rows
//     while writers are blocked), then takes one REPEATABLE READ snapshot with `sqlift verify`'s
//     output forms (verify_pg_reader.h) and checks the position again inside it.
//  2. Every captured table of the SQLite snapshot (ReadTables less [source] exclude_tables,
//     translated with the [mapping] overrides as copy and verify translate it) is compared with
//     PostgreSQL's: values canonical as `sqlift verify` compares them (verify_normalize.h), rows
//     matched by primary key. Rows of tenants routed to PostgreSQL (SQLite's _sqlift_route, read
//     in the snapshot) are PostgreSQL's and left out on both sides, as verify's held form does;
//     with a constant tenant ([source] tenant) only that tenant's PostgreSQL rows are compared.
//     repair_table.h says how a table is compared and what memory that takes: buckets, then
//     only the rows of the buckets that differ, so millions of rows need no more than their
//     differences.
//  3. The differences become one CHANGES transaction, grouped by table, each table's DELETEs
//     first, then UPDATEs, then INSERTs (so a unique value that moved between rows is free
//     before it is taken), each group in the order of its encoded keys (deterministic):
//       INSERT: a row only in SQLite; every column, the SQLite values as read (wire_value.h);
//       UPDATE: a row whose values differ; every non-key column in new_values (SQLite's), key
//               and non-key columns in old_values (the key SQLite's, the rest PostgreSQL's);
//       DELETE: a row only in PostgreSQL; key and old_values are PostgreSQL's values turned into
//               SQLite values (apply/reverse/pg_text_value.h), each key value checked to mean
//               the same key again before it is used.
//
// A table PostgreSQL does not have (created during the gap) is compared as empty (every row an
// INSERT; its DDL event must reach the applier before this transaction), with a note. A planned
// column PostgreSQL lacks (added during the gap) is FailedPrecondition: its values cannot be
// compared. A table without a primary key cannot be repaired row by row: FailedPrecondition.
// SQLite values PostgreSQL refuses are carried as any streamed change would carry them (the
// applier dead-letters them); a note counts them.
//
// Thread safety: one call at a time per snapshot connection; everything runs on the calling
// thread, on a PostgreSQL connection of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/config/config.h"
#include "common/sqlite/sqlite_db.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

struct GapRepairSpec {
  const Config* cfg = nullptr;    // [source] exclude_tables, tenant_column, tenant; [mapping]
  std::string pg;                 // [target] pg
  std::string source;             // [source] id
  std::string schema = "public";  // the PostgreSQL schema the applier writes
  // How long PostgreSQL's applier may take to reach logged_seq.
  std::chrono::milliseconds wait_applied{60000};
};

struct GapRepairResult {
  // The shapes of the tables with changes (as SnapshotReader::ShapeOf gives them: visible
  // columns, primary key in key order) and exactly one CHANGES transaction, seq unset, whose
  // changes index them. No changes when the two sides already agree.
  wire::ChangeBatch batch;
  uint64_t inserted = 0, updated = 0, deleted = 0;
  // One line per table that changed ("orders: 3 inserted, 1 updated, 2 deleted") and per thing
  // an operator should know (tenants left out, a table PostgreSQL lacks, refused values).
  std::vector<std::string> notes;
};

// See the file comment. `snapshot` is a connection already inside a read transaction (it is
// read, never ended). Errors: Unavailable (retryable) when the applier has not reached
// logged_seq (or PostgreSQL holds no position for the source) within spec.wait_applied, or
// PostgreSQL is unreachable; FailedPrecondition when PostgreSQL is past logged_seq or a table
// cannot be compared; others from either side.
[[nodiscard]] Result<GapRepairResult> BuildGapRepair(const GapRepairSpec& spec, SqliteDb& snapshot,
                                                     uint64_t logged_seq);

}  // namespace sqlift
