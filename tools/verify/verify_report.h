// What `sqlift verify` found, for people (a table), for scripts (one JSON document), and for
// the record: one row per run in sqlift.verify_runs (docs/design.md, state).
//
//   sqlift.verify_runs(id bigserial primary key, started_at timestamptz not null,
//                      finished_at timestamptz not null, source text, scope text not null,
//                      position bigint, matched boolean not null, report jsonb not null,
//                      tenant text, skipped jsonb, all_tables boolean, held boolean,
//                      still boolean, fast boolean)
// `position` is the SQLite side's outbox seq S for the one-shot form (the position the
// comparison was made at, invariant 6); `source` the [source] id when a configuration gave one.
//
// Thread safety: plain values and functions over the connection they are given.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/pg/pg_connection.h"
#include "tools/verify/verify_engine.h"

namespace sqlift {

enum class TableStatus {
  kMatched,    // every row equal
  kDifferent,  // rows differ, are missing or extra (counts in `comparison`), or columns do
  kMissing,    // the table is not in PostgreSQL
  kExtra,      // a table of the target schema that SQLite does not have
};
const char* TableStatusName(TableStatus s);  // "Matched" | "Different" | "Missing" | "Extra"

struct TableVerdict {
  std::string table;     // SQLite name (PostgreSQL name for kExtra)
  std::string pg_table;  // PostgreSQL name
  TableStatus status = TableStatus::kMatched;
  TableComparison comparison;      // rows and differences (zero when not compared)
  std::vector<std::string> notes;  // "column \"x\" is not in PostgreSQL", ...
  double seconds = 0;
  // Rows read on both sides: every row for a full comparison; a switch's incremental check
  // reads only the changed keys' rows.
  int64_t rows_read = 0;
  // Whether comparison.sqlite_rows / pg_rows are proven row counts (false when an incremental
  // check started from a proof without counts).
  bool counted = true;
};

struct VerifyReport {
  std::string sqlite;  // the SQLite file
  std::string pg;      // "user@host:port/db" (never a password)
  std::string schema;  // the PostgreSQL schema compared
  int64_t position = 0;
  bool held = false;         // both sides read at `position` with the applier held there
  std::string tenant_scope;  // "tenant acme", "without tenants routed to postgres: b", ...
  std::vector<TableVerdict> tables;
  double seconds = 0;
  std::optional<int64_t> run_id;  // set once recorded

  bool matched() const;
};

std::string ReportJson(const VerifyReport& report);
std::string ReportText(const VerifyReport& report);

// Creates schema sqlift and sqlift.verify_runs when missing; idempotent.
[[nodiscard]] Status EnsureVerifyRuns(PgConnection& conn);

struct VerifyRunRecord {
  std::chrono::system_clock::time_point started_at, finished_at;
  std::optional<std::string> source;
  std::string scope;  // "chinook.sqlite -> public: all tables", "... tables Album,Track"
  // What the run proves, for a later switch's fast path (tools/verify_fast.h):
  std::optional<std::string> tenant;  // one tenant's rows (or "*"); none: every tenant's
  std::vector<std::string> skipped;   // tenants left out
  bool all_tables = false;            // every table, not a --tables subset
  bool still = false;                 // a switch's verify: the tenant's rows could not change
  bool fast = false;                  // only the changed rows and the counts were compared
};

// Inserts the run (every value a bound parameter) and returns its id.
[[nodiscard]] Result<int64_t> RecordVerifyRun(PgConnection& conn, const VerifyReport& report,
                                              const VerifyRunRecord& record);

}  // namespace sqlift
