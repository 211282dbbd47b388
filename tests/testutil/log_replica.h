// LogReplica: replays the agent's change log into a fresh SQLite database, strictly, so a
// scenario test can compare the result with the source database without trusting the code
// under test to apply anything. An INSERT of a key that exists, or an UPDATE or DELETE of a
// key that does not, is an error: a change applied twice or lost.
//
// DiffDatabases compares the rows of every table of one database with another.
// Thread safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift::testing {

class LogReplica {
 public:
  [[nodiscard]] static Result<std::unique_ptr<LogReplica>> Create(const std::string& path);

  // Applies every record of the log in `state_dir`, checking seqs are 1, 2, 3, ... with no gap.
  [[nodiscard]] Status ReplayLog(const std::string& state_dir);
  // Applies one record (DDL events create tables; later definitions must match).
  [[nodiscard]] Status Apply(const wire::ChangeBatch& batch);

  SqliteDb& db() { return *db_; }
  uint64_t last_seq() const { return last_seq_; }
  uint64_t changes() const { return changes_; }
  // Every CHANGES or REVERSE transaction seen, in log order.
  const std::vector<wire::Transaction>& transactions() const { return transactions_; }

 private:
  explicit LogReplica(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  [[nodiscard]] Status ApplyChange(const wire::TableShape& shape, const wire::RowChange& c);

  std::unique_ptr<SqliteDb> db_;
  uint64_t last_seq_ = 0;
  uint64_t changes_ = 0;
  std::vector<wire::Transaction> transactions_;
};

// "" when every table of `expected` (sqlift's own left out) has the same rows in `actual`;
// otherwise a description of the first difference.
[[nodiscard]] Result<std::string> DiffDatabases(SqliteDb& expected, SqliteDb& actual);

}  // namespace sqlift::testing
