// PgBatchSink: the applier's PostgreSQL side of BatchSink (design invariants 4 and 8).
//
// Apply(source, batch) runs ONE PostgreSQL transaction: it reads the source's position
// (sqlift.positions, FOR UPDATE), skips every transaction the target already holds (a replayed
// batch is a no-op), applies each row change and moves the position in the same transaction,
// so data and position commit or vanish together: an acked seq is always committed.
//   INSERT → upsert by primary key (a replayed insert is harmless);
//   UPDATE → sets only the changed columns; no row to update is a consistency error (stop);
//   DELETE → by primary key; a missing row is fine (idempotent).
// With kStop, row changes are sent in libpq pipeline mode (checked at the end of the batch,
// every 1,000 statements, and before a DDL event): one round trip per batch instead of one per
// row; with kSkip each runs on its own, inside its SAVEPOINT.
// A value PgTextOf refuses or a statement PostgreSQL rejects with SQLSTATE class 22/23:
//   kSkip: the row change runs inside a SAVEPOINT; it is rolled back alone, dead-lettered in
//          sqlift.dead_letter (same transaction) and the batch goes on;
//   kStop: the whole transaction is rolled back, the dead letter is written in its own
//          transaction and Apply fails naming seq, table and key.
// ROUTE transactions (a cutover or fallback changed a tenant's route) go into sqlift.route in
// the same transaction (ApplyRoute, which waits for in-flight writers of that tenant), so the
// route PostgreSQL enforces is always the one of its applied position.
// DDL transactions (a table's new CREATE TABLE text) are compiled with the SchemaCompiler into
// the next plan; additive differences (apply/ddl_diff.h) run in the same transaction and the
// new schema is stored in sqlift.source_schema with the position; anything else stops.
//
// Snapshots (LoadSnapshot) go through apply/pg_snapshot_loader.h on two connections of their
// own; the committed snapshot's schema becomes the source's schema.
//
// Which tables a source has: its statements in sqlift.source_schema (loaded on first use and
// kept in memory), or, for a source with none stored, PgBatchSinkOptions::tables (tests that
// build tables by hand). A lost connection is reopened through `connect` on the next call
// (its prepared statements with it).
//
// Holds (design invariant 6): while sqlift.positions.hold_seq is set and hold_until has not
// passed, Apply commits only the transactions up to hold_seq and then waits (polling every
// 10 ms) for the hold to move; the receiver sees one Apply call that takes longer.
//
// Ownership: owns its PgConnection and its prepared statements (named "s1", "s2", ... on that
// connection). Thread safety: one connection, so calls are serialized by an internal mutex;
// any thread may call any method.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "apply/pg_sink/pg_snapshot_loader.h"
#include "apply/receiver/batch_sink.h"
#include "apply/translate/schema_compiler.h"
#include "apply/translate/schema_translator.h"
#include "apply/translate/type_mapping.h"
#include "common/pg/pg_connection.h"

namespace sqlift::apply {

// One column of a target table: SQLite name (as TableShape.columns spells it), PostgreSQL
// name and type.
struct PgSinkColumn {
  std::string sqlite_name;
  std::string pg_name;
  PgType type;
};

// One constant column of a target table, bound as its own type.
struct PgSinkConstant {
  std::string pg_name;
  PgType type;
  std::string value;
};

// One target table; the key of PgBatchSinkOptions::tables is the SQLite table name.
struct PgSinkTable {
  std::string pg_name;
  std::vector<PgSinkColumn> columns;
  // Database-per-tenant: the PostgreSQL column that holds PgBatchSinkOptions::constant_tenant
  // in every row of this source (part of the key); empty: none.
  std::string constant_column;
  // An existing target's [target.constants] columns (ColumnPlan::constant): written into every
  // inserted row, and every update and delete is limited to rows holding them.
  std::vector<PgSinkConstant> constants;
  // The target's unique key is the constants plus the primary key (TablePlan::constants_in_key);
  // otherwise an insert whose key is another source's row is a consistency error.
  bool constants_in_key = false;
};

struct PgBatchSinkOptions {
  enum class OnError { kStop, kSkip };
  std::string schema = "public";              // target PostgreSQL schema
  std::map<std::string, PgSinkTable> tables;  // SQLite table name → target table
  OnError on_error = OnError::kStop;
  SchemaCompiler* compiler = nullptr;  // not owned; required for snapshots and DDL events
  // Opens a new connection to the target: the snapshot's two, and after a lost connection.
  std::function<Result<std::unique_ptr<PgConnection>>()> connect;
  // Run on the sink's own connection before its first use and after every reconnect (the
  // applier marks the session for the fences and sets up its replication origin there).
  std::function<Status(PgConnection& conn)> prepare_session;
  // The session commits under a replication origin (prepare_session set one up): each
  // transaction then resets the origin's commit timestamp, which PostgreSQL would otherwise
  // keep from the first commit for every later one (track_commit_timestamp would lie).
  bool origin_session = false;
  // Fences (apply/pg_route.h): with `fences`, every table a snapshot or a DDL event creates
  // gets the fence triggers, keyed on the column named tenant_column (SQLite name; tables
  // without it, and every table when it is empty, belong to the tenant "*").
  bool fences = false;
  std::string tenant_column;
  // Database-per-tenant: this source's tenant, written into every row's constant tenant column
  // (TranslateOptions::constant_tenant_column, which the compiler's plans must have).
  std::string constant_tenant;
  // [target] schema_mode = "existing": the compiler's plans are the application's own tables
  // (apply/translate/existing_schema.h). A DDL event changes nothing in PostgreSQL: it is
  // taken only when the target already matches the new schema, and stops the stream otherwise.
  bool existing_schema = false;
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

