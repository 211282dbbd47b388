// AdditiveDdl: plan-to-plan differences of one table, additive ones only (see header).
#include "apply/translate/ddl_diff.h"

#include <fmt/format.h>
#include <strings.h>

#include "common/pg/pg_identifier.h"

namespace sqlift {
namespace {

// The index of `table` in plan.tables; -1 when absent.
int Find(const SchemaPlan& plan, const std::string& table) {
  for (size_t i = 0; i < plan.tables.size(); ++i) {
    if (strcasecmp(plan.tables[i].source_name.c_str(), table.c_str()) == 0) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Status NotAdditive(const std::string& table, const std::string& what) {
  return Status::FailedPrecondition(fmt::format(
      "schema change on {} is not additive ({}); sqlift applies only new tables and new "
      "columns. Apply it on PostgreSQL by hand and start again from a new snapshot",
      table, what));
}

std::vector<std::string> NewTable(const SchemaPlan& after, int i, const std::string& schema) {
  std::string create = after.ddl[static_cast<size_t>(i) + 1];  // ddl[0] is CREATE SCHEMA
  const std::string prefix = "CREATE TABLE ";
  if (create.rfind(prefix, 0) == 0) create.insert(prefix.size(), "IF NOT EXISTS ");
  std::vector<std::string> out{create};
  // Its indexes, constraints and foreign keys name it as "schema"."table".
  const std::string name = QuoteQualified(schema, after.tables[static_cast<size_t>(i)].pg_name);
  for (const std::string& sql : after.after_data) {
    if (sql.find(" " + name + " ") != std::string::npos ||
        sql.find(" " + name + "(") != std::string::npos ||
        sql.find(" " + name + "\n") != std::string::npos ||
        (sql.size() >= name.size() &&
         sql.compare(sql.size() - name.size(), name.size(), name) == 0)) {
      out.push_back(sql);
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> AdditiveDdl(const SchemaPlan& before, const SchemaPlan& after,
                                             const std::string& table, const std::string& schema) {
  const int b = Find(before, table), a = Find(after, table);
  if (a < 0 && b < 0) return std::vector<std::string>{};
  if (a < 0) return NotAdditive(table, "the table was dropped");
  if (b < 0) return NewTable(after, a, schema);
  const TablePlan& old_t = before.tables[static_cast<size_t>(b)];
  const TablePlan& new_t = after.tables[static_cast<size_t>(a)];
  if (old_t.pg_name != new_t.pg_name) return NotAdditive(table, "its name changed");
  if (new_t.columns.size() < old_t.columns.size()) {
    return NotAdditive(table, "a column was dropped");
  }
  for (size_t i = 0; i < old_t.columns.size(); ++i) {
    const ColumnPlan &o = old_t.columns[i], &n = new_t.columns[i];
    if (o.pg_name != n.pg_name) {
      return NotAdditive(table, fmt::format("column {} became {}", o.source_name, n.source_name));
    }
    if (o.mapping.type.sql != n.mapping.type.sql) {
      return NotAdditive(table, fmt::format("column {} changed type from {} to {}", o.source_name,
                                            o.mapping.type.sql, n.mapping.type.sql));
    }
  }
  std::vector<std::string> out;
  const std::string name = QuoteQualified(schema, new_t.pg_name);
  for (size_t i = old_t.columns.size(); i < new_t.columns.size(); ++i) {
    const ColumnPlan& c = new_t.columns[i];
    if (c.mapping.identity) return NotAdditive(table, "a new primary key column");
    out.push_back(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {}", name, c.ddl));
  }
  return out;
}

}  // namespace sqlift
