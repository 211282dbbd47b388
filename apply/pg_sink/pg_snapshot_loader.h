// PgSnapshotLoader: loads one source's snapshot (SnapshotChunks, design invariant 5) into
// PostgreSQL in ONE transaction: the target tables are created (or must be empty), each
// table's rows go in with COPY (apply/copy_loader.h), then the after-data statements run
// (indexes, unique constraints, foreign keys, identities), and sqlift.positions gets
// applied_seq = snapshot_seq = S with sqlift.source_schema, all in the same COMMIT. A snapshot
// that does not finish (the agent disconnects, the applier or PostgreSQL dies) leaves nothing
// behind, and the agent sends a new one.
//
//   PgSnapshotLoader loader(std::move(conn), std::move(dead_conn), options);
//   SQLIFT_RETURN_IF_ERROR(loader.Begin(plan, schema_sql, s));
//   ... loader.Add(chunk) for each chunk in order ...
//   SQLIFT_RETURN_IF_ERROR(loader.Commit());
//
// Ownership: owns both connections (the second writes dead letters, which must survive a
// rollback). Thread safety: one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apply/pg_sink/copy_loader.h"
#include "apply/translate/schema_translator.h"
#include "common/pg/pg_connection.h"

namespace sqlift {

struct PgSnapshotOptions {
  std::string source;
  std::string schema = "public";
  OnError on_error = OnError::kStop;
  // Runs in the snapshot's transaction after the after-data statements, before the position is
  // written (the applier installs its fences there, so they exist exactly when the data does).
  std::function<Status(PgConnection& conn, const SchemaPlan& plan)> before_commit;
  // Database-per-tenant: this source's tenant, put into each table's constant tenant column
  // (the plan's TablePlan::constant_tenant_column). A table may then already hold other
  // tenants' rows; only rows of this tenant make the snapshot refuse to load.
  std::string constant_tenant;
  // [target] schema_mode = "existing": the plan's tables are the application's, which must
  // exist and hold no rows of this source (SourceRowsWhere); nothing is created, and each
  // row gets the plan's constant columns (target_constants.h).
  bool existing_schema = false;
};

struct SnapshotLoadStats {
  int64_t tables = 0;
  int64_t rows = 0;
  int64_t dead_letters = 0;
};

class PgSnapshotLoader {
 public:
  PgSnapshotLoader(std::unique_ptr<PgConnection> conn, std::unique_ptr<PgConnection> dead_conn,
                   PgSnapshotOptions options);
  ~PgSnapshotLoader();  // Abort() when not committed

  // BEGIN, create the schema and the missing tables; a target table that holds rows is
  // FailedPrecondition (a snapshot never loads over data).
  [[nodiscard]] Status Begin(SchemaPlan plan, std::vector<std::string> sqlite_sql, uint64_t s);
  // The rows of one chunk, in TableShape column order; the shape must match the plan. With
  // `rows` (proto/wire/chunk_rows.h), the chunk's rows are those, serialized, instead.
  [[nodiscard]] Status Add(const wire::SnapshotChunk& chunk,
                           const std::vector<std::string_view>& rows = {});
  // After-data statements, position, schema, COMMIT.
  [[nodiscard]] Status Commit();
  void Abort();

  const SnapshotLoadStats& stats() const { return stats_; }
  const SchemaPlan& plan() const { return plan_; }
  const std::vector<std::string>& sqlite_sql() const { return sqlite_sql_; }

 private:
  Status StartTable(const wire::TableShape& shape);
  Status FinishTable();
  Status CreateTables();
  Status CheckExistingTables();
  Status AddRows(const wire::SnapshotChunk& chunk, const std::vector<std::string_view>& rows);
  Result<std::vector<wire::Row>> WithTenant(const wire::SnapshotChunk& chunk,
                                            const std::vector<std::string_view>& rows) const;

  std::unique_ptr<PgConnection> conn_, dead_conn_;
  PgSnapshotOptions options_;
  SchemaPlan plan_;
  std::vector<std::string> sqlite_sql_;
  uint64_t s_ = 0;
  bool open_ = false;
  std::optional<size_t> table_;  // index in plan_.tables of the table being copied
  std::unique_ptr<CopyLoader> loader_;
  SnapshotLoadStats stats_;
};

// The after-data statements of a plan, in order, on `conn` inside the caller's transaction.
// One whose object exists already (42P07, 42710: a rerun) is kept as it is, under a
// savepoint; any other failure is returned.
[[nodiscard]] Status RunAfterData(PgConnection& conn, const std::vector<std::string>& statements);

}  // namespace sqlift
