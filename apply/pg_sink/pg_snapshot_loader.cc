// PgSnapshotLoader: a whole snapshot in one PostgreSQL transaction (see header).
#include "apply/pg_sink/pg_snapshot_loader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "apply/pg_sink/pg_state_schema.h"
#include "apply/pg_sink/target_constants.h"
#include "proto/wire/chunk_rows.h"

namespace sqlift {

Status RunAfterData(PgConnection& conn, const std::vector<std::string>& statements) {
  for (const std::string& sql : statements) {
    SQLIFT_RETURN_IF_ERROR(conn.Exec("SAVEPOINT after_data"));
    Status st = conn.Exec(sql);
    std::string state = SqlStateOf(st);
    if (state == "42P07" || state == "42710") {
      spdlog::info("already present, kept: {}", sql.substr(0, 120));
      SQLIFT_RETURN_IF_ERROR(conn.Exec("ROLLBACK TO SAVEPOINT after_data"));
      continue;
    }
    SQLIFT_RETURN_IF_ERROR(st.With(sql.substr(0, 120)));
    SQLIFT_RETURN_IF_ERROR(conn.Exec("RELEASE SAVEPOINT after_data"));
  }
  return Status::OK();
}

PgSnapshotLoader::PgSnapshotLoader(std::unique_ptr<PgConnection> conn,
                                   std::unique_ptr<PgConnection> dead_conn,
                                   PgSnapshotOptions options)
    : conn_(std::move(conn)), dead_conn_(std::move(dead_conn)), options_(std::move(options)) {}

PgSnapshotLoader::~PgSnapshotLoader() {
  Abort();
}

Status PgSnapshotLoader::Begin(SchemaPlan plan, std::vector<std::string> sqlite_sql, uint64_t s) {
  if (plan.blocked()) {
    for (const Problem& p : plan.problems) {
      if (p.severity != Problem::Severity::kBlocker) continue;
      return Status::FailedPrecondition(
          fmt::format("the source's schema has a blocker: {}{}: {} (fix: {}); see `sqlift plan`",
                      p.table, p.column.empty() ? "" : "." + p.column, p.what, p.fix));
    }
  }
  plan_ = std::move(plan);
  sqlite_sql_ = std::move(sqlite_sql);
  s_ = s;
  // Sources of one schema (database-per-tenant) may load their first snapshots at once; the
  // shared tables are created by whichever comes first, the others find them (the lock is the
  // one sqlift's schema statements take, held to this snapshot's commit).
  SQLIFT_RETURN_IF_ERROR(
      conn_->Exec("BEGIN; SET CONSTRAINTS ALL DEFERRED; SELECT "
                  "pg_advisory_xact_lock(hashtext('sqlift.schema'))"));
  open_ = true;
  return CreateTables();
}

Status PgSnapshotLoader::CheckExistingTables() {
  for (const TablePlan& t : plan_.tables) {
    std::string name = QuoteQualified(options_.schema, t.pg_name);
    SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn_->Query("SELECT to_regclass($1) IS NOT NULL", {name}));
    if (r.get(0, 0) != "t") {
      return Status::FailedPrecondition(fmt::format(
          "target table {} does not exist; with [target] schema_mode = \"existing\" the "
          "application's schema is deployed first",
          name));
    }
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult rows,
        conn_->Query(fmt::format("SELECT EXISTS (SELECT 1 FROM {}{})", name, SourceRowsWhere(t)),
                     SourceRowsParams(t)));
    if (rows.get(0, 0) == "t") {
      const ColumnPlan* k = SourceConstant(t);
      return Status::FailedPrecondition(fmt::format(
          "target table {} already holds rows{}; a snapshot loads only into empty tables", name,
          k ? fmt::format(" of {} = '{}'", k->pg_name, *k->constant) : ""));
    }
  }
  return Status::OK();
}

