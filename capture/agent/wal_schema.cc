#include "capture/agent/wal_schema.h"

#include <fmt/format.h>

#include "common/sqlite/sqlite_schema.h"

namespace sqlift {
namespace {

bool StartsWithNoCase(const std::string& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// The CREATE TABLE statements of ordinary tables in `ctx`'s sqlite_schema, in rowid order.
Result<std::vector<std::pair<std::string, std::string>>> TableDefinitions(
    const wal::DecodeContext& ctx) {
  std::vector<std::pair<std::string, std::string>> out;
  SQLIFT_RETURN_IF_ERROR(wal::WalkBtree(ctx, 1, [&](wal::BtreeEntry&& e) -> Status {
    const std::vector<wal::Value>& v = e.values;
    if (v.size() != 5 || v[0].type != wal::Value::Type::kText) {
      return Status::Corruption(fmt::format("sqlite_schema row {} is malformed", e.rowid));
    }
    if (v[0].bytes != "table" || v[4].type != wal::Value::Type::kText) return Status::OK();
    const std::string& name = v[1].bytes;
    if (StartsWithNoCase(name, "sqlite_") || StartsWithNoCase(v[4].bytes, "create virtual")) {
      return Status::OK();
    }
    out.emplace_back(name, v[4].bytes);
    return Status::OK();
  }));
  return out;
}

}  // namespace

Result<uint32_t> SchemaCookie(const wal::DecodeContext& ctx) {
  SQLIFT_ASSIGN_OR_RETURN(std::string_view page1, ctx.get_page(1));
  if (page1.size() < 44) return Status::Corruption("page 1 is shorter than the database header");
  const auto* p = reinterpret_cast<const unsigned char*>(page1.data()) + 40;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

Result<std::unique_ptr<WalSchema>> WalSchema::Load(const wal::DecodeContext& ctx) {
  auto schema = std::make_unique<WalSchema>();
  SQLIFT_ASSIGN_OR_RETURN(schema->cookie_, SchemaCookie(ctx));
  SQLIFT_ASSIGN_OR_RETURN(auto definitions, TableDefinitions(ctx));
  SQLIFT_ASSIGN_OR_RETURN(auto scratch,
                          SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWriteCreate));
  for (const auto& [name, sql] : definitions) {
    Status st = scratch->Exec(sql);
    if (!st.ok()) {
      return st.With(fmt::format(
          "table {}: its definition cannot be read outside the application (a collation or "
          "function only the application registers?)",
          name));
    }
  }
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadSchema(*scratch));
  for (TableSchema& t : tables) {
    std::string name = t.name;
    SQLIFT_ASSIGN_OR_RETURN(WalTableLayout layout, MakeWalTableLayout(std::move(t), *scratch));
    schema->tables_.emplace(std::move(name), std::move(layout));
  }
  return schema;
}

const WalTableLayout* WalSchema::Find(const std::string& table) const {
  auto it = tables_.find(table);
  return it == tables_.end() ? nullptr : &it->second;
}

Result<int> WalSchema::KeyFields(const std::string& table) const {
  const WalTableLayout* t = Find(table);
  // SQLite's and sqlift's own tables are rowid tables, and not in tables_.
  if (!t && (StartsWithNoCase(table, "sqlite_") || IsSqliftTable(table))) return 0;
  if (!t) return Status::NotFound(fmt::format("table {} is not in the schema", table));
  return t->table.without_rowid ? static_cast<int>(t->table.PrimaryKeyColumns().size()) : 0;
}

}  // namespace sqlift
