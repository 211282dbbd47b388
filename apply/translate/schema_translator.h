// TranslateSchema: the PostgreSQL schema a set of SQLite tables becomes, and every problem
// found on the way (design sections 1 and 7). Pure: it reads no database, so `plan`, `copy`,
// `init` and the applier all get the same DDL from the same input.
//
// Output, deterministic for a given input (tables in name order, as ReadSchema gives them):
//  - ddl: CREATE SCHEMA IF NOT EXISTS, then one CREATE TABLE per table with its columns,
//    NOT NULL, translated defaults and primary key (the applier upserts by primary key, so
//    it exists before any row arrives);
//  - after_data: run once the snapshot is loaded, because they are faster to build over
//    loaded data and foreign keys would otherwise refuse rows copied table by table: UNIQUE
//    constraints, CREATE INDEX, FOREIGN KEY ... DEFERRABLE INITIALLY IMMEDIATE, and identity
//    sequences set past the largest key;
//  - problems: blockers (the migration cannot go on as is) and warnings, each with a fix.
//
// Every identifier in the SQL goes through QuoteIdentifier. Names PostgreSQL cannot keep
// (over 63 bytes) are shortened to 54 bytes + '_' + 8 hex digits of a hash of the full name,
// so the mapping is stable from run to run; `tables` says what each name became.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apply/translate/type_mapping.h"
#include "common/base/result.h"
#include "common/sqlite/table_schema.h"

namespace sqlift {

struct TranslateOptions {
  std::string schema = "public";  // target PostgreSQL schema
  TypeOverrides overrides;        // "table.column" → PostgreSQL type
  // Database-per-tenant (docs/design.md, tenants): several SQLite files, one per tenant, into one
  // schema. Every table gets this column first (text NOT NULL, holding the file's tenant), and
  // it leads the primary key, every index and unique constraint, and both sides of every
  // foreign key, so the tenants' rows cannot collide. Empty: none.
  std::string constant_tenant_column;
  // A one-shot copy (`sqlift copy`) needs no capture, so a table without a primary key is
  // copied, with a warning that live replication needs a key; otherwise it is a blocker.
  bool one_shot = false;
};

struct Problem {
  enum class Severity { kBlocker, kWarning };
  Severity severity = Severity::kWarning;
  std::string table;   // SQLite name; empty for the whole schema
  std::string column;  // SQLite name; empty for a table-level problem
  std::string what;
  std::string fix;
  int64_t count = 0;                  // values concerned (data problems); 0 otherwise
  std::vector<std::string> examples;  // up to 3, "pk=(7) value='abc': not an integer"
};

const char* SeverityName(Problem::Severity s);  // "blocker" | "warning"

struct ColumnPlan {
  std::string source_name;
  std::string pg_name;
  ColumnMapping mapping;
  // The column's definition as CREATE TABLE has it (name, type, NOT NULL, DEFAULT), which is
  // also what ALTER TABLE ... ADD COLUMN takes when a DDL event adds the column.
  std::string ddl;
  // An existing target's constant column ([target.constants]; existing_schema.h): no SQLite
  // column, every row gets this value. Such columns come after the SQLite ones.
  std::optional<std::string> constant;
};

struct TablePlan {
  std::string source_name;
  std::string pg_name;
  // In SQLite column order, hidden/generated ones left out; with a constant tenant column,
  // that column first (source_name = its name; no SQLite table has it).
  std::vector<ColumnPlan> columns;
  std::string constant_tenant_column;  // its PostgreSQL name; empty without one
  // SQLite names of the primary key columns, in key order (what the applier upserts on).
  std::vector<std::string> primary_key;
  // An existing target (existing_schema.h) whose unique key is the constant columns plus the
  // primary key: the applier's ON CONFLICT names the constants too.
  bool constants_in_key = false;
};

struct SchemaPlan {
  std::vector<std::string> ddl;
  std::vector<std::string> after_data;
  std::vector<Problem> problems;
  std::vector<TablePlan> tables;

  bool blocked() const;
};

// Fails only on input it cannot describe at all (an override that is not a type name, one
// naming a column that does not exist); everything about the schema itself is a Problem.
[[nodiscard]] Result<SchemaPlan> TranslateSchema(const std::vector<TableSchema>& tables,
                                                 const TranslateOptions& options);

// The PostgreSQL name chosen for a SQLite name: itself when it fits in 63 bytes, else the
// shortened form described above.
std::string PgNameFor(std::string_view name);

// True for words PostgreSQL reserves (`user`, `order`, `table`, ...), any case.
bool IsPgReservedWord(std::string_view name);

}  // namespace sqlift
