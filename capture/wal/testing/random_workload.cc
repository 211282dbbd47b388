#include "capture/wal/testing/random_workload.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "common/base/text.h"

namespace sqlift::wal::testing {
namespace {

constexpr const char* kTables[] = {"t_rowid", "t_ipk", "t_wr"};
constexpr const char* kKeys[] = {"rowid", "id", "k2"};

}  // namespace

Status RandomWorkload::CreateTables() {
  return db_.Exec(
      "CREATE TABLE t_rowid(a TEXT, b INTEGER, c REAL, d BLOB, e);"
      "CREATE INDEX t_rowid_b ON t_rowid(b);"
      "CREATE TABLE t_ipk(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB);"
      "CREATE TABLE t_wr(k1 TEXT, k2 INTEGER, v BLOB, w REAL, x TEXT, PRIMARY KEY(k2, k1))"
      " WITHOUT ROWID;");
}

Status RandomWorkload::RunTransaction() {
  SQLIFT_RETURN_IF_ERROR(db_.Exec("BEGIN"));
  if (Below(20) == 0) {
    statements_.clear();  // none may be running while the schema changes
    SQLIFT_RETURN_IF_ERROR(Below(2) ? Ddl() : Alter());
    return db_.Exec("COMMIT");
  }
  int steps = 1 + static_cast<int>(Below(8));
  for (int i = 0; i < steps; ++i)
    SQLIFT_RETURN_IF_ERROR(Step());
  return db_.Exec("COMMIT");
}

Status RandomWorkload::Step() {
  int table = static_cast<int>(Below(3));
  uint32_t op = Below(24);
  if (op < 10) return Insert(table);
  if (op < 14) return Update(table);
  if (op < 18) return Delete(table);
  if (op < 21) return BulkInsert(table);
  if (op < 22) return BulkDelete(table);
  if (op < 23) return OverwriteTail(table);
  return db_.Exec("PRAGMA incremental_vacuum(4)");  // a no-op unless auto_vacuum=INCREMENTAL
}

// Tables t_x0, t_x1, ... created with rows and dropped, oldest first; an index created on a
// table that has rows. Names are never reused.
Status RandomWorkload::Ddl() {
  uint32_t kind = Below(3);
  if (kind == 0 && dropped_ < created_) {
    ++counts_.tables_dropped;
    return db_.Exec(fmt::format("DROP TABLE t_x{}", dropped_++));
  }
  if (kind == 1) return db_.Exec("CREATE INDEX IF NOT EXISTS t_ipk_name ON t_ipk(name)");
  int n = static_cast<int>(created_++);
  ++counts_.tables_created;
  SQLIFT_RETURN_IF_ERROR(
      db_.Exec(fmt::format("CREATE TABLE t_x{}(k INTEGER PRIMARY KEY, v TEXT, w BLOB)", n)));
  for (int rows = 5 + static_cast<int>(Below(40)); rows > 0; --rows) {
    SQLIFT_RETURN_IF_ERROR(Run(fmt::format("INSERT INTO t_x{}(v, w) VALUES (?, ?)", n),
                               {Value::Text(RandomText(20)), Value::Blob(RandomBlob())}));
  }
  return Status::OK();
}

// A column added to, renamed in or dropped from one of the three tables (only columns this
// workload added are renamed or dropped; RENAME and DROP COLUMN where SQLite has them).
Status RandomWorkload::Alter() {
  int table = static_cast<int>(Below(3));
  std::vector<std::string>& added = added_[table];
  uint32_t kind = Below(4);
  if (added.empty() || (kind < 2 && added.size() < 4)) return AddColumn(table);
  size_t i = Below(static_cast<uint32_t>(added.size()));
  if (kind == 2 && sqlite3_libversion_number() >= 3025000) {
    std::string name = fmt::format("x{}", next_column_++);
    SQLIFT_RETURN_IF_ERROR(db_.Exec(
        fmt::format("ALTER TABLE {} RENAME COLUMN {} TO {}", kTables[table], added[i], name)));
    added[i] = std::move(name);
    ++counts_.columns_renamed;
    return Status::OK();
  }
  if (sqlite3_libversion_number() < 3035000) return AddColumn(table);
  SQLIFT_RETURN_IF_ERROR(
      db_.Exec(fmt::format("ALTER TABLE {} DROP COLUMN {}", kTables[table], added[i])));
  added.erase(added.begin() + static_cast<std::ptrdiff_t>(i));
  ++counts_.columns_dropped;
  return Status::OK();
}

Status RandomWorkload::AddColumn(int table) {
  static constexpr const char* kTypes[] = {"",     "INTEGER", "TEXT",        "REAL",
                                           "BLOB", "NUMERIC", "VARCHAR(10)", "DOUBLE"};
  std::string name = fmt::format("x{}", next_column_++);
  SQLIFT_RETURN_IF_ERROR(
      db_.Exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {} DEFAULT {}", kTables[table], name,
                           kTypes[Below(8)], RandomDefault())));
  added_[table].push_back(std::move(name));
  ++counts_.columns_added;
  return Status::OK();
}