  Result<uint64_t> LoadSnapshot(const std::string& source,
                                const wire::SnapshotChunk& chunk) override;
  // Rows left serialized are read one at a time as they are copied (no message per value).
  Result<uint64_t> LoadSnapshotRows(const std::string& source, const wire::SnapshotChunk& chunk,
                                    const std::vector<std::string_view>& rows) override;
  void AbortSnapshot(const std::string& source) override;

  // Ends a wait for a hold (see ApplyUpTo) with Aborted, for a clean stop; the part of the
  // batch before the hold stays committed. Any thread.
  void Interrupt();

  // DDL transactions seen so far (applied, or counted only for a source without a schema).
  uint64_t ddl_seen() const { return ddl_seen_.load(); }

  // A source's schema as the sink knows it: the SQLite statements and their plan.
  struct SourceSchema {
    std::vector<std::string> sql;
    SchemaPlan plan;
    std::map<std::string, PgSinkTable> tables;
  };
  struct Context;  // the state of one Apply call (pg_batch_sink.cc)

 private:
  Status EnsureConnected();
  Result<std::shared_ptr<const SourceSchema>> SchemaOf(const std::string& source);
  Status ApplyDdl(Context& ctx, const wire::Transaction& txn);
  Status ApplyRouteEvent(Context& ctx, const wire::Transaction& txn);
  // Installs the fences on `table` (every table of `plan` when empty), inside the caller's
  // transaction; nothing without options_.fences.
  Status InstallFences(PgConnection& conn, const SchemaPlan& plan, const std::string& table);
  Status BeginSnapshot(const std::string& source, const wire::SnapshotChunk& chunk);
  Result<uint64_t> ApplyLocked(const std::string& source, const wire::ChangeBatch& batch);
  // One PostgreSQL transaction: every transaction of `batch` after the applied position, up to
  // the hold when `sqlift verify` holds the source (sqlift.positions.hold_seq); returns the
  // new applied seq, below batch.last_seq() when held.
  Result<uint64_t> ApplyUpTo(const std::string& source, const wire::ChangeBatch& batch);
  Status WaitWhileHeld(const std::string& source, uint64_t applied);
  Status ApplyTransaction(Context& ctx, const wire::Transaction& txn);
  Status ApplyChange(Context& ctx, const wire::Transaction& txn, const wire::RowChange& ch);
  // Runs one row change's statement; the error (if any) says which column/value was at fault.
  Status RunChange(Context& ctx, const wire::RowChange& ch, std::string* column,
                   std::string* value);
  // The name of the prepared statement for `sql`, preparing it on first use (which first ends
  // a pipeline in progress: preparing is not allowed inside one).
  Result<std::string> Prepared(Context& ctx, const std::string& key, const std::string& sql,
                               int nparams);
  // kStop: queues the statement in the pipeline; checked by FlushPipeline.
  Status Send(Context& ctx, const std::string& name,
              const std::vector<std::optional<std::string>>& params, const wire::RowChange& ch);
  // Reads and checks the results of every statement sent (the first failure names its change);
  // leaves pipeline mode when `exit`.
  Status FlushPipeline(Context& ctx, bool exit);
  // The error of one failed change, naming seq, table and key; a data error also sets
  // ctx.stop_letter (kStop writes it after the rollback; kSkip takes it at once).
  Status ChangeFailed(Context& ctx, const wire::Transaction& txn, const wire::RowChange& ch,
                      const Status& st, const std::string& column, const std::string& value);
  Result<PgResult> ExecPrepared(const std::string& name,
                                const std::vector<std::optional<std::string>>& params);

  std::mutex mu_;  // serializes all use of conn_ and statements_
  std::unique_ptr<PgConnection> conn_;
  bool prepared_ = false;  // options_.prepare_session ran on conn_
  PgBatchSinkOptions options_;
  std::map<std::string, std::string> statements_;                       // table|op|columns → "sN"
  std::map<std::string, std::shared_ptr<const SourceSchema>> schemas_;  // by source
  std::map<std::string, std::unique_ptr<PgSnapshotLoader>> snapshots_;  // loading, by source
  std::atomic<uint64_t> ddl_seen_{0};
  std::atomic<bool> interrupted_{false};
};

}  // namespace sqlift::apply
