// `sqlift shadow`: the application's sampled read queries (the shadow log,
// capture/shadow_log.h) replayed on SQLite and on PostgreSQL at one log position, and every
// query whose results differ reported. docs/shadow.md has the whole story; this is
// the orchestration:
//
//  1. The log is read (a torn last line and malformed lines are counted, not fatal); entries
//     with the same text are replayed once (at one position they give one result) and counted.
//  2. Both snapshots at one position S, with the hand-off `sqlift verify` uses
//     (tools/verify_run.h): when PostgreSQL holds a position for `source`, its applier is held
//     (apply/applier_hold.h), the SQLite snapshot is opened (capture/snapshot_reader.h: its first
//     read is S; in wal capture mode S is named by the WAL barrier from the agent's progress in
//     `state_dir`), the hold is moved to S and awaited, PostgreSQL's REPEATABLE READ READ ONLY
//     snapshot is taken and checked to be at S, and the applier is let go. Otherwise the sides
//     are read as they are (one-shot), and the report says so.
//  3. Each query: prepared on SQLite first (what SQLite does not accept as one read-only query
//     is "failed on SQLite" and never reaches PostgreSQL), run on PostgreSQL with blob literals
//     rewritten (tools/shadow_sql.h) inside a SAVEPOINT, then stepped on SQLite, and the two
//     results compared (tools/shadow_compare.h) after normalizing both for the PostgreSQL
//     result's column types (tools/shadow_exec.h).
//
// Outcomes: matched; different (the row multisets differ, or the column counts); order differs
// (same rows, and the query has a top-level ORDER BY, but not in the same order); not valid on
// PostgreSQL (PostgreSQL refused or failed it: SQLSTATE and message); failed on SQLite.
// Exit rule (ShadowExitCode): 0 when nothing is different, in a different order or not valid on
// PostgreSQL (queries that failed on SQLite are reported and do not count: they are not
// replayable at this position), else 3 (kExitBlocked).
//
// Thread safety: one call at a time per spec; everything runs on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "tools/shadow/shadow_compare.h"

namespace sqlift {

struct ShadowSpec {
  std::string sqlite;
  std::string pg;
  std::string log_path;
  std::string source;        // the held form when PostgreSQL holds a position for it; "" one-shot
  std::string state_dir;     // [state] dir: the capture agent's WAL progress (wal capture mode)
  double rate = -1;          // [shadow] rate, shown in the report; < 0 unknown
  size_t limit = 0;          // replay only the first `limit` log entries; 0 all
  size_t max_rows = 10'000;  // rows kept per side and query for examples (tools/shadow_compare.h)
  std::chrono::seconds query_timeout{30};  // per query and side
  std::chrono::seconds hold_ttl{60};
  std::chrono::milliseconds hold_timeout{60'000};
};

enum class QueryOutcome { kMatched, kDifferent, kOrderDiffers, kInvalidOnPg, kFailedOnSqlite };
inline constexpr QueryOutcome kAllOutcomes[] = {
    QueryOutcome::kMatched, QueryOutcome::kDifferent, QueryOutcome::kOrderDiffers,
    QueryOutcome::kInvalidOnPg, QueryOutcome::kFailedOnSqlite};
// "matched", "different", "order differs", "not valid on PostgreSQL", "failed on SQLite"
const char* OutcomeName(QueryOutcome o);

struct QueryReport {
  std::string sql;      // as logged, as SQLite ran it
  std::string pg_sql;   // as PostgreSQL ran it (blob literals rewritten)
  int64_t entries = 0;  // log entries with this text
  int64_t first_at_us = 0;
  QueryOutcome outcome = QueryOutcome::kMatched;
  std::string sqlstate;  // kInvalidOnPg
  std::string message;   // kInvalidOnPg, kFailedOnSqlite
  RowsComparison rows;   // kDifferent, kOrderDiffers
  int64_t sqlite_rows = 0, pg_rows = 0;
};

struct ShadowReport {
  std::string log_path, sqlite, pg;
  double rate = -1;
  int64_t position = 0;  // S, the SQLite snapshot's outbox position
  bool held = false;     // both sides at S (the applier was held); else one-shot
  std::string note;      // why one-shot, when it is
  int64_t entries = 0;   // log entries replayed
  bool torn_tail = false, truncated = false;
  int64_t malformed_lines = 0, first_malformed_line = 0;
  std::vector<QueryReport> queries;  // distinct texts, in the order first logged
  double seconds = 0;

  int64_t Count(QueryOutcome o) const;    // distinct queries
  int64_t Entries(QueryOutcome o) const;  // log entries
};

// Fails when the replay could not be made (no log, a side unreachable, the hold not reached).
[[nodiscard]] Result<ShadowReport> RunShadowReplay(const ShadowSpec& spec);

// 0 (kExitOk) or 3 (kExitBlocked), by the rule above.
int ShadowExitCode(const ShadowReport& r);

// The report for people (tools/shadow_report.cc): totals, then each query that did not match,
// at most `examples` per outcome (--json lists every query).
std::string ShadowReportText(const ShadowReport& r, size_t examples = 5);
// One JSON document with every query.
std::string ShadowReportJson(const ShadowReport& r);

}  // namespace sqlift
