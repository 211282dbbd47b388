// SQLite's session extension as the oracle of per-transaction row changes, and the helpers
// that put decoded changes in the same form: a changeset entry is "table op" and, per column,
// its old and new value or "-" where a changeset leaves it undefined (an UPDATE gives the
// primary key's old value and the old and new values of the columns that changed).
//
// Thread safety: none; one test thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capture/wal/testing/sqlite_oracle.h"

namespace sqlift::wal::testing {

class SessionRecorder {
 public:
  explicit SessionRecorder(SqliteDb& db) : db_(db) {}
  ~SessionRecorder();

  // Starts recording (all tables with a primary key) for one transaction.
  [[nodiscard]] Status Begin();
  // What was recorded since Begin, one string per change, sorted; recording stops.
  [[nodiscard]] Result<std::vector<std::string>> Changes();

 private:
  SqliteDb& db_;
  sqlite3_session* session_ = nullptr;
};

// Whether the session extension gives a row stored before ALTER TABLE ADD COLUMN the added
// column's default as its old value, as SQLite reads the row (3.40's gives NULL instead).
[[nodiscard]] Result<bool> SessionReadsDefaultsOfAddedColumns();

// The row's key within its table, as a string (rowid tables: the rowid).
std::string RowKey(const TableShape& t, const Row& row);
// The changeset entry for a change from old_row to new_row (shaped rows; either may be unset).
std::string ChangesetForm(const TableShape& t, const std::optional<Row>& old_row,
                          const std::optional<Row>& new_row);
// Applies one change to a model of the table, strictly: the old row must be there exactly,
// and a new row's key must be free once the old row is gone.
[[nodiscard]] Status ApplyToModel(const TableShape& t, const std::optional<Row>& old_row,
                                  const std::optional<Row>& new_row,
                                  std::map<std::string, Row>* model);

}  // namespace sqlift::wal::testing
