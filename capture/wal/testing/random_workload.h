// RandomWorkload: seeded, replayable write transactions on three tables that cover the
// b-tree shapes the decoder must read: a rowid table with an index and mixed-type columns, a
// table with an INTEGER PRIMARY KEY, and a WITHOUT ROWID table with a composite key given
// out of column order. Values run through every serial type, text outside the BMP, and rows
// big enough for at least three overflow pages; transactions insert, update (primary keys
// too), delete single rows and ranges (page splits and merges), and in an incremental
// auto_vacuum database sometimes vacuum; bulk inserts and deletes grow and shrink the trees.
// Some transactions are DDL alone (as a session cannot make a changeset for a table whose
// schema changed after it recorded changes to it): tables created (with rows) and dropped, an
// index created, and the three tables altered: columns added with a constant DEFAULT (NULL,
// or a value of any type, so older rows have records shorter than the table), renamed and
// dropped (which rewrites every row). Later statements set the added columns too.
//
// Thread safety: none; one test thread.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "capture/wal/record.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift::wal::testing {

class RandomWorkload {
 public:
  // usable_size: the page's usable bytes, to size the rows that overflow.
  RandomWorkload(SqliteDb& db, uint32_t seed, uint32_t usable_size)
      : db_(db), rng_(seed), usable_(usable_size) {}

  // What the DDL transactions did so far.
  struct DdlCounts {
    int tables_created = 0, tables_dropped = 0;
    int columns_added = 0, columns_renamed = 0, columns_dropped = 0;
  };

  [[nodiscard]] Status CreateTables();
  // One transaction: 1 to 8 random statements, or now and then one DDL statement.
  [[nodiscard]] Status RunTransaction();
  const DdlCounts& ddl_counts() const { return counts_; }

  Value RandomValue();
  std::string RandomText(size_t max_chars);
  std::string RandomBlob();

 private:
  [[nodiscard]] Status Step();
  [[nodiscard]] Status Insert(int table);
  [[nodiscard]] Status Update(int table);
  [[nodiscard]] Status Delete(int table);
  [[nodiscard]] Status BulkInsert(int table);
  [[nodiscard]] Status BulkDelete(int table);
  [[nodiscard]] Status OverwriteTail(int table);
  [[nodiscard]] Status Ddl();
  [[nodiscard]] Status Alter();
  [[nodiscard]] Status AddColumn(int table);
  [[nodiscard]] Status UpdateAddedColumn(int table, int64_t key);
  std::string RandomDefault();
  [[nodiscard]] Result<int64_t> PickKey(int table);
  [[nodiscard]] Result<SqliteStatement*> Bound(const std::string& sql,
                                               const std::vector<Value>& args);
  [[nodiscard]] Status Run(const std::string& sql, const std::vector<Value>& args);
  [[nodiscard]] Result<int64_t> QueryInt(const std::string& sql,
                                         const std::vector<Value>& args = {});
  size_t RandomSize();
  int64_t RandomInteger();
  double RandomReal();
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }

  SqliteDb& db_;
  std::mt19937 rng_;
  uint32_t usable_;
  uint32_t created_ = 0;               // extra tables t_x<n> created
  uint32_t dropped_ = 0;               // ... and dropped, oldest first
  std::vector<std::string> added_[3];  // per table: its added columns (x<n>), in order
  uint32_t next_column_ = 0;           // names are never reused
  DdlCounts counts_;
  std::map<std::string, SqliteStatement> statements_;  // by SQL text
};

}  // namespace sqlift::wal::testing
