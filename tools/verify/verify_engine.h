// The comparison behind `sqlift verify`: one table, two readers (SQLite and PostgreSQL, or
// in-memory fakes in tests), each streaming every row as canonical values
// (apply/verify_normalize.h). Nothing here knows where rows come from, so the one-shot
// command and the daemon form (the applier holding at a position) share it.
//
// How (docs/verify.md says why):
//  1. Each side is read once. Every row's canonical values are encoded (a NULL is not ""),
//     hashed to 64 bits, and added to the bucket picked by the top `bucket_bits` bits of the
//     hash of its key: per bucket a count and a sum mod 2^64 of row hashes, which do not
//     depend on the order rows arrive in (SQLite and PostgreSQL collate keys differently).
//  2. Buckets whose (count, sum) differ are read again from both sides, keeping only their
//     rows (key → row), at most `max_rows_kept` rows per side (whole buckets, in bucket order;
//     buckets past the cap are counted as not examined, so the row counts below are then
//     lower bounds). Both readers must give the same rows each time (one snapshot).
//  3. Rows are matched by key: same key, different values → different; only in SQLite →
//     missing; only in PostgreSQL → extra. The first few of each (in key order) are kept with
//     their values.
// Memory: 16 bytes per bucket, plus the rows of examined buckets.
//
// Thread safety: CompareTable uses its readers from the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "tools/verify/verify_normalize.h"

namespace sqlift {

using CanonicalRow = std::vector<CanonicalValue>;

// One side of one table.
class VerifyTableReader {
 public:
  // Called once per row; the row is only valid during the call.
  using RowSink = std::function<Status(const CanonicalRow& row)>;
  virtual ~VerifyTableReader() = default;
  // Streams every row (any order), stopping at the first error of the read or of `sink`.
  [[nodiscard]] virtual Status Scan(const RowSink& sink) = 0;
};

// A reader over rows of SQLite values (wire::Row, positional, as capture reads them), each
// value normalized for its column's mapped type. `read` streams every row to the function it
// is given, e.g. SnapshotReader::ReadTable for the one-shot form.
class WireTableReader : public VerifyTableReader {
 public:
  using WireSink = std::function<Status(const wire::Row& row)>;
  using ReadFn = std::function<Status(const WireSink& sink)>;
  WireTableReader(std::vector<PgType> types, ReadFn read)
      : types_(std::move(types)), read_(std::move(read)) {}
  [[nodiscard]] Status Scan(const RowSink& sink) override;

 private:
  std::vector<PgType> types_;
  ReadFn read_;
};

struct VerifyOptions {
  std::vector<std::string> column_names;  // in row order, for reports
  std::vector<size_t> key_columns;        // indexes into rows; empty: the whole row is the key
  int bucket_bits = 12;                   // 4,096 buckets
  size_t max_rows_kept = 50'000;          // per side, in step 2
  size_t max_examples = 5;                // per kind
};

enum class RowDiffKind { kDifferent, kMissing, kExtra };
const char* RowDiffName(RowDiffKind k);  // "different" | "missing" | "extra"

struct RowDiffExample {
  RowDiffKind kind = RowDiffKind::kDifferent;
  std::string key;                   // "(1234)", "(7, 'a')"
  std::vector<std::string> columns;  // different: the columns that differ; else every column
  std::vector<std::string> sqlite;   // the values, printable ("NULL", "'text'", "12.5")
  std::vector<std::string> pg;       // (empty for missing; sqlite empty for extra)
};

struct TableComparison {
  int64_t sqlite_rows = 0, pg_rows = 0;
  int64_t different = 0, missing = 0, extra = 0;
  int64_t differing_buckets = 0, examined_buckets = 0;
  std::vector<RowDiffExample> examples;

  bool matched() const { return differing_buckets == 0; }
  // True when every differing bucket was examined, so different/missing/extra are exact.
  bool complete() const { return examined_buckets == differing_buckets; }
};

[[nodiscard]] Result<TableComparison> CompareTable(VerifyTableReader& sqlite, VerifyTableReader& pg,
                                                   const VerifyOptions& options);

// The engine's row encoding and hash, for callers that bucket rows the same way (the gap
// repair, tools/repair): EncodeCanonical appends one value (a kind byte, then, not for NULL, a
// 4-byte length and the bytes: no two different rows encode alike); CanonicalHash64 hashes
// encoded bytes so that every bit, the top ones too, depends on every byte.
void EncodeCanonical(const CanonicalValue& v, std::string* out);
uint64_t CanonicalHash64(std::string_view bytes);

// A value as reports print it: NULL, numbers bare, other text quoted with '' doubled, text
// that is not valid UTF-8 (or holds NUL) as x'hex', unfit values as "unfit (reason)".
std::string PrintableValue(const CanonicalValue& v);

}  // namespace sqlift
