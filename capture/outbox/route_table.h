// The SQLite side's route table, defined once (docs/design.md, tenants, invariant 7):
//
//   _sqlift_route(tenant TEXT PRIMARY KEY,      -- a tenant column value, or '*': everything
//                 side TEXT NOT NULL,           -- 'sqlite' | 'postgres': who takes writes
//                 epoch INTEGER NOT NULL,       -- increases at every switch
//                 fenced INTEGER NOT NULL,      -- 1 while a switch is in progress
//                 updated_at INTEGER NOT NULL)  -- unix microseconds
//
// The route of a tenant is its own row, else the row of '*', else "sqlite, epoch 0, not
// fenced" (a database nobody has moved). The SQLite file is where writers look the route up
// (Recorder::RouteFor, sqlift_route()); `sqlift cutover` and `fallback` change it together with
// an outbox event (capture/route_writer.h), so the agent's state and PostgreSQL follow in
// commit order.
//
// Which tenant a row belongs to: _sqlift_state keys "tenant_column" (a column present in every
// tenant table; tables without it belong to '*') or "tenant" (database-per-tenant: every row of
// the file belongs to that tenant), written by `sqlift init` from [source].
//
// Thread safety: functions over the connection they are given.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"

namespace sqlift {

inline constexpr std::string_view kRouteTable = "_sqlift_route";
inline constexpr std::string_view kWholeDatabase = "*";
inline constexpr std::string_view kSideSqlite = "sqlite";
inline constexpr std::string_view kSidePostgres = "postgres";

struct RouteRow {
  std::string tenant = std::string(kWholeDatabase);
  std::string side = std::string(kSideSqlite);
  int64_t epoch = 0;
  bool fenced = false;
  int64_t updated_at_us = 0;

  bool on_postgres() const { return side == kSidePostgres; }
  // Whether a SQLite transaction may write this tenant's rows through a recorder.
  bool sqlite_writable() const { return !fenced && side == kSideSqlite; }
};

// Every row of _sqlift_route, by tenant.
[[nodiscard]] Result<std::vector<RouteRow>> ReadRoutes(sqlite3* db);

// The route that applies to `tenant` (see the file comment).
RouteRow LookupRoute(const std::vector<RouteRow>& routes, std::string_view tenant);

// How rows map to tenants in this database (_sqlift_state "tenant_column" / "tenant").
struct TenantScheme {
  std::string column;    // non-empty: the tenant column
  std::string constant;  // non-empty: database-per-tenant, every row's tenant
};
[[nodiscard]] Result<TenantScheme> ReadTenantScheme(sqlite3* db);

// "tenant \"acme\"" or "the whole database", for messages.
std::string DescribeTenant(std::string_view tenant);

}  // namespace sqlift
