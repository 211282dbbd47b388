// What one source's migration is called and looks like on the PostgreSQL side, defined once for
// the applier, the capture agent's reverse path and the cutover/fallback/finish commands.
//
//   replication slot, publication and origin: SlotNameFor(source) ("sqlift_<source>"); the
//   publication carries the target schema's tables (FOR TABLES IN SCHEMA), the origin tags the
//   forward applier's own commits so the reverse path skips them.
//   tenant column: [source] tenant_column, or for a database-per-tenant source ([source]
//   tenant) the constant column the applier adds, named tenant_column or "tenant_id".
//
// Thread safety: pure functions, except ReverseOptionsFor, which reads the SQLite file.
#pragma once

#include <string>

#include "apply/reverse/reverse_applier.h"
#include "common/base/result.h"
#include "common/config/config.h"

namespace sqlift {

// The slot, the publication and the forward applier's replication origin of `cfg`'s source.
std::string ReplicationNameFor(const Config& cfg);

// The tenant column's name (SQLite spelling): [source] tenant_column, else "tenant_id" for a
// database-per-tenant source, else "" (no tenants: the whole database is tenant "*").
std::string TenantColumnOf(const Config& cfg);

// The tenant a cutover or fallback moves when --tenant is not given: [source] tenant for a
// database-per-tenant source, else "*" (the whole database).
std::string DefaultTenantOf(const Config& cfg);

// The reverse applier's mapping of PostgreSQL tables to the SQLite file's tables, made from the
// file's schema with the same translation as `plan` ([mapping] overrides, exclude_tables).
[[nodiscard]] Result<ReverseApplierOptions> ReverseOptionsFor(const Config& cfg);

}  // namespace sqlift
