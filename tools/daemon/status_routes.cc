#include "tools/daemon/status_routes.h"

#include <fmt/format.h>

#include "apply/pg_sink/pg_route.h"
#include "apply/reverse/reverse_applier.h"
#include "apply/reverse/source_layout.h"
#include "capture/outbox/route_table.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "common/base/text.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {
namespace {

Status ReadSqlite(const Config& cfg, std::vector<TenantRouteStatus>* routes,
                  ReverseStatus* reverse) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(cfg.source_sqlite, SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> rows, ReadRoutes(db->handle()));
  for (const RouteRow& r : rows)
    routes->push_back({r.tenant, r.side, r.epoch, r.fenced, {}, {}, {}});
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement q,
                          db->Prepare("SELECT value FROM _sqlift_state WHERE key = ?1"));
  SQLIFT_RETURN_IF_ERROR(q.BindText(1, kStateReverseLsn));
  SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
  if (row) reverse->sqlite_lsn = pgchange::FormatLsn(static_cast<uint64_t>(q.ColumnInt64(0)));
  return Status::OK();
}

Status ReadPg(const Config& cfg, std::vector<TenantRouteStatus>* routes, ReverseStatus* reverse) {
  SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(cfg.target_pg, std::chrono::seconds(3)));
  SQLIFT_ASSIGN_OR_RETURN(PgResult has,
                          conn->Query("SELECT to_regclass('sqlift.route') IS NOT NULL"));
  if (has.get(0, 0) == "t") {
    SQLIFT_ASSIGN_OR_RETURN(std::vector<PgRoute> pg, ReadRoutes(*conn));
    for (const PgRoute& p : pg) {
      auto it = std::find_if(routes->begin(), routes->end(),
                             [&](const TenantRouteStatus& r) { return r.tenant == p.tenant; });
      if (it == routes->end()) {
        routes->push_back({p.tenant, "(none)", 0, false, {}, {}, {}});
        it = routes->end() - 1;
      }
      it->pg_side = RouteSideName(p.side);
      it->pg_epoch = static_cast<int64_t>(p.epoch);
      it->pg_fenced = p.fenced;
    }
  }
  SQLIFT_ASSIGN_OR_RETURN(SlotInfo slot, GetSlot(*conn, ReplicationNameFor(cfg)));
  reverse->slot = slot.exists;
  reverse->active = slot.active;
  if (slot.exists) {
    reverse->confirmed_lsn = pgchange::FormatLsn(slot.confirmed_flush);
    SQLIFT_ASSIGN_OR_RETURN(pgchange::Lsn now, CurrentWalLsn(*conn));
    reverse->lag_bytes =
        now > slot.confirmed_flush ? static_cast<int64_t>(now - slot.confirmed_flush) : 0;
  }
  return Status::OK();
}

}  // namespace

void GatherRoutes(const Config& cfg, std::vector<TenantRouteStatus>* routes, ReverseStatus* reverse,
                  std::vector<std::string>* errors) {
  if (!cfg.source_sqlite.empty()) {
    Status st = ReadSqlite(cfg, routes, reverse);
    if (!st.ok()) errors->push_back("routes: " + st.ToString());
  }
  if (!cfg.target_pg.empty() && !cfg.source_id.empty()) {
    Status st = ReadPg(cfg, routes, reverse);
    if (!st.ok()) errors->push_back("routes on postgres: " + st.ToString());
  }
}

void AddRoutesStatusJson(const std::vector<TenantRouteStatus>& routes, const ReverseStatus& reverse,
                         Json* status) {
  Json list = Json::array();
  for (const TenantRouteStatus& r : routes) {
    list.push_back({{"tenant", r.tenant},
                    {"side", r.side},
                    {"epoch", r.epoch},
                    {"fenced", r.fenced},
                    {"postgres_side", JsonOrNull(r.pg_side)},
                    {"postgres_epoch", JsonOrNull(r.pg_epoch)},
                    {"postgres_fenced", JsonOrNull(r.pg_fenced)}});
  }
  (*status)["routes"] = std::move(list);
  (*status)["reverse"] = {{"slot", reverse.slot},
                          {"active", reverse.active},
                          {"confirmed_lsn", reverse.confirmed_lsn},
                          {"lag_bytes", JsonOrNull(reverse.lag_bytes)},
                          {"sqlite_lsn", reverse.sqlite_lsn}};
}

std::string RoutesStatusText(const std::vector<TenantRouteStatus>& routes,
                             const ReverseStatus& reverse) {
  std::string out = fmt::format("  routes         {}\n",
                                routes.empty() ? "none set: everything is on SQLite (epoch 0)"
                                               : "(SQLite decides; PostgreSQL follows)");
  for (const TenantRouteStatus& r : routes) {
    out += fmt::format("    {:<16} {:<8} epoch {}{}", r.tenant, r.side, r.epoch,
                       r.fenced ? " FENCED (a switch is in progress)" : "");
    if (r.pg_side) {
      out += fmt::format("   postgres: {} epoch {}{}", *r.pg_side, *r.pg_epoch,
                         *r.pg_fenced ? " fenced" : "");
    }
    out += "\n";
  }
  if (!reverse.slot) return out + "  reverse        no replication slot\n";
  return out + fmt::format(
                   "  reverse        slot {}, confirmed {} ({} bytes of WAL since), SQLite "
                   "at {}\n",
                   reverse.active ? "streaming" : "NOT streaming", reverse.confirmed_lsn,
                   reverse.lag_bytes ? std::to_string(*reverse.lag_bytes) : "?",
                   reverse.sqlite_lsn.empty() ? "-" : reverse.sqlite_lsn);
}

}  // namespace sqlift
