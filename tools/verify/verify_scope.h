// Which rows one verification compares (verify_run.h, tenant scope): the tenants left out, the
// scope as sqlift.verify_runs records it, and each table's tenant filter on both sides. Pure
// functions of the spec, SQLite's routes and the table's schema and plan, so unit tests call
// them directly.
//
// Thread safety: functions of their arguments.
#pragma once

#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "capture/outbox/route_table.h"
#include "common/base/result.h"
#include "common/sqlite/table_schema.h"
#include "tools/verify/verify_pg_reader.h"
#include "tools/verify/verify_run.h"

namespace sqlift {

// The tenants whose rows stay out on both sides: spec.skip_tenants, and with
// skip_moved_tenants those `routes` (SQLite's, read inside its snapshot) send to PostgreSQL.
// FailedPrecondition when the tenant asked for (or the whole database) is on postgres itself:
// its rows change there, with no position to hold.
[[nodiscard]] Result<std::vector<std::string>> TenantsToSkip(const VerifySpec& spec,
                                                             const std::vector<RouteRow>& routes);

// "tenant acme", "tenant acme of this file", "without tenants routed to postgres: a, b", or "".
std::string TenantScopeText(const VerifySpec& spec, const std::vector<std::string>& skip);

// The tenant filter of table `t` on both sides: *sqlite_col the tenant column's index in the
// SQLite row (-1: every row), *pg PostgreSQL's filter. False when the table is left out (one
// tenant asked, and the table has no tenant column).
bool TableTenantFilter(const VerifySpec& spec, const std::vector<std::string>& skip,
                       const TableSchema& t, const TablePlan& plan, int* sqlite_col, RowFilter* pg);

}  // namespace sqlift
