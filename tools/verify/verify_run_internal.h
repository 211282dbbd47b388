// What RunVerification (verify_run.cc) and the fallback's settle (verify_settle.cc) share: one
// run's state, its preparation (both snapshots opened) and how one table's rows are chosen on
// each side. Only those two files include it.
//
// Thread safety: one run on one thread.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "capture/snapshot/snapshot_reader.h"
#include "common/base/result.h"
#include "common/pg/pg_connection.h"
#include "tools/verify/applier_hold.h"
#include "tools/verify/verify_pg_reader.h"
#include "tools/verify/verify_report.h"
#include "tools/verify/verify_run.h"

namespace sqlift::verify_internal {

// Everything one run holds; used from the calling thread only.
struct Run {
  const VerifySpec& s;
  std::unique_ptr<ApplierHold> hold;
  std::unique_ptr<SnapshotReader> reader;
  std::vector<TableSchema> tables;
  SchemaPlan plan;
  std::unique_ptr<PgConnection> conn;
  std::vector<std::string> skip;  // tenants whose rows are left out on both sides
  VerifyReport report;
  const ChangedKeys* changed = nullptr;  // the incremental check's keys (spec's, or found at S)
  std::vector<wire::Row> to_read;        // ChangedKeysOf's answer when some are settled
  // An existing target schema: per table, its [target.constants] column and value (the
  // PostgreSQL rows compared are those holding it); empty column: none.
  std::vector<RowFilter> constants;
};

// Holds the applier (held form), opens the SQLite snapshot, translates the tables, chooses the
// tenants and opens PostgreSQL's snapshot (at the held position, or as it is).
[[nodiscard]] Status Prepare(Run& run, int* exit);

// Which rows of one table are compared: the tenant scope on each side, the column types.
struct TableRows {
  int tenant_col = -1;           // the tenant column's index in SQLite's rows (-1: every row)
  RowFilter pg_filter;           // PostgreSQL's rows (tenant or [target.constants] filter)
  std::set<std::string> wanted;  // pg_filter's values
  std::vector<PgType> types;     // of the plan's columns, in row order

  bool InScope(const std::optional<std::string>& tenant) const;
  bool Keep(const wire::Row& sqlite_row) const;  // a SQLite row of the scope
};

// The checks before table `i`'s rows are read: nullopt, with v's status and notes saying why,
// when they cannot be compared (the table or planned columns missing in PostgreSQL).
[[nodiscard]] Result<std::optional<TableRows>> BeginTable(Run& run, size_t i, TableVerdict* v);

// The PostgreSQL side of a keyed read: each key's values in PostgreSQL's text form.
[[nodiscard]] Status KeyFilter(const TableSchema& t, const TablePlan& plan,
                               const std::vector<wire::Row>& keys, RowFilter* f);

// The key columns of t's rows (indexes into the plan's columns), as the engine matches rows.
std::vector<size_t> KeyColumns(const TableSchema& t);

}  // namespace sqlift::verify_internal
