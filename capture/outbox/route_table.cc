#include "capture/outbox/route_table.h"

#include <fmt/format.h>

#include "capture/outbox/outbox.h"
#include "common/sqlite/sqlite_status.h"

namespace sqlift {
namespace {

std::string Text(sqlite3_stmt* stmt, int col) {
  const unsigned char* p = sqlite3_column_text(stmt, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, col)))
           : std::string();
}

// Runs `sql` (no parameters), calling `row` for each result row.
template <typename Fn>
Status ForEachRow(sqlite3* db, const char* sql, const char* what, Fn row) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    row(stmt);
    rc = SQLITE_OK;
  }
  std::string msg = fmt::format("{}: {}", what, sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  return rc == SQLITE_DONE ? Status::OK() : SqliteStatus(rc, msg);
}

}  // namespace

Result<std::vector<RouteRow>> ReadRoutes(sqlite3* db) {
  std::vector<RouteRow> out;
  SQLIFT_RETURN_IF_ERROR(ForEachRow(
      db, "SELECT tenant, side, epoch, fenced, updated_at FROM main._sqlift_route ORDER BY tenant",
      "read _sqlift_route", [&](sqlite3_stmt* s) {
        out.push_back({Text(s, 0), Text(s, 1), sqlite3_column_int64(s, 2),
                       sqlite3_column_int64(s, 3) != 0, sqlite3_column_int64(s, 4)});
      }));
  return out;
}

RouteRow LookupRoute(const std::vector<RouteRow>& routes, std::string_view tenant) {
  const RouteRow* whole = nullptr;
  for (const RouteRow& r : routes) {
    if (r.tenant == tenant) return r;
    if (r.tenant == kWholeDatabase) whole = &r;
  }
  RouteRow out = whole ? *whole : RouteRow{};
  out.tenant = std::string(tenant);
  return out;
}

Result<TenantScheme> ReadTenantScheme(sqlite3* db) {
  TenantScheme scheme;
  SQLIFT_RETURN_IF_ERROR(ForEachRow(
      db, "SELECT key, value FROM main._sqlift_state WHERE key IN ('tenant_column', 'tenant')",
      "read the tenant scheme from _sqlift_state", [&](sqlite3_stmt* s) {
        (Text(s, 0) == outbox::kStateTenantColumn ? scheme.column : scheme.constant) = Text(s, 1);
      }));
  return scheme;
}

std::string DescribeTenant(std::string_view tenant) {
  if (tenant == kWholeDatabase) return "the whole database";
  return fmt::format("tenant \"{}\"", tenant);
}

}  // namespace sqlift
