#include "capture/agent/wal_table_layout.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>

#include "capture/agent/schema_tracker.h"

namespace sqlift {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// The value SQLite gives `expr` (a column's DEFAULT as table_xinfo spells it). The expression
// is SQL text by nature and cannot be a bound value; it runs only in the agent's private
// in-memory database, on a definition SQLite already accepted.
Result<wal::Value> Evaluate(SqliteDb& db, const std::string& expr) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db.Prepare("SELECT " + expr));
  SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return wal::Value::Null();
  sqlite3_stmt* s = stmt.handle();
  switch (sqlite3_column_type(s, 0)) {
    case SQLITE_INTEGER:
      return wal::Value::Integer(sqlite3_column_int64(s, 0));
    case SQLITE_FLOAT:
      return wal::Value::Real(sqlite3_column_double(s, 0));
    case SQLITE_TEXT:
      return wal::Value::Text(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                                          static_cast<size_t>(sqlite3_column_bytes(s, 0))));
    case SQLITE_BLOB: {
      const char* p = static_cast<const char*>(sqlite3_column_blob(s, 0));
      return wal::Value::Blob(
          std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(s, 0))));
    }
    default:
      return wal::Value::Null();
  }
}

// A rowid table whose one-column key is declared INTEGER stores the key as the rowid, unless
// the key has an index of its own ("INTEGER PRIMARY KEY DESC" is SQLite's documented quirk).
Result<int> RowidAlias(const TableSchema& t, SqliteDb& scratch) {
  std::vector<uint32_t> pk = t.PrimaryKeyColumns();
  if (t.without_rowid || pk.size() != 1 || Upper(t.columns[pk[0]].declared_type) != "INTEGER") {
    return -1;
  }
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement q,
      scratch.Prepare("SELECT count(*) FROM pragma_index_list(?1) WHERE origin = 'pk'"));
  SQLIFT_RETURN_IF_ERROR(q.BindText(1, t.name));
  SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
  return row && q.ColumnInt64(0) == 0 ? static_cast<int>(pk[0]) : -1;
}

}  // namespace

bool HasRealAffinity(std::string_view declared_type) {
  const std::string t = Upper(declared_type);
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("INT") || has("CHAR") || has("CLOB") || has("TEXT") || has("BLOB") || t.empty()) {
    return false;
  }
  return has("REAL") || has("FLOA") || has("DOUB");
}

Result<WalTableLayout> MakeWalTableLayout(TableSchema table, SqliteDb& scratch) {
  WalTableLayout l;
  const size_t n = table.columns.size();
  SQLIFT_ASSIGN_OR_RETURN(l.ipk, RowidAlias(table, scratch));
  std::vector<uint32_t> pk = table.PrimaryKeyColumns();
  if (table.without_rowid) {
    for (uint32_t i : pk)
      l.record_to_column.push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i < n; ++i) {
    const ColumnSchema& c = table.columns[i];
    const bool in_key = std::find(pk.begin(), pk.end(), i) != pk.end();
    if (c.virtual_generated || (table.without_rowid && in_key)) continue;
    l.record_to_column.push_back(static_cast<int>(i));
  }
  std::vector<int> visible_index(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const ColumnSchema& c = table.columns[i];
    l.real_affinity.push_back(HasRealAffinity(c.declared_type));
    wal::Value dflt;
    if (c.has_default) {
      Result<wal::Value> v = Evaluate(scratch, c.default_sql);
      if (!v.ok()) return v.status().With(fmt::format("default of {}.{}", table.name, c.name));
      dflt = std::move(v).value();
    }
    l.defaults.push_back(std::move(dflt));
    if (c.hidden) continue;
    visible_index[i] = static_cast<int>(l.visible.size());
    l.visible.push_back(static_cast<int>(i));
  }
  for (uint32_t i : pk) {
    if (visible_index[i] >= 0) l.visible_pk.push_back(visible_index[i]);
  }
  l.column_visible = visible_index;
  for (size_t i = 0; i < n; ++i) {
    const int column = static_cast<int>(i);
    if (std::find(l.record_to_column.begin(), l.record_to_column.end(), column) ==
        l.record_to_column.end()) {
      l.unstored.push_back(column);
    }
  }
  l.table = std::move(table);
  l.shape = WireShapeOf(l.table, static_cast<int>(l.visible.size()));
  return l;
}

// Each column's value goes straight to its place in the visible row: from its record field,
// else its default (a record shorter than the table, or a column no record stores).
Result<std::vector<wal::Value>> VisibleRow(const WalTableLayout& l, int64_t rowid,
                                           const std::vector<wal::Value>& record) {
  if (record.size() > l.record_to_column.size()) {
    return Status::Corruption(fmt::format("table {}: a record of {} fields for {} stored columns",
                                          l.table.name, record.size(), l.record_to_column.size()));
  }
  std::vector<wal::Value> out(l.visible.size());
  bool stored_key = false;
  auto place = [&](int column, const wal::Value& v) {
    if (column == l.ipk) {
      stored_key = v.type != wal::Value::Type::kNull;
      return;  // the rowid, below
    }
    const int at = l.column_visible[static_cast<size_t>(column)];
    if (at < 0) return;
    wal::Value& slot = out[static_cast<size_t>(at)];
    slot = v;
    if (l.real_affinity[static_cast<size_t>(column)]) wal::ApplyRealAffinity(&slot);
  };
  for (size_t i = 0; i < l.record_to_column.size(); ++i) {
    const int column = l.record_to_column[i];
    place(column, i < record.size() ? record[i] : l.defaults[static_cast<size_t>(column)]);
  }
  for (int column : l.unstored)
    place(column, l.defaults[static_cast<size_t>(column)]);
  if (l.ipk >= 0) {
    if (stored_key) {
      return Status::Corruption(
          fmt::format("table {}: the rowid alias column holds a stored value", l.table.name));
    }
    const int at = l.column_visible[static_cast<size_t>(l.ipk)];
    if (at >= 0) out[static_cast<size_t>(at)] = wal::Value::Integer(rowid);
  }
  return out;
}

}  // namespace sqlift
