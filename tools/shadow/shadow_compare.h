// The comparison behind `sqlift shadow`: one query's result on SQLite and on PostgreSQL, each
// row normalized for the PostgreSQL result column's type (apply/verify_normalize.h, the
// functions `sqlift verify` uses), compared as multisets of rows, and in order as well when the
// query has a top-level ORDER BY.
//
//   ResultSide sqlite(max_rows), pg(max_rows);
//   ... sqlite.Add(row) / pg.Add(row) for every row ...
//   RowsVerdict v = CompareResults(sqlite, pg, ordered);
//
// Memory: each side keeps at most `max_rows` rows; past that it keeps only an order-independent
// fingerprint (the row count and two sums of 64-bit row hashes) and an order-dependent one, so
// the verdict is still made, without example rows.
//
// Thread safety: values; one thread each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/verify/verify_engine.h"

namespace sqlift {

class ResultSide {
 public:
  explicit ResultSide(size_t max_rows) : max_rows_(max_rows) {}
  void SetColumns(int n) { columns_ = n; }
  void Add(const CanonicalRow& row);

  int columns() const { return columns_; }
  int64_t rows() const { return rows_; }
  bool kept_all() const { return rows_ <= static_cast<int64_t>(max_rows_); }
  const std::vector<CanonicalRow>& kept() const { return kept_; }
  bool SameMultiset(const ResultSide& o) const;
  bool SameSequence(const ResultSide& o) const;

 private:
  size_t max_rows_;
  int columns_ = 0;
  int64_t rows_ = 0;
  uint64_t sum_ = 0, mixed_sum_ = 0, ordered_ = 0;
  std::vector<CanonicalRow> kept_;
};

enum class RowsVerdict { kMatched, kDifferent, kOrderDiffers };

struct RowsComparison {
  RowsVerdict verdict = RowsVerdict::kMatched;
  std::string detail;  // why, in words ("2 columns on SQLite, 3 on PostgreSQL")
  // kDifferent: the first row of each side the other side lacks (in each side's order; empty
  // when there is none, or when rows were not kept); kOrderDiffers: the rows at `position`.
  std::optional<std::vector<std::string>> sqlite_row, pg_row;
  int64_t position = -1;  // kOrderDiffers: the first row index (0-based) that differs
};

RowsComparison CompareResults(const ResultSide& sqlite, const ResultSide& pg, bool ordered);

// A row as reports print it, each value through PrintableValue.
std::vector<std::string> PrintableRow(const CanonicalRow& row);

}  // namespace sqlift
