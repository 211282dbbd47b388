// Routes and fences on PostgreSQL (design invariant 7, section 8).
//
// A route says which side takes the writes of one tenant ("*": the whole database, and every
// tenant without a route of its own): SQLite or PostgreSQL, at an epoch that grows at every
// switch, `fenced` while a switch is in progress. The routes live in sqlift.route; fence
// triggers on every migrated table hold ordinary sessions to them:
//
//   route of the row's tenant            write by an ordinary session
//   fenced (either side)                 refused, SQLSTATE SL001 (kFencedSqlState): retry
//   none, or side sqlite                 refused, SQLSTATE SL002 (kRoutedElsewhereSqlState)
//   side postgres, not fenced            allowed
//   (the tenant column is NULL)          refused, SQLSTATE SL003 (kNoTenantSqlState)
//
// A fenced route answers "being switched, retry" whatever its side: between a cutover's fence
// and the flip reaching PostgreSQL, SQLite already says postgres, and "write through SQLite"
// would send writers back there.
//
// The applier is recognised by its role: a session the applier's login marked with
// MarkApplierSession (SET ROLE to itself) passes, and pays almost nothing: the row trigger's
// WHEN clause compares the session's `role` setting with the applier's login (baked into the
// trigger when installed) and leaves it out before any function is called. PostgreSQL lets a
// session SET ROLE only to a role its login is a member of, so an application that logs in as
// another role, not a member of the applier's, cannot pass, whatever it sets: the fence is a
// privilege boundary. Not against a session of the applier's own login (give the applier a
// login of its own) nor against a superuser (who can do anything). The `role` setting, unlike
// current_user, stays the session's inside foreign-key actions and SECURITY DEFINER functions:
// a cascade the applier's delete causes is the applier's, one an application's causes is not.
// Nothing else a session can set lets it through (pg_route_sql.cc). The triggers are ENABLE
// ALWAYS, so session_replication_role = replica does not skip them.
//
// A row's tenant is its tenant column's value in JSON text form (the text of a text column,
// the digits of an integer column), "*" for a table installed without a tenant column (a
// tenant column holding "*" also follows the "*" route). An UPDATE that changes the tenant
// needs both routes to allow it. TRUNCATE of a table without a tenant column follows "*"; of a
// tenant table, "*" and every tenant route must allow it.
//
// Tight fences. The trigger takes two advisory locks shared, to the end of the writer's
// transaction: (kRouteLockClass, hashtext(tenant)) and (kRouteLockClass, hashtext('*')).
// ApplyRoute takes the tenant's key exclusively, so it waits for every transaction writing
// that tenant's rows (a "*" route waits for all writers); writers that come later wait for it
// and then read the new route. So once ApplyRoute's transaction has committed, no write
// allowed by the old route is still uncommitted. Writers under REPEATABLE READ or SERIALIZABLE
// whose snapshot is older than the route change get a 40001 serialization failure instead of
// the stale route (pg_route_sql.cc). Two tenants whose hashes collide merely share a lock.
// Since a writer holds its tenant's locks to its end, the route cannot change under it: the
// trigger checks a tenant once per transaction (the transaction-local setting
// sqlift.fence_allowed remembers the last tenant allowed, as a token only the fence functions
// can compute) and the next rows skip the check.
//
// SQLSTATEs: PgConnection reports class SL as kFailedPrecondition; test the SQLSTATE
// (SqlStateOf(status) == kFencedSqlState) to decide on a retry.
//
// Thread safety: functions over the connection they are given (one thread at a time);
// LookupRoute and RouteSideName are pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/base/status.h"
#include "common/pg/pg_connection.h"

