// Existing target schemas ([target] schema_mode = "existing"): the application's own schema
// (prisma migrate deploy, Rails migrations, hand DDL with a tenant_id) is deployed first, and
// sqlift loads into it instead of creating its own.
//
// MatchExistingSchema rewrites a SchemaPlan (as TranslateSchema made it) for such a target:
// every table and column takes the target's real name (matched case-insensitively, so Prisma's
// quoted "createdAt" matches SQLite's createdAt) and the target's type, so that copy encodes
// values as the target type needs with the one set of rules (value_encoder.h, value_repr.h),
// and a value that does not convert is dead-lettered with its reason. The plan's DDL is
// dropped (nothing is created, altered or dropped); after_data keeps only moving the target's
// sequences past the loaded keys. What does not match becomes a Problem: a source table or
// column with no target (blocker), a target column nothing fills that PostgreSQL would refuse
// empty (NOT NULL without default: blocker), a source primary key the target has no unique key
// on (blocker: the applier's upsert names it in ON CONFLICT; the constant columns may lead
// it, TablePlan::constants_in_key), a generated target column a source column would
// write (blocker), a conversion that can fail (warning; the data scan counts the values that
// do fail, as blockers).
//
// ReadTargetCatalog reads what the matcher needs from pg_catalog, and ForTargetSchemaMode
// does all of it as the configuration says (existing_catalog.cc).
//
// Thread safety: MatchExistingSchema is a pure function; ReadTargetCatalog uses `conn` only.
#pragma once

#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/base/result.h"
#include "common/config/config.h"
#include "common/pg/pg_connection.h"

namespace sqlift {

struct TargetColumn {
  std::string name;
  std::string type;  // as ParsePgType takes it: "timestamp(3)", "varchar(40)", "uuid"
  bool not_null = false;
  bool has_default = false;      // a DEFAULT expression (gen_random_uuid(), nextval(...), now())
  bool identity = false;         // GENERATED ... AS IDENTITY
  bool identity_always = false;  // GENERATED ALWAYS AS IDENTITY: refuses given values
  bool generated = false;        // GENERATED ALWAYS AS (expr) STORED: never written
  bool has_sequence = false;     // identity or serial: set past the loaded keys after the data
};

struct TargetTable {
  std::string name;
  std::vector<TargetColumn> columns;  // in attribute order
  std::vector<std::string> primary_key;
  // Other keys ON CONFLICT can name: unique constraints and indexes on plain columns, without
  // a predicate, not deferrable; each in index column order.
  std::vector<std::vector<std::string>> unique_keys;
  std::vector<std::string> triggers;  // the application's own row triggers on INSERT
};

// Every ordinary and partitioned table of `schema`, in name order.
[[nodiscard]] Result<std::vector<TargetTable>> ReadTargetCatalog(PgConnection& conn,
                                                                 const std::string& schema);

// format_type()'s spelling → ParsePgType's: "timestamp(3) without time zone" → "timestamp(3)",
// "timestamp(6) with time zone" → "timestamptz(6)"; others unchanged.
std::string NormalizeTargetType(std::string_view format_type);

// [target.constants]: `value` goes into `column` of every row of `table` (empty: every table
// that has the column).
struct TargetConstant {
  std::string table;
  std::string column;
  std::string value;
};

// One matched column, for the report.
struct ColumnMatch {
  std::string table, column;                // SQLite's names
  std::string target_table, target_column;  // the target's
  std::string from, to;                     // the type sqlift would create; the target's
  std::string conversion;                   // empty: same type; else what converting does
  bool may_fail = false;                    // some values may not convert (the scan counts)
};

struct ExistingMatch {
  std::vector<ColumnMatch> columns;
  // Target columns no source column or constant fills, left to PostgreSQL ("Lead.id: uuid
  // DEFAULT"); the NOT NULL ones without a default are blockers instead.
  std::vector<std::string> target_only;
};

// Rewrites `plan` (tables, ddl, after_data) for `target` in `schema` and appends what does not
// match to plan->problems (a constant naming a column no target table has is a blocker too).
// Constant columns are appended to their tables' columns, with ColumnPlan::constant set.
[[nodiscard]] Result<ExistingMatch> MatchExistingSchema(
    const std::vector<TargetTable>& target, const std::vector<TargetConstant>& constants,
    const std::string& schema, SchemaPlan* plan);

// [target] schema_mode = "existing" in `cfg` (false without a configuration).
bool ExistingSchemaMode(const Config* cfg);

// `plan` as `cfg` says the target is: unchanged for schema_mode "create" (or no cfg);
// MatchExistingSchema against the catalog of `schema` read through `conn`, with
// [target.constants], for "existing".
[[nodiscard]] Result<ExistingMatch> ForTargetSchemaMode(const Config* cfg, PgConnection& conn,
                                                        const std::string& schema,
                                                        SchemaPlan* plan);

// What converting a value of type `from` into `to` does ("" when nothing), and whether it may
// fail for some values (*may_fail).
std::string DescribeConversion(const PgType& from, const PgType& to, bool* may_fail);

}  // namespace sqlift
