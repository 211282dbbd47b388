// BuildGapRepair (see gap_repair.h): PostgreSQL's snapshot at the logged position, the tables
// and the tenant scope, then each table's changes into one transaction.
#include "tools/repair/gap_repair.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "apply/translate/mapping_overrides.h"
#include "apply/translate/schema_translator.h"
#include "capture/outbox/route_table.h"
#include "capture/snapshot/snapshot_reader.h"
#include "common/base/backoff.h"
#include "common/base/clock.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_schema.h"
#include "common/sqlite/sqlite_statement.h"
#include "tools/repair/repair_table.h"
#include "tools/verify/verify_pg_reader.h"
#include "tools/verify/verify_scope.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Everything one repair holds; used from the calling thread only.
struct Repair {
  const GapRepairSpec& spec;
  SqliteDb& snapshot;
  std::unique_ptr<PgConnection> conn;
  std::vector<TableSchema> tables;
  SchemaPlan plan;
  VerifySpec scope;               // the tenant scope, as verify's held form takes it
  std::vector<std::string> skip;  // tenants routed to postgres: their rows are PostgreSQL's
  GapRepairResult result;
};

// Begins the snapshot and reads the source's applied seq in it (nullopt: no position yet).
Result<std::optional<uint64_t>> AppliedInSnapshot(PgConnection& conn, const std::string& source) {
  SQLIFT_RETURN_IF_ERROR(BeginVerifySnapshot(conn));
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query("SELECT applied_seq FROM sqlift.positions WHERE source = $1", {source}));
  if (r.rows() == 0) return std::optional<uint64_t>();
  SQLIFT_ASSIGN_OR_RETURN(uint64_t seq, r.GetUint64(0, 0));
  return std::optional<uint64_t>(seq);
}

std::string NotCaughtUp(uint64_t applied, uint64_t logged, milliseconds waited) {
  return fmt::format(
      "the applier has applied seq {} of {} after {} ms: is `sqlift apply` running? (a gap "
      "repair compares PostgreSQL at the log's last seq)",
      applied, logged, waited.count());
}

// Leaves conn inside a REPEATABLE READ snapshot in which the applier has applied exactly
// `logged` (polling, with back-off, for at most spec.wait_applied); false when PostgreSQL
// holds no position for the source at all: it has loaded no snapshot yet, and the snapshot it
// will load (at a position after the gap) covers the gap, so there is nothing to repair.
Result<bool> SnapshotAtLogged(PgConnection& conn, const GapRepairSpec& spec, uint64_t logged) {
  const Clock::time_point start = Clock::now();
  Backoff backoff(milliseconds(10), milliseconds(250));
  for (;;) {
    Result<std::optional<uint64_t>> applied = AppliedInSnapshot(conn, spec.source);
    if (applied.ok() && *applied == logged) return true;
    (void)conn.Exec("ROLLBACK");  // a read-only snapshot: nothing to lose
    if (!applied.ok()) return applied.status().With("read the applied position");
    if (!*applied) return false;
    if (*applied && **applied > logged) {
      return Status::FailedPrecondition(fmt::format(
          "PostgreSQL has applied seq {} for source {}, past the log's last seq {}: the log and "
          "the target do not belong together",
          **applied, spec.source, logged));
    }
    auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    if (waited >= spec.wait_applied) {
      return Status::Unavailable(NotCaughtUp(**applied, logged, waited));
    }
    std::this_thread::sleep_for(std::min(backoff.Next(), spec.wait_applied - waited));
  }
}

// The captured tables and the types their columns have in PostgreSQL, as copy and verify
// translate them.
Status Translate(Repair& r) {
  const Config* cfg = r.spec.cfg;
  SQLIFT_ASSIGN_OR_RETURN(r.tables, ReadTables(r.snapshot, cfg ? cfg->source_exclude_tables
                                                               : std::vector<std::string>{}));
  TranslateOptions topt;
  topt.schema = r.spec.schema;
  SQLIFT_ASSIGN_OR_RETURN(topt.overrides, Overrides(cfg, r.tables));
  SQLIFT_ASSIGN_OR_RETURN(r.plan, TranslateSchema(r.tables, topt));
  return Status::OK();
}

Result<std::vector<RouteRow>> Routes(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement q,
      db.Prepare("SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = ?1"));
  SQLIFT_RETURN_IF_ERROR(q.BindText(1, kRouteTable));
  SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
  const bool has = row && q.ColumnInt64(0) > 0;
  SQLIFT_RETURN_IF_ERROR(q.Reset());
  if (!has) return std::vector<RouteRow>{};  // nothing was ever routed
  return ReadRoutes(db.handle());
}

// The tenant scope: tenants routed to postgres are left out. False when PostgreSQL owns every
// row (the whole database, or this file's constant tenant, is routed there).
Result<bool> ChooseTenants(Repair& r) {
  const Config* cfg = r.spec.cfg;
  if (cfg) {
    r.scope.tenant_column = cfg->source_tenant_column;
    r.scope.constant_tenant = cfg->source_tenant;
  }
  if (!r.scope.constant_tenant.empty() && r.scope.tenant_column.empty())
    r.scope.tenant_column = "tenant_id";  // as verify and the applier name it
  r.scope.skip_moved_tenants = true;
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, Routes(r.snapshot));
  std::string own =
      r.scope.constant_tenant.empty() ? std::string(kWholeDatabase) : r.scope.constant_tenant;
  if (LookupRoute(routes, kWholeDatabase).on_postgres() || LookupRoute(routes, own).on_postgres()) {
    r.result.notes.push_back(fmt::format(
        "{} is routed to postgres: PostgreSQL owns its rows, nothing to repair",
        DescribeTenant(LookupRoute(routes, kWholeDatabase).on_postgres() ? kWholeDatabase : own)));
    return false;
  }
  SQLIFT_ASSIGN_OR_RETURN(r.skip, TenantsToSkip(r.scope, routes));
  if (!r.skip.empty()) {
    r.result.notes.push_back(
        fmt::format("rows of tenants routed to postgres left out: {}", fmt::join(r.skip, ", ")));
  }
  return true;
}

