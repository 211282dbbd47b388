#include "capture/wal/testing/sqlite_oracle.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace sqlift::wal::testing {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// SQLite's affinity rules, in their order: INT, then CHAR/CLOB/TEXT, then BLOB, then REAL.
bool RealAffinity(const std::string& declared) {
  std::string t = Upper(declared);
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("INT") || has("CHAR") || has("CLOB") || has("TEXT") || has("BLOB")) return false;
  return has("REAL") || has("FLOA") || has("DOUB");
}

Value OracleValue(const SqliteStatement& s, int col) {
  switch (s.ColumnType(col)) {
    case SQLITE_INTEGER:
      return Value::Integer(s.ColumnInt64(col));
    case SQLITE_FLOAT:
      return Value::Real(s.ColumnDouble(col));
    case SQLITE_TEXT:
      return Value::Text(std::string(s.ColumnText(col)));
    case SQLITE_BLOB:
      return Value::Blob(std::string(s.ColumnBlob(col)));
    default:
      return Value::Null();
  }
}

struct ColumnInfo {
  std::string name;
  std::string type;
  int pk = 0;
  std::optional<std::string> default_sql;  // the DEFAULT expression as written
};

Result<std::vector<ColumnInfo>> Columns(SqliteDb& db, const std::string& table) {
  SQLIFT_ASSIGN_OR_RETURN(
      auto s, db.Prepare("SELECT name, type, pk, dflt_value FROM pragma_table_info(?)"));
  SQLIFT_RETURN_IF_ERROR(s.BindText(1, table));
  std::vector<ColumnInfo> out;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    ColumnInfo c{std::string(s.ColumnText(0)), std::string(s.ColumnText(1)),
                 static_cast<int>(s.ColumnInt64(2)), std::nullopt};
    if (s.ColumnType(3) != SQLITE_NULL) c.default_sql = std::string(s.ColumnText(3));
    out.push_back(std::move(c));
  }
}

Result<Value> ReadAddedColumn(SqliteDb& db, const ColumnInfo& c) {
  SQLIFT_RETURN_IF_ERROR(db.Exec(fmt::format(
      "ALTER TABLE temp.sqlift_default_probe ADD COLUMN c {} DEFAULT {}", c.type, *c.default_sql)));
  SQLIFT_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT c FROM temp.sqlift_default_probe"));
  SQLIFT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Internal("the default probe table lost its row");
  return OracleValue(s, 0);
}

// What SQLite reads for column `c` of a row stored before the column was added. Not always
// the value an INSERT would store (a TEXT column's DEFAULT 1e2 reads as '1e2' but is inserted
// as '100.0'), so it is asked of SQLite the same way: a one-row temp table gains the column.
Result<Value> ColumnDefault(SqliteDb& db, const ColumnInfo& c) {
  if (!c.default_sql) return Value::Null();
  SQLIFT_RETURN_IF_ERROR(
      db.Exec("CREATE TEMP TABLE sqlift_default_probe(x);"
              "INSERT INTO temp.sqlift_default_probe VALUES (0)"));
  Result<Value> out = ReadAddedColumn(db, c);
  SQLIFT_RETURN_IF_ERROR(db.Exec("DROP TABLE temp.sqlift_default_probe"));
  return out;
}

void FillKeyShape(const std::vector<ColumnInfo>& cols, TableShape* t) {
  std::vector<int> pk;
  for (int i = 0; i < static_cast<int>(cols.size()); ++i) {
    if (cols[i].pk > 0) pk.push_back(i);
  }
  std::sort(pk.begin(), pk.end(), [&](int a, int b) { return cols[a].pk < cols[b].pk; });
  if (!t->without_rowid) {
    if (pk.size() == 1 && Upper(cols[pk[0]].type) == "INTEGER") t->ipk = pk[0];
    t->order_by = "rowid";
    return;
  }
  t->pk_count = static_cast<int>(pk.size());
  t->record_columns = pk;
  for (int i = 0; i < static_cast<int>(cols.size()); ++i) {
    if (cols[i].pk == 0) t->record_columns.push_back(i);
  }
  for (int c : pk) {
    t->order_by += (t->order_by.empty() ? "" : ", ") + QuoteSqliteIdentifier(cols[c].name);
  }
}

}  // namespace

std::string DbConfig::Name() const {
  return fmt::format("page {} {} reserved {} auto_vacuum {} secure_delete {}", page_size, encoding,
                     reserved_bytes, auto_vacuum, secure_delete);
}

