#include "capture/outbox/route_fence.h"

#include <fmt/format.h>

#include <vector>

#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_status.h"

namespace sqlift {
namespace {

constexpr const char* kRoutesSql =
    "SELECT tenant, side, epoch, fenced, updated_at FROM main._sqlift_route";

std::string ValueText(sqlite3_value* v) {
  if (v == nullptr || sqlite3_value_type(v) == SQLITE_NULL) return std::string(kWholeDatabase);
  const unsigned char* p = sqlite3_value_text(v);
  return std::string(reinterpret_cast<const char*>(p), sqlite3_value_bytes(v));
}

bool AnyBlocked(const std::vector<RouteRow>& routes) {
  for (const RouteRow& r : routes) {
    if (!r.sqlite_writable()) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<RouteFence>> RouteFence::Load(sqlite3* db, bool keep_prepared) {
  SQLIFT_ASSIGN_OR_RETURN(TenantScheme scheme, ReadTenantScheme(db));
  return std::unique_ptr<RouteFence>(new RouteFence(db, std::move(scheme), keep_prepared));
}

RouteFence::~RouteFence() {
  sqlite3_finalize(routes_stmt_);
}

Result<std::vector<RouteRow>> RouteFence::Routes() {
  if (!keep_prepared_) return ReadRoutes(db_);
  if (routes_stmt_ == nullptr) {
    int rc =
        sqlite3_prepare_v3(db_, kRoutesSql, -1, SQLITE_PREPARE_PERSISTENT, &routes_stmt_, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteStatus(rc, fmt::format("prepare the route read: {}", sqlite3_errmsg(db_)));
    }
  }
  std::vector<RouteRow> out;
  int rc;
  while ((rc = sqlite3_step(routes_stmt_)) == SQLITE_ROW) {
    sqlite3_stmt* s = routes_stmt_;
    auto text = [s](int c) {
      const unsigned char* p = sqlite3_column_text(s, c);
      return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s, c))
               : std::string();
    };
    out.push_back({text(0), text(1), sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3) != 0,
                   sqlite3_column_int64(s, 4)});
  }
  std::string msg = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
  sqlite3_reset(routes_stmt_);
  if (rc != SQLITE_DONE) return SqliteStatus(rc, "read _sqlift_route: " + msg);
  return out;
}

Result<RouteRow> RouteFence::RouteFor(std::string_view tenant) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, Routes());
  return LookupRoute(routes, tenant);
}

Status RouteFence::CheckTenant(const std::vector<RouteRow>& routes, std::string_view tenant,
                               const char* table) {
  RouteRow r = LookupRoute(routes, tenant);
  if (r.sqlite_writable()) return Status::OK();
  if (r.fenced) {
    return Status::Unavailable(fmt::format(
        "sqlift: {} is being switched (route epoch {}): this transaction writes table {} and "
        "was not committed; retry shortly",
        DescribeTenant(tenant), r.epoch, table));
  }
  return Status::FailedPrecondition(fmt::format(
      "sqlift: {} is routed to postgres (route epoch {}): this transaction writes table {} "
      "and was not committed; write it on PostgreSQL",
      DescribeTenant(tenant), r.epoch, table));
}

Result<const RouteFence::TableInfo*> RouteFence::Info(const char* table, int ncol) {
  std::string key = fmt::format("{}/{}", table, ncol);
  auto it = tables_.find(key);
  if (it != tables_.end()) return &it->second;
  TableInfo info;
  info.names.resize(static_cast<size_t>(ncol));
  std::string sql = "PRAGMA main.table_info(" + QuoteSqliteIdentifier(table) + ")";
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    int cid = sqlite3_column_int(stmt, 0);
    const unsigned char* p = sqlite3_column_text(stmt, 1);
    std::string name = p ? reinterpret_cast<const char*>(p) : "";
    if (cid >= 0 && cid < ncol) info.names[cid] = name;
    if (sqlite3_stricmp(name.c_str(), scheme_.column.c_str()) == 0) info.tenant_index = cid;
    rc = SQLITE_OK;
  }
  std::string msg = sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return SqliteStatus(rc, fmt::format("read columns of {}: {}", table, msg));
  return &(tables_[key] = std::move(info));
}

