// Internal to schema_translator*.cc: the state one TranslateSchema call builds up.
// Not a public header; nothing outside apply/schema_translator*.cc includes it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "apply/translate/schema_translator.h"

namespace sqlift::translate {

// One translation in progress. Owned by TranslateSchema's stack frame; single-threaded.
struct Context {
  const TranslateOptions& options;
  SchemaPlan* plan;
  // Lower-cased SQLite table name → its schema and plan, for foreign keys.
  std::map<std::string, const TableSchema*> sources;
  std::map<std::string, const TablePlan*> plans;
  // Names taken in the target schema's relation namespace (tables, indexes and the indexes
  // behind constraints share it in PostgreSQL).
  std::set<std::string> relation_names;

  void Add(Problem::Severity severity, std::string_view table, std::string_view column,
           std::string what, std::string fix);
  // A name not yet in relation_names, derived from `base` ("_2", "_3", ... when taken),
  // at most 63 bytes; records it as taken.
  std::string UniqueRelationName(const std::string& base);
  // "schema"."name"
  std::string Qualified(const std::string& pg_name) const;
};

std::string Lower(std::string_view s);

// `table` with the constant tenant column `column` put first: column 0, first in the primary
// key, in every index and on both sides of every foreign key (schema_tenant.cc).
TableSchema WithTenantColumn(const TableSchema& table, const std::string& column);

// Appends the statements run after the data load for one table (see schema_translator.h).
void AddAfterData(Context& ctx, const TableSchema& table, const TablePlan& plan);

// `where` (a partial index's condition) in PostgreSQL syntax when it uses only columns of
// `plan`, literals, comparisons, AND/OR/NOT, IS [NOT] NULL and parentheses; nullopt otherwise.
std::optional<std::string> TranslateWhere(std::string_view where, const TablePlan& plan);

}  // namespace sqlift::translate
