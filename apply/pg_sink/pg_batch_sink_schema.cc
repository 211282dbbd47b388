// PgBatchSink: the connection, each source's schema, DDL events and snapshots (see header).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <future>

#include "apply/pg_sink/pg_batch_sink.h"
#include "apply/pg_sink/pg_batch_sink_internal.h"
#include "apply/pg_sink/pg_route.h"
#include "apply/translate/ddl_diff.h"
#include "common/base/crash_point.h"

namespace sqlift::apply {
namespace {

std::shared_ptr<PgBatchSink::SourceSchema> MakeSchema(std::vector<std::string> sql,
                                                      SchemaPlan plan) {
  auto schema = std::make_shared<PgBatchSink::SourceSchema>();
  schema->tables = SinkTablesFromPlan(plan);
  schema->sql = std::move(sql);
  schema->plan = std::move(plan);
  return schema;
}

// An existing target schema is the application's: sqlift never alters it. A DDL event is taken
// when the target already matches the new schema (the application's migration ran on
// PostgreSQL first); otherwise the stream stops, naming what does not match, until it does.
Status TakeExistingDdl(const wire::Transaction& txn, const SchemaPlan& plan) {
  for (const Problem& p : plan.problems) {
    if (p.severity != Problem::Severity::kBlocker) continue;
    return Status::FailedPrecondition(fmt::format(
        "DDL at seq {} on {}: [target] schema_mode = \"existing\" never changes the target "
        "schema, and it does not match the new one: {}{}: {} (fix: {}); apply the application's "
        "migration to PostgreSQL, then restart replication",
        txn.seq(), txn.ddl_table(), p.table, p.column.empty() ? "" : "." + p.column, p.what,
        p.fix));
  }
  spdlog::info("applier: seq {}: schema change of {} taken; the target schema matches it",
               txn.seq(), txn.ddl_table());
  return Status::OK();
}

}  // namespace

Status PgBatchSink::EnsureConnected() {
  if (!conn_ || PQstatus(conn_->raw()) != CONNECTION_OK) {
    if (!options_.connect) return Status::Unavailable("the connection to PostgreSQL is lost");
    statements_.clear();  // prepared statements died with the old connection
    conn_.reset();
    prepared_ = false;
    SQLIFT_ASSIGN_OR_RETURN(conn_, options_.connect());
    spdlog::info("applier: connected to {}", conn_->Describe());
  }
  if (!prepared_ && options_.prepare_session) {
    SQLIFT_RETURN_IF_ERROR(options_.prepare_session(*conn_));
  }
  prepared_ = true;
  return Status::OK();
}

Status PgBatchSink::InstallFences(PgConnection& conn, const SchemaPlan& plan,
                                  const std::string& table) {
  if (!options_.fences) return Status::OK();
  for (const TablePlan& t : plan.tables) {
    if (!table.empty() && t.source_name != table) continue;
    std::string tenant;
    for (const ColumnPlan& c : t.columns) {
      if (!options_.tenant_column.empty() &&
          strcasecmp(c.source_name.c_str(), options_.tenant_column.c_str()) == 0)
        tenant = c.pg_name;
    }
    SQLIFT_RETURN_IF_ERROR(InstallFence(conn, options_.schema, t.pg_name, tenant));
  }
  return Status::OK();
}

Status PgBatchSink::ApplyRouteEvent(Context& ctx, const wire::Transaction& txn) {
  const wire::Route& r = txn.route();
  if (r.tenant().empty() || r.side() == wire::Route::SIDE_UNSPECIFIED) {
    return Status::InvalidArgument(
        fmt::format("seq {}: a route event without tenant or side", txn.seq()));
  }
  PgRoute route{
      r.tenant(), r.side() == wire::Route::POSTGRES ? RouteSide::kPostgres : RouteSide::kSqlite,
      r.epoch(),  r.fenced(),
      ctx.source, txn.seq()};
  spdlog::info("applier: seq {}: route of {} -> {} epoch {}{}", txn.seq(), r.tenant(),
               RouteSideName(route.side), r.epoch(), r.fenced() ? " (fenced)" : "");
  return ApplyRoute(*conn_, route).With(fmt::format("route event at seq {}", txn.seq()));
}

Result<std::shared_ptr<const PgBatchSink::SourceSchema>> PgBatchSink::SchemaOf(
    const std::string& source) {
  auto it = schemas_.find(source);
  if (it != schemas_.end()) return it->second;
  SQLIFT_ASSIGN_OR_RETURN(auto stored, LoadSourceSchema(*conn_, source));
  std::shared_ptr<SourceSchema> schema;
  if (!stored) {  // tables given by hand (or none: every change then fails, naming its table)
    schema = std::make_shared<SourceSchema>();
    schema->tables = options_.tables;
  } else {
    if (!options_.compiler) return Status::FailedPrecondition("no schema compiler configured");
    SQLIFT_ASSIGN_OR_RETURN(SchemaPlan plan, options_.compiler->Compile(*stored));
    schema = MakeSchema(std::move(*stored), std::move(plan));
  }
  schemas_[source] = schema;
  return std::shared_ptr<const SourceSchema>(schema);
}

Status PgBatchSink::ApplyDdl(Context& ctx, const wire::Transaction& txn) {
  ++ddl_seen_;
  const std::string& table = txn.ddl_table();
  if (ctx.schema->sql.empty() || !options_.compiler) {
    spdlog::warn("applier: DDL at seq {} on {} not applied (source without a stored schema): {}",
                 txn.seq(), table, txn.ddl_sql());
    return Status::OK();
  }
  SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> sql,
                          options_.compiler->ReplaceTable(ctx.schema->sql, table, txn.ddl_sql()));
  SQLIFT_ASSIGN_OR_RETURN(SchemaPlan plan, options_.compiler->Compile(sql));
  if (options_.existing_schema) {
    SQLIFT_RETURN_IF_ERROR(TakeExistingDdl(txn, plan));
    ctx.schema = MakeSchema(std::move(sql), std::move(plan));
    ctx.schema_changed = true;
    ctx.resolved = false;
    return Status::OK();
  }
  auto statements = AdditiveDdl(ctx.schema->plan, plan, table, options_.schema);
  if (!statements.ok()) return statements.status().With(fmt::format("DDL at seq {}", txn.seq()));
  for (const std::string& stmt : *statements) {
    spdlog::info("applier: seq {}: {}", txn.seq(), stmt.substr(0, 200));
    SQLIFT_RETURN_IF_ERROR(conn_->Exec(stmt).With(fmt::format("DDL at seq {}", txn.seq())));
  }
  if (!txn.ddl_sql().empty()) SQLIFT_RETURN_IF_ERROR(InstallFences(*conn_, plan, table));
  ctx.schema = MakeSchema(std::move(sql), std::move(plan));
  ctx.schema_changed = true;
  ctx.resolved = false;  // later changes may name the new table or columns
  return Status::OK();
}

