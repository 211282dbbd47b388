// The shared steps of cutover and fallback (see switch_steps.h).
#include "tools/switch/switch_steps.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "apply/reverse/source_layout.h"
#include "capture/agent/route_writer.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "capture/snapshot/snapshot_reader.h"
#include "capture/snapshot/wal_barrier.h"
#include "common/base/exit_code.h"
#include "tools/verify/verify_fast.h"
#include "tools/verify/verify_run.h"

namespace sqlift::switching {
namespace {

// Polls `done` every few milliseconds until it holds or the switch's deadline passes.
Status PollUntil(Switch& s, const std::string& what, const std::function<Result<bool>()>& done) {
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool ok, done());
    if (ok) return Status::OK();
    if (s.TimedOut()) {
      return Status::Aborted(
          fmt::format("timed out after {} ms waiting for {}", s.o.timeout.count(), what));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

Result<uint64_t> OutboxHighWater(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement q,
      db.Prepare("SELECT seq FROM sqlite_sequence WHERE name = '_sqlift_outbox'"));
  SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<uint64_t>(q.ColumnInt64(0)) : 0;
}

Result<uint64_t> AppliedSeq(PgConnection& pg, const std::string& source) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, pg.Query("SELECT applied_seq FROM sqlift.positions WHERE source = $1", {source}));
  if (r.rows() == 0) {
    return Status::FailedPrecondition(fmt::format(
        "PostgreSQL holds no position for source {}: run `sqlift apply` and `sqlift capture` "
        "until the snapshot is in",
        source));
  }
  return r.GetUint64(0, 0);
}

Status Open(Switch& s) {
  SQLIFT_RETURN_IF_ERROR(s.cfg.Require({"source.id", "source.sqlite", "target.pg"}, s.r.direction));
  SQLIFT_ASSIGN_OR_RETURN(s.db, SqliteDb::Open(s.cfg.source_sqlite, SqliteDb::Mode::kReadWrite));
  SQLIFT_ASSIGN_OR_RETURN(SnapshotOptions mode,
                          SnapshotOptionsFor(s.cfg.source_sqlite, s.cfg.state_dir, s.r.direction));
  s.wal_progress = mode.wal_progress_path;
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(s.db->handle()));
  s.route = LookupRoute(routes, s.r.tenant);
  SQLIFT_ASSIGN_OR_RETURN(s.pg, PgConnection::Connect(s.cfg.target_pg, std::chrono::seconds(10)));
  return AppliedSeq(*s.pg, s.cfg.source_id).status();
}

Status WaitApplied(Switch& s, uint64_t seq, std::string* note) {
  uint64_t applied = 0;
  Status st = PollUntil(s, fmt::format("the applier to apply seq {}", seq), [&]() -> Result<bool> {
    SQLIFT_ASSIGN_OR_RETURN(applied, AppliedSeq(*s.pg, s.cfg.source_id));
    return applied >= seq;
  });
  *note = fmt::format("applied seq {} (>= {})", applied, seq);
  return st.ok() ? st : st.With(fmt::format("applied seq is {}", applied));
}

Status CatchUp(Switch& s, std::string* note) {
  const bool wal = !s.wal_progress.empty();
  uint64_t committed = 0, applied = 0;
  Status st = PollUntil(s, "the applier to catch up", [&]() -> Result<bool> {
    SQLIFT_ASSIGN_OR_RETURN(committed, wal ? LoggedSeqNow(s.wal_progress) : OutboxHighWater(*s.db));
    SQLIFT_ASSIGN_OR_RETURN(applied, AppliedSeq(*s.pg, s.cfg.source_id));
    return committed <= applied + s.o.max_lag_seqs;
  });
  *note =
      fmt::format("lag {} seqs ({} {}, applied {})", committed > applied ? committed - applied : 0,
                  wal ? "logged" : "committed", committed, applied);
  return st;
}

Result<uint64_t> WriteRouteAt(Switch& s, const RouteRow& row) {
  if (s.wal_progress.empty()) return CommitRoute(*s.db, row);  // the event's outbox seq
  const WalBarrierOptions barrier{s.db->path(), s.wal_progress, s.wal_barrier_timeout};
  auto no_read = [] { return Status::OK(); };
  SQLIFT_RETURN_IF_ERROR(RunWalBarrier(barrier, no_read).status().With("before the route write"));
  SQLIFT_RETURN_IF_ERROR(CommitRoute(*s.db, row).status());
  Result<uint64_t> seq = RunWalBarrier(barrier, no_read);
  if (seq.ok()) return seq;
  return seq.status().With(fmt::format(
      "the route ({}, epoch {}{}) is written on SQLite, but the seq that logs it is not known",
      row.side, row.epoch, row.fenced ? ", fenced" : ""));
}