// A constant DEFAULT clause's expression: NULL, or a literal of any type, some of which a
// column's affinity converts (numeric text, a real in exponent form).
std::string RandomWorkload::RandomDefault() {
  auto quote = [](const std::string& text) {  // SQL text cannot hold a NUL
    std::string out = "'";
    for (char c : text)
      out += c == '\'' ? std::string("''") : std::string(1, c == '\0' ? '0' : c);
    return out + "'";
  };
  switch (Below(9)) {
    case 0:
      return "NULL";
    case 1:
      return fmt::format("{}", RandomInteger());
    case 2:
      return fmt::format("{:.17g}", std::ldexp(static_cast<double>(Below(1u << 20)), -7));
    case 3:
      return std::string(Below(2) ? "1e2" : "-0.0");
    case 4:
      return Below(2) ? "TRUE" : "FALSE";
    case 5:
      return quote(std::to_string(RandomInteger()));
    case 6: {
      std::string hex;
      for (unsigned char c : RandomText(8))
        hex += fmt::format("{:02x}", c);
      return "x'" + hex + "'";
    }
    default:
      return quote(RandomText(Below(8) == 0 ? usable_ : 12));
  }
}

size_t RandomWorkload::RandomSize() {
  uint32_t kind = Below(20);
  if (kind < 14) return Below(40);
  if (kind < 19) return Below(usable_);
  return 3 * usable_ + Below(usable_);  // at least three overflow pages
}

int64_t RandomWorkload::RandomInteger() {
  static constexpr int64_t kEdges[] = {0,
                                       1,
                                       -1,
                                       127,
                                       -128,
                                       32767,
                                       -32768,
                                       8388607,
                                       -8388608,
                                       2147483647,
                                       -2147483648LL,
                                       140737488355327LL,
                                       -140737488355328LL,
                                       std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
  if (Below(3) == 0) return kEdges[Below(std::size(kEdges))];
  int bits = 1 + static_cast<int>(Below(63));
  int64_t v = static_cast<int64_t>((uint64_t{rng_()} << 32 | rng_()) >> (64 - bits));
  return Below(2) ? v : -v;
}

double RandomWorkload::RandomReal() {
  static constexpr double kEdges[] = {0.0,
                                      -0.0,
                                      1.0,
                                      -3.0,
                                      0.5,
                                      1e300,
                                      -1e-300,
                                      4503599627370496.0,
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::denorm_min()};
  if (Below(3) == 0) return kEdges[Below(std::size(kEdges))];
  return std::ldexp(static_cast<double>(rng_()) / 4294967296.0 - 0.5,
                    static_cast<int>(Below(200)) - 100);
}

std::string RandomWorkload::RandomText(size_t max_chars) {
  static constexpr uint32_t kRanges[][2] = {
      {0x20, 0x7e},     {0xa0, 0x24f},      {0x370, 0x3ff},      {0x4e00, 0x4fff},
      {0xe000, 0xffff}, {0x1f300, 0x1f6ff}, {0x10000, 0x10ffff}, {0, 0x1f}};
  std::string out;
  size_t n = max_chars == 0 ? 0 : Below(static_cast<uint32_t>(max_chars) + 1);
  for (size_t i = 0; i < n; ++i) {
    const auto& r = kRanges[Below(std::size(kRanges))];
    uint32_t c = r[0] + Below(r[1] - r[0] + 1);
    if (c == 0xfffe || c == 0xffff) c = 'x';  // noncharacters SQLite keeps, but keep it plain
    AppendUtf8(c, &out);
  }
  return out;
}

std::string RandomWorkload::RandomBlob() {
  std::string out(RandomSize(), '\0');
  for (char& c : out)
    c = static_cast<char>(rng_());
  return out;
}

Value RandomWorkload::RandomValue() {
  switch (Below(5)) {
    case 0:
      return Value::Null();
    case 1:
      return Value::Integer(RandomInteger());
    case 2:
      return Value::Real(RandomReal());
    case 3:
      return Value::Text(RandomText(RandomSize() / 3));
    default:
      return Value::Blob(RandomBlob());
  }
}

// The statement for `sql` with `args` bound, prepared once (until the next DDL).
Result<SqliteStatement*> RandomWorkload::Bound(const std::string& sql,
                                               const std::vector<Value>& args) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    SQLIFT_ASSIGN_OR_RETURN(SqliteStatement prepared, db_.Prepare(sql));
    it = statements_.emplace(sql, std::move(prepared)).first;
  }
  SqliteStatement& s = it->second;
  SQLIFT_RETURN_IF_ERROR(s.Reset());
  for (size_t i = 0; i < args.size(); ++i) {
    int at = static_cast<int>(i) + 1;
    const Value& v = args[i];
    switch (v.type) {
      case Value::Type::kNull:
        SQLIFT_RETURN_IF_ERROR(s.BindNull(at));
        break;
      case Value::Type::kInteger:
        SQLIFT_RETURN_IF_ERROR(s.BindInt64(at, v.integer));
        break;
      case Value::Type::kReal:
        SQLIFT_RETURN_IF_ERROR(s.BindDouble(at, v.real));
        break;
      case Value::Type::kText:
        SQLIFT_RETURN_IF_ERROR(s.BindText(at, v.bytes));
        break;
      case Value::Type::kBlob:
        SQLIFT_RETURN_IF_ERROR(s.BindBlob(at, v.bytes));
        break;
    }
  }
  return &s;
}

