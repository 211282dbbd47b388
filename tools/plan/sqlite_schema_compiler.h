// SqliteSchemaCompiler: the applier's SchemaCompiler (apply/schema_compiler.h). It builds the
// source's schema in a private in-memory SQLite database from the statements the agent sent,
// reads it back with capture's schema reader and translates it as `sqlift plan` does, with the
// configuration's [mapping] overrides.
//
// The statements come from the network (an authenticated agent, but still): each must be one
// CREATE TABLE or CREATE [UNIQUE] INDEX statement, and runs only in a fresh in-memory database.
//
// Thread safety: every call opens its own in-memory database; calls may come from any thread.
#pragma once

#include <string>
#include <vector>

#include "apply/translate/schema_compiler.h"
#include "common/config/config.h"

namespace sqlift {

class SqliteSchemaCompiler final : public SchemaCompiler {
 public:
  // `mapping` entries naming a table.column the schema does not have are ignored (the table
  // may come later with a DDL event); `schema` is the target PostgreSQL schema.
  // `constant_tenant_column`: database-per-tenant (TranslateOptions); empty: none.
  SqliteSchemaCompiler(std::vector<Config::MappingEntry> mapping, std::string schema,
                       std::string constant_tenant_column = "")
      : mapping_(std::move(mapping)),
        schema_(std::move(schema)),
        constant_tenant_column_(std::move(constant_tenant_column)) {}

  Result<SchemaPlan> Compile(const std::vector<std::string>& sqlite_sql) override;
  Result<std::vector<std::string>> ReplaceTable(const std::vector<std::string>& sqlite_sql,
                                                const std::string& table,
                                                const std::string& create_sql) override;

 private:
  std::vector<Config::MappingEntry> mapping_;
  std::string schema_;
  std::string constant_tenant_column_;
};

}  // namespace sqlift
