// The statements run after the data load: unique constraints, indexes, foreign keys and
// identity sequences (see schema_translator.h for why they wait for the data).
#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "apply/translate/schema_translator_internal.h"
#include "common/pg/pg_identifier.h"

namespace sqlift::translate {
namespace {

using Sev = Problem::Severity;

const ColumnPlan* FindColumn(const TablePlan& plan, std::string_view name) {
  for (const ColumnPlan& c : plan.columns) {
    if (Lower(c.source_name) == Lower(name)) return &c;
  }
  return nullptr;
}

// A string literal (standard_conforming_strings, on by default since PostgreSQL 9.1).
std::string QuoteLiteral(std::string_view s) {
  return "'" + std::regex_replace(std::string(s), std::regex("'"), "''") + "'";
}

// The key list of an index, or nullopt (with a warning) when it cannot be mapped.
std::optional<std::string> IndexKeys(Context& ctx, const TableSchema& t, const TablePlan& plan,
                                     const IndexSchema& ix) {
  std::vector<std::string> keys;
  for (const IndexColumn& c : ix.columns) {
    const ColumnPlan* cp = c.expression ? nullptr : FindColumn(plan, c.name);
    if (!cp) {
      ctx.Add(Sev::kWarning, t.name, "",
              fmt::format("index {} has an expression key; not created", ix.name),
              "create it on PostgreSQL by hand with the equivalent expression");
      return std::nullopt;
    }
    if (Lower(c.collation) != "binary") {
      ctx.Add(Sev::kWarning, t.name, c.name,
              fmt::format("index {} uses COLLATE {}; PostgreSQL compares bytes here", ix.name,
                          c.collation),
              "use citext or an index on lower(...) on PostgreSQL if the collation matters");
    }
    keys.push_back(QuoteIdentifier(cp->pg_name) + (c.descending ? " DESC" : ""));
  }
  return fmt::format("{}", fmt::join(keys, ", "));
}

void AddIndex(Context& ctx, const TableSchema& t, const TablePlan& plan, const IndexSchema& ix) {
  std::optional<std::string> keys = IndexKeys(ctx, t, plan, ix);
  if (!keys) return;
  std::string where;
  if (!ix.where.empty()) {
    std::optional<std::string> w = TranslateWhere(ix.where, plan);
    if (!w) {
      ctx.Add(Sev::kWarning, t.name, "",
              fmt::format("partial index {} (WHERE {}) does not translate; not created", ix.name,
                          ix.where),
              "create it on PostgreSQL by hand");
      return;
    }
    where = " WHERE " + *w;
  }
  const std::string table = ctx.Qualified(plan.pg_name);
  if (ix.from_constraint && where.empty()) {
    std::string name = ctx.UniqueRelationName(plan.pg_name + "_" + ix.columns[0].name + "_key");
    ctx.plan->after_data.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                                               table, QuoteIdentifier(name), *keys));
    return;
  }
  std::string name = ctx.UniqueRelationName(ix.name);
  if (name != ix.name) {
    ctx.Add(Sev::kWarning, t.name, "", fmt::format("index {} becomes \"{}\"", ix.name, name),
            "index names share PostgreSQL's namespace with tables and are kept to 63 bytes");
  }
  ctx.plan->after_data.push_back(fmt::format("CREATE {}INDEX {} ON {} ({}){}",
                                             ix.unique ? "UNIQUE " : "", QuoteIdentifier(name),
                                             table, *keys, where));
}

// True when `columns` (SQLite names) are the primary key or a full unique index of `t`, as
// PostgreSQL requires of the columns a foreign key references.
bool IsUniqueKey(const TableSchema& t, std::vector<std::string> columns) {
  auto lower_sorted = [](std::vector<std::string> v) {
    for (std::string& s : v)
      s = Lower(s);
    std::sort(v.begin(), v.end());
    return v;
  };
  columns = lower_sorted(columns);
  std::vector<std::string> pk;
  for (uint32_t i : t.PrimaryKeyColumns())
    pk.push_back(t.columns[i].name);
  if (lower_sorted(pk) == columns) return true;
  for (const IndexSchema& ix : t.indexes) {
    if (!ix.unique || !ix.where.empty()) continue;
    std::vector<std::string> names;
    for (const IndexColumn& c : ix.columns)
      names.push_back(c.expression ? "" : c.name);
    if (lower_sorted(names) == columns) return true;
  }
  return false;
}