Status PgBatchSink::BeginSnapshot(const std::string& source, const wire::SnapshotChunk& chunk) {
  snapshots_.erase(source);  // an unfinished one rolls back
  if (!options_.compiler || !options_.connect) {
    return Status::FailedPrecondition("this applier cannot load snapshots (no compiler)");
  }
  std::vector<std::string> sql(chunk.schema_sql().begin(), chunk.schema_sql().end());
  // The two connections open at once, while the schema compiles: each costs PostgreSQL a
  // backend's start, and the whole snapshot waits for them.
  auto conn_opening = std::async(std::launch::async, options_.connect);
  auto dead_opening = std::async(std::launch::async, options_.connect);
  Result<SchemaPlan> compiled = options_.compiler->Compile(sql);
  Result<std::unique_ptr<PgConnection>> opened = conn_opening.get(),
                                        dead_opened = dead_opening.get();
  SQLIFT_ASSIGN_OR_RETURN(SchemaPlan plan, std::move(compiled));
  SQLIFT_ASSIGN_OR_RETURN(auto conn, std::move(opened));
  SQLIFT_ASSIGN_OR_RETURN(auto dead, std::move(dead_opened));
  PgSnapshotOptions o;
  o.source = source;
  o.schema = options_.schema;
  o.on_error =
      options_.on_error == PgBatchSinkOptions::OnError::kSkip ? OnError::kSkipRow : OnError::kStop;
  o.constant_tenant = options_.constant_tenant;
  o.existing_schema = options_.existing_schema;
  o.before_commit = [this](PgConnection& c, const SchemaPlan& p) {
    return InstallFences(c, p, "");
  };
  auto loader = std::make_unique<PgSnapshotLoader>(std::move(conn), std::move(dead), o);
  SQLIFT_RETURN_IF_ERROR(loader->Begin(std::move(plan), std::move(sql), chunk.snapshot_seq()));
  spdlog::info("applier: loading the snapshot of {} at seq {}", source, chunk.snapshot_seq());
  snapshots_[source] = std::move(loader);
  return Status::OK();
}

Result<uint64_t> PgBatchSink::LoadSnapshot(const std::string& source,
                                           const wire::SnapshotChunk& chunk) {
  return LoadSnapshotRows(source, chunk, {});
}

Result<uint64_t> PgBatchSink::LoadSnapshotRows(const std::string& source,
                                               const wire::SnapshotChunk& chunk,
                                               const std::vector<std::string_view>& rows) {
  std::lock_guard lock(mu_);
  if (chunk.chunk_no() == 0) SQLIFT_RETURN_IF_ERROR(BeginSnapshot(source, chunk));
  auto it = snapshots_.find(source);
  if (it == snapshots_.end()) {
    return Status::FailedPrecondition(
        fmt::format("snapshot chunk {} of {} without chunk 0", chunk.chunk_no(), source));
  }
  PgSnapshotLoader& loader = *it->second;
  Status st = loader.Add(chunk, rows);
  if (st.ok() && chunk.last_chunk()) st = loader.Commit();
  if (!st.ok()) {
    snapshots_.erase(it);
    return st.With(fmt::format("snapshot of {} at seq {}", source, chunk.snapshot_seq()));
  }
  if (!chunk.last_chunk()) return uint64_t{0};
  CrashPoint("after_snapshot_commit");
  const SnapshotLoadStats stats = loader.stats();
  schemas_[source] = MakeSchema(loader.sqlite_sql(), loader.plan());
  snapshots_.erase(it);
  spdlog::info("applier: snapshot of {} committed at seq {}: {} tables, {} rows, {} dead letters",
               source, chunk.snapshot_seq(), stats.tables, stats.rows, stats.dead_letters);
  return chunk.snapshot_seq();
}

void PgBatchSink::AbortSnapshot(const std::string& source) {
  std::lock_guard lock(mu_);
  if (snapshots_.erase(source))
    spdlog::warn("applier: unfinished snapshot of {} discarded", source);
}

}  // namespace sqlift::apply
