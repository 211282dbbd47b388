// SqliteSchemaCompiler: schema text → in-memory SQLite → TableSchema → SchemaPlan (see header).
#include "tools/plan/sqlite_schema_compiler.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <strings.h>

#include "apply/translate/mapping_overrides.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_schema.h"
#include "common/sqlite/sqlite_statement.h"

namespace sqlift {
namespace {

bool StartsWithWords(std::string_view sql, std::string_view prefix) {
  while (!sql.empty() && isspace(static_cast<unsigned char>(sql.front())))
    sql.remove_prefix(1);
  return sql.size() >= prefix.size() && strncasecmp(sql.data(), prefix.data(), prefix.size()) == 0;
}

// Runs one CREATE TABLE / CREATE INDEX statement; anything else, or more than one
// statement, is refused.
Status RunOne(SqliteDb& db, const std::string& sql) {
  if (!StartsWithWords(sql, "CREATE TABLE ") && !StartsWithWords(sql, "CREATE INDEX ") &&
      !StartsWithWords(sql, "CREATE UNIQUE INDEX ")) {
    return Status::InvalidArgument("schema statement is not CREATE TABLE or CREATE INDEX: " +
                                   sql.substr(0, 80));
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail);
  SqliteStatement owned(db.handle(), stmt);
  if (rc != SQLITE_OK || !stmt) {
    return Status::InvalidArgument(fmt::format("schema statement does not compile: {}: {}",
                                               sqlite3_errmsg(db.handle()), sql.substr(0, 80)));
  }
  for (; tail && *tail; ++tail) {
    if (!isspace(static_cast<unsigned char>(*tail)) && *tail != ';') {
      return Status::InvalidArgument("more than one statement in: " + sql.substr(0, 80));
    }
  }
  return owned.Run();
}

Result<std::unique_ptr<SqliteDb>> Build(const std::vector<std::string>& sqlite_sql) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWriteCreate));
  for (const std::string& sql : sqlite_sql)
    SQLIFT_RETURN_IF_ERROR(RunOne(*db, sql));
  return db;
}

}  // namespace

Result<SchemaPlan> SqliteSchemaCompiler::Compile(const std::vector<std::string>& sqlite_sql) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, Build(sqlite_sql));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadSchema(*db));
  TranslateOptions options;
  options.schema = schema_;
  options.constant_tenant_column = constant_tenant_column_;
  for (const Config::MappingEntry& e : mapping_) {
    size_t dot = e.column.rfind('.');
    for (const TableSchema& t : tables) {
      if (strcasecmp(t.name.c_str(), e.column.substr(0, dot).c_str()) == 0 &&
          t.ColumnIndex(e.column.substr(dot + 1)) >= 0) {
        SQLIFT_ASSIGN_OR_RETURN(options.overrides[e.column], OverrideOf(e));
      }
    }
  }
  return TranslateSchema(tables, options);
}

Result<std::vector<std::string>> SqliteSchemaCompiler::ReplaceTable(
    const std::vector<std::string>& sqlite_sql, const std::string& table,
    const std::string& create_sql) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, Build(sqlite_sql));
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement q,
      // SQLite's own tables (sqlite_sequence, which an AUTOINCREMENT table brings) are not the
      // source's, and cannot be created by a statement.
      db->Prepare("SELECT type, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL "
                  "AND type IN ('table', 'index') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                  "ORDER BY rowid"));
  std::vector<std::string> out;
  bool replaced = false;
  while (true) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::string type(q.ColumnText(0)), owner(q.ColumnText(1)), sql(q.ColumnText(2));
    bool mine = strcasecmp(owner.c_str(), table.c_str()) == 0;
    if (mine && type == "table") {
      replaced = true;
      if (!create_sql.empty()) out.push_back(create_sql);
    } else if (!(mine && create_sql.empty())) {
      out.push_back(sql);
    }
  }
  if (!replaced && !create_sql.empty()) out.insert(out.begin(), create_sql);
  SQLIFT_RETURN_IF_ERROR(Build(out).status().With("schema after the change to " + table));
  return out;
}

}  // namespace sqlift
