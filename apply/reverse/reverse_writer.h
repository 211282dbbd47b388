// ReverseRowWriter: the SQL side of the reverse applier (capture/reverse_applier.h). Writes one
// PostgreSQL row change into its SQLite table through statements prepared once per (table,
// operation, column set) and cached. Internal to capture/.
//
// ReverseTarget is a PostgreSQL relation resolved against the SQLite schema: which SQLite
// column each PostgreSQL column goes to and where the SQLite primary key comes from.
//
// Lifetimes: `*db` must outlive the writer; a target's `table` points into the applier's schema
// cache, and Clear() must be called whenever that cache is rebuilt.
// Thread safety: none; the thread that owns the connection.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apply/translate/type_mapping.h"
#include "capture/pg_logical/pg_change.h"
#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/table_schema.h"

namespace sqlift {

struct ReverseTarget {
  std::shared_ptr<const pgchange::Relation> rel;  // the description this was resolved from
  std::string pg_name;                            // "schema.table", for messages
  const TableSchema* table = nullptr;             // the SQLite table
  // Per rel column: its index in table->columns; -1 when it is not written (the constant
  // tenant column of a database-per-tenant source).
  std::vector<int> sqlite_col;
  // Per SQLite primary key column, in key order: the rel column that holds its value.
  std::vector<int> key_src;
  // Per rel column: the unit [mapping] declares its instants are stored in (kAuto: none).
  std::vector<TimeUnit> time_unit;
  // Per rel column without a declared unit: the unit the newest of the table's recent rows
  // stores its instant in (kAuto: text, or no such row). Instants are written in it when the
  // number reads back in that unit by its magnitude (value_repr.h), else as ISO text.
  std::vector<TimeUnit> stored_unit;
  int tenant_col = -1;         // rel column of the tenant; -1 when the table has none
  bool tenant_in_key = false;  // the tenant column is part of PostgreSQL's replica identity
  // [target.constants]: (rel column, the value this source's rows hold).
  std::vector<std::pair<int, std::string>> constants;
  // A table of an existing target schema that SQLite does not have: its changes are skipped
  // (`table` is null).
  bool unmapped = false;
};

// The tuple an UPDATE or DELETE finds its row by: the old tuple when pgoutput sent one, else
// the new tuple (an UPDATE that kept its key).
const std::vector<pgchange::Datum>& KeyTuple(const pgchange::Change& change);

// "reverse replication: PostgreSQL transaction xid N at LSN X" (X: the commit LSN), the start
// of every refusal.
std::string ReverseTxnName(const pgchange::Transaction& txn);

// "(a, b)=(1, x)": the SQLite key columns and their values in `tuple`, for messages.
std::string DescribeKey(const ReverseTarget& target, const std::vector<pgchange::Datum>& tuple);

class ReverseRowWriter {
 public:
  explicit ReverseRowWriter(SqliteDb* db) : db_(db) {}

  // INSERT ... ON CONFLICT (primary key) DO UPDATE SET every other column.
  [[nodiscard]] Status Insert(const ReverseTarget& target, const pgchange::Change& change);
  // UPDATE ... SET the columns sent WHERE key = old key; FailedPrecondition when no row matches.
  [[nodiscard]] Status Update(const ReverseTarget& target, const pgchange::Change& change);
  // DELETE ... WHERE key = old key; a missing row is fine.
  [[nodiscard]] Status Delete(const ReverseTarget& target, const pgchange::Change& change);
  // The text of SQLite column `column` of the row whose key is in `tuple`; nullopt when there
  // is no such row or the value is NULL.
  [[nodiscard]] Result<std::optional<std::string>> ReadText(
      const ReverseTarget& target, const std::vector<pgchange::Datum>& tuple, int column);

  // Forgets every prepared statement (after a schema change).
  void Clear() { statements_.clear(); }

 private:
  // The cached statement for `key`, prepared from `sql()` on first use.
  template <typename MakeSql>
  [[nodiscard]] Result<SqliteStatement*> Statement(const std::string& key, MakeSql sql);
  // Binds the value of rel column `col` of `tuple` to parameter `index`.
  [[nodiscard]] Status BindColumn(SqliteStatement& stmt, int index, const ReverseTarget& target,
                                  const std::vector<pgchange::Datum>& tuple, int col);
  // Binds the key taken from `tuple` to parameters first_index, first_index + 1, ...
  [[nodiscard]] Status BindKey(SqliteStatement& stmt, int first_index, const ReverseTarget& target,
                               const std::vector<pgchange::Datum>& tuple);
  // The time columns among `cols` (rel columns of an UPDATE) whose instant in the new tuple is
  // the one SQLite's row already means, read as the forward path reads it (value_repr.h).
  [[nodiscard]] Result<std::vector<int>> SameInstants(const ReverseTarget& target,
                                                      const pgchange::Change& change,
                                                      const std::vector<int>& cols);
  // Runs `stmt` and resets it; returns the number of rows it changed.
  [[nodiscard]] Result<int64_t> RunAndReset(SqliteStatement& stmt);

  SqliteDb* db_;
  std::map<std::string, SqliteStatement> statements_;
};

}  // namespace sqlift
