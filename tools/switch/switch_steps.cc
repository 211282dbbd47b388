// The shared steps of cutover and fallback (see switch_steps.h).
#include "tools/switch/switch_steps.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
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

Switch::~Switch() {
  log.reset();
  std::error_code ignored;
  if (!log_dir.empty()) std::filesystem::remove_all(log_dir, ignored);
}

Result<state::ChangeLog*> SwitchLog(Switch& s) {
  if (s.log) {
    SQLIFT_RETURN_IF_ERROR(s.log->CatchUp());
    return s.log.get();
  }
  std::string dir = (std::filesystem::temp_directory_path() / "sqlift-switch-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    return Status::IOError(fmt::format("mkdtemp {}: {}", dir, std::strerror(errno)));
  }
  s.log_dir = dir;
  state::RocksChangeLogOptions o;
  o.secondary_dir = dir;
  SQLIFT_ASSIGN_OR_RETURN(s.log, state::OpenRocksChangeLog(s.cfg.state_dir, o));
  return s.log.get();
}

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
  if (s.wal_progress.empty()) {
    Result<uint64_t> seq = CommitRoute(*s.db, row);  // the event's outbox seq
    s.route_committed_at = Clock::now();
    return seq;
  }
  // "At or past the event" is all a route write needs, so no write lock is taken: the agent's
  // progress past the WAL's end as this connection sees it, before and after the commit.
  const WalBarrierOptions agent{s.db->path(), s.wal_progress, s.wal_barrier_timeout};
  SQLIFT_RETURN_IF_ERROR(WaitLoggedThrough(agent, *s.db).status().With("before the route write"));
  SQLIFT_RETURN_IF_ERROR(CommitRoute(*s.db, row).status());
  s.route_committed_at = Clock::now();
  Result<uint64_t> seq = WaitLoggedThrough(agent, *s.db);
  if (seq.ok()) return seq;
  return seq.status().With(fmt::format(
      "the route ({}, epoch {}{}) is written on SQLite, but the seq that logs it is not known",
      row.side, row.epoch, row.fenced ? ", fenced" : ""));
}

Result<VerifySpec> TenantSpec(Switch& s) {
  VerifySpec spec;
  spec.sqlite = s.cfg.source_sqlite;
  spec.pg = s.cfg.target_pg;
  spec.cfg = &s.cfg;
  spec.tenant_column = TenantColumnOf(s.cfg);
  spec.constant_tenant = s.cfg.source_tenant;
  if (s.r.tenant != "*" && spec.constant_tenant.empty()) spec.tenant = s.r.tenant;
  if (s.r.tenant == "*" && !spec.tenant_column.empty() && spec.constant_tenant.empty()) {
    // The whole database is what follows the "*" route, which is what the fence stops; a
    // tenant with a route of its own is not fenced by it (it may be writing on either side).
    SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(s.db->handle()));
    for (const RouteRow& r : routes) {
      if (r.tenant != "*") spec.skip_tenants.push_back(r.tenant);
    }
  }
  spec.scope =
      fmt::format("{} of {}: {}", s.r.direction, s.cfg.source_id, DescribeTenant(s.r.tenant));
  return spec;
}

KeyScan ScanFor(const Switch& s, const VerifySpec& spec, uint64_t to_seq, size_t max_keys) {
  KeyScan scan;
  scan.tenant = s.r.tenant;
  scan.tenant_column = spec.tenant_column;
  scan.to_seq = to_seq;
  scan.max_keys = max_keys;
  scan.reverse_logged = !s.wal_progress.empty();
  return scan;
}

