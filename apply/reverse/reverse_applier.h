// ReverseApplier: applies PostgreSQL transactions (pgchange::Transaction, decoded from logical
// replication by apply/'s reader) to the SQLite database after cutover, so that a fallback
// loses nothing. Each transaction is applied in one SQLite BEGIN IMMEDIATE transaction that
// also records its end LSN in _sqlift_state (key kStateReverseLsn): exactly once across
// restarts. Design invariant 7: a row of a tenant whose route says 'sqlite' is refused, never
// merged; the whole transaction then fails and nothing is written.
//
// Skipped without writing: transactions whose origin starts with "sqlift" (the forward
// applier's own writes) and those at or below the recorded position (a replay).
// Refused (FailedPrecondition): TRUNCATE, relations outside pg_schema or without a mapping
// (the publication must carry only mapped tables), rows of tenants routed to sqlite, an
// UPDATE that finds no row (the sides have diverged).
//
// Rows: INSERT → upsert on the SQLite primary key; UPDATE → the changed columns (unchanged
// TOAST values left as they are) where the key is the old key; DELETE → by the old key (a
// missing row is fine). Values are converted by capture/pg_text_value.h. The SQLite schema is
// read at Open and again whenever PRAGMA schema_version moves.
//
// The applier owns its own read-write connection with no recorder attached, so its writes are
// never captured back into the outbox. It runs with synchronous=FULL: once Apply returns, the
// rows and the position are on disk, and the caller may confirm the LSN to PostgreSQL. It runs with
// foreign_keys=OFF: PostgreSQL already enforced the constraints and sends every cascaded change as
// a change of its own. Triggers defined in SQLite still fire; sqlift's guard triggers
// (capture/outbox/guard_triggers.h) let its writes through by the marker row it writes after
// BEGIN and deletes before COMMIT.
//
// Thread safety: none; one thread uses an applier at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apply/reverse/reverse_writer.h"
#include "apply/translate/type_mapping.h"
#include "capture/outbox/route_table.h"
#include "capture/pg_logical/pg_change.h"
#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/table_schema.h"

namespace sqlift {

// _sqlift_state key: the end_lsn (INTEGER) of the last PostgreSQL transaction applied.
inline constexpr std::string_view kStateReverseLsn = "reverse_lsn";

struct ReverseColumnMap {
  std::string pg_name;
  std::string sqlite_name;
};

struct ReverseTableMap {
  std::string sqlite_table;
  // Renamed columns only: a PostgreSQL column not listed here has the same name in SQLite.
  std::vector<ReverseColumnMap> columns;
  // Time columns whose SQLite representation [mapping] declares (PostgreSQL column → unit):
  // their instants are written back as numbers in that unit, as the application stores them.
  std::map<std::string, TimeUnit> time_units;
  // An existing target schema ([target] schema_mode = "existing"): every PostgreSQL column that
  // has an SQLite column is listed in `columns`, and the others are the application's own (a
  // uuid key, a column its migrations added): never written to SQLite. Without this flag an
  // unlisted column must have an SQLite column of the same name.
  bool only_listed = false;
  // [target.constants] (PostgreSQL column → value): every row of this source holds the value.
  // A row that holds another one is another source's and is skipped; never written to SQLite.
  std::map<std::string, std::string> constants;
};

struct ReverseApplierOptions {
  std::string pg_schema = "public";               // only relations in this schema
  std::map<std::string, ReverseTableMap> tables;  // key: PostgreSQL table name
  // PostgreSQL column holding a row's tenant; "" → the whole database (tenant "*"). A table
  // without this column belongs to tenant "*".
  std::string tenant_column;
  // Database-per-tenant: tenant_column exists only in PostgreSQL (the forward applier adds
  // it, in the primary key). Rows whose value differs belong to other sources and are
  // skipped; the column is never written to SQLite. Needs tenant_column.
  std::optional<std::string> constant_tenant;
  // An existing target schema: tables of pg_schema with no mapping are the application's own
  // (its migrations' bookkeeping, an audit log its triggers fill). Their changes are skipped
  // and counted (ReverseApplyStats::rows_unmapped) instead of refused.
  bool skip_unmapped = false;
  std::chrono::milliseconds busy_timeout{5000};
};

struct ReverseApplyStats {
  bool skipped = false;            // origin sqlift_* or already applied: nothing written
  int64_t rows = 0;                // row changes written
  int64_t rows_other_tenants = 0;  // constant_tenant or constants: other sources' rows, skipped
  int64_t rows_unmapped = 0;       // skip_unmapped: changes of tables SQLite does not have
};

class ReverseApplier {
 public:
  // Opens a read-write connection to `sqlite_path` (busy_timeout set) and reads its schema.
  // FailedPrecondition when _sqlift_state or _sqlift_route is missing (`sqlift init`) or a
  // mapped table is missing or has no primary key; InvalidArgument for inconsistent options.
  [[nodiscard]] static Result<std::unique_ptr<ReverseApplier>> Open(const std::string& sqlite_path,
                                                                    ReverseApplierOptions options);
  ~ReverseApplier();