Status RandomWorkload::Run(const std::string& sql, const std::vector<Value>& args) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement * s, Bound(sql, args));
  return s->Run();
}

// The one integer a query returns; the statement is reset, so DDL may follow.
Result<int64_t> RandomWorkload::QueryInt(const std::string& sql, const std::vector<Value>& args) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement * s, Bound(sql, args));
  SQLIFT_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return Status::NotFound(sql);
  int64_t v = s->ColumnInt64(0);
  SQLIFT_RETURN_IF_ERROR(s->Reset());
  return v;
}

Status RandomWorkload::Insert(int table) {
  if (table == 0) {
    return Run("INSERT INTO t_rowid(a, b, c, d, e) VALUES (?, ?, ?, ?, ?)",
               {Value::Text(RandomText(RandomSize() / 2)), Value::Integer(RandomInteger()),
                Value::Real(RandomReal()), Value::Blob(RandomBlob()), RandomValue()});
  }
  if (table == 1) {
    Value id = Below(2) ? Value::Null() : Value::Integer(RandomInteger());
    return Run("INSERT OR REPLACE INTO t_ipk(id, name, score, data) VALUES (?, ?, ?, ?)",
               {id, Value::Text(RandomText(30)), RandomValue(), Value::Blob(RandomBlob())});
  }
  return Run("INSERT OR REPLACE INTO t_wr(k1, k2, v, w, x) VALUES (?, ?, ?, ?, ?)",
             {Value::Text(RandomText(6)), Value::Integer(Below(60)), Value::Blob(RandomBlob()),
              Value::Real(RandomReal()), Value::Text(RandomText(RandomSize()))});
}

// A key of an existing row of `table` (its rowid, id or k2), chosen by the seeded generator.
Result<int64_t> RandomWorkload::PickKey(int table) {
  SQLIFT_ASSIGN_OR_RETURN(int64_t n,
                          QueryInt(fmt::format("SELECT count(*) FROM {}", kTables[table])));
  if (n == 0) return Status::NotFound("empty table");
  return QueryInt(fmt::format("SELECT {0} FROM {1} ORDER BY {0} LIMIT 1 OFFSET ?", kKeys[table],
                              kTables[table]),
                  {Value::Integer(Below(static_cast<uint32_t>(n)))});
}

Status RandomWorkload::Update(int table) {
  Result<int64_t> key = PickKey(table);
  if (!key.ok()) return Insert(table);
  if (!added_[table].empty() && Below(3) == 0) return UpdateAddedColumn(table, *key);
  Value k = Value::Integer(*key);
  if (table == 0) {
    return Run("UPDATE t_rowid SET a = ?, e = ? WHERE rowid = ?",
               {Value::Text(RandomText(RandomSize())), RandomValue(), k});
  }
  if (table == 1) {
    Value new_id = Below(3) == 0 ? Value::Integer(RandomInteger()) : k;  // a key change
    return Run("UPDATE OR REPLACE t_ipk SET id = ?, score = ?, data = ? WHERE id = ?",
               {new_id, RandomValue(), Value::Blob(RandomBlob()), k});
  }
  return Run("UPDATE OR REPLACE t_wr SET k2 = ?, v = ?, w = ? WHERE k2 = ?",
             {Value::Integer(Below(3) == 0 ? Below(60) : *key), Value::Blob(RandomBlob()),
              Value::Real(RandomReal()), k});
}