Status PgSnapshotLoader::CreateTables() {
  if (options_.existing_schema) return CheckExistingTables();
  std::string sql = plan_.ddl[0] + ";";
  for (size_t i = 0; i < plan_.tables.size(); ++i) {
    std::string name = QuoteQualified(options_.schema, plan_.tables[i].pg_name);
    SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn_->Query("SELECT to_regclass($1) IS NOT NULL", {name}));
    if (r.get(0, 0) != "t") {
      sql += plan_.ddl[i + 1] + ";";
      continue;
    }
    const std::string& tenant_col = plan_.tables[i].constant_tenant_column;
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult rows,
        tenant_col.empty()
            ? conn_->Query(fmt::format("SELECT EXISTS (SELECT 1 FROM {})", name))
            : conn_->Query(fmt::format("SELECT EXISTS (SELECT 1 FROM {} WHERE {} = $1)", name,
                                       QuoteIdentifier(tenant_col)),
                           {options_.constant_tenant}));
    if (rows.get(0, 0) == "t") {
      return Status::FailedPrecondition(fmt::format(
          "target table {} already holds rows{}; a snapshot loads only into empty or new tables "
          "(empty it, or use another database)",
          name, tenant_col.empty() ? "" : " of tenant " + options_.constant_tenant));
    }
  }
  return conn_->Exec(sql).With("create target tables");
}

Status PgSnapshotLoader::StartTable(const wire::TableShape& shape) {
  for (size_t i = 0; i < plan_.tables.size(); ++i) {
    const TablePlan& t = plan_.tables[i];
    if (t.source_name != shape.name()) continue;
    // The constant tenant column comes first in the plan and an existing target's constants
    // last; neither is in SQLite's rows.
    const size_t skip = t.constant_tenant_column.empty() ? 0 : 1;
    const size_t sqlite_end = t.columns.size() - ConstantCount(t);
    if (static_cast<size_t>(shape.columns_size()) + skip != sqlite_end) {
      return Status::InvalidArgument(fmt::format("snapshot of {} has {} columns, its schema {}",
                                                 shape.name(), shape.columns_size(),
                                                 sqlite_end - skip));
    }
    for (size_t c = skip; c < sqlite_end; ++c) {
      const std::string& sent = shape.columns(static_cast<int>(c - skip));
      if (sent != t.columns[c].source_name) {
        return Status::InvalidArgument(fmt::format("snapshot of {}: column {} is {} in its schema",
                                                   shape.name(), sent, t.columns[c].source_name));
      }
    }
    CopyLoaderOptions lo;
    lo.on_error = options_.on_error;
    lo.seq = static_cast<int64_t>(s_);
    lo.source = options_.source;
    lo.key_columns.clear();
    for (uint32_t k : shape.pk_columns())
      lo.key_columns.push_back(k + skip);
    loader_ = std::make_unique<CopyLoader>(*conn_, *dead_conn_, t, options_.schema, lo);
    table_ = i;
    ++stats_.tables;
    return loader_->Begin();
  }
  return Status::NotFound(
      fmt::format("snapshot chunk for {}, which its schema does not have", shape.name()));
}

Status PgSnapshotLoader::FinishTable() {
  if (!loader_) return Status::OK();
  Status st = loader_->Finish();
  stats_.rows += loader_->stats().rows;
  stats_.dead_letters += loader_->stats().dead_letters;
  loader_.reset();
  table_.reset();
  return st;
}

// The chunk's rows with this source's tenant as their first value.
Result<std::vector<wire::Row>> PgSnapshotLoader::WithTenant(
    const wire::SnapshotChunk& chunk, const std::vector<std::string_view>& serialized) const {
  std::vector<wire::Row> rows(chunk.rows().begin(), chunk.rows().end());
  for (std::string_view bytes : serialized)
    SQLIFT_RETURN_IF_ERROR(proto::ReadRow(bytes, &rows.emplace_back()));
  wire::Value tenant;
  tenant.set_text(options_.constant_tenant);
  for (wire::Row& r : rows) {
    wire::Row with;
    *with.add_values() = tenant;
    for (wire::Value& v : *r.mutable_values())
      *with.add_values() = std::move(v);
    r = std::move(with);
  }
  return rows;
}