Status VerifyVerdict(const VerifyReport& report) {
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

namespace {

// The keys changed since the proof (s.proof, else the last matched verify), or nullopt with
// the reason in *why when the incremental check does not apply.
// The log position the check stands at: the fence's seq; for a fallback in wal capture mode,
// where the reverse applier's last writes (drained, so committed on SQLite) are logged after
// the fence's seq, the agent's seq once it has logged everything committed so far.
Result<uint64_t> CheckPosition(Switch& s) {
  if (s.wal_progress.empty() || s.r.direction != "fallback") return s.r.fence_seq;
  const WalBarrierOptions agent{s.db->path(), s.wal_progress, s.wal_barrier_timeout};
  return WaitLoggedThrough(agent, *s.db);
}

// The keys changed since the proof (s.proof, else the last matched verify) up to `to`, or
// nullopt with the reason in *why when the incremental check does not apply. What "prove" read
// already (s.prior) is not read again.
Result<std::optional<ChangedKeys>> ChangedSince(Switch& s, const VerifySpec& spec, uint64_t to,
                                                std::string* why) {
  if (!s.proof) {
    SQLIFT_ASSIGN_OR_RETURN(s.proof,
                            LastProof(*s.pg, s.cfg.source_id, s.r.tenant, spec.skip_tenants));
    s.prior.reset();
  }
  if (!s.proof) {
    *why = "no earlier verify of it matched";
    return std::optional<ChangedKeys>();
  }
  SQLIFT_ASSIGN_OR_RETURN(state::ChangeLog * log, SwitchLog(s));
  const bool resume = s.prior && s.prior->since_run == s.proof->run_id && s.prior->to_seq <= to;
  if (!resume) {
    return ChangedKeysInLog(*log, *s.proof, ScanFor(s, spec, to, s.o.fast_verify_max_keys), why);
  }
  std::optional<ChangedKeys> keys = std::move(s.prior);  // extended in place: no copy in the fence
  s.prior.reset();
  SQLIFT_RETURN_IF_ERROR(ExtendChangedKeys(
      *log, *s.proof, ScanFor(s, spec, to, s.o.fast_verify_max_keys), why, &keys));
  return keys;
}

std::string VerifyNote(const VerifyReport& report, const std::optional<ChangedKeys>& changed,
                       const std::string& why) {
  int64_t rows = 0, read = 0;
  for (const TableVerdict& t : report.tables) {
    rows += t.comparison.sqlite_rows;
    read += t.rows_read;
  }
  if (!changed) {
    return fmt::format("{} tables, {} rows (full: {}); verify_runs id {}", report.tables.size(),
                       rows, why, report.run_id.value_or(0));
  }
  return fmt::format(
      "incremental: {} keys changed since verify run {} at seq {}, {} rows read; {} tables, "
      "{} rows (counts from the proof); verify_runs id {}",
      changed->count, changed->since_run, changed->since_seq, read, report.tables.size(), rows,
      report.run_id.value_or(0));
}

}  // namespace

Status VerifyTenant(Switch& s, bool fast, std::string* note) {
  if (!s.o.verify) {
    *note = "skipped (--no-verify)";
    return Status::OK();
  }
  SQLIFT_ASSIGN_OR_RETURN(VerifySpec spec, TenantSpec(s));
  spec.still = true;
  std::string why = "--full-verify";
  s.changed.reset();
  const Clock::time_point start = Clock::now();
  SQLIFT_ASSIGN_OR_RETURN(uint64_t at, CheckPosition(s));
  spec.still_at = at;
  if (fast) {
    SQLIFT_ASSIGN_OR_RETURN(s.changed, ChangedSince(s, spec, at, &why));
  }
  if (s.changed) spec.changed = &*s.changed;
  const double scan_ms = MsSince(start);
  int exit = 0;
  SQLIFT_ASSIGN_OR_RETURN(VerifyReport report, RunVerification(spec, &exit));
  s.r.verify = report;
  double tables_ms = 0;
  for (const TableVerdict& t : report.tables)
    tables_ms += t.seconds * 1000;
  *note = VerifyNote(report, s.changed, why) +
          fmt::format(" (keys from the log {:.0f} ms, snapshots {:.0f} ms, tables {:.0f} ms)",
                      scan_ms, MsSince(start) - scan_ms - tables_ms, tables_ms);
  Status verdict = VerifyVerdict(report);
  if (verdict.ok() || !s.changed) return verdict;
  return verdict.With(fmt::format("the incremental check of the {} keys changed since seq {}",
                                  s.changed->count, s.changed->since_seq));
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

Status DatabaseSides::SetSequences(bool, std::string*) {
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
