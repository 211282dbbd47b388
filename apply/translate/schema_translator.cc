// TranslateSchema: names, CREATE TABLE, defaults and the problems found in them. What runs
// after the data load is in schema_after_data.cc.
#include "apply/translate/schema_translator.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "apply/translate/schema_translator_internal.h"
#include "common/base/text.h"
#include "common/pg/pg_identifier.h"

namespace sqlift {
namespace translate {

using Sev = Problem::Severity;
using K = PgType::Kind;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void Context::Add(Sev severity, std::string_view table, std::string_view column, std::string what,
                  std::string fix) {
  Problem p;
  p.severity = severity;
  p.table = std::string(table);
  p.column = std::string(column);
  p.what = std::move(what);
  p.fix = std::move(fix);
  plan->problems.push_back(std::move(p));
}

std::string Context::UniqueRelationName(const std::string& base) {
  std::string name = PgNameFor(base);
  for (int n = 2; relation_names.count(name); ++n)
    name = PgNameFor(fmt::format("{}_{}", base, n));
  relation_names.insert(name);
  return name;
}

std::string Context::Qualified(const std::string& pg_name) const {
  return QuoteQualified(options.schema, pg_name);
}

namespace {

// The PostgreSQL name for a SQLite table or column name, with the problems it has.
std::string MapName(Context& ctx, std::string_view table, std::string_view column,
                    const std::string& name) {
  std::string_view what = column.empty() ? "table" : "column";
  std::string pg = PgNameFor(name);
  if (name.empty() || name.find('\0') != std::string::npos || !IsValidUtf8(name)) {
    ctx.Add(Sev::kBlocker, table, column,
            fmt::format("{} name is empty, holds a NUL byte or is not valid UTF-8", what),
            "rename it in SQLite");
  } else if (pg != name) {
    ctx.Add(Sev::kWarning, table, column,
            fmt::format("{} name is {} bytes; PostgreSQL keeps 63, so it becomes \"{}\"", what,
                        name.size(), pg),
            "use the new name in queries on PostgreSQL, or rename it in SQLite first");
  } else if (IsPgReservedWord(name)) {
    ctx.Add(Sev::kWarning, table, column,
            fmt::format("{} name '{}' is a reserved word in PostgreSQL", what, name),
            "nothing for sqlift (it quotes every name); application SQL must write it quoted");
  }
  return pg;
}

// SQLite's CURRENT_* defaults as PostgreSQL expressions giving the same value (UTC, and
// SQLite's text form for text columns); "" when the type cannot take it.
std::string CurrentTime(const std::string& word, K kind) {
  const std::string utc = "(now() AT TIME ZONE 'UTC')";
  if (word == "current_timestamp") {
    if (kind == K::kTimestamptz) return "now()";
    if (kind == K::kTimestamp) return utc;
    if (kind == K::kText) return "to_char(" + utc + ", 'YYYY-MM-DD HH24:MI:SS')";
  }
  if (word == "current_date") {
    if (kind == K::kDate || kind == K::kTimestamptz || kind == K::kTimestamp) return utc + "::date";
    if (kind == K::kText) return "to_char(" + utc + ", 'YYYY-MM-DD')";
  }
  if (word == "current_time" && kind == K::kText) return "to_char(" + utc + ", 'HH24:MI:SS')";
  return "";
}

// A number or string literal as a default of `type`; "" when it does not fit.
std::string Literal(const std::string& sql, bool is_string, const std::string& value,
                    const PgType& type) {
  wire::Value v;
  v.set_text(value);
  if (type.kind == K::kBoolean) {
    std::string l = Lower(value);
    if (l == "1" || l == "true" || l == "t") return "true";
    if (l == "0" || l == "false" || l == "f") return "false";
    return "";
  }
  if (WhyValueDoesNotFit(v, type)) return "";
  if (!is_string && type.kind != K::kText && type.kind != K::kVarchar) return sql;
  return "'" + std::regex_replace(value, std::regex("'"), "''") + "'";
}

// The default as PostgreSQL SQL: "" for none; nullopt when it does not translate.
std::optional<std::string> TranslateDefault(const ColumnSchema& c, const PgType& type) {
  std::string sql = c.default_sql;
  while (sql.size() >= 2 && sql.front() == '(' && sql.back() == ')') {
    sql = sql.substr(1, sql.size() - 2);
  }
  std::string l = Lower(sql);
  l.erase(std::remove(l.begin(), l.end(), ' '), l.end());
  if (l == "null") return "";
  if (l == "datetime('now')") l = "current_timestamp";
  if (l == "date('now')") l = "current_date";
  if (l.rfind("current_", 0) == 0) {
    std::string e = CurrentTime(l, type.kind);
    return e.empty() ? std::nullopt : std::optional(e);
  }
  if (l == "true" || l == "false") l = l == "true" ? "1" : "0", sql = l;
  static const std::regex kNumber(R"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)");
  static const std::regex kString(R"('((?:[^']|'')*)')");
  std::smatch m;
  std::string e;
  if (std::regex_match(sql, kNumber)) e = Literal(sql, false, sql, type);
  if (std::regex_match(sql, m, kString)) {
    e = Literal(sql, true, std::regex_replace(m[1].str(), std::regex("''"), "'"), type);
  }
  return e.empty() ? std::nullopt : std::optional(e);
}

std::string ColumnDdl(Context& ctx, const TableSchema& t, const ColumnSchema& c,
                      const ColumnPlan& cp) {
  std::string d = QuoteIdentifier(cp.pg_name) + " " + cp.mapping.type.sql;
  if (cp.mapping.identity) return d + " GENERATED BY DEFAULT AS IDENTITY";
  if (c.not_null) d += " NOT NULL";
  if (!c.has_default) return d;
  std::optional<std::string> def = TranslateDefault(c, cp.mapping.type);
  if (!def) {
    ctx.Add(Sev::kWarning, t.name, c.name,
            fmt::format("default ({}) does not translate to {}; the column gets no default",
                        c.default_sql, cp.mapping.type.sql),
            "set the default on PostgreSQL by hand (ALTER TABLE ... SET DEFAULT) before cutover");
  } else if (!def->empty()) {
    d += " DEFAULT " + *def;
  }
  return d;
}

void AddColumnWarnings(Context& ctx, const TableSchema& t, const ColumnSchema& c,
                       const ColumnMapping& m) {
  if (!m.overridden && c.declared_type.empty()) {
    ctx.Add(Sev::kWarning, t.name, c.name,
            "no declared type (SQLite lets it hold anything); mapped to text",
            "override it in [mapping] if it holds numbers or binary data");
  }
  if (m.type.kind == K::kOther) {
    ctx.Add(Sev::kWarning, t.name, c.name,
            fmt::format("values are not checked against the override type {}", m.type.sql),
            "make sure PostgreSQL accepts every value, or choose a type sqlift checks");
  }
}

// Columns, names and the CREATE TABLE statement of one table.
TablePlan AddTable(Context& ctx, const TableSchema& t, const std::vector<ColumnMapping>& maps) {
  TablePlan tp{t.name, MapName(ctx, t.name, "", t.name), {}, "", {}, false};
  if (!ctx.relation_names.insert(tp.pg_name).second) {
    ctx.Add(Sev::kBlocker, t.name, "",
            fmt::format("becomes \"{}\", a name already taken", tp.pg_name),
            "rename one of the tables in SQLite");
  }
  if (!t.HasPrimaryKey()) {
    if (ctx.options.one_shot) {
      ctx.Add(Sev::kWarning, t.name, "",
              "no primary key: copied, but live replication (`sqlift init`) cannot capture its "
              "changes (SQLite sessions need a key)",
              "before live replication, add a PRIMARY KEY or list it in [source] exclude_tables");
    } else {
      ctx.Add(Sev::kBlocker, t.name, "",
              "no primary key: live replication (`sqlift init`) cannot capture its changes "
              "(SQLite sessions need a key); a one-shot `sqlift copy` still copies it",
              "add a PRIMARY KEY, or list it in [source] exclude_tables");
    }
  }
  std::vector<std::string> lines;
  std::set<std::string> taken;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const ColumnSchema& c = t.columns[i];
    if (c.hidden) {
      ctx.Add(Sev::kWarning, t.name, c.name, "generated or hidden column: not created",
              "add it on PostgreSQL as GENERATED ALWAYS AS (...) STORED if it is needed");
      continue;
    }
    ColumnPlan cp{c.name, MapName(ctx, t.name, c.name, c.name), maps[i], "", std::nullopt};
    if (!taken.insert(cp.pg_name).second) {
      ctx.Add(Sev::kBlocker, t.name, c.name,
              fmt::format("becomes \"{}\", the name of another column", cp.pg_name),
              "rename one of the columns in SQLite");
    }
    AddColumnWarnings(ctx, t, c, cp.mapping);
    cp.ddl = ColumnDdl(ctx, t, c, cp);
    lines.push_back("  " + cp.ddl);
    tp.columns.push_back(std::move(cp));
  }
  std::vector<std::string> pk;
  for (uint32_t i : t.PrimaryKeyColumns()) {
    pk.push_back(QuoteIdentifier(PgNameFor(t.columns[i].name)));
    tp.primary_key.push_back(t.columns[i].name);
  }
  if (!pk.empty()) {
    lines.push_back(fmt::format("  CONSTRAINT {} PRIMARY KEY ({})",
                                QuoteIdentifier(ctx.UniqueRelationName(tp.pg_name + "_pkey")),
                                fmt::join(pk, ", ")));
  }
  ctx.plan->ddl.push_back(
      fmt::format("CREATE TABLE {} (\n{}\n)", ctx.Qualified(tp.pg_name), fmt::join(lines, ",\n")));
  return tp;
}

}  // namespace
}  // namespace translate

