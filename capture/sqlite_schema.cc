#include "capture/sqlite_schema.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>

#include "capture/outbox.h"

namespace sqlift {

bool TableSchema::HasPrimaryKey() const {
  return std::any_of(columns.begin(), columns.end(),
                     [](const ColumnSchema& c) { return c.pk_position > 0; });
}

std::vector<uint32_t> TableSchema::PrimaryKeyColumns() const {
  std::vector<std::pair<int, uint32_t>> pk;
  for (uint32_t i = 0; i < columns.size(); ++i) {
    if (columns[i].pk_position > 0) pk.emplace_back(columns[i].pk_position, i);
  }
  std::sort(pk.begin(), pk.end());
  std::vector<uint32_t> out;
  for (const auto& p : pk)
    out.push_back(p.second);
  return out;
}

int TableSchema::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string& c = columns[i].name;
    if (c.size() == name.size() && strncasecmp(c.data(), name.data(), c.size()) == 0) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

namespace {

Status ReadColumns(SqliteDb& db, TableSchema* table) {
  // table_xinfo also lists hidden and generated columns (hidden != 0), which changesets omit.
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt,
                          db.Prepare("SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                                     "FROM pragma_table_xinfo(?1, 'main') ORDER BY cid"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, table->name));
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ColumnSchema c;
    c.name = std::string(stmt.ColumnText(0));
    c.declared_type = std::string(stmt.ColumnText(1));
    c.not_null = stmt.ColumnInt64(2) != 0;
    c.has_default = !stmt.IsNull(3);
    c.default_sql = std::string(stmt.ColumnText(3));
    c.pk_position = static_cast<int>(stmt.ColumnInt64(4));
    c.hidden = stmt.ColumnInt64(5) != 0;
    table->columns.push_back(std::move(c));
  }
  if (table->columns.empty()) {
    return Status::NotFound(fmt::format("table {} has no columns", table->name));
  }
  return Status::OK();
}

Result<std::vector<TableSchema>> ReadTables(SqliteDb& db, const std::string* only) {
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement stmt,
      db.Prepare("SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' "
                 "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND (?1 IS NULL OR name = ?1) "
                 "ORDER BY name"));
  if (only) {
    SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, *only));
  }
  std::vector<TableSchema> tables;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    TableSchema t;
    t.name = std::string(stmt.ColumnText(0));
    t.create_sql = std::string(stmt.ColumnText(1));
    if (outbox::IsReservedTable(t.name)) continue;
    // Virtual tables have sql "CREATE VIRTUAL TABLE ..." and type 'table'; they hold no rows
    // of their own to capture.
    if (t.create_sql.rfind("CREATE VIRTUAL", 0) == 0) continue;
    tables.push_back(std::move(t));
  }
  for (TableSchema& t : tables) {
    SQLIFT_RETURN_IF_ERROR(ReadColumns(db, &t).With("read columns of " + t.name));
    std::string upper = t.create_sql;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    size_t close = upper.rfind(')');
    t.without_rowid =
        close != std::string::npos && upper.find("WITHOUT ROWID", close) != std::string::npos;
  }
  return tables;
}

}  // namespace

Result<std::vector<TableSchema>> ReadSchema(SqliteDb& db) {
  return ReadTables(db, nullptr);
}

Result<TableSchema> ReadTableSchema(SqliteDb& db, std::string_view table) {
  std::string name(table);
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadTables(db, &name));
  if (tables.empty()) return Status::NotFound(fmt::format("no table named {}", name));
  return std::move(tables.front());
}

}  // namespace sqlift
