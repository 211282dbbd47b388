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
#include "apply/translate/schema_translator.h"
#include "common/base/result.h"
#include "common/config/config.h"
#include "common/pg/pg_connection.h"

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
// file's schema with the same translation as `plan` ([mapping] overrides, exclude_tables). With
// [target] schema_mode = "existing" it connects to the target and maps the application's names
// and constant columns back, and skips the tables and columns SQLite does not have.
[[nodiscard]] Result<ReverseApplierOptions> ReverseOptionsFor(const Config& cfg);

// FailedPrecondition naming the ALTER TABLE to run when a table of `plan` in `schema` has a
// replica identity without every column of SQLite's primary key (an existing target keyed by
// its own uuid, say): PostgreSQL's UPDATE and DELETE would reach the reverse path without the
// key that finds SQLite's row. A cutover checks it before it fences.
[[nodiscard]] Status CheckReplicaIdentity(PgConnection& conn, const std::string& schema,
                                          const SchemaPlan& plan);

}  // namespace sqlift