Result<std::string> RouteFence::LookupTenant(sqlite3_changeset_iter* it, const char* table,
                                             const TableInfo& info) {
  unsigned char* pk = nullptr;
  int n = 0;
  int rc = sqlite3changeset_pk(it, &pk, &n);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "read the changeset's primary key");
  std::string sql = fmt::format("SELECT {} FROM main.{} WHERE ",
                                QuoteSqliteIdentifier(info.names[info.tenant_index]),
                                QuoteSqliteIdentifier(table));
  std::vector<sqlite3_value*> keys;
  for (int i = 0; i < n && i < static_cast<int>(info.names.size()); ++i) {
    if (!pk[i]) continue;
    sqlite3_value* v = nullptr;
    rc = sqlite3changeset_old(it, i, &v);
    if (rc != SQLITE_OK) return SqliteStatus(rc, "read the changeset's old key");
    sql += fmt::format("{}{} IS ?{}", keys.empty() ? "" : " AND ",
                       QuoteSqliteIdentifier(info.names[i]), keys.size() + 1);
    keys.push_back(v);
  }
  sqlite3_stmt* stmt = nullptr;
  rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  for (size_t i = 0; rc == SQLITE_OK && i < keys.size(); ++i)
    rc = sqlite3_bind_value(stmt, static_cast<int>(i + 1), keys[i]);
  std::string tenant(kWholeDatabase);
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    tenant = ValueText(sqlite3_column_value(stmt, 0));
    rc = SQLITE_DONE;
  }
  std::string msg = sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    return SqliteStatus(rc, fmt::format("find the tenant of an updated row of {}: {}", table, msg));
  }
  return tenant;
}

// The tenants one change touches (old and new, when an UPDATE moves the row), each checked.
Status RouteFence::CheckChange(const std::vector<RouteRow>& routes, sqlite3_changeset_iter* it) {
  const char* table = nullptr;
  int ncol = 0, op = 0, indirect = 0;
  sqlite3changeset_op(it, &table, &ncol, &op, &indirect);
  if (scheme_.column.empty() || !scheme_.constant.empty()) {
    return CheckTenant(routes, scheme_.constant.empty() ? kWholeDatabase : scheme_.constant, table);
  }
  SQLIFT_ASSIGN_OR_RETURN(const TableInfo* info, Info(table, ncol));
  const int col = info->tenant_index;
  if (col < 0) return CheckTenant(routes, kWholeDatabase, table);
  sqlite3_value* old_v = nullptr;
  sqlite3_value* new_v = nullptr;
  if (op != SQLITE_INSERT) sqlite3changeset_old(it, col, &old_v);
  if (op != SQLITE_DELETE) sqlite3changeset_new(it, col, &new_v);
  if (op == SQLITE_INSERT || new_v != nullptr) {
    SQLIFT_RETURN_IF_ERROR(CheckTenant(routes, ValueText(new_v), table));
  }
  if (op == SQLITE_INSERT) return Status::OK();
  if (old_v != nullptr || op == SQLITE_DELETE) return CheckTenant(routes, ValueText(old_v), table);
  // An UPDATE that left the tenant column alone: the row's tenant is its current value.
  SQLIFT_ASSIGN_OR_RETURN(std::string tenant, LookupTenant(it, table, *info));
  return CheckTenant(routes, tenant, table);
}

Status RouteFence::Check(const void* changeset, int size) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, Routes());
  if (!AnyBlocked(routes)) return Status::OK();
  sqlite3_changeset_iter* it = nullptr;
  int rc = sqlite3changeset_start(&it, size, const_cast<void*>(changeset));
  Status st;
  while (st.ok() && rc == SQLITE_OK && (rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    st = CheckChange(routes, it);
  }
  int frc = sqlite3changeset_finalize(it);
  if (!st.ok()) return st;
  if (rc != SQLITE_DONE || frc != SQLITE_OK) {
    return SqliteStatus(rc != SQLITE_DONE ? rc : frc, "read the changeset for the route check");
  }
  return Status::OK();
}

}  // namespace sqlift