// Encoded where they are: serialized rows one at a time, parsed ones without a copy.
Status PgSnapshotLoader::AddRows(const wire::SnapshotChunk& chunk,
                                 const std::vector<std::string_view>& rows) {
  const TablePlan& t = plan_.tables[*table_];
  if (SourceConstant(t)) {  // parsed, to take the constants after their values
    std::vector<wire::Row> with(chunk.rows().begin(), chunk.rows().end());
    for (std::string_view bytes : rows)
      SQLIFT_RETURN_IF_ERROR(proto::ReadRow(bytes, &with.emplace_back()));
    AppendConstants(t, &with);
    return loader_->AddRows(with);
  }
  if (!t.constant_tenant_column.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(std::vector<wire::Row> with, WithTenant(chunk, rows));
    return loader_->AddRows(with);
  }
  if (chunk.rows_size() > 0) SQLIFT_RETURN_IF_ERROR(loader_->AddRows(chunk.rows()));
  return rows.empty() ? Status::OK() : loader_->AddSerializedRows(rows);
}

Status PgSnapshotLoader::Add(const wire::SnapshotChunk& chunk,
                             const std::vector<std::string_view>& rows) {
  if (!open_) return Status::FailedPrecondition("snapshot not begun");
  if (chunk.snapshot_seq() != s_) {
    return Status::InvalidArgument(
        fmt::format("chunk of snapshot {} inside snapshot {}", chunk.snapshot_seq(), s_));
  }
  if (!chunk.has_table() || chunk.table().name().empty()) return Status::OK();  // no tables
  if (table_ && plan_.tables[*table_].source_name != chunk.table().name()) {
    return Status::InvalidArgument(fmt::format("chunk of {} before the end of {}",
                                               chunk.table().name(),
                                               plan_.tables[*table_].source_name));
  }
  if (!table_) SQLIFT_RETURN_IF_ERROR(StartTable(chunk.table()));
  if (chunk.rows_size() > 0 || !rows.empty()) {
    Status st = AddRows(chunk, rows);
    if (!st.ok()) {
      loader_->Abort(st.message());
      loader_.reset();
      return st;
    }
  }
  if (chunk.last_in_table()) return FinishTable();
  return Status::OK();
}

Status PgSnapshotLoader::Commit() {
  if (!open_) return Status::FailedPrecondition("snapshot not begun");
  SQLIFT_RETURN_IF_ERROR(FinishTable());
  SQLIFT_RETURN_IF_ERROR(conn_->Exec("SET CONSTRAINTS ALL IMMEDIATE"));
  SQLIFT_RETURN_IF_ERROR(RunAfterData(*conn_, plan_.after_data).With("after the data"));
  if (options_.before_commit) SQLIFT_RETURN_IF_ERROR(options_.before_commit(*conn_, plan_));
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult pos,
      conn_->Query("INSERT INTO sqlift.positions(source, applied_seq, snapshot_seq, snapshot_rows) "
                   "VALUES ($1, $2::bigint, $2::bigint, $3::bigint) ON CONFLICT (source) DO UPDATE "
                   "SET applied_seq = EXCLUDED.applied_seq, snapshot_seq = EXCLUDED.snapshot_seq, "
                   "snapshot_rows = EXCLUDED.snapshot_rows, updated_at = now()",
                   {options_.source, std::to_string(s_), std::to_string(stats_.rows)}));
  SQLIFT_RETURN_IF_ERROR(StoreSourceSchema(*conn_, options_.source, sqlite_sql_));
  SQLIFT_RETURN_IF_ERROR(conn_->Exec("COMMIT").With("commit the snapshot"));
  open_ = false;
  return Status::OK();
}

void PgSnapshotLoader::Abort() {
  if (loader_) loader_->Abort("snapshot aborted");
  loader_.reset();
  table_.reset();
  if (open_) (void)conn_->Exec("ROLLBACK");
  open_ = false;
}

}  // namespace sqlift