// An added column of the rows with key `key` set to a random value.
Status RandomWorkload::UpdateAddedColumn(int table, int64_t key) {
  const std::string& column = added_[table][Below(static_cast<uint32_t>(added_[table].size()))];
  return Run(fmt::format("UPDATE {} SET {} = ? WHERE {} = ?", kTables[table], column, kKeys[table]),
             {RandomValue(), Value::Integer(key)});
}

// The last byte of a blob changed, its size kept: SQLite rewrites such a row in place, and
// when the byte is on an overflow page, that page alone.
Status RandomWorkload::OverwriteTail(int table) {
  if (table == 2) table = 0;
  Result<int64_t> key = PickKey(table);
  if (!key.ok()) return Insert(table);
  const char* column = table == 0 ? "d" : "data";
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement read,
                          db_.Prepare(fmt::format("SELECT {} FROM {} WHERE {} = ?", column,
                                                  kTables[table], kKeys[table])));
  SQLIFT_RETURN_IF_ERROR(read.BindInt64(1, *key));
  SQLIFT_ASSIGN_OR_RETURN(bool row, read.Step());
  if (!row || read.ColumnType(0) != SQLITE_BLOB || read.ColumnBlob(0).empty()) return Status::OK();
  std::string blob(read.ColumnBlob(0));
  blob.back() = static_cast<char>(blob.back() ^ (1 + Below(255)));
  return Run(fmt::format("UPDATE {} SET {} = ? WHERE {} = ?", kTables[table], column, kKeys[table]),
             {Value::Blob(std::move(blob)), Value::Integer(*key)});
}

// Many small rows at once: pages split and trees grow a level.
Status RandomWorkload::BulkInsert(int table) {
  static constexpr const char* kSql[] = {
      "INSERT INTO t_rowid(a, b, c) VALUES (?, ?, ?)",
      "INSERT OR REPLACE INTO t_ipk(id, name, score) VALUES (?, ?, ?)",
      "INSERT OR REPLACE INTO t_wr(k1, k2, w) VALUES (?, ?, ?)"};
  int n = 10 + static_cast<int>(Below(30));
  for (int i = 0; i < n; ++i) {
    Value key = table == 0 ? Value::Text(RandomText(8))
                           : Value::Integer(table == 1 ? RandomInteger() : Below(60));
    if (table == 2) key = Value::Text(RandomText(4));
    Value second = table == 2 ? Value::Integer(Below(60)) : Value::Text(RandomText(8));
    if (table == 0) second = Value::Integer(RandomInteger());
    SQLIFT_RETURN_IF_ERROR(Run(kSql[table], {key, second, Value::Real(RandomReal())}));
  }
  return Status::OK();
}

// A run of neighbouring rows: pages empty and merge, trees may lose a level.
Status RandomWorkload::BulkDelete(int table) {
  SQLIFT_ASSIGN_OR_RETURN(int64_t n,
                          QueryInt(fmt::format("SELECT count(*) FROM {}", kTables[table])));
  if (n == 0) return Status::OK();
  return Run(fmt::format("DELETE FROM {0} WHERE {1} IN (SELECT {1} FROM {0} ORDER BY {1} "
                         "LIMIT ? OFFSET ?)",
                         kTables[table], kKeys[table]),
             {Value::Integer(1 + Below(static_cast<uint32_t>(n))),
              Value::Integer(Below(static_cast<uint32_t>(n)))});
}

Status RandomWorkload::Delete(int table) {
  Result<int64_t> key = PickKey(table);
  if (!key.ok()) return Insert(table);
  if (Below(4) == 0) {  // a range: empties pages, so neighbours merge
    int64_t span = Below(20);
    int64_t last = *key > std::numeric_limits<int64_t>::max() - span ? *key : *key + span;
    return Run(fmt::format("DELETE FROM {} WHERE {} BETWEEN ? AND ?", kTables[table], kKeys[table]),
               {Value::Integer(*key), Value::Integer(last)});
  }
  return Run(fmt::format("DELETE FROM {} WHERE {} = ?", kTables[table], kKeys[table]),
             {Value::Integer(*key)});
}

}  // namespace sqlift::wal::testing
