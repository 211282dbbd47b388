#include "capture/recorder/recorder_testutil.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>

#include "capture/outbox/outbox.h"

namespace sqlift::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sqlift_rec_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern;
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

DbPtr OpenDb(const std::string& path, bool outbox, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  DbPtr db(raw);
  EXPECT_EQ(rc, SQLITE_OK) << path;
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  if (outbox) {
    Status st = outbox::CreateTables(raw);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  return db;
}

int TryExec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
}

void Exec(sqlite3* db, const std::string& sql) {
  int rc = TryExec(db, sql);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
}

int64_t QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sql << ": " << sqlite3_errmsg(db);
  int64_t v = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  return v;
}

uint64_t Value::Bits() const {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

bool Value::operator==(const Value& o) const {
  if (type != o.type) return false;
  switch (type) {
    case SQLITE_INTEGER:
      return i == o.i;
    case SQLITE_FLOAT:
      return Bits() == o.Bits();
    case SQLITE_TEXT:
    case SQLITE_BLOB:
      return bytes == o.bytes;
    default:
      return true;
  }
}

Value Null() {
  return Value{};
}
Value Int(int64_t v) {
  return Value{SQLITE_INTEGER, v, 0, ""};
}
Value Real(double v) {
  return Value{SQLITE_FLOAT, 0, v, ""};
}
Value Text(std::string v) {
  return Value{SQLITE_TEXT, 0, 0, std::move(v)};
}
Value Blob(std::string v) {
  return Value{SQLITE_BLOB, 0, 0, std::move(v)};
}

std::string Describe(const Value& v) {
  switch (v.type) {
    case SQLITE_INTEGER:
      return fmt::format("int {}", v.i);
    case SQLITE_FLOAT:
      return fmt::format("real {} (bits {:#x})", v.d, v.Bits());
    case SQLITE_TEXT:
      return fmt::format("text of {} bytes", v.bytes.size());
    case SQLITE_BLOB:
      return fmt::format("blob of {} bytes", v.bytes.size());
    default:
      return "null";
  }
}

Value ValueOf(sqlite3_value* v) {
  Value out;
  out.type = sqlite3_value_type(v);
  if (out.type == SQLITE_INTEGER) out.i = sqlite3_value_int64(v);
  if (out.type == SQLITE_FLOAT) out.d = sqlite3_value_double(v);
  if (out.type == SQLITE_TEXT || out.type == SQLITE_BLOB) {
    const void* p = out.type == SQLITE_TEXT ? static_cast<const void*>(sqlite3_value_text(v))
                                            : sqlite3_value_blob(v);
    if (p != nullptr) out.bytes.assign(static_cast<const char*>(p), sqlite3_value_bytes(v));
  }
  return out;
}

namespace {

// Column values of the iterator's current change, old or new.
std::vector<std::optional<Value>> Values(sqlite3_changeset_iter* it, int ncol, bool old) {
  std::vector<std::optional<Value>> values(ncol);
  for (int c = 0; c < ncol; ++c) {
    sqlite3_value* v = nullptr;
    int rc = old ? sqlite3changeset_old(it, c, &v) : sqlite3changeset_new(it, c, &v);
    EXPECT_EQ(rc, SQLITE_OK);
    if (v != nullptr) values[c] = ValueOf(v);
  }
  return values;
}

}  // namespace

std::vector<RowChange> Decode(std::string_view changeset) {
  std::vector<RowChange> out;
  sqlite3_changeset_iter* it = nullptr;
  EXPECT_EQ(sqlite3changeset_start(&it, static_cast<int>(changeset.size()),
                                   const_cast<char*>(changeset.data())),
            SQLITE_OK);
  int rc;
  while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
    const char* table = nullptr;
    int ncol = 0, op = 0, indirect = 0;
    EXPECT_EQ(sqlite3changeset_op(it, &table, &ncol, &op, &indirect), SQLITE_OK);
    RowChange change{table, op, {}, {}};
    if (op != SQLITE_INSERT) change.old_values = Values(it, ncol, /*old=*/true);
    if (op != SQLITE_DELETE) change.new_values = Values(it, ncol, /*old=*/false);
    out.push_back(std::move(change));
  }
  EXPECT_EQ(rc, SQLITE_DONE);
  EXPECT_EQ(sqlite3changeset_finalize(it), SQLITE_OK);
  return out;
}

std::vector<OutboxRow> ReadOutbox(sqlite3* db) {
  std::vector<OutboxRow> rows;
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT seq, committed_at, kind, payload FROM _sqlift_outbox "
                               "ORDER BY seq",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    OutboxRow row{sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
                  sqlite3_column_int64(stmt, 2), ""};
    const void* p = sqlite3_column_blob(stmt, 3);
    if (p != nullptr)
      row.payload.assign(static_cast<const char*>(p), sqlite3_column_bytes(stmt, 3));
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return rows;
}

const RowChange* Find(const std::vector<RowChange>& changes, const std::string& table, int op,
                      int64_t key) {
  for (const RowChange& c : changes) {
    const auto& values = op == SQLITE_INSERT ? c.new_values : c.old_values;
    if (c.table == table && c.op == op && !values.empty() && values[0] == Int(key)) return &c;
  }
  return nullptr;
}

void RecorderTestBase::SetUp() {
  db_ = OpenDb(dir_.Path("app.db"));
  Exec(db_.get(),
       "PRAGMA journal_mode=WAL;"
       "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER);"
       "CREATE TABLE tags(item_id INTEGER, tag TEXT, PRIMARY KEY(item_id, tag)) WITHOUT ROWID;"
       "CREATE TABLE skipped(id INTEGER PRIMARY KEY, v);"
       "CREATE TABLE _sqlift_private(id INTEGER PRIMARY KEY, v);");
  rec_ = Attach(db_.get());
}

std::unique_ptr<Recorder> RecorderTestBase::Attach(sqlite3* db) {
  RecorderOptions options;
  options.exclude_tables = {"SKIPPED"};
  auto r = Recorder::Attach(db, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

void RecorderTestBase::Txn(sqlite3* db, Recorder& rec, const std::string& sql, int64_t changes) {
  Exec(db, "BEGIN IMMEDIATE;" + sql);
  Result<int64_t> n = rec.Flush();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, changes) << sql;
  Exec(db, "COMMIT");
}

std::vector<RowChange> RecorderTestBase::OutboxChanges(size_t index) {
  std::vector<OutboxRow> rows = ReadOutbox(db_.get());
  EXPECT_LT(index, rows.size());
  return index < rows.size() ? Decode(rows[index].payload) : std::vector<RowChange>{};
}

}  // namespace sqlift::testing