  // The end LSN of the last transaction applied; 0 when none ever was.
  [[nodiscard]] Result<pgchange::Lsn> Position();

  // Applies `txn` and records its end_lsn, in one transaction; on any error nothing is
  // written and the position stays where it was.
  [[nodiscard]] Result<ReverseApplyStats> Apply(const pgchange::Transaction& txn);
  // Several transactions, in commit order, in ONE SQLite transaction whose position is the
  // last end_lsn (one fsync for all: reverse replication keeps up with busy writers). All or
  // nothing; `skipped` only when every one of them was.
  [[nodiscard]] Result<ReverseApplyStats> ApplyBatch(std::span<const pgchange::Transaction> txns);

 private:
  ReverseApplier(std::unique_ptr<SqliteDb> db, ReverseApplierOptions options);

  [[nodiscard]] Status RefreshSchema();
  [[nodiscard]] Status RefreshSchemaIfChanged();
  [[nodiscard]] Result<const ReverseTarget*> Resolve(
      const std::shared_ptr<const pgchange::Relation>& rel);
  [[nodiscard]] Result<ReverseTarget> BuildTarget(
      const std::shared_ptr<const pgchange::Relation>& rel);
  [[nodiscard]] Result<ReverseApplyStats> ApplyInTransaction(
      std::span<const pgchange::Transaction> txns);
  // Adds one row change to `stats` or says why it may not be applied.
  [[nodiscard]] Status ApplyChange(const pgchange::Transaction& txn, const pgchange::Change& change,
                                   const std::vector<RouteRow>& routes, ReverseApplyStats* stats);
  // Whether the row is this applier's to write (false: another source's row, constant
  // tenant); FailedPrecondition when a tenant it touches is routed to sqlite.
  [[nodiscard]] Result<bool> CheckTenants(const pgchange::Transaction& txn,
                                          const ReverseTarget& target,
                                          const pgchange::Change& change,
                                          const std::vector<RouteRow>& routes);
  // Whether the row holds this source's [target.constants] (false: another source's row);
  // FailedPrecondition for an update that moves a row SQLite holds to another source.
  [[nodiscard]] Result<bool> CheckConstants(const pgchange::Transaction& txn,
                                            const ReverseTarget& target,
                                            const pgchange::Change& change);
  [[nodiscard]] Result<std::vector<std::string>> RowTenants(const ReverseTarget& target,
                                                            const pgchange::Change& change);

  std::unique_ptr<SqliteDb> db_;
  ReverseApplierOptions options_;
  int64_t schema_version_ = -1;
  // SQLite tables by lower-cased name (SQLite compares names case-insensitively).
  std::map<std::string, TableSchema> schema_;
  std::map<uint32_t, ReverseTarget> targets_;  // by relation OID
  ReverseRowWriter writer_;
};

}  // namespace sqlift
