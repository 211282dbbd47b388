#include "apply/reverse/source_layout.h"

#include <strings.h>

#include "apply/translate/mapping_overrides.h"
#include "apply/translate/schema_translator.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_schema.h"

namespace sqlift {

std::string ReplicationNameFor(const Config& cfg) {
  return SlotNameFor(cfg.source_id);
}

std::string TenantColumnOf(const Config& cfg) {
  if (!cfg.source_tenant_column.empty()) return cfg.source_tenant_column;
  return cfg.source_tenant.empty() ? "" : "tenant_id";
}

std::string DefaultTenantOf(const Config& cfg) {
  return cfg.source_tenant.empty() ? "*" : cfg.source_tenant;
}

Result<ReverseApplierOptions> ReverseOptionsFor(const Config& cfg) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(cfg.source_sqlite, SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables,
                          ReadTables(*db, cfg.source_exclude_tables));
  TranslateOptions topt;
  SQLIFT_ASSIGN_OR_RETURN(topt.overrides, Overrides(&cfg, tables));
  SQLIFT_ASSIGN_OR_RETURN(SchemaPlan plan, TranslateSchema(tables, topt));
  ReverseApplierOptions o;
  o.pg_schema = topt.schema;
  const std::string tenant = TenantColumnOf(cfg);
  o.tenant_column = PgNameFor(tenant);
  if (!cfg.source_tenant.empty()) o.constant_tenant = cfg.source_tenant;
  for (const TablePlan& t : plan.tables) {
    ReverseTableMap& m = o.tables[t.pg_name];
    m.sqlite_table = t.source_name;
    for (const ColumnPlan& c : t.columns) {
      if (c.pg_name != c.source_name) m.columns.push_back({c.pg_name, c.source_name});
      if (c.mapping.type.unit != TimeUnit::kAuto) m.time_units[c.pg_name] = c.mapping.type.unit;
      if (!tenant.empty() && cfg.source_tenant.empty() &&
          strcasecmp(c.source_name.c_str(), tenant.c_str()) == 0)
        o.tenant_column = c.pg_name;
    }
  }
  return o;
}

}  // namespace sqlift
