// DataProfiler: reads every row of the application's tables and counts, per column, the
// values a check rejects (used by `plan` to report values that do not fit their PostgreSQL
// type) and, when asked, how many values each label (a representation: "unix milliseconds",
// "ISO text with zone") covers. It lives in capture/ because it reads SQLite; the check and
// the labels come from apply/ as functions, so capture/ never depends on apply/.
//
// All tables are read in one read transaction, so the counts describe one consistent state.
// A writer keeps writing meanwhile (WAL); the scan holds no lock that blocks it.
//
// Thread safety: one call at a time per SqliteDb; callbacks run on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/table_schema.h"
#include "proto/wire/sqlift.pb.h"
#include "proto/wire/value_text.h"

namespace sqlift {

// Why a value of column `column` (index into TableSchema::columns) of `table` does not fit;
// nullopt when it does.
using ValueCheck = std::function<std::optional<std::string>(const TableSchema& table, size_t column,
                                                            const wire::Value& value)>;

// The label of a value of column `column` of `table` (a static string), or "" for none.
using ValueLabel = std::function<std::string_view(const TableSchema& table, size_t column,
                                                  const wire::Value& value)>;

// Called every `progress_every` rows and at the end of each table.
using ProgressCallback =
    std::function<void(const std::string& table, int64_t rows_done, int64_t rows_total)>;

// The values of one label in one column: how many, and the first few with their row's key.
struct LabelTally {
  std::string_view label;
  int64_t count = 0;
  std::vector<std::string> keys;  // "pk=(7)"
  std::vector<wire::Value> values;
};

struct ColumnFindings {
  std::string table;
  std::string column;
  size_t column_index = 0;            // into TableSchema::columns
  int64_t count = 0;                  // values that do not fit
  std::vector<std::string> examples;  // the first 3: "pk=(7) value='abc': not an integer"
  std::vector<LabelTally> labels;     // in the order first seen
};

struct ProfileOptions {
  ProgressCallback progress;  // may be empty
  ValueLabel label;           // may be empty: no labels counted
  int64_t progress_every = 100000;
  size_t max_examples = 3;
};

// Scans `tables` (hidden columns skipped) and returns one entry per column with at least one
// value that does not fit or one labelled value, in table then column order.
[[nodiscard]] Result<std::vector<ColumnFindings>> ProfileData(
    SqliteDb& db, const std::vector<TableSchema>& tables, const ValueCheck& check,
    const ProfileOptions& options = {});

}  // namespace sqlift
