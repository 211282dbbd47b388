// Row-level security for a multi-tenant schema (`sqlift plan --rls`): for each table with the
// tenant column, the statements that let an application session see and write only the rows
// of the tenant its setting names, while sqlift's own login (the applier, verify, the
// switches) keeps seeing every row.
//
//   ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY;
//   CREATE POLICY sqlift_tenant ON t USING (tenant_id = current_setting('app.current_tenant_id',
//       true)) WITH CHECK (same);
//   CREATE POLICY sqlift_applier ON t FOR ALL TO <applier login> USING (true) WITH CHECK (true);
//
// They belong after the data load: a snapshot load is a COPY, which PostgreSQL refuses into a
// table whose row-level security applies to the session (policy or not), unless the login has
// BYPASSRLS. docs/decisions.md says why sqlift passes through a policy and not BYPASSRLS.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/base/result.h"

namespace sqlift {

struct RlsOptions {
  std::string schema = "public";
  std::string tenant_column;  // SQLite spelling, compared as SQLite does (any case)
  std::string setting = "app.current_tenant_id";
  std::string applier_role;  // empty: CURRENT_USER (run the statements as the applier's login)
};

// The statements, table by table (tables without the tenant column get none).
// InvalidArgument when the setting is not a custom setting name or there is no tenant column.
[[nodiscard]] Result<std::vector<std::string>> RlsStatements(const SchemaPlan& plan,
                                                             const RlsOptions& options);

}  // namespace sqlift