const char* SeverityName(Problem::Severity s) {
  return s == Problem::Severity::kBlocker ? "blocker" : "warning";
}

bool SchemaPlan::blocked() const {
  return std::any_of(problems.begin(), problems.end(),
                     [](const Problem& p) { return p.severity == Problem::Severity::kBlocker; });
}

Result<SchemaPlan> TranslateSchema(const std::vector<TableSchema>& tables,
                                   const TranslateOptions& options) {
  SQLIFT_RETURN_IF_ERROR(CheckIdentifier(options.schema).With("target schema"));
  SchemaPlan plan;
  translate::Context ctx{options, &plan, {}, {}, {}};
  // Mappings first, so a bad override fails before anything else is said.
  std::vector<std::vector<ColumnMapping>> maps;
  std::set<std::string> known;
  for (const TableSchema& t : tables) {
    ctx.sources[translate::Lower(t.name)] = &t;
    maps.emplace_back();
    for (const ColumnSchema& c : t.columns) {
      SQLIFT_ASSIGN_OR_RETURN(ColumnMapping m, MapColumn(t, c, options.overrides));
      maps.back().push_back(std::move(m));
      known.insert(translate::Lower(t.name + "." + c.name));
    }
  }
  for (const auto& [key, type] : options.overrides) {
    if (!known.count(translate::Lower(key))) {
      return Status::InvalidArgument(fmt::format("mapping for '{}': no such table.column", key));
    }
  }
  // Database-per-tenant: the tables as PostgreSQL holds them, with the tenant column (the
  // mappings above were made on the file's own tables, so rowid aliases stay identities).
  std::vector<TableSchema> with_tenant;
  const std::vector<TableSchema>* input = &tables;
  if (!options.constant_tenant_column.empty()) {
    with_tenant.reserve(tables.size());
    for (size_t i = 0; i < tables.size(); ++i) {
      with_tenant.push_back(translate::WithTenantColumn(tables[i], options.constant_tenant_column));
      maps[i].insert(maps[i].begin(),
                     ColumnMapping{PgType::Of(PgType::Kind::kText), false, false, ""});
    }
    for (size_t i = 0; i < tables.size(); ++i)
      ctx.sources[translate::Lower(tables[i].name)] = &with_tenant[i];
    input = &with_tenant;
  }
  plan.ddl.push_back("CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(options.schema));
  plan.tables.reserve(tables.size());  // plans are referred to by pointer below
  for (size_t i = 0; i < input->size(); ++i) {
    plan.tables.push_back(translate::AddTable(ctx, (*input)[i], maps[i]));
    if (!options.constant_tenant_column.empty()) {
      plan.tables.back().constant_tenant_column = plan.tables.back().columns[0].pg_name;
    }
    ctx.plans[translate::Lower((*input)[i].name)] = &plan.tables.back();
  }
  for (size_t i = 0; i < input->size(); ++i) {
    translate::AddAfterData(ctx, (*input)[i], plan.tables[i]);
  }
  return plan;
}

}  // namespace sqlift
