// PgBatchSink: the applier's PostgreSQL side of BatchSink (design invariants 4 and 8).
//
// Apply(source, batch) runs ONE PostgreSQL transaction: it reads the source's position
// (sqlift.positions, FOR UPDATE), skips every transaction the target already holds (a replayed
// batch is a no-op), applies each row change and moves the position in the same transaction,
// so data and position commit or vanish together: an acked seq is always committed.
//   INSERT → upsert by primary key (a replayed insert is harmless);
//   UPDATE → sets only the changed columns; no row to update is a consistency error (stop);
//   DELETE → by primary key; a missing row is fine (idempotent).
// A value PgTextOf refuses or a statement PostgreSQL rejects with SQLSTATE class 22/23:
//   kSkip: the row change runs inside a SAVEPOINT; it is rolled back alone, dead-lettered in
//          sqlift.dead_letter (same transaction) and the batch goes on;
//   kStop: the whole transaction is rolled back, the dead letter is written in its own
//          transaction and Apply fails naming seq, table and key.
// DDL transactions are not applied yet: they are counted and logged (ddl_seen()).
//
// Ownership: owns its PgConnection and its prepared statements (named "s1", "s2", ... on that
// connection). Thread safety: one connection, so calls are serialized by an internal mutex;
// any thread may call any method.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "apply/batch_sink.h"
#include "apply/pg_connection.h"
#include "apply/schema_translator.h"
#include "apply/type_mapping.h"

namespace sqlift::apply {

// One column of a target table: SQLite name (as TableShape.columns spells it), PostgreSQL
// name and type.
struct PgSinkColumn {
  std::string sqlite_name;
  std::string pg_name;
  PgType type;
};

// One target table; the key of PgBatchSinkOptions::tables is the SQLite table name.
struct PgSinkTable {
  std::string pg_name;
  std::vector<PgSinkColumn> columns;
};

struct PgBatchSinkOptions {
  enum class OnError { kStop, kSkip };
  std::string schema = "public";              // target PostgreSQL schema
  std::map<std::string, PgSinkTable> tables;  // SQLite table name → target table
  OnError on_error = OnError::kStop;
};

// The table mapping of a SchemaPlan, as PgBatchSinkOptions::tables wants it.
std::map<std::string, PgSinkTable> SinkTablesFromPlan(const SchemaPlan& plan);

class PgBatchSink final : public BatchSink {
 public:
  // sqlift.positions and sqlift.dead_letter must exist (EnsureStateSchema).
  PgBatchSink(std::unique_ptr<PgConnection> conn, PgBatchSinkOptions options);

  // Read from PostgreSQL on every call (never cached). NotFound when no row exists.
  Result<uint64_t> AppliedSeq(const std::string& source) override;
  // See the file comment. A batch starting past applied_seq + 1 is FailedPrecondition and
  // writes nothing; a batch that ends at or before applied_seq changes nothing. A source with
  // no position yet starts from 0.
  Result<uint64_t> Apply(const std::string& source, const wire::ChangeBatch& batch) override;

  // DDL transactions seen (and not applied) so far.
  uint64_t ddl_seen() const { return ddl_seen_.load(); }

  struct Context;  // the state of one Apply call (pg_batch_sink.cc)

 private:
  Result<uint64_t> ApplyLocked(const std::string& source, const wire::ChangeBatch& batch);
  Status ApplyTransaction(Context& ctx, const wire::Transaction& txn);
  Status ApplyChange(Context& ctx, const wire::Transaction& txn, const wire::RowChange& ch);
  // Runs one row change's statement; the error (if any) says which column/value was at fault.
  Status RunChange(Context& ctx, const wire::RowChange& ch, std::string* column,
                   std::string* value);
  // The name of the prepared statement for `sql`, preparing it on first use.
  Result<std::string> Prepared(const std::string& key, const std::string& sql, int nparams);
  Result<PgResult> ExecPrepared(const std::string& name,
                                const std::vector<std::optional<std::string>>& params);

  std::mutex mu_;  // serializes all use of conn_ and statements_
  std::unique_ptr<PgConnection> conn_;
  PgBatchSinkOptions options_;
  std::map<std::string, std::string> statements_;  // table|op|columns → "sN"
  std::atomic<uint64_t> ddl_seen_{0};
};

}  // namespace sqlift::apply
