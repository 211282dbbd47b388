#include "apply/pg_sink/pg_route.h"

#include <charconv>
#include <limits>

namespace sqlift {
namespace {

constexpr uint64_t kMaxBigint = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Removes every trigger whose function is one of sqlift's fence functions, then the functions.
// One statement, so one transaction; IF EXISTS keeps it quiet without schema sqlift.
constexpr char kDropFencesSql[] = R"sql(
DO $do$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT t.tgname, t.tgrelid::pg_catalog.regclass AS rel
             FROM pg_catalog.pg_trigger t
             JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'sqlift' AND p.proname IN ('fence', 'fence_truncate') LOOP
    EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
  END LOOP;
  DROP FUNCTION IF EXISTS sqlift.fence();
  DROP FUNCTION IF EXISTS sqlift.fence_truncate();
  DROP FUNCTION IF EXISTS sqlift.fence_no_tenant(jsonb, text, text);
  DROP FUNCTION IF EXISTS sqlift.fence_check(text, text);
  DROP FUNCTION IF EXISTS sqlift.install_fence(text, text, text);
  DROP FUNCTION IF EXISTS sqlift.refresh_fences(boolean);
  DROP FUNCTION IF EXISTS sqlift.fence_token(text);
  DROP SEQUENCE IF EXISTS sqlift.fence_key;
END
$do$
)sql";

std::string Describe(const PgRoute& r) {
  return "route of tenant \"" + r.tenant + "\" (" + RouteSideName(r.side) +
         (r.fenced ? ", fenced" : "") + ", epoch " + std::to_string(r.epoch) + ")";
}

Status Validate(const PgRoute& r) {
  if (r.tenant.empty()) return Status::InvalidArgument("the tenant is empty (use \"*\")");
  if (r.epoch > kMaxBigint || r.seq > kMaxBigint) {
    return Status::InvalidArgument("epoch or seq beyond the range of a bigint");
  }
  return Status::OK();
}

Result<uint64_t> ParseUnsigned(std::string_view text, const char* what) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::Corruption(std::string("unreadable ") + what + " \"" + std::string(text) + "\"");
  }
  return v;
}

Result<PgRoute> RouteFromRow(const PgResult& r, int i) {
  PgRoute route;
  route.tenant = std::string(r.get(i, 0));
  std::string_view side = r.get(i, 1);
  if (side == "sqlite") {
    route.side = RouteSide::kSqlite;
  } else if (side == "postgres") {
    route.side = RouteSide::kPostgres;
  } else {
    return Status::Corruption("unknown side \"" + std::string(side) + "\"");
  }
  SQLIFT_ASSIGN_OR_RETURN(route.epoch, ParseUnsigned(r.get(i, 2), "epoch"));
  route.fenced = r.get(i, 3) == "t";
  route.source = std::string(r.get(i, 4));
  if (!r.is_null(i, 5)) {
    SQLIFT_ASSIGN_OR_RETURN(route.seq, ParseUnsigned(r.get(i, 5), "seq"));
  }
  return route;
}

// The row's values as bound parameters $1..$6 (tenant, side, epoch, fenced, source, seq).
std::vector<std::optional<std::string>> RouteParams(const PgRoute& r) {
  std::optional<std::string> source, seq;
  if (!r.source.empty()) source = r.source;
  if (r.seq != 0) seq = std::to_string(r.seq);
  return {r.tenant, RouteSideName(r.side), std::to_string(r.epoch), r.fenced ? "t" : "f", source,
          seq};
}

// Writes the row, the tenant's lock being held. A new tenant row also touches the "*" row
// (a no-op update), so that a REPEATABLE READ writer whose snapshot cannot see the new row,
// and reads "*" in its place, fails instead of using "*" (pg_route_sql.cc).
Status UpsertRoute(PgConnection& conn, const PgRoute& route) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult cur,
      conn.Query("SELECT epoch FROM sqlift.route WHERE tenant = $1 FOR UPDATE", {route.tenant}));
  if (cur.rows() == 0) {
    SQLIFT_RETURN_IF_ERROR(
        conn.Query("INSERT INTO sqlift.route (tenant, side, epoch, fenced, source, seq)"
                   " VALUES ($1, $2, $3::bigint, $4::boolean, $5, $6::bigint)",
                   RouteParams(route))
            .status());
    if (route.tenant == kAllTenants) return Status::OK();
    return conn
        .Query("UPDATE sqlift.route SET updated_at = updated_at WHERE tenant = $1", {kAllTenants})
        .status();
  }
  SQLIFT_ASSIGN_OR_RETURN(uint64_t stored, ParseUnsigned(cur.get(0, 0), "stored epoch"));
  if (stored > route.epoch) {
    return Status::FailedPrecondition("the stored route is at epoch " + std::to_string(stored) +
                                      ", newer: a stale route event?");
  }
  return conn
      .Query(
          "UPDATE sqlift.route SET side = $2, epoch = $3::bigint, fenced = $4::boolean,"
          " source = $5, seq = $6::bigint, updated_at = now() WHERE tenant = $1",
          RouteParams(route))
      .status();
}

}  // namespace

