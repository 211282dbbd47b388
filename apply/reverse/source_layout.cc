#include "apply/reverse/source_layout.h"

#include <fmt/format.h>
#include <strings.h>

#include <chrono>
#include <set>

#include "apply/translate/existing_schema.h"
#include "apply/translate/mapping_overrides.h"
#include "apply/translate/schema_translator.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "common/pg/pg_connection.h"
#include "common/pg/pg_identifier.h"
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
  const bool existing = ExistingSchemaMode(&cfg);
  if (existing) {  // the application's names, types and constant columns
    SQLIFT_ASSIGN_OR_RETURN(auto conn,
                            PgConnection::Connect(cfg.target_pg, std::chrono::seconds(10)));
    SQLIFT_RETURN_IF_ERROR(ForTargetSchemaMode(&cfg, *conn, o.pg_schema, &plan).status());
    o.skip_unmapped = true;
  }
  const std::string tenant = TenantColumnOf(cfg);
  o.tenant_column = PgNameFor(tenant);
  if (!cfg.source_tenant.empty()) o.constant_tenant = cfg.source_tenant;
  for (const TablePlan& t : plan.tables) {
    ReverseTableMap& m = o.tables[t.pg_name];
    m.sqlite_table = t.source_name;
    m.only_listed = existing;
    for (const ColumnPlan& c : t.columns) {
      if (c.constant) {
        m.constants[c.pg_name] = *c.constant;
        continue;
      }
      if (existing || c.pg_name != c.source_name) m.columns.push_back({c.pg_name, c.source_name});
      if (c.mapping.type.unit != TimeUnit::kAuto) m.time_units[c.pg_name] = c.mapping.type.unit;
      if (!tenant.empty() && cfg.source_tenant.empty() &&
          strcasecmp(c.source_name.c_str(), tenant.c_str()) == 0)
        o.tenant_column = c.pg_name;
    }
  }
  return o;
}

Status CheckReplicaIdentity(PgConnection& conn, const std::string& schema, const SchemaPlan& plan) {
  for (const TablePlan& t : plan.tables) {
    const std::string table = QuoteQualified(schema, t.pg_name);
    // The replica identity's kind, and the columns of its index ('d': the primary key's).
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult r,
        conn.Query("SELECT c.relreplident, a.attname FROM pg_class c "
                   "LEFT JOIN pg_index i ON i.indrelid = c.oid AND ((c.relreplident = 'd' AND "
                   "i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident)) "
                   "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
                   "WHERE c.oid = to_regclass($1)",
                   {table}));
    if (r.rows() == 0)
      return Status::NotFound(fmt::format("target table {} does not exist", table));
    if (r.get(0, 0) == "f") continue;  // FULL: every column
    std::set<std::string> identity;
    for (int i = 0; i < r.rows(); ++i) {
      if (!r.is_null(i, 1)) identity.insert(std::string(r.get(i, 1)));
    }
    for (const std::string& key : t.primary_key) {
      for (const ColumnPlan& c : t.columns) {
        if (c.source_name != key || identity.count(c.pg_name)) continue;
        return Status::FailedPrecondition(fmt::format(
            "target table {}: column {} (SQLite's key {}.{}) is not in its replica identity, so "
            "reverse replication could not find the row of an UPDATE or DELETE made on "
            "PostgreSQL: run ALTER TABLE {} REPLICA IDENTITY USING INDEX <a unique index on the "
            "columns of SQLite's key> (or REPLICA IDENTITY FULL)",
            table, QuoteIdentifier(c.pg_name), t.source_name, key, table));
      }
    }
  }
  return Status::OK();
}

}  // namespace sqlift
