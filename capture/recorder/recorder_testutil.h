// Test helpers for the recorder's tests: a temporary directory, connections with the outbox, and
// a decoder that turns outbox payloads back into row changes with exact values, written against
// the session API directly so the tests do not depend on the agent's decoder.
// Thread safety: none; test code.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/recorder/recorder.h"

namespace sqlift::testing {

// A fresh directory under the system temporary directory, removed when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string Path(std::string_view name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;

// Opens (creating) `path` with extended result codes and the given busy timeout; with
// `outbox`, creates sqlift's tables. Fails the current test on error.
DbPtr OpenDb(const std::string& path, bool outbox = true, int busy_timeout_ms = 0);

// Runs SQL; returns the SQLite result code. Exec() fails the current test when it is not OK.
int TryExec(sqlite3* db, const std::string& sql);
void Exec(sqlite3* db, const std::string& sql);
// The first column of the first row as an integer (-1 when no row).
int64_t QueryInt(sqlite3* db, const std::string& sql);

// One value of a changeset, exactly: the SQLite type and the bits or bytes.
struct Value {
  int type = SQLITE_NULL;
  int64_t i = 0;
  double d = 0;       // compare with Bits() so -0.0 and NaN are exact
  std::string bytes;  // text or blob, NULs included
  uint64_t Bits() const;
  bool operator==(const Value& o) const;
};
Value Null();
Value Int(int64_t v);
Value Real(double v);
Value Text(std::string v);
Value Blob(std::string v);
Value ValueOf(sqlite3_value* v);
std::string Describe(const Value& v);

struct RowChange {
  std::string table;
  int op = 0;  // SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE
  // Per column; nullopt where the changeset holds no value (an UPDATE's unchanged columns).
  std::vector<std::optional<Value>> old_values, new_values;
};

// Decodes a changeset; fails the current test when it is malformed.
std::vector<RowChange> Decode(std::string_view changeset);

struct OutboxRow {
  int64_t seq = 0, committed_at = 0, kind = 0;
  std::string payload;
};
std::vector<OutboxRow> ReadOutbox(sqlite3* db);

// The change of `op` to the row of `table` whose first column is `key`, or null.
const RowChange* Find(const std::vector<RowChange>& changes, const std::string& table, int op,
                      int64_t key);

// A WAL database with items(id, name, qty), tags (composite key, WITHOUT ROWID), skipped
// (excluded) and _sqlift_private (reserved), and a recorder on it.
class RecorderTestBase : public ::testing::Test {
 protected:
  void SetUp() override;

  // A recorder that excludes "SKIPPED" (SQLite names ignore ASCII case).
  static std::unique_ptr<Recorder> Attach(sqlite3* db);
  // BEGIN IMMEDIATE; sql; flush (expecting `changes`); COMMIT.
  static void Txn(sqlite3* db, Recorder& rec, const std::string& sql, int64_t changes);
  // The decoded payload of the index-th outbox row.
  std::vector<RowChange> OutboxChanges(size_t index);

  TempDir dir_;
  DbPtr db_;
  std::unique_ptr<Recorder> rec_;
};

}  // namespace sqlift::testing
