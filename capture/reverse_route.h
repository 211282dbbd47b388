// The SQLite side's route table, as the reverse applier reads it: which side takes a tenant's
// writes, with the epoch of the last switch and whether writes are fenced.
//
//   _sqlift_route(tenant TEXT PRIMARY KEY,      -- a tenant, or '*' for the whole database
//                 side TEXT NOT NULL,           -- 'sqlite' or 'postgres'
//                 epoch INTEGER NOT NULL,       -- increases at every switch
//                 fenced INTEGER NOT NULL DEFAULT 0,
//                 updated_at INTEGER NOT NULL)  -- unix microseconds
//
// `sqlift init` creates it (kRouteTableDdl is its text); `sqlift cutover` and `fallback` write it.
// Thread safety: plain values, and a function that uses the connection it is given.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "capture/sqlite_db.h"
#include "common/result.h"

namespace sqlift {

inline constexpr std::string_view kRouteTable = "_sqlift_route";
inline constexpr std::string_view kRouteTableDdl =
    "CREATE TABLE IF NOT EXISTS _sqlift_route (tenant TEXT PRIMARY KEY, side TEXT NOT NULL, "
    "epoch INTEGER NOT NULL, fenced INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)";
// The tenant that stands for the whole database.
inline constexpr std::string_view kWholeDatabaseTenant = "*";

struct Route {
  enum class Side { kSqlite, kPostgres };
  Side side = Side::kSqlite;
  int64_t epoch = 0;
  bool fenced = false;
};

// "sqlite" / "postgres".
std::string_view SideName(Route::Side side);

// Every row of the route table, by tenant.
using RouteTable = std::map<std::string, Route, std::less<>>;

// The route of `tenant`: its own row if present, else the row of '*', else side sqlite,
// epoch 0, not fenced.
Route LookupRoute(const RouteTable& rows, std::string_view tenant);

// Reads the whole route table; FailedPrecondition naming `sqlift init` when it does not
// exist, Corruption for a side other than 'sqlite' or 'postgres'.
[[nodiscard]] Result<RouteTable> ReadRoutes(SqliteDb& db);

}  // namespace sqlift
