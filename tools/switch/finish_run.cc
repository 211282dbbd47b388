// RunFinish (see switch_run.h): after the last tenant moved, PostgreSQL is left standing alone.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "apply/pg_sink/pg_route.h"
#include "apply/reverse/source_layout.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/route_table.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "common/sqlite/sqlite_db.h"
#include "state/change_log.h"
#include "tools/switch/switch_run.h"
#include "tools/switch/switch_steps.h"

namespace sqlift {
namespace {

struct Finish {
  const Config& cfg;
  FinishReport& r;
  std::unique_ptr<SqliteDb> db;
  std::unique_ptr<PgConnection> pg;

  Status Step(const std::string& name, const std::function<Status(std::string*)>& body) {
    return switching::RunStep("finish", &r.steps, name, body);
  }
};

// Every route must be on postgres: the whole database ("*", which shared tables and tenants
// without a route of their own follow) and every tenant with a route of its own.
Status CheckRoutes(Finish& f, std::string* note) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(f.db->handle()));
  std::vector<std::string> left;
  const std::string whole = DefaultTenantOf(f.cfg);
  if (!LookupRoute(routes, whole).on_postgres() || LookupRoute(routes, whole).fenced)
    left.push_back(DescribeTenant(whole));
  for (const RouteRow& r : routes) {
    if (r.tenant != whole && (!r.on_postgres() || r.fenced))
      left.push_back(DescribeTenant(r.tenant));
  }
  if (!left.empty()) {
    return Status::FailedPrecondition(fmt::format(
        "not every route is on postgres: {}; cut them over first", fmt::join(left, ", ")));
  }
  *note = fmt::format("{} routes, all on postgres", routes.size());
  return Status::OK();
}

// The agent holds its state directory locked while it runs; finish must not pull the outbox
// from under it (nor the slot its reverse path streams).
Status CheckAgentStopped(Finish& f, std::string* note) {
  if (f.cfg.state_dir.empty() || !std::filesystem::exists(f.cfg.state_dir)) {
    *note = "no state directory";
    return Status::OK();
  }
  state::RocksChangeLogOptions o;
  o.create_if_missing = false;
  Result<std::unique_ptr<state::ChangeLog>> log = state::OpenRocksChangeLog(f.cfg.state_dir, o);
  if (!log.ok() && log.status().code() == Status::Code::kIOError) {
    return Status::FailedPrecondition(fmt::format(
        "the capture agent still runs (its state {} is locked): stop `sqlift capture` first",
        f.cfg.state_dir));
  }
  *note = "the capture agent is stopped";
  return Status::OK();
}

// The source's slot and publication go, and its position (it no longer replicates). The fence
// triggers are shared by every source of the schema (database-per-tenant: one per file), so
// they go with the last source only.
Status DropReplication(Finish& f, std::string* note) {
  const std::string name = ReplicationNameFor(f.cfg);
  SQLIFT_RETURN_IF_ERROR(DropSlot(*f.pg, name, std::chrono::seconds(15)));
  SQLIFT_RETURN_IF_ERROR(DropPublication(*f.pg, name));
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult others, f.pg->Query("WITH gone AS (DELETE FROM sqlift.positions WHERE source = $1) "
                                   "SELECT count(*) FROM sqlift.positions WHERE source <> $1",
                                   {f.cfg.source_id}));
  SQLIFT_RETURN_IF_ERROR(
      f.pg->Query("DELETE FROM sqlift.source_schema WHERE source = $1", {f.cfg.source_id})
          .status());
  SQLIFT_ASSIGN_OR_RETURN(const int64_t left, others.GetInt64(0, 0));
  if (left == 0) SQLIFT_RETURN_IF_ERROR(DropFences(*f.pg));
  // The applier's replication origin (each holds one of max_replication_slots' origin slots);
  // while `sqlift apply` still has it set up, the applier drops it when it stops.
  Status origin = DropOrigin(*f.pg, name);
  if (!origin.ok() && origin.code() != Status::Code::kFailedPrecondition) return origin;
  *note = fmt::format("slot, publication{} {} dropped, position removed; {}",
                      origin.ok() ? " and origin" : "", name,
                      left == 0 ? "fence triggers dropped"
                                : fmt::format("fence triggers kept for {} other sources", left));
  if (!origin.ok()) *note += "; the origin goes when `sqlift apply` stops";
  return Status::OK();
}

Status DropSqliteTables(Finish& f, std::string* note) {
  SQLIFT_RETURN_IF_ERROR(f.db->Exec("BEGIN IMMEDIATE"));
  // The guard triggers first: they read _sqlift_route and _sqlift_state.
  Status st = RemoveGuards(*f.db);
  if (st.ok()) {
    st = f.db->Exec(
        "DROP TABLE IF EXISTS main._sqlift_outbox; DROP TABLE IF EXISTS main._sqlift_route; "
        "DROP TABLE IF EXISTS main._sqlift_state");
  }
  if (st.ok()) st = f.db->Exec("COMMIT");
  if (!st.ok()) {
    (void)f.db->Exec("ROLLBACK");
    return st;
  }
  *note = "guard triggers, _sqlift_outbox, _sqlift_route and _sqlift_state dropped from " +
          f.cfg.source_sqlite;
  return Status::OK();
}

}  // namespace

FinishReport RunFinish(const Config& cfg) {
  FinishReport r;
  Finish f{cfg, r, {}, {}};
  Status st = f.Step("open", [&](std::string* n) -> Status {
    SQLIFT_RETURN_IF_ERROR(cfg.Require({"source.id", "source.sqlite", "target.pg"}, "finish"));
    SQLIFT_ASSIGN_OR_RETURN(f.db, SqliteDb::Open(cfg.source_sqlite, SqliteDb::Mode::kReadWrite));
    SQLIFT_ASSIGN_OR_RETURN(f.pg, PgConnection::Connect(cfg.target_pg, std::chrono::seconds(10)));
    *n = f.pg->Describe();
    return Status::OK();
  });
  if (st.ok()) st = f.Step("routes", [&](std::string* n) { return CheckRoutes(f, n); });
  if (st.ok()) st = f.Step("agent", [&](std::string* n) { return CheckAgentStopped(f, n); });
  if (st.ok()) st = f.Step("replication", [&](std::string* n) { return DropReplication(f, n); });
  if (st.ok()) st = f.Step("sqlite", [&](std::string* n) { return DropSqliteTables(f, n); });
  r.ok = st.ok();
  if (!st.ok()) r.reason = st.ToString();
  return r;
}

}  // namespace sqlift
