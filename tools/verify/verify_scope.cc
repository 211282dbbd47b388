// The tenant scope of a verification (see verify_scope.h).
#include "tools/verify/verify_scope.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <strings.h>

#include "capture/snapshot/snapshot_reader.h"

namespace sqlift {
namespace {

RowFilter TenantFilter(std::string column, std::vector<std::string> values, bool exclude) {
  RowFilter f;
  f.column = std::move(column);
  f.values = std::move(values);
  f.exclude = exclude;
  return f;
}

}  // namespace

Result<std::vector<std::string>> TenantsToSkip(const VerifySpec& spec,
                                               const std::vector<RouteRow>& routes) {
  std::vector<std::string> skip = spec.skip_tenants;
  if (!spec.skip_moved_tenants) return skip;
  RouteRow whole = LookupRoute(routes, kWholeDatabase);
  std::string asked = spec.tenant.empty() ? std::string(kWholeDatabase) : spec.tenant;
  RouteRow own = LookupRoute(routes, asked);
  if (own.on_postgres() || whole.on_postgres()) {
    return Status::FailedPrecondition(fmt::format(
        "{} is routed to postgres (epoch {}): its rows change on PostgreSQL, with no position "
        "to hold; fallback verifies it",
        DescribeTenant(own.on_postgres() ? asked : kWholeDatabase), own.epoch));
  }
  for (const RouteRow& r : routes) {
    if (r.on_postgres() && r.tenant != kWholeDatabase) skip.push_back(r.tenant);
  }
  return skip;
}

std::string TenantScopeText(const VerifySpec& spec, const std::vector<std::string>& skip) {
  if (!spec.tenant.empty()) return "tenant " + spec.tenant;
  if (!spec.constant_tenant.empty()) return "tenant " + spec.constant_tenant + " of this file";
  if (!skip.empty())
    return fmt::format("without tenants routed to postgres: {}", fmt::join(skip, ", "));
  return "";
}

bool TableTenantFilter(const VerifySpec& spec, const std::vector<std::string>& skip,
                       const TableSchema& t, const TablePlan& plan, int* sqlite_col,
                       RowFilter* pg) {
  *sqlite_col = -1;
  if (!spec.constant_tenant.empty()) {
    *pg = TenantFilter(PgNameFor(spec.tenant_column), {spec.constant_tenant}, false);
    return true;
  }
  if (spec.tenant_column.empty() || (spec.tenant.empty() && skip.empty())) return true;
  const wire::TableShape shape = SnapshotReader::ShapeOf(t);
  for (int i = 0; i < shape.columns_size(); ++i) {
    if (strcasecmp(shape.columns(i).c_str(), spec.tenant_column.c_str()) == 0) *sqlite_col = i;
  }
  if (*sqlite_col < 0) return spec.tenant.empty();  // a shared table: whole, or not at all
  std::string pg_name = plan.columns[static_cast<size_t>(*sqlite_col)].pg_name;
  *pg = spec.tenant.empty() ? TenantFilter(pg_name, skip, true)
                            : TenantFilter(pg_name, {spec.tenant}, false);
  return true;
}

}  // namespace sqlift