// Resolves the referenced columns (empty names mean the parent's primary key) and checks the
// foreign key can exist on PostgreSQL; the reason when it cannot.
std::optional<std::string> CheckForeignKey(const Context& ctx, const TablePlan& child,
                                           const ForeignKeySchema& fk, const TableSchema** parent,
                                           std::vector<std::string>* ref) {
  auto it = ctx.sources.find(Lower(fk.ref_table));
  if (it == ctx.sources.end()) return fmt::format("{} is not migrated", fk.ref_table);
  *parent = it->second;
  *ref = fk.ref_columns;
  std::vector<uint32_t> pk = (*parent)->PrimaryKeyColumns();
  if (std::all_of(ref->begin(), ref->end(), [](const std::string& s) { return s.empty(); })) {
    if (pk.size() != fk.columns.size()) return "the parent's primary key has other columns";
    for (size_t i = 0; i < pk.size(); ++i)
      (*ref)[i] = (*parent)->columns[pk[i]].name;
  }
  if (!IsUniqueKey(**parent, *ref)) return "the referenced columns are not a unique key";
  const TablePlan& pp = *ctx.plans.at(Lower(fk.ref_table));
  for (size_t i = 0; i < ref->size(); ++i) {
    const ColumnPlan* a = FindColumn(child, fk.columns[i]);
    const ColumnPlan* b = FindColumn(pp, (*ref)[i]);
    if (!a || !b) return "a column of it is not migrated";
    if (a->mapping.type.sql != b->mapping.type.sql) {
      return fmt::format("{} ({}) and {} ({}) have different types", a->source_name,
                         a->mapping.type.sql, b->source_name, b->mapping.type.sql);
    }
  }
  return std::nullopt;
}

void AddForeignKey(Context& ctx, const TableSchema& t, const TablePlan& plan,
                   const ForeignKeySchema& fk) {
  const TableSchema* parent = nullptr;
  std::vector<std::string> ref;
  if (std::optional<std::string> why = CheckForeignKey(ctx, plan, fk, &parent, &ref)) {
    ctx.Add(Sev::kWarning, t.name, fk.columns[0],
            fmt::format("foreign key to {} not created: {}", fk.ref_table, *why),
            "fix the key in SQLite, or add the constraint on PostgreSQL by hand");
    return;
  }
  const TablePlan& pp = *ctx.plans.at(Lower(parent->name));
  std::vector<std::string> from, to;
  for (size_t i = 0; i < ref.size(); ++i) {
    from.push_back(QuoteIdentifier(FindColumn(plan, fk.columns[i])->pg_name));
    to.push_back(QuoteIdentifier(FindColumn(pp, ref[i])->pg_name));
  }
  std::string actions;
  static const std::regex kAction("CASCADE|RESTRICT|SET NULL|SET DEFAULT");
  if (std::regex_match(fk.on_delete, kAction)) actions += " ON DELETE " + fk.on_delete;
  if (std::regex_match(fk.on_update, kAction)) actions += " ON UPDATE " + fk.on_update;
  std::string name = ctx.UniqueRelationName(plan.pg_name + "_" + fk.columns[0] + "_fkey");
  ctx.plan->after_data.push_back(fmt::format(
      "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){} DEFERRABLE "
      "INITIALLY IMMEDIATE",
      ctx.Qualified(plan.pg_name), QuoteIdentifier(name), fmt::join(from, ", "),
      ctx.Qualified(pp.pg_name), fmt::join(to, ", "), actions));
}

}  // namespace

void AddAfterData(Context& ctx, const TableSchema& table, const TablePlan& plan) {
  for (const IndexSchema& ix : table.indexes)
    AddIndex(ctx, table, plan, ix);
  for (const ForeignKeySchema& fk : table.foreign_keys)
    AddForeignKey(ctx, table, plan, fk);
  for (const ColumnPlan& c : plan.columns) {
    if (!c.mapping.identity) continue;
    // The identity's sequence must start past every key copied from SQLite, and never move
    // back: ids it handed out already (another tenant's, not yet committed) stay taken.
    const std::string table_sql = ctx.Qualified(plan.pg_name);
    ctx.plan->after_data.push_back(fmt::format(
        "SELECT setval(s, GREATEST(COALESCE((SELECT max({}) FROM {}), 0) + 1, "
        "COALESCE(pg_sequence_last_value(s::regclass) + 1, 1)), false) FROM "
        "(SELECT pg_get_serial_sequence({}, {}) AS s) seq",
        QuoteIdentifier(c.pg_name), table_sql, QuoteLiteral(table_sql), QuoteLiteral(c.pg_name)));
  }
}

}  // namespace sqlift::translate
