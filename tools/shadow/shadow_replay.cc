// RunShadowReplay (see shadow_replay.h).
#include "tools/shadow/shadow_replay.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <unordered_map>

#include "capture/shadow_sampler/shadow_log.h"
#include "capture/snapshot/snapshot_reader.h"
#include "common/base/exit_code.h"
#include "tools/shadow/shadow_exec.h"
#include "tools/shadow/shadow_sql.h"
#include "tools/verify/applier_hold.h"
#include "tools/verify/verify_pg_reader.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;

// Everything one replay holds; used from the calling thread only.
struct Replay {
  const ShadowSpec& s;
  std::unique_ptr<ApplierHold> hold;
  std::unique_ptr<SnapshotReader> reader;
  std::unique_ptr<PgConnection> conn;
  ShadowReport report;
};

// The log's entries, one QueryReport per distinct text.
Status ReadLog(Replay& run) {
  SQLIFT_ASSIGN_OR_RETURN(ShadowLogContents log, ReadShadowLog(run.s.log_path, run.s.limit));
  ShadowReport& r = run.report;
  r.entries = static_cast<int64_t>(log.entries.size());
  r.torn_tail = log.torn_tail, r.truncated = log.truncated;
  r.malformed_lines = log.malformed_lines, r.first_malformed_line = log.first_malformed_line;
  std::unordered_map<std::string, size_t> index;
  for (ShadowEntry& e : log.entries) {
    auto [it, fresh] = index.try_emplace(e.sql, r.queries.size());
    if (fresh) {
      QueryReport q;
      q.sql = std::move(e.sql);
      q.first_at_us = e.at_us;
      r.queries.push_back(std::move(q));
    }
    ++r.queries[it->second].entries;
  }
  return Status::OK();
}

// The hand-off of tools/verify_run.cc: hold at A, SQLite snapshot at S, applier to S,
// PostgreSQL snapshot checked at S, release. One-shot without a hold.
Status TakeSnapshots(Replay& run) {
  const ShadowSpec& s = run.s;
  SQLIFT_ASSIGN_OR_RETURN(run.conn, PgConnection::Connect(s.pg, std::chrono::seconds(10)));
  bool replicating = false;
  if (!s.source.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(replicating, SourceReplicates(*run.conn, s.source));
  }
  if (replicating) {
    SQLIFT_ASSIGN_OR_RETURN(auto hold_conn, PgConnection::Connect(s.pg, std::chrono::seconds(10)));
    SQLIFT_ASSIGN_OR_RETURN(run.hold,
                            ApplierHold::Begin(std::move(hold_conn), s.source, s.hold_ttl));
  } else {
    run.report.note =
        s.source.empty()
            ? "no source id: the sides were read as they are (one-shot), not at one position"
            : fmt::format(
                  "PostgreSQL holds no position for source {} (not replicating): the "
                  "sides were read as they are (one-shot)",
                  s.source);
  }
  // The position matters only when the applier is held at it: a one-shot replay reads SQLite
  // as it is, and needs no capture agent.
  SnapshotOptions snapshot;
  if (replicating) {
    SQLIFT_ASSIGN_OR_RETURN(snapshot, SnapshotOptionsFor(s.sqlite, s.state_dir, "shadow"));
  }
  SQLIFT_ASSIGN_OR_RETURN(run.reader, SnapshotReader::Open(s.sqlite, snapshot));
  const uint64_t seq = static_cast<uint64_t>(run.reader->snapshot_seq());
  run.report.position = run.reader->snapshot_seq();
  SQLIFT_RETURN_IF_ERROR(run.conn->Exec("SET standard_conforming_strings = on"));
  SQLIFT_RETURN_IF_ERROR(TakeSnapshotAt(run.hold.get(), *run.conn, seq, s.hold_timeout));
  run.report.held = run.hold != nullptr;
  return run.conn->Exec(
      fmt::format("SET LOCAL statement_timeout = {}", s.query_timeout.count() * 1000));
}