const char* RouteSideName(RouteSide side) {
  return side == RouteSide::kPostgres ? "postgres" : "sqlite";
}

Status EnsureRouteSchema(PgConnection& conn) {
  return conn.Exec(RouteSchemaSql()).With("create the sqlift route schema and fence functions");
}

Status MarkApplierSession(PgConnection& conn) {
  const std::string what = "mark " + conn.Describe() + " as the applier session";
  if (PQtransactionStatus(conn.raw()) != PQTRANS_IDLE) {
    return Status::FailedPrecondition("inside a transaction, whose rollback would undo the SET")
        .With(what);
  }
  // SET ROLE to the session's own login: current_user and every privilege stay as they were.
  return conn.Exec("SELECT pg_catalog.set_config('role', session_user, false)").With(what);
}

Status InstallFence(PgConnection& conn, const std::string& schema, const std::string& table,
                    const std::string& tenant_column) {
  std::string what = "install the sqlift fence on " + QuoteQualified(schema, table);
  if (!tenant_column.empty()) what += " (tenant column " + QuoteIdentifier(tenant_column) + ")";
  return conn.Query("SELECT sqlift.install_fence($1, $2, $3)", {schema, table, tenant_column})
      .status()
      .With(what);
}

Status RefreshFences(PgConnection& conn) {
  Result<PgResult> r = conn.Query(
      "SELECT session_user, pg_catalog.array_to_string(sqlift.refresh_fences(false), ', ')");
  if (!r.ok()) return r.status().With("refresh the sqlift fences");
  const std::string login(r->get(0, 0));
  const std::string others(r->get(0, 1));
  if (others.empty()) return Status::OK();
  return Status::FailedPrecondition(
      "the sqlift fences of " + others + " let through another role than this applier's login " +
      QuoteIdentifier(login) +
      ": every applier writing one PostgreSQL database must log in as the same role. If that "
      "role runs no applier here any more, connect as " +
      QuoteIdentifier(login) + " and take the fences over: SELECT sqlift.refresh_fences(true);");
}

Status DropFences(PgConnection& conn) {
  return conn.Exec(kDropFencesSql).With("drop the sqlift fences");
}

Status ApplyRoute(PgConnection& conn, const PgRoute& route) {
  const std::string what = "apply the " + Describe(route);
  SQLIFT_RETURN_IF_ERROR(Validate(route).With(what));
  if (PQtransactionStatus(conn.raw()) != PQTRANS_INTRANS) {
    return Status::FailedPrecondition(
               "not inside a transaction: the fence lock must be held until the route commits")
        .With(what);
  }
  // Waits for every transaction writing this tenant's rows; held to our commit.
  Result<PgResult> lock =
      conn.Query("SELECT pg_catalog.pg_advisory_xact_lock($1::integer, pg_catalog.hashtext($2))",
                 {std::to_string(kRouteLockClass), route.tenant});
  if (!lock.ok()) return lock.status().With(what + ": take the tenant's fence lock");
  return UpsertRoute(conn, route).With(what);
}

Result<std::vector<PgRoute>> ReadRoutes(PgConnection& conn) {
  Result<PgResult> r = conn.Query(
      "SELECT tenant, side, epoch, fenced, source, seq FROM sqlift.route ORDER BY tenant");
  if (!r.ok()) return r.status().With("read sqlift.route");
  std::vector<PgRoute> out;
  for (int i = 0; i < r->rows(); ++i) {
    Result<PgRoute> route = RouteFromRow(*r, i);
    if (!route.ok()) return route.status().With("read sqlift.route, row " + std::to_string(i));
    out.push_back(std::move(route).value());
  }
  return out;
}

PgRoute LookupRoute(const std::vector<PgRoute>& routes, const std::string& tenant) {
  const PgRoute* all = nullptr;
  for (const PgRoute& r : routes) {
    if (r.tenant == tenant) return r;
    if (r.tenant == kAllTenants) all = &r;
  }
  if (all != nullptr) return *all;
  PgRoute none;
  none.tenant = tenant;
  return none;
}

}  // namespace sqlift
