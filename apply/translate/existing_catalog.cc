// ReadTargetCatalog and NormalizeTargetType (see existing_schema.h).
#include <fmt/format.h>

#include <algorithm>

#include "apply/translate/existing_compiler.h"
#include "apply/translate/existing_schema.h"

namespace sqlift {

namespace {

// One row per column of every table of the schema, in table then attribute order.
constexpr const char* kCatalogSql = R"(
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.atthasdef AND a.attgenerated = '', a.attidentity <> '', a.attidentity = 'a',
       a.attgenerated <> '',
       pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL,
       array_position(i.indkey::int2[], a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum)";

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

std::string NormalizeTargetType(std::string_view format_type) {
  std::string t(format_type);
  if (t.rfind("timestamp", 0) != 0) return t;
  if (EndsWith(t, " with time zone")) {
    t = Replace(t, " with time zone", "");
    return t == "timestamp" ? "timestamptz" : Replace(t, "timestamp", "timestamptz");
  }
  return Replace(t, " without time zone", "");
}

// The row triggers that fire on INSERT (COPY fires them too), but not sqlift's own fences.
constexpr const char* kTriggersSql = R"(
SELECT c.relname, t.tgname
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND NOT t.tgisinternal AND t.tgenabled <> 'D'
  AND (t.tgtype & 1) = 1 AND (t.tgtype & 4) = 4 AND t.tgname NOT LIKE 'sqlift%'
ORDER BY 1, 2)";

Status AddTriggers(PgConnection& conn, const std::string& schema,
                   std::vector<TargetTable>* tables) {
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn.Query(kTriggersSql, {schema}));
  for (int row = 0; row < r.rows(); ++row) {
    for (TargetTable& t : *tables) {
      if (t.name == r.get(row, 0)) t.triggers.emplace_back(r.get(row, 1));
    }
  }
  return Status::OK();
}

// Unique indexes ON CONFLICT can use (plain columns, no predicate, not deferrable), other than
// the primary key: one row per index column, in index column order.
constexpr const char* kUniqueKeysSql = R"(
SELECT c.relname, i.indexrelid::text, a.attname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE n.nspname = $1 AND i.indisunique AND NOT i.indisprimary AND i.indimmediate
  AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
ORDER BY 1, 2, k.ord)";

Status AddUniqueKeys(PgConnection& conn, const std::string& schema,
                     std::vector<TargetTable>* tables) {
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn.Query(kUniqueKeysSql, {schema}));
  std::string index;
  for (int row = 0; row < r.rows(); ++row) {
    for (TargetTable& t : *tables) {
      if (t.name != r.get(row, 0)) continue;
      if (index != r.get(row, 1)) t.unique_keys.emplace_back();
      t.unique_keys.back().emplace_back(r.get(row, 2));
    }
    index = std::string(r.get(row, 1));
  }
  return Status::OK();
}

Result<std::vector<TargetTable>> ReadTargetCatalog(PgConnection& conn, const std::string& schema) {
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn.Query(kCatalogSql, {schema}));
  std::vector<TargetTable> out;
  std::vector<std::vector<std::pair<int64_t, std::string>>> keys;
  for (int row = 0; row < r.rows(); ++row) {
    std::string table(r.get(row, 0));
    if (out.empty() || out.back().name != table) {
      out.push_back({table, {}, {}, {}, {}});
      keys.emplace_back();
    }
    TargetColumn c;
    c.name = std::string(r.get(row, 1));
    c.type = NormalizeTargetType(r.get(row, 2));
    c.not_null = r.get(row, 3) == "t";
    c.has_default = r.get(row, 4) == "t";
    c.identity = r.get(row, 5) == "t";
    c.identity_always = r.get(row, 6) == "t";
    c.generated = r.get(row, 7) == "t";
    c.has_sequence = r.get(row, 8) == "t";
    if (!r.is_null(row, 9)) {
      SQLIFT_ASSIGN_OR_RETURN(int64_t pos, r.GetInt64(row, 9));
      keys.back().emplace_back(pos, c.name);
    }
    out.back().columns.push_back(std::move(c));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    std::sort(keys[i].begin(), keys[i].end());
    for (auto& [pos, name] : keys[i])
      out[i].primary_key.push_back(std::move(name));
  }
  SQLIFT_RETURN_IF_ERROR(AddUniqueKeys(conn, schema, &out));
  SQLIFT_RETURN_IF_ERROR(AddTriggers(conn, schema, &out));
  return out;
}

bool ExistingSchemaMode(const Config* cfg) {
  return cfg && cfg->target_schema_mode == "existing";
}

Result<ExistingMatch> ForTargetSchemaMode(const Config* cfg, PgConnection& conn,
                                          const std::string& schema, SchemaPlan* plan) {
  if (!ExistingSchemaMode(cfg)) return ExistingMatch{};
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TargetTable> target, ReadTargetCatalog(conn, schema));
  return MatchExistingSchema(target, TargetConstantsOf(*cfg), schema, plan);
}

}  // namespace sqlift
