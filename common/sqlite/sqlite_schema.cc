#include "common/sqlite/sqlite_schema.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <functional>

namespace sqlift {

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
    c.virtual_generated = stmt.ColumnInt64(5) == 2;  // table_xinfo: 2 VIRTUAL, 3 STORED
    table->columns.push_back(std::move(c));
  }
  if (table->columns.empty()) {
    return Status::NotFound(fmt::format("table {} has no columns", table->name));
  }
  return Status::OK();
}

// The WHERE expression of a partial index, from its CREATE INDEX text: whatever follows the
// keyword WHERE after the parenthesized key list (quotes and nesting respected).
std::string PartialWhere(std::string_view sql) {
  int depth = 0;
  bool seen_open = false;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') quote = c;
    if (c == '[') quote = ']';
    if (c == '(') ++depth, seen_open = true;
    if (c == ')') --depth;
    if (seen_open && depth == 0 && c == ')') {
      std::string rest(sql.substr(i + 1));
      std::string upper = rest;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      size_t w = upper.find("WHERE");
      if (w == std::string::npos) return "";
      size_t b = rest.find_first_not_of(" \t\r\n", w + 5);
      size_t e = rest.find_last_not_of(" \t\r\n;");
      return b == std::string::npos ? "" : rest.substr(b, e - b + 1);
    }
  }
  return "";
}

Status ReadIndexColumns(SqliteDb& db, IndexSchema* index) {
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement stmt,
      db.Prepare("SELECT cid, name, \"desc\", coll FROM "
                 "pragma_index_xinfo(?1, 'main') WHERE key = 1 ORDER BY seqno"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, index->name));
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    IndexColumn c;
    c.expression = stmt.ColumnInt64(0) == -2;  // -2: an expression; -1: the rowid
    c.name = std::string(stmt.ColumnText(1));
    c.descending = stmt.ColumnInt64(2) != 0;
    c.collation = std::string(stmt.ColumnText(3));
    index->columns.push_back(std::move(c));
  }
  return Status::OK();
}

// Indexes other than the primary key's own: UNIQUE constraints (origin 'u') and CREATE INDEX
// ('c'). A declared PRIMARY KEY ('pk') is already part of the table.
Status ReadIndexes(SqliteDb& db, TableSchema* table) {
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement stmt,
      db.Prepare("SELECT il.name, il.\"unique\", il.origin, il.partial, s.sql FROM "
                 "pragma_index_list(?1, 'main') AS il LEFT JOIN main.sqlite_schema AS s "
                 "ON s.type = 'index' AND s.name = il.name WHERE il.origin <> 'pk' "
                 "ORDER BY il.name"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, table->name));
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    IndexSchema ix;
    ix.name = std::string(stmt.ColumnText(0));
    ix.unique = stmt.ColumnInt64(1) != 0;
    ix.from_constraint = stmt.ColumnText(2) == "u";
    ix.create_sql = std::string(stmt.ColumnText(4));
    if (stmt.ColumnInt64(3) != 0) ix.where = PartialWhere(ix.create_sql);
    table->indexes.push_back(std::move(ix));
  }
  for (IndexSchema& ix : table->indexes) {
    SQLIFT_RETURN_IF_ERROR(ReadIndexColumns(db, &ix).With("read index " + ix.name));
  }
  return Status::OK();
}

Status ReadForeignKeys(SqliteDb& db, TableSchema* table) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt,
                          db.Prepare("SELECT id, \"table\", \"from\", \"to\", on_update, "
                                     "on_delete FROM pragma_foreign_key_list(?1, 'main') "
                                     "ORDER BY id, seq"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, table->name));
  int64_t last_id = -1;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (stmt.ColumnInt64(0) != last_id) {
      last_id = stmt.ColumnInt64(0);
      ForeignKeySchema fk;
      fk.ref_table = std::string(stmt.ColumnText(1));
      fk.on_update = std::string(stmt.ColumnText(4));
      fk.on_delete = std::string(stmt.ColumnText(5));
      table->foreign_keys.push_back(std::move(fk));
    }
    ForeignKeySchema& fk = table->foreign_keys.back();
    fk.columns.emplace_back(stmt.ColumnText(2));
    fk.ref_columns.emplace_back(stmt.ColumnText(3));  // NULL (""): the parent's primary key
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
    if (IsSqliftTable(t.name)) continue;
    // Virtual tables have sql "CREATE VIRTUAL TABLE ..." and type 'table'; they hold no rows
    // of their own to capture.
    if (t.create_sql.rfind("CREATE VIRTUAL", 0) == 0) continue;
    tables.push_back(std::move(t));
  }
  for (TableSchema& t : tables) {
    SQLIFT_RETURN_IF_ERROR(ReadColumns(db, &t).With("read columns of " + t.name));
    SQLIFT_RETURN_IF_ERROR(ReadIndexes(db, &t).With("read indexes of " + t.name));
    SQLIFT_RETURN_IF_ERROR(ReadForeignKeys(db, &t).With("read foreign keys of " + t.name));
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

// Tables read from SQLite, without [source] exclude_tables (compared as SQLite does).
Result<std::vector<TableSchema>> ReadTables(SqliteDb& db,
                                            const std::vector<std::string>& excluded) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> all, ReadSchema(db));
  std::vector<TableSchema> out;
  for (TableSchema& t : all) {
    bool skip = false;
    for (const std::string& e : excluded)
      skip |= strcasecmp(e.c_str(), t.name.c_str()) == 0;
    if (!skip) out.push_back(std::move(t));
  }
  return out;
}

// --tables: the named tables in name order, all of them when `names` is empty.
Result<std::vector<TableSchema>> SelectTables(std::vector<TableSchema> all,
                                              const std::vector<std::string>& names) {
  if (names.empty()) return all;
  std::vector<TableSchema> out;
  for (const std::string& n : names) {
    auto it = std::find_if(all.begin(), all.end(), [&](const TableSchema& t) {
      return strcasecmp(t.name.c_str(), n.c_str()) == 0;
    });
    if (it == all.end()) return Status::InvalidArgument("--tables: no table " + n);
    out.push_back(*it);
  }
  std::sort(out.begin(), out.end(),
            [](const TableSchema& a, const TableSchema& b) { return a.name < b.name; });
  return out;
}

std::vector<size_t> ParentsFirst(const std::vector<TableSchema>& tables) {
  std::vector<size_t> order;
  std::vector<int> state(tables.size(), 0);  // 0 new, 1 visiting, 2 placed
  std::function<void(size_t)> visit = [&](size_t i) {
    if (state[i] != 0) return;
    state[i] = 1;
    for (const ForeignKeySchema& fk : tables[i].foreign_keys) {
      for (size_t j = 0; j < tables.size(); ++j)
        if (j != i && strcasecmp(tables[j].name.c_str(), fk.ref_table.c_str()) == 0) visit(j);
    }
    state[i] = 2;
    order.push_back(i);
  };
  for (size_t i = 0; i < tables.size(); ++i)
    visit(i);
  return order;
}

}  // namespace sqlift
