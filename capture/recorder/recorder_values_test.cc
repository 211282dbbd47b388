// Values and names that must cross the changeset unchanged: the bits of every number, every byte
// of every string, and identifiers with quotes, spaces and non-ASCII letters.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "capture/recorder/recorder.h"
#include "capture/recorder/recorder_testutil.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {
namespace {

using namespace sqlift::testing;  // NOLINT

const std::string kTable = "t\"ab le ø";  // quote, space, non-ASCII
const std::string kKeyed = "ключ \"k\"";  // a WITHOUT ROWID table keyed by text

std::vector<Value> EdgeValues() {
  using L = std::numeric_limits<double>;
  return {
      Null(),
      Int(std::numeric_limits<int64_t>::min()),
      Int(std::numeric_limits<int64_t>::max()),
      Real(-0.0),
      Real(L::infinity()),
      Real(-L::infinity()),
      Real(L::max()),
      Real(L::denorm_min()),
      Real(-L::min()),
      Text(""),
      Text(std::string("a\0b\xff\xfe", 5)),  // NUL and invalid UTF-8
      Text("quote \" é"),
      Blob(""),
      Blob(std::string(10 * 1024 * 1024 + 7, '\0')),  // filled below
  };
}

void Bind(sqlite3_stmt* stmt, int index, const Value& v) {
  switch (v.type) {
    case SQLITE_INTEGER:
      sqlite3_bind_int64(stmt, index, v.i);
      break;
    case SQLITE_FLOAT:
      sqlite3_bind_double(stmt, index, v.d);
      break;
    case SQLITE_TEXT:
      sqlite3_bind_text64(stmt, index, v.bytes.data(), v.bytes.size(), SQLITE_STATIC, SQLITE_UTF8);
      break;
    case SQLITE_BLOB:
      sqlite3_bind_blob64(stmt, index, v.bytes.data(), v.bytes.size(), SQLITE_STATIC);
      break;
    default:
      sqlite3_bind_null(stmt, index);
  }
}

void RunSql(sqlite3* db, const std::string& sql, const std::vector<Value>& params) {
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sql << ": " << sqlite3_errmsg(db);
  for (size_t i = 0; i < params.size(); ++i)
    Bind(stmt, static_cast<int>(i + 1), params[i]);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
}

class RecorderValuesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenDb(dir_.Path("values.db"));
    Exec(db_.get(), "CREATE TABLE " + QuoteSqliteIdentifier(kTable) + " (" +
                        QuoteSqliteIdentifier("k\"ey") + " INTEGER PRIMARY KEY, " +
                        QuoteSqliteIdentifier("v al ü") + ", r REAL)");
    Exec(db_.get(), "CREATE TABLE " + QuoteSqliteIdentifier(kKeyed) +
                        " (k TEXT PRIMARY KEY, v) WITHOUT ROWID");
    auto r = Recorder::Attach(db_.get());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    rec_ = std::move(r).value();
    values_ = EdgeValues();
    for (size_t i = 0; i < values_.back().bytes.size(); ++i)
      values_.back().bytes[i] = char(i * 31);
  }

  // One transaction running `statements`; returns its decoded changeset.
  std::vector<RowChange> Commit(const std::function<void()>& statements, int64_t changes) {
    Exec(db_.get(), "BEGIN");
    statements();
    Result<int64_t> n = rec_->Flush();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(n.ok() ? *n : -1, changes);
    Exec(db_.get(), "COMMIT");
    std::vector<OutboxRow> rows = ReadOutbox(db_.get());
    return rows.empty() ? std::vector<RowChange>{} : Decode(rows.back().payload);
  }

  // The change to row `key` of kTable.
  static const RowChange& ChangeTo(const std::vector<RowChange>& changes, int64_t key) {
    for (const RowChange& c : changes) {
      const auto& values = c.op == SQLITE_INSERT ? c.new_values : c.old_values;
      if (c.table == kTable && values[0] == Int(key)) return c;
    }
    static const RowChange kNone;
    ADD_FAILURE() << "no change to row " << key;
    return kNone;
  }

  TempDir dir_;
  DbPtr db_;
  std::unique_ptr<Recorder> rec_;
  std::vector<Value> values_;
};