Result<std::unique_ptr<SqliteDb>> CreateWalDatabase(const std::string& path, const DbConfig& c) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate));
  SQLIFT_RETURN_IF_ERROR(db->Exec(fmt::format("PRAGMA page_size={}", c.page_size)));
  int reserve = c.reserved_bytes;
  if (sqlite3_file_control(db->handle(), "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) !=
      SQLITE_OK) {
    return Status::Internal("SQLITE_FCNTL_RESERVE_BYTES failed");
  }
  SQLIFT_RETURN_IF_ERROR(
      db->Exec(fmt::format("PRAGMA encoding='{}'; PRAGMA auto_vacuum={}; PRAGMA journal_mode=WAL; "
                           "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=OFF;",
                           c.encoding, c.auto_vacuum)));
  return db;
}

void SeedSqliteRandomness(uint32_t seed) {
  sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, static_cast<int>(seed | 1), nullptr);
}

Result<std::vector<TableShape>> ReadShapes(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT name, wr FROM pragma_table_list WHERE "
                                             "schema='main' AND name NOT LIKE 'sqlite\\_%' "
                                             "ESCAPE '\\' AND type='table' ORDER BY name"));
  std::vector<TableShape> tables;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    tables.emplace_back().name = std::string(s.ColumnText(0));
    tables.back().without_rowid = s.ColumnInt64(1) != 0;
  }
  SQLIFT_RETURN_IF_ERROR(s.Reset());  // ColumnDefault drops a table: no statement may be active
  std::vector<TableShape> out;
  for (TableShape& t : tables) {
    SQLIFT_ASSIGN_OR_RETURN(std::vector<ColumnInfo> cols, Columns(db, t.name));
    for (const ColumnInfo& c : cols) {
      t.columns.push_back(c.name);
      t.real_affinity.push_back(RealAffinity(c.type));
      SQLIFT_ASSIGN_OR_RETURN(t.defaults.emplace_back(), ColumnDefault(db, c));
    }
    FillKeyShape(cols, &t);
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<Row>> OracleRows(SqliteDb& db, const TableShape& t) {
  std::string sql = fmt::format("SELECT {}* FROM {} ORDER BY {}", t.without_rowid ? "" : "rowid, ",
                                QuoteSqliteIdentifier(t.name), t.order_by);
  SQLIFT_ASSIGN_OR_RETURN(auto s, db.Prepare(sql));
  std::vector<Row> out;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool more, s.Step());
    if (!more) return out;
    Row row;
    for (int i = 0; i < s.ColumnCount(); ++i)
      row.push_back(OracleValue(s, i));
    out.push_back(std::move(row));
  }
}

Result<std::map<std::string, uint32_t>> RootPages(const DecodeContext& ctx) {
  std::map<std::string, uint32_t> out;
  SQLIFT_RETURN_IF_ERROR(WalkBtree(ctx, 1, [&](BtreeEntry&& e) -> Status {
    if (e.values.size() != 5) return Status::Corruption("sqlite_schema row of the wrong width");
    if (e.values[3].type == Value::Type::kInteger && e.values[3].integer > 0) {
      out[e.values[1].bytes] = static_cast<uint32_t>(e.values[3].integer);
    }
    return Status::OK();
  }));
  return out;
}

Result<Row> ShapeRow(const TableShape& t, BtreeEntry e, MissingFields missing) {
  size_t ncols = t.real_affinity.size();
  if (e.values.size() > ncols) {
    return Status::Corruption(
        fmt::format("{}: a record of {} values for {} columns", t.name, e.values.size(), ncols));
  }
  Row row(ncols);
  for (size_t i = 0; i < ncols; ++i) {
    size_t col = t.without_rowid ? static_cast<size_t>(t.record_columns[i]) : i;
    if (i < e.values.size()) {
      row[col] = std::move(e.values[i]);
    } else if (missing == MissingFields::kDefault) {
      row[col] = t.defaults[col];
    }
  }
  if (t.ipk >= 0) {
    if (row[t.ipk].type != Value::Type::kNull) return Status::Corruption("IPK column not NULL");
    row[t.ipk] = Value::Integer(e.rowid);
  }
  for (size_t i = 0; i < ncols; ++i) {
    if (t.real_affinity[i]) ApplyRealAffinity(&row[i]);
  }
  if (!t.without_rowid) row.insert(row.begin(), Value::Integer(e.rowid));
  return row;
}

Result<std::vector<Row>> DecodedRows(const DecodeContext& ctx, uint32_t root, const TableShape& t) {
  std::vector<Row> out;
  SQLIFT_RETURN_IF_ERROR(WalkBtree(ctx, root, [&](BtreeEntry&& e) -> Status {
    SQLIFT_ASSIGN_OR_RETURN(Row row, ShapeRow(t, std::move(e)));
    out.push_back(std::move(row));
    return Status::OK();
  }));
  return out;
}

std::string RowString(const Row& row) {
  std::string out = "(";
  for (const Value& v : row)
    out += (out.size() > 1 ? ", " : "") + v.DebugString();
  return out + ")";
}

}  // namespace sqlift::wal::testing