namespace sqlift {

inline constexpr char kFencedSqlState[] = "SL001";           // retry: a switch is in progress
inline constexpr char kRoutedElsewhereSqlState[] = "SL002";  // this tenant writes on SQLite
inline constexpr char kNoTenantSqlState[] = "SL003";         // the row's tenant column is NULL

// The class id (first key) of every sqlift route advisory lock: "SQLR" in ASCII. The object id
// (second key) is hashtext(tenant). Visible in pg_locks as classid 1397836882.
inline constexpr int32_t kRouteLockClass = 0x53514C52;

// The tenant of the whole database, and of the rows of a table without a tenant column.
inline constexpr char kAllTenants[] = "*";

enum class RouteSide { kSqlite, kPostgres };

// "sqlite" or "postgres", as sqlift.route.side stores it.
const char* RouteSideName(RouteSide side);

struct PgRoute {
  std::string tenant;  // a tenant value, or kAllTenants
  RouteSide side = RouteSide::kSqlite;
  uint64_t epoch = 0;  // at most INT64_MAX (a bigint)
  bool fenced = false;
  std::string source;  // the source id whose log carried the route event ("" when none)
  uint64_t seq = 0;    // the log seq that set it (0 when none)
};

// Creates, idempotently, schema sqlift when missing, the table
//   sqlift.route(tenant text primary key, side text not null check in ('sqlite','postgres'),
//                epoch bigint not null, fenced boolean not null, source text, seq bigint,
//                updated_at timestamptz not null default now())
// and the fence functions (CREATE OR REPLACE), in one transaction. Run it as the role that
// will own the functions: the triggers read sqlift.route with that role's rights. (Two first
// runs racing on two connections can fail one; running it again succeeds.)
[[nodiscard]] Status EnsureRouteSchema(PgConnection& conn);

// The statements EnsureRouteSchema runs, for printing (`sqlift init` dry runs).
std::string RouteSchemaSql();

// Marks this session as the applier: SET ROLE to its own login (session_user), which the
// fences that login installed let through. current_user, and so every privilege, stays as it
// was. Outside a transaction only: a SET inside one would be undone by its rollback. RESET
// ROLE, SET ROLE NONE or DISCARD ALL undo it (and the applier is refused again, the safe side).
[[nodiscard]] Status MarkApplierSession(PgConnection& conn);

// Installs, replacing any earlier one, in one transaction, on schema.table: the row trigger
// sqlift_fence (BEFORE INSERT OR UPDATE OR DELETE, FOR EACH ROW, WHEN the session's role is not
// conn's login) and the statement trigger sqlift_fence_truncate (BEFORE TRUNCATE); both let
// through the sessions of conn's login that MarkApplierSession marked. An empty tenant_column:
// the table has none, and its rows are the tenant "*". The caller must own the table. NotFound
// when the table, or the tenant column, does not exist. Needs EnsureRouteSchema first.
[[nodiscard]] Status InstallFence(PgConnection& conn, const std::string& schema,
                                  const std::string& table, const std::string& tenant_column);

// At the applier's start, after EnsureRouteSchema: re-installs for conn's login every fence
// that names no applier role (installed by an older sqlift, whose triggers let through a
// setting any session could set) or a role that no longer exists. FailedPrecondition when some
// fence lets through another existing role (appliers of one database log in as one role): the
// message names the tables and the statement that takes them over.
[[nodiscard]] Status RefreshFences(PgConnection& conn);

// Removes every sqlift fence trigger, on every table, and the fence functions (for `sqlift
// finish`), in one transaction; sqlift.route stays. Idempotent, also without schema sqlift.
[[nodiscard]] Status DropFences(PgConnection& conn);

// Sets the route of route.tenant, inside the caller's transaction (FailedPrecondition outside
// one: the lock must be held to the commit that publishes the route). Takes the tenant's
// advisory lock exclusively first, so it waits for every in-flight writer of that tenant's
// rows (see "Tight fences"); then upserts the row. An epoch lower than the stored one is
// refused (FailedPrecondition, a stale route event); an equal one is applied (a switch moves
// from fenced to unfenced at one epoch, and a replayed event changes nothing).
[[nodiscard]] Status ApplyRoute(PgConnection& conn, const PgRoute& route);

// Every stored route, by tenant.
[[nodiscard]] Result<std::vector<PgRoute>> ReadRoutes(PgConnection& conn);

// The route that applies to `tenant`: its own row, else the "*" row, else sqlite at epoch 0,
// not fenced (with tenant set to `tenant`, or "*" when the "*" row applies).
PgRoute LookupRoute(const std::vector<PgRoute>& routes, const std::string& tenant);

}  // namespace sqlift