TEST_F(RecorderValuesTest, EdgeValuesRoundTripThroughInsertUpdateDelete) {
  const std::string table = QuoteSqliteIdentifier(kTable);
  const int64_t n = static_cast<int64_t>(values_.size());
  std::vector<RowChange> inserted = Commit(
      [&] {
        for (int64_t k = 0; k < n; ++k) {
          RunSql(db_.get(), "INSERT INTO " + table + " VALUES (?, ?, ?)",
                 {Int(k), values_[k], values_[k]});
        }
      },
      n);
  ASSERT_EQ(inserted.size(), values_.size());
  for (int64_t k = 0; k < n; ++k) {
    const RowChange& c = ChangeTo(inserted, k);
    ASSERT_EQ(c.new_values.size(), 3u);
    // The untyped column keeps the value as bound; the REAL column holds what its affinity made
    // of it, and the changeset must carry exactly that.
    EXPECT_EQ(c.new_values[1], values_[k]) << "row " << k << ": " << Describe(*c.new_values[1]);
    sqlite3_stmt* sel = nullptr;
    sqlite3_prepare_v2(db_.get(), ("SELECT r FROM " + table + " WHERE rowid = ?").c_str(), -1, &sel,
                       nullptr);
    sqlite3_bind_int64(sel, 1, k);
    ASSERT_EQ(sqlite3_step(sel), SQLITE_ROW);
    Value stored = ValueOf(sqlite3_column_value(sel, 0));
    sqlite3_finalize(sel);
    EXPECT_EQ(c.new_values[2], stored) << "row " << k << ": " << Describe(*c.new_values[2]);
  }

  // Rotate: row k takes value k+1. Old and new values come from different code paths.
  std::vector<RowChange> updated = Commit(
      [&] {
        for (int64_t k = 0; k < n; ++k) {
          RunSql(db_.get(), "UPDATE " + table + " SET \"v al ü\" = ? WHERE rowid = ?",
                 {values_[(k + 1) % n], Int(k)});
        }
      },
      n);
  ASSERT_EQ(updated.size(), values_.size());
  for (int64_t k = 0; k < n; ++k) {
    const RowChange& c = ChangeTo(updated, k);
    EXPECT_EQ(c.op, SQLITE_UPDATE);
    EXPECT_EQ(c.old_values[1], values_[k]) << "row " << k;
    EXPECT_EQ(c.new_values[1], values_[(k + 1) % n]) << "row " << k;
  }

  std::vector<RowChange> deleted = Commit([&] { Exec(db_.get(), "DELETE FROM " + table); }, n);
  for (int64_t k = 0; k < n; ++k) {
    EXPECT_EQ(ChangeTo(deleted, k).old_values[1], values_[(k + 1) % n]) << "row " << k;
  }
}

TEST_F(RecorderValuesTest, TextKeysAndNamesRoundTrip) {
  const std::string table = QuoteSqliteIdentifier(kKeyed);
  const Value key = Text(std::string("k\0\xff\"'", 5));
  std::vector<RowChange> inserted =
      Commit([&] { RunSql(db_.get(), "INSERT INTO " + table + " VALUES (?, 1)", {key}); }, 1);
  ASSERT_EQ(inserted.size(), 1u);
  EXPECT_EQ(inserted[0].table, kKeyed);
  EXPECT_EQ(inserted[0].new_values[0], key);

  std::vector<RowChange> updated =
      Commit([&] { RunSql(db_.get(), "UPDATE " + table + " SET v = 2 WHERE k = ?", {key}); }, 1);
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(updated[0].op, SQLITE_UPDATE);
  EXPECT_EQ(updated[0].old_values[0], key);
  EXPECT_EQ(updated[0].new_values[1], Int(2));
}

}  // namespace
}  // namespace sqlift
