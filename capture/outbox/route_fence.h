// RouteFence: the recorder's half of design invariant 7. Before a transaction's changeset goes
// into the outbox, it checks that every row the transaction touches belongs to a tenant whose
// route lets SQLite take writes (capture/route_table.h). A fenced tenant (a cutover or fallback
// in progress) is refused with a retryable error; a tenant routed to PostgreSQL with an error
// that says to write there. Either way the transaction cannot commit: its changes stay out of
// the outbox, so the commit hook refuses the COMMIT.
//
// The check runs inside the writing transaction, which holds SQLite's write lock: the route
// read there cannot change before the COMMIT, because `sqlift cutover` changes it in a write
// transaction of its own. So a fence is tight: no transaction that passed the check commits
// after the fence.
//
// Cost: one small SELECT of _sqlift_route per flush; the changeset is only walked when some
// tenant is fenced or moved (then one primary-key lookup per updated row whose tenant column
// the changeset does not carry).
//
// Lifetime: `db` must outlive the fence. Thread safety: that of the connection.
#pragma once

#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capture/outbox/route_table.h"
#include "common/base/result.h"

namespace sqlift {

class RouteFence {
 public:
  // Reads the tenant scheme (_sqlift_state). keep_prepared: hold the route SELECT prepared
  // (the loadable extension cannot: a held statement keeps sqlite3_close() from closing).
  [[nodiscard]] static Result<std::unique_ptr<RouteFence>> Load(sqlite3* db, bool keep_prepared);
  ~RouteFence();
  RouteFence(const RouteFence&) = delete;
  RouteFence& operator=(const RouteFence&) = delete;

  // OK when SQLite may commit `changeset`; Unavailable (retry) for a fenced tenant,
  // FailedPrecondition for one routed to PostgreSQL, each naming the tenant and the epoch.
  [[nodiscard]] Status Check(const void* changeset, int size);

  // The route of `tenant` ("*" for the whole database).
  [[nodiscard]] Result<RouteRow> RouteFor(std::string_view tenant);

  const TenantScheme& scheme() const { return scheme_; }

 private:
  RouteFence(sqlite3* db, TenantScheme scheme, bool keep_prepared)
      : db_(db), scheme_(std::move(scheme)), keep_prepared_(keep_prepared) {}
  struct TableInfo {
    std::vector<std::string> names;  // column names by index
    int tenant_index = -1;           // the tenant column's index; -1 when the table has none
  };
  [[nodiscard]] Result<std::vector<RouteRow>> Routes();
  // `table` as it has `ncol` columns (cached: a schema change gives a new count or a new name).
  [[nodiscard]] Result<const TableInfo*> Info(const char* table, int ncol);
  // The tenant of an updated row whose tenant column the changeset leaves out: the row's
  // current value, found by its primary key.
  [[nodiscard]] Result<std::string> LookupTenant(sqlite3_changeset_iter* it, const char* table,
                                                 const TableInfo& info);
  [[nodiscard]] Status CheckChange(const std::vector<RouteRow>& routes, sqlite3_changeset_iter* it);
  [[nodiscard]] Status CheckTenant(const std::vector<RouteRow>& routes, std::string_view tenant,
                                   const char* table);

  sqlite3* const db_;
  const TenantScheme scheme_;
  const bool keep_prepared_;
  sqlite3_stmt* routes_stmt_ = nullptr;
  std::map<std::string, TableInfo> tables_;  // by "table/ncol"
};

}  // namespace sqlift