// Whether PostgreSQL has the table; FailedPrecondition when it lacks a planned column.
Result<bool> CheckTable(Repair& r, const TablePlan& plan) {
  SQLIFT_ASSIGN_OR_RETURN(auto columns, PgTableColumns(*r.conn, r.spec.schema, plan.pg_name));
  if (!columns) return false;
  std::set<std::string> pg(columns->begin(), columns->end());
  std::vector<std::string> missing;
  for (const ColumnPlan& c : plan.columns) {
    if (!pg.count(c.pg_name)) missing.push_back(QuoteIdentifier(c.pg_name));
  }
  if (missing.empty()) return true;
  return Status::FailedPrecondition(fmt::format(
      "PostgreSQL's {} lacks column(s) {}: the table's definition changed during the gap, and "
      "values of columns PostgreSQL does not have cannot be compared",
      QuoteQualified(r.spec.schema, plan.pg_name), fmt::join(missing, ", ")));
}

// One table's changes, added to the batch's one transaction.
Status RepairOne(Repair& r, size_t i, wire::Transaction* txn) {
  const TableSchema& t = r.tables[i];
  RepairTableSpec spec;
  spec.table = &t, spec.plan = &r.plan.tables[i], spec.schema = r.spec.schema;
  if (!TableTenantFilter(r.scope, r.skip, t, *spec.plan, &spec.tenant_col, &spec.tenant_filter))
    return Status::OK();  // not with this scope (one tenant asked): never here
  SQLIFT_ASSIGN_OR_RETURN(bool present, CheckTable(r, *spec.plan));
  spec.pg_missing = !present;
  SQLIFT_ASSIGN_OR_RETURN(TableRepair tr, RepairTable(r.snapshot, *r.conn, spec));
  if (spec.pg_missing) {
    r.result.notes.push_back(fmt::format(
        "{}: not in PostgreSQL, compared as empty: its rows are inserted (the applier must have "
        "the table's definition first)",
        t.name));
  }
  if (tr.changes.empty()) return Status::OK();
  const auto index = static_cast<uint32_t>(r.result.batch.tables_size());
  *r.result.batch.add_tables() = SnapshotReader::ShapeOf(t);
  for (wire::RowChange& ch : tr.changes) {
    ch.set_table_index(index);
    *txn->add_changes() = std::move(ch);
  }
  r.result.inserted += tr.inserted, r.result.updated += tr.updated;
  r.result.deleted += tr.deleted;
  std::string note = fmt::format("{}: {} inserted, {} updated, {} deleted", t.name, tr.inserted,
                                 tr.updated, tr.deleted);
  spdlog::info("gap repair: {}", note);
  r.result.notes.push_back(std::move(note));
  if (tr.refused > 0) {
    r.result.notes.push_back(fmt::format(
        "{}: {} of these rows hold values PostgreSQL refuses; the applier treats them as it "
        "treats streamed ones (dead letters)",
        t.name, tr.refused));
  }
  return Status::OK();
}

Status RepairAll(Repair& r) {
  SQLIFT_RETURN_IF_ERROR(Translate(r));
  SQLIFT_ASSIGN_OR_RETURN(bool ours, ChooseTenants(r));
  wire::Transaction* txn = r.result.batch.add_transactions();
  txn->set_kind(wire::Transaction::CHANGES);
  txn->set_committed_at_us(NowMicros());
  if (!ours) return Status::OK();
  for (size_t i = 0; i < r.tables.size(); ++i) {
    SQLIFT_RETURN_IF_ERROR(RepairOne(r, i, txn).With("repair table " + r.tables[i].name));
  }
  return Status::OK();
}

}  // namespace

Result<GapRepairResult> BuildGapRepair(const GapRepairSpec& spec, SqliteDb& snapshot,
                                       uint64_t logged_seq) {
  Repair r{spec, snapshot, nullptr, {}, {}, {}, {}, {}};
  SQLIFT_ASSIGN_OR_RETURN(r.conn, PgConnection::Connect(spec.pg, std::chrono::seconds(10)));
  Result<bool> at_logged = SnapshotAtLogged(*r.conn, spec, logged_seq);
  if (!at_logged.ok()) return at_logged.status().With("gap repair");
  if (!*at_logged) {
    r.result.batch.add_transactions()->set_kind(wire::Transaction::CHANGES);
    r.result.notes.push_back(fmt::format(
        "PostgreSQL holds no position for source {}: the snapshot it has yet to load covers "
        "the gap",
        spec.source));
    return std::move(r.result);
  }
  Status st = RepairAll(r);
  Status ended = r.conn->Exec("ROLLBACK");  // the snapshot only read
  SQLIFT_RETURN_IF_ERROR(st.With(fmt::format("gap repair at seq {}", logged_seq)));
  SQLIFT_RETURN_IF_ERROR(ended);
  return std::move(r.result);
}

}  // namespace sqlift