QueryOutcome OutcomeOf(RowsVerdict v) {
  switch (v) {
    case RowsVerdict::kDifferent:
      return QueryOutcome::kDifferent;
    case RowsVerdict::kOrderDiffers:
      return QueryOutcome::kOrderDiffers;
    default:
      return QueryOutcome::kMatched;
  }
}

Status ReplayQuery(Replay& run, QueryReport& q) {
  SqliteDb& db = run.reader->db();
  std::optional<SqliteStatement> stmt;
  if (std::optional<QueryError> e = PrepareOnSqlite(db, q.sql, &stmt)) {
    q.outcome = QueryOutcome::kFailedOnSqlite, q.message = e->message;
    return Status::OK();
  }
  q.pg_sql = RewriteBlobLiteralsForPg(q.sql);
  ResultSide pg(run.s.max_rows), sqlite(run.s.max_rows);
  std::vector<PgType> types;
  SQLIFT_ASSIGN_OR_RETURN(std::optional<QueryError> pg_error,
                          RunOnPg(*run.conn, q.pg_sql, &types, &pg));
  std::optional<QueryError> sqlite_error =
      StepOnSqlite(db, *stmt, types, &sqlite, Clock::now() + run.s.query_timeout);
  q.sqlite_rows = sqlite.rows(), q.pg_rows = pg.rows();
  if (sqlite_error) {
    q.outcome = QueryOutcome::kFailedOnSqlite, q.message = sqlite_error->message;
  } else if (pg_error) {
    q.outcome = QueryOutcome::kInvalidOnPg;
    q.sqlstate = pg_error->sqlstate, q.message = pg_error->message;
  } else {
    q.rows = CompareResults(sqlite, pg, HasTopLevelOrderBy(q.sql));
    q.outcome = OutcomeOf(q.rows.verdict);
  }
  return Status::OK();
}

Status ReplayAll(Replay& run) {
  SQLIFT_RETURN_IF_ERROR(TakeSnapshots(run));
  for (size_t i = 0; i < run.report.queries.size(); ++i) {
    Status st = ReplayQuery(run, run.report.queries[i]);
    if (!st.ok())
      return st.With(fmt::format("replay query {} of {}", i + 1, run.report.queries.size()));
  }
  SQLIFT_RETURN_IF_ERROR(run.conn->Exec("COMMIT"));
  return run.reader->Close();
}

}  // namespace

const char* OutcomeName(QueryOutcome o) {
  switch (o) {
    case QueryOutcome::kMatched:
      return "matched";
    case QueryOutcome::kDifferent:
      return "different";
    case QueryOutcome::kOrderDiffers:
      return "order differs";
    case QueryOutcome::kInvalidOnPg:
      return "not valid on PostgreSQL";
    case QueryOutcome::kFailedOnSqlite:
      return "failed on SQLite";
  }
  return "?";
}

int64_t ShadowReport::Count(QueryOutcome o) const {
  int64_t n = 0;
  for (const QueryReport& q : queries)
    n += q.outcome == o;
  return n;
}

int64_t ShadowReport::Entries(QueryOutcome o) const {
  int64_t n = 0;
  for (const QueryReport& q : queries)
    n += q.outcome == o ? q.entries : 0;
  return n;
}

int ShadowExitCode(const ShadowReport& r) {
  for (const QueryReport& q : r.queries) {
    if (q.outcome != QueryOutcome::kMatched && q.outcome != QueryOutcome::kFailedOnSqlite)
      return kExitBlocked;
  }
  return kExitOk;
}

Result<ShadowReport> RunShadowReplay(const ShadowSpec& spec) {
  Clock::time_point start = Clock::now();
  Replay run{spec, {}, {}, {}, {}};
  run.report.log_path = spec.log_path, run.report.sqlite = spec.sqlite;
  run.report.rate = spec.rate;
  SQLIFT_RETURN_IF_ERROR(ReadLog(run));
  Status st = ReplayAll(run);
  if (!st.ok()) {
    if (run.conn) (void)run.conn->Exec("ROLLBACK");  // the replay's error is the one to report
    return st.With("shadow replay of " + spec.log_path);
  }
  run.report.pg = run.conn->Describe();
  run.report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return std::move(run.report);
}

}  // namespace sqlift
