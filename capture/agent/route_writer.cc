#include "capture/agent/route_writer.h"

#include <fmt/format.h>

#include <chrono>

#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"
#include "common/base/clock.h"

namespace sqlift {
namespace {}  // namespace

wire::Route ToWire(const RouteRow& route) {
  wire::Route w;
  w.set_tenant(route.tenant);
  w.set_side(route.on_postgres() ? wire::Route::POSTGRES : wire::Route::SQLITE);
  w.set_epoch(static_cast<uint64_t>(route.epoch));
  w.set_fenced(route.fenced);
  w.set_updated_at_us(route.updated_at_us);
  return w;
}

Result<RouteRow> FromWire(const wire::Route& w) {
  if (w.tenant().empty()) return Status::Corruption("route without a tenant");
  if (w.side() != wire::Route::SQLITE && w.side() != wire::Route::POSTGRES) {
    return Status::Corruption(
        fmt::format("route of {} without a side", DescribeTenant(w.tenant())));
  }
  RouteRow r;
  r.tenant = w.tenant();
  r.side = std::string(w.side() == wire::Route::POSTGRES ? kSidePostgres : kSideSqlite);
  r.epoch = static_cast<int64_t>(w.epoch());
  r.fenced = w.fenced();
  r.updated_at_us = w.updated_at_us();
  return r;
}

Result<uint64_t> WriteRoute(SqliteDb& db, RouteRow route) {
  if (route.tenant.empty()) return Status::InvalidArgument("write route: empty tenant");
  route.updated_at_us = NowMicros();
  const std::string what = fmt::format("write the route of {}", DescribeTenant(route.tenant));
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement upsert,
      db.Prepare("INSERT INTO main._sqlift_route (tenant, side, epoch, fenced, updated_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant) DO UPDATE SET "
                 "side = excluded.side, epoch = excluded.epoch, fenced = excluded.fenced, "
                 "updated_at = excluded.updated_at"));
  SQLIFT_RETURN_IF_ERROR(upsert.BindText(1, route.tenant));
  SQLIFT_RETURN_IF_ERROR(upsert.BindText(2, route.side));
  SQLIFT_RETURN_IF_ERROR(upsert.BindInt64(3, route.epoch));
  SQLIFT_RETURN_IF_ERROR(upsert.BindInt64(4, route.fenced ? 1 : 0));
  SQLIFT_RETURN_IF_ERROR(upsert.BindInt64(5, route.updated_at_us));
  SQLIFT_RETURN_IF_ERROR(upsert.Run().With(what));
  std::string payload;
  if (!ToWire(route).SerializeToString(&payload)) return Status::Internal(what + ": serialize");
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement event,
      db.Prepare(
          "INSERT INTO main._sqlift_outbox (committed_at, kind, payload) VALUES (?1, ?2, ?3)"));
  SQLIFT_RETURN_IF_ERROR(event.BindInt64(1, route.updated_at_us));
  SQLIFT_RETURN_IF_ERROR(event.BindInt64(2, static_cast<int64_t>(outbox::OutboxKind::kRoute)));
  SQLIFT_RETURN_IF_ERROR(event.BindBlob(3, payload));
  SQLIFT_RETURN_IF_ERROR(event.Run().With(what));
  const auto seq = static_cast<uint64_t>(sqlite3_last_insert_rowid(db.handle()));
  // The guard triggers' messages name each route's epoch: rewritten in the same transaction.
  SQLIFT_RETURN_IF_ERROR(RefreshGuardMessages(db).With(what));
  return seq;
}

Result<uint64_t> CommitRoute(SqliteDb& db, const RouteRow& route) {
  SQLIFT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Result<uint64_t> seq = WriteRoute(db, route);
  Status st = seq.ok() ? db.Exec("COMMIT") : seq.status();
  if (!st.ok()) {
    (void)db.Exec("ROLLBACK");
    return st;
  }
  return seq;
}

}  // namespace sqlift