Status VerifyTenant(Switch& s, bool fast, std::string* note) {
  if (!s.o.verify) {
    *note = "skipped (--no-verify)";
    return Status::OK();
  }
  VerifySpec spec;
  spec.sqlite = s.cfg.source_sqlite;
  spec.pg = s.cfg.target_pg;
  spec.cfg = &s.cfg;
  spec.tenant_column = TenantColumnOf(s.cfg);
  spec.constant_tenant = s.cfg.source_tenant;
  if (s.r.tenant != "*" && spec.constant_tenant.empty()) spec.tenant = s.r.tenant;
  if (s.r.tenant == "*" && !spec.tenant_column.empty() && spec.constant_tenant.empty()) {
    // The whole database is what follows the "*" route, which is what the fence stopped; a
    // tenant with a route of its own is not fenced by it (it may be writing on either side).
    SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(s.db->handle()));
    for (const RouteRow& r : routes) {
      if (r.tenant != "*") spec.skip_tenants.push_back(r.tenant);
    }
  }
  spec.scope =
      fmt::format("{} of {}: {}", s.r.direction, s.cfg.source_id, DescribeTenant(s.r.tenant));
  spec.still = true;
  // The fast path: only the rows the log shows changed since the last full verify, and the
  // counts (tools/verify_fast.h); the full comparison when it does not apply.
  std::optional<ChangedKeys> changed;
  std::string why = "not for a fallback (its changes came through PostgreSQL)";
  if (fast) {
    SQLIFT_ASSIGN_OR_RETURN(
        changed, ChangedSinceLastVerify(s.cfg, *s.pg, s.r.tenant, spec.skip_tenants, s.r.fence_seq,
                                        s.o.fast_verify_max_keys, &why));
  }
  if (changed) spec.changed = &*changed;
  int exit = 0;
  SQLIFT_ASSIGN_OR_RETURN(VerifyReport report, RunVerification(spec, &exit));
  s.r.verify = report;
  int64_t rows = 0;
  for (const TableVerdict& t : report.tables)
    rows += t.comparison.sqlite_rows;
  *note = changed ? fmt::format(
                        "fast: {} rows changed since verify run {} at seq {}, and the "
                        "counts of {} tables ({} rows); verify_runs id {}",
                        changed->count, changed->since_run, changed->since_seq,
                        report.tables.size(), rows, report.run_id.value_or(0))
                  : fmt::format("{} tables, {} rows (full: {}); verify_runs id {}",
                                report.tables.size(), rows, why, report.run_id.value_or(0));
  if (report.matched()) return Status::OK();
  for (const TableVerdict& t : report.tables) {
    if (t.status == TableStatus::kMatched) continue;
    std::string first =
        t.comparison.examples.empty() ? "" : " (key " + t.comparison.examples[0].key + ")";
    return Status::FailedPrecondition(fmt::format("verify: table {} is {}{}; see verify_runs id {}",
                                                  t.table, TableStatusName(t.status), first,
                                                  report.run_id.value_or(0)));
  }
  return Status::Internal("verify did not match, without a table that differs");
}

Status WaitReverseDrained(Switch& s, std::string* note) {
  const std::string slot = ReplicationNameFor(s.cfg);
  SQLIFT_ASSIGN_OR_RETURN(pgchange::Lsn marker,
                          EmitMarker(*s.pg, "sqlift", fmt::format("drain {}", s.r.tenant)));
  SlotInfo info;
  Status st = PollUntil(
      s, "the reverse path (sqlift capture) to reach the drain marker", [&]() -> Result<bool> {
        SQLIFT_ASSIGN_OR_RETURN(info, GetSlot(*s.pg, slot));
        if (!info.exists) {
          return Status::FailedPrecondition("the replication slot " + slot + " is gone");
        }
        return info.confirmed_flush >= marker;
      });
  *note = fmt::format("slot {} confirmed {} (marker {})", slot,
                      pgchange::FormatLsn(info.confirmed_flush), pgchange::FormatLsn(marker));
  return st;
}

Status DatabaseSides::NotAStep(const std::string& name) const {
  return Status::Internal(fmt::format("{} is not a step of a {}", name, s_.r.direction));
}

Status DatabaseSides::PrepareReverse(std::string*) {
  return NotAStep("reverse");
}

Status DatabaseSides::SetSequences(std::string*) {
  return NotAStep("sequences");
}

Status DatabaseSides::CloseReverse(std::string*) {
  return NotAStep("close");
}

Result<uint64_t> DatabaseSides::SetRoute(const RouteRow& row) {
  return WriteRouteAt(s_, row);
}

void DatabaseSides::ExtendDeadline(std::chrono::milliseconds from_now) {
  s_.deadline = std::max(s_.deadline, Clock::now() + from_now);
}

}  // namespace sqlift::switching
