#include "capture/reverse_route.h"

#include <fmt/format.h>

namespace sqlift {

std::string_view SideName(Route::Side side) {
  return side == Route::Side::kPostgres ? "postgres" : "sqlite";
}

Route LookupRoute(const RouteTable& rows, std::string_view tenant) {
  auto it = rows.find(tenant);
  if (it != rows.end()) return it->second;
  it = rows.find(kWholeDatabaseTenant);
  if (it != rows.end()) return it->second;
  return Route{};
}

Result<RouteTable> ReadRoutes(SqliteDb& db) {
  Result<SqliteStatement> stmt =
      db.Prepare("SELECT tenant, side, epoch, fenced FROM main._sqlift_route");
  if (!stmt.ok()) {
    return Status::FailedPrecondition(fmt::format(
        "read routes from {}: {} (run `sqlift init` first)", db.path(), stmt.status().message()));
  }
  RouteTable rows;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    std::string tenant(stmt->ColumnText(0));
    std::string_view side = stmt->ColumnText(1);
    Route route;
    if (side == "postgres") {
      route.side = Route::Side::kPostgres;
    } else if (side != "sqlite") {
      return Status::Corruption(
          fmt::format("read routes from {}: tenant '{}' has side '{}' "
                      "(expected 'sqlite' or 'postgres')",
                      db.path(), tenant, side));
    }
    route.epoch = stmt->ColumnInt64(2);
    route.fenced = stmt->ColumnInt64(3) != 0;
    rows.emplace(std::move(tenant), route);
  }
  return rows;
}

}  // namespace sqlift
