// CopyLoader: loads the rows of one table into PostgreSQL with one
// `COPY "schema"."table" ("c1", ...) FROM STDIN` (binary format, or text; see below), for
// `sqlift copy` and the snapshot inside replication.
//
//   CopyLoader loader(*conn, *dead_conn, plan.tables[i], "public", options);
//   SQLIFT_RETURN_IF_ERROR(loader.Begin());
//   ... loader.AddRows(chunk) for each chunk (rows in TablePlan column order) ...
//   SQLIFT_RETURN_IF_ERROR(loader.Finish());   // or loader.Abort(reason) after an error
//
// Values are encoded by apply/value_encoder.h. A row with a value that does not fit goes to
// sqlift.dead_letter (table, key, column, value, error) through `dead_letters`, a second
// connection, because the COPY connection cannot run an INSERT until the COPY ends and the
// dead letters must survive a COPY that fails later. Then, by OnError: kStop returns the
// reason (the caller aborts the COPY, so none of the table's rows are kept); kSkipRow leaves
// the row out and counts it.
//
// Rows PostgreSQL itself refuses (a constraint the data breaks) fail the whole COPY at
// Finish(), with PostgreSQL's message; they are not dead-lettered (that would need a
// row-by-row retry).
//
// Binary COPY when every column's type has a binary form (value_encoder.h; all but overrides
// sqlift does not know), text COPY otherwise or when options.binary is false. Binary is what
// makes a copy faster than the sqlite3 | psql pipe: PostgreSQL's side of a COPY is most of a
// load's CPU, and parsing text (timestamptz_in, numeric_in) was most of that. The encoder
// builds both forms from the same reading of each value; tests/copy_binary_test.cc loads edge
// values of every type both ways into PostgreSQL and compares what was stored.
//
// Lifetimes: `conn`, `dead_letters` and `table` must outlive the loader.
// Thread safety: one thread per loader; its connections belong to it while it runs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apply/pg_sink/pg_state_schema.h"
#include "apply/translate/schema_translator.h"
#include "common/pg/pg_connection.h"
#include "proto/wire/chunk_rows.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

enum class OnError { kStop, kSkipRow };

struct CopyLoaderOptions {
  OnError on_error = OnError::kStop;
  size_t send_bytes = 1 << 20;  // COPY data is sent in pieces of about this size
  bool binary = true;           // binary COPY when every column has a binary form
  // Indexes into a row of the primary key columns, in key order (SnapshotReader::ShapeOf's
  // pk_columns): the key a dead letter names.
  std::vector<size_t> key_columns;
  std::optional<int64_t> seq;  // recorded in dead letters (the snapshot's S)
  std::optional<std::string> source;
};

struct CopyStats {
  int64_t rows = 0;          // rows sent to PostgreSQL
  int64_t dead_letters = 0;  // rows left out (kSkipRow) or that stopped the copy (kStop)
};

class CopyLoader {
 public:
  CopyLoader(PgConnection& conn, PgConnection& dead_letters, const TablePlan& table,
             std::string schema, CopyLoaderOptions options);

  // Starts the COPY.
  [[nodiscard]] Status Begin();
  // Encodes and sends rows (one Value per TablePlan column). With kStop, the first row that
  // does not fit is dead-lettered and its reason returned: call Abort() then.
  // Same as Submit(EncodeRows(rows)).
  [[nodiscard]] Status AddRows(const std::vector<wire::Row>& rows);
  // The same for rows as a SnapshotChunk holds them, encoded where they are.
  [[nodiscard]] Status AddRows(const google::protobuf::RepeatedPtrField<wire::Row>& rows);
  // The same for serialized rows (proto/wire/chunk_rows.h), each read into one reused Row.
  [[nodiscard]] Status AddSerializedRows(const std::vector<std::string_view>& rows);

  // The two halves of AddRows, so that encoding (the costly part) can run on other threads
  // while this one reads and sends: EncodeRows is const and may run on any thread, several at
  // once; Submit runs on the loader's thread, in the order the rows should be judged (for
  // kStop, the first failure submitted stops the copy).
  struct Encoded {
    std::string data;  // COPY rows (lines, or binary tuples) of the rows that fit
    int64_t rows = 0;
    std::vector<DeadLetter> failures;  // rows that do not fit, in row order
  };
  [[nodiscard]] Result<Encoded> EncodeRows(const std::vector<wire::Row>& rows) const;
  [[nodiscard]] Status Submit(Encoded encoded);
  // Ends the COPY; PostgreSQL's verdict on the rows (constraints) comes back here.
  [[nodiscard]] Status Finish();
  // Ends the COPY with an error so that none of its rows are kept.
  void Abort(const std::string& reason);

  const CopyStats& stats() const { return stats_; }

 private:
  template <typename Rows>
  Result<Encoded> EncodeAll(const Rows& rows) const;
  Status EncodeRow(const wire::Row& row, Encoded* out) const;
  bool EncodeRowInPlace(std::string_view row, Encoded* out);
  DeadLetter Letter(const wire::Row& row, size_t column, const Status& why) const;
  std::string KeyOf(const wire::Row& row) const;
  Status Send();

  PgConnection& conn_;
  PgConnection& dead_letters_;
  const TablePlan& table_;
  std::string schema_;
  CopyLoaderOptions options_;
  std::string buffer_;
  wire::Row scratch_;  // AddSerializedRows reads each row into it
  // EncodeRowInPlace's: the row's values where they lie, and one value made a wire::Value
  std::vector<proto::ValueRef> refs_;
  wire::Value value_scratch_;
  CopyStats stats_;
  bool binary_ = false;  // decided at construction
  bool in_copy_ = false;
};

}  // namespace sqlift
