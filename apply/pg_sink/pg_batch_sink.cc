// PgBatchSink: one PostgreSQL transaction per batch, data and position together (see header).
#include "apply/pg_sink/pg_batch_sink.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "apply/pg_sink/pg_batch_sink_internal.h"
#include "apply/translate/value_encoder.h"
#include "common/base/crash_point.h"

namespace sqlift::apply {
namespace {

bool Present(const google::protobuf::RepeatedPtrField<wire::Value>& values, int i) {
  return i < values.size() && values[i].kind_case() != wire::Value::KIND_NOT_SET;
}

Status CheckBatch(const wire::ChangeBatch& batch) {
  if (batch.first_seq() == 0 || batch.last_seq() < batch.first_seq()) {
    return Status::InvalidArgument(
        fmt::format("bad batch range {}..{}", batch.first_seq(), batch.last_seq()));
  }
  for (const wire::Transaction& txn : batch.transactions()) {
    if (txn.seq() < batch.first_seq() || txn.seq() > batch.last_seq()) {
      return Status::InvalidArgument(fmt::format("transaction seq {} outside batch {}..{}",
                                                 txn.seq(), batch.first_seq(), batch.last_seq()));
    }
  }
  return Status::OK();
}

// Matches one TableShape of a batch to its target table.
Status ResolveOne(const wire::TableShape& shape, const std::map<std::string, PgSinkTable>& tables,
                  ResolvedTable* r) {
  auto it = tables.find(shape.name());
  if (it == tables.end()) return Status::NotFound("no target table for " + shape.name());
  r->table = &it->second;
  for (const std::string& col : shape.columns()) {
    auto c = std::find_if(r->table->columns.begin(), r->table->columns.end(),
                          [&](const PgSinkColumn& p) { return p.sqlite_name == col; });
    if (c == r->table->columns.end()) {
      return Status::NotFound(fmt::format("no target column for {}.{}", shape.name(), col));
    }
    r->columns.push_back(&*c);
  }
  for (uint32_t pk : shape.pk_columns()) {
    if (pk >= r->columns.size()) return Status::InvalidArgument("bad pk column in " + shape.name());
    r->pk.push_back(static_cast<int>(pk));
  }
  if (r->pk.empty()) return Status::NotImplemented("table without primary key: " + shape.name());
  return Status::OK();
}

// Matches each TableShape of the batch to its target table. A table or column without a target
// is kept as an error that a change to it returns (rows are never dropped silently); a DDL
// event later in the batch may still create it.
std::vector<ResolvedTable> Resolve(const wire::ChangeBatch& batch,
                                   const std::map<std::string, PgSinkTable>& tables) {
  std::vector<ResolvedTable> out;
  for (const wire::TableShape& shape : batch.tables()) {
    ResolvedTable r{shape.name(), nullptr, {}, {}, Status::OK()};
    r.error = ResolveOne(shape, tables, &r);
    if (!r.error.ok()) r.table = nullptr;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::map<std::string, PgSinkTable> SinkTablesFromPlan(const SchemaPlan& plan) {
  std::map<std::string, PgSinkTable> out;
  for (const TablePlan& t : plan.tables) {
    PgSinkTable& target = out[t.source_name];
    target.pg_name = t.pg_name;
    target.constant_column = t.constant_tenant_column;
    target.constants_in_key = t.constants_in_key;
    for (const ColumnPlan& c : t.columns) {
      if (!t.constant_tenant_column.empty() && c.pg_name == t.constant_tenant_column) continue;
      if (c.constant) {
        target.constants.push_back({c.pg_name, c.mapping.type, *c.constant});
        continue;
      }
      target.columns.push_back({c.source_name, c.pg_name, c.mapping.type});
    }
  }
  return out;
}

PgBatchSink::PgBatchSink(std::unique_ptr<PgConnection> conn, PgBatchSinkOptions options)
    : conn_(std::move(conn)), options_(std::move(options)) {}

Result<uint64_t> PgBatchSink::AppliedSeq(const std::string& source) {
  std::lock_guard lock(mu_);
  SQLIFT_RETURN_IF_ERROR(EnsureConnected());
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn_->Query("SELECT applied_seq FROM sqlift.positions WHERE source = $1", {source}));
  if (r.rows() == 0) return Status::NotFound(fmt::format("no position for {}", source));
  return r.GetUint64(0, 0);
}

Result<uint64_t> PgBatchSink::Apply(const std::string& source, const wire::ChangeBatch& batch) {
  std::lock_guard lock(mu_);
  SQLIFT_RETURN_IF_ERROR(CheckBatch(batch));
  SQLIFT_RETURN_IF_ERROR(EnsureConnected());
  return ApplyLocked(source, batch);
}

Result<uint64_t> PgBatchSink::ApplyLocked(const std::string& source,
                                          const wire::ChangeBatch& batch) {
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(uint64_t applied, ApplyUpTo(source, batch));
    if (applied >= batch.last_seq()) return applied;
    // Held short of the batch's end (`sqlift verify`): the rest waits for the hold to move.
    SQLIFT_RETURN_IF_ERROR(WaitWhileHeld(source, applied));
  }
}

// Waits until the hold on `source` lets seq applied + 1 through: released, moved past, or
// expired (hold_until is in PostgreSQL's clock, so a verify that died cannot hold for ever).
Status PgBatchSink::WaitWhileHeld(const std::string& source, uint64_t applied) {
  bool logged = false;
  for (;;) {
    if (interrupted_.load()) {
      return Status::Aborted(fmt::format("applier stopping while held at seq {}", applied));
    }
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult r,
        conn_->Query("SELECT CASE WHEN hold_until > clock_timestamp() THEN hold_seq END "
                     "FROM sqlift.positions WHERE source = $1",
                     {source}));
    uint64_t hold_seq = applied + 1;  // no hold: the next seq may pass
    if (r.rows() > 0 && !r.is_null(0, 0)) {
      SQLIFT_ASSIGN_OR_RETURN(hold_seq, r.GetUint64(0, 0));
    }
    if (hold_seq > applied) {
      if (logged) spdlog::info("applier: hold on {} released at seq {}", source, applied);
      return Status::OK();
    }
    if (!logged) spdlog::info("applier: {} held at seq {} (sqlift verify)", source, applied);
    logged = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void PgBatchSink::Interrupt() {
  interrupted_.store(true);
}

Result<uint64_t> PgBatchSink::ApplyUpTo(const std::string& source, const wire::ChangeBatch& batch) {
  SQLIFT_ASSIGN_OR_RETURN(std::shared_ptr<const SourceSchema> schema, SchemaOf(source));
  Context ctx(source, batch, std::move(schema),
              options_.on_error == PgBatchSinkOptions::OnError::kStop);
  SQLIFT_RETURN_IF_ERROR(conn_->Exec(options_.origin_session
                                         ? "BEGIN; SET CONSTRAINTS ALL DEFERRED; "
                                           "SELECT pg_replication_origin_xact_reset()"
                                         : "BEGIN; SET CONSTRAINTS ALL DEFERRED"));
  // Every failure below ends the transaction; the position is never cached across one.
  auto fail = [&](const Status& st) -> Status {
    if (conn_->in_pipeline()) {  // results of a failed pipeline are read and dropped
      (void)conn_->SyncPipeline();
      (void)conn_->ExitPipeline();
    }
    (void)conn_->Exec("ROLLBACK");
    if (ctx.stop_letter) {
      Status dl = InsertDeadLetter(*conn_, *ctx.stop_letter);
      if (!dl.ok()) spdlog::error("applier: dead letter not written: {}", dl.ToString());
    }
    return st;
  };
  // The position, and the hold `sqlift verify` may have put on it (apply/applier_hold.h).
  auto pos = conn_->Query(
      "SELECT applied_seq, CASE WHEN hold_until > clock_timestamp() THEN hold_seq END "
      "FROM sqlift.positions WHERE source = $1 FOR UPDATE",
      {source});
  if (!pos.ok()) return fail(pos.status());
  uint64_t applied = 0;
  if (pos->rows()) {
    Result<uint64_t> at = pos->GetUint64(0, 0);
    if (!at.ok()) return fail(at.status());
    applied = *at;
  }
  if (batch.first_seq() > applied + 1) {
    return fail(
        Status::FailedPrecondition(fmt::format("seq gap: batch {}..{} after applied seq {}",
                                               batch.first_seq(), batch.last_seq(), applied)));
  }
  uint64_t end = batch.last_seq();  // apply every transaction with seq <= end
  if (pos->rows() && !pos->is_null(0, 1)) {
    Result<uint64_t> hold_seq = pos->GetUint64(0, 1);
    if (!hold_seq.ok()) return fail(hold_seq.status());
    end = std::min<uint64_t>(end, std::max<uint64_t>(applied, *hold_seq));
  }
  if (end <= applied) {  // a replay of what is committed, or held: nothing to do now
    SQLIFT_RETURN_IF_ERROR(conn_->Exec("ROLLBACK"));
    return applied;
  }
  for (const wire::Transaction& txn : batch.transactions()) {
    if (txn.seq() <= applied) continue;  // the overlap with what is already applied
    if (txn.seq() > end) break;          // past the hold: whole transactions only
    Status st = ApplyTransaction(ctx, txn);
    if (!st.ok()) return fail(st);
  }
  Status flushed = FlushPipeline(ctx, /*exit=*/true);
  if (!flushed.ok()) return fail(flushed);
  auto moved = conn_->Query(
      "INSERT INTO sqlift.positions(source, applied_seq) VALUES ($1, $2::bigint) "
      "ON CONFLICT (source) DO UPDATE SET applied_seq = EXCLUDED.applied_seq, updated_at = now()",
      {source, std::to_string(end)});
  if (!moved.ok()) return fail(moved.status());
  if (ctx.schema_changed) {
    Status stored = StoreSourceSchema(*conn_, source, ctx.schema->sql);
    if (!stored.ok()) return fail(stored);
  }
  // Deferred constraints are checked here; a failing COMMIT rolls back data and position.
  Status commit = conn_->Exec("COMMIT");
  if (!commit.ok()) {
    (void)conn_->Exec("ROLLBACK");
    return commit.With(fmt::format("commit seqs {}..{}", batch.first_seq(), end));
  }
  if (ctx.schema_changed) schemas_[source] = ctx.schema;  // committed: now the schema
  CrashPoint("after_apply_commit");  // committed, not yet acked: the agent must not resend it
  return end;
}

Status PgBatchSink::ApplyTransaction(Context& ctx, const wire::Transaction& txn) {
  ctx.txn = &txn;
  if (txn.kind() == wire::Transaction::DDL) {
    SQLIFT_RETURN_IF_ERROR(FlushPipeline(ctx, /*exit=*/true));  // DDL runs on its own
    return ApplyDdl(ctx, txn);
  }
  if (txn.kind() == wire::Transaction::ROUTE) {
    SQLIFT_RETURN_IF_ERROR(FlushPipeline(ctx, /*exit=*/true));  // after the changes before it
    return ApplyRouteEvent(ctx, txn);
  }
  if (txn.kind() == wire::Transaction::REVERSE) return Status::OK();  // PostgreSQL has them
  if (txn.kind() != wire::Transaction::CHANGES) {
    return Status::InvalidArgument(fmt::format("transaction seq {} has no kind", txn.seq()));
  }
  if (!ctx.resolved) {  // the batch's shapes, matched to the schema as of this transaction
    ctx.tables = Resolve(ctx.batch, ctx.schema->tables);
    ctx.resolved = true;
  }
  for (const wire::RowChange& ch : txn.changes()) {
    SQLIFT_RETURN_IF_ERROR(ApplyChange(ctx, txn, ch));
  }
  return Status::OK();
}

Status PgBatchSink::ApplyChange(Context& ctx, const wire::Transaction& txn,
                                const wire::RowChange& ch) {
  if (ch.table_index() >= ctx.tables.size()) {
    return Status::InvalidArgument(fmt::format("seq {}: bad table index", txn.seq()));
  }
  if (!ctx.tables[ch.table_index()].table) {
    return ctx.tables[ch.table_index()].error.With(fmt::format("seq {}", txn.seq()));
  }
  const bool skip = options_.on_error == PgBatchSinkOptions::OnError::kSkip;
  if (skip) SQLIFT_RETURN_IF_ERROR(conn_->Exec("SAVEPOINT sqlift_row"));
  std::string column, value;
  Status st = RunChange(ctx, ch, &column, &value);
  if (st.ok()) return skip ? conn_->Exec("RELEASE SAVEPOINT sqlift_row") : Status::OK();
  if (!skip) return ChangeFailed(ctx, txn, ch, st, column, value);
  Status failed = ChangeFailed(ctx, txn, ch, st, column, value);
  if (!ctx.stop_letter) return failed;  // not the data's fault: skipping would hide it
  DeadLetter letter = std::move(*ctx.stop_letter);
  ctx.stop_letter.reset();
  SQLIFT_RETURN_IF_ERROR(conn_->Exec("ROLLBACK TO SAVEPOINT sqlift_row"));
  spdlog::warn("applier: dead-lettered {}", failed.message());
  return InsertDeadLetter(*conn_, letter);
}

Status PgBatchSink::ChangeFailed(Context& ctx, const wire::Transaction& txn,
                                 const wire::RowChange& ch, const Status& st,
                                 const std::string& column, const std::string& value) {
  const ResolvedTable& t = ctx.tables[ch.table_index()];
  std::string key = RenderKey(ch, t);
  std::string msg =
      fmt::format("seq {} table {} key {}: {}", txn.seq(), t.sqlite_name, key, st.message());
  if (!column.empty() || IsDataError(st)) {
    DeadLetter letter{ctx.source,    static_cast<int64_t>(txn.seq()),
                      t.sqlite_name, key,
                      std::nullopt,  std::nullopt,
                      st.message()};
    if (!column.empty()) letter.column = column, letter.value = value;
    ctx.stop_letter = letter;
  }
  return Status::FromCode(st.code(), msg);
}

Status PgBatchSink::RunChange(Context& ctx, const wire::RowChange& ch, std::string* column,
                              std::string* value) {
  const ResolvedTable& t = ctx.tables[ch.table_index()];
  std::vector<int> cols;
  std::string sql, key;
  if (ch.op() == wire::RowChange::INSERT || ch.op() == wire::RowChange::UPDATE) {
    bool update = ch.op() == wire::RowChange::UPDATE;
    for (int i = 0; i < static_cast<int>(t.columns.size()); ++i) {
      bool is_pk = std::find(t.pk.begin(), t.pk.end(), i) != t.pk.end();
      if (Present(ch.new_values(), i) && !(update && is_pk)) cols.push_back(i);
    }
    if (update && cols.empty()) return Status::OK();  // nothing changed but the key
    sql = update ? UpdateSql(options_.schema, t, cols) : InsertSql(options_.schema, t, cols);
  } else if (ch.op() == wire::RowChange::DELETE) {
    sql = DeleteSql(options_.schema, t);
  } else {
    return Status::InvalidArgument("row change without op");
  }
  key = fmt::format("{}|{}|{}", t.sqlite_name, static_cast<int>(ch.op()), fmt::join(cols, ","));
  // Parameters: the new values of `cols`, then (UPDATE, DELETE) the key.
  std::vector<std::optional<std::string>> params;
  auto bind = [&](const wire::Value& v, const PgSinkColumn& c) -> Status {
    if (v.kind_case() == wire::Value::kNull) return params.emplace_back(), Status::OK();
    auto text = PgTextOf(v, c.type);
    if (!text.ok()) {
      *column = c.sqlite_name, *value = DescribeValue(v);
      return Status::InvalidArgument(
          fmt::format("column {}: {}", c.sqlite_name, text.status().message()));
    }
    params.emplace_back(std::move(text).value());
    return Status::OK();
  };
  for (int i : cols)
    SQLIFT_RETURN_IF_ERROR(bind(ch.new_values(i), *t.columns[i]));
  if (ch.op() != wire::RowChange::INSERT) {
    if (ch.pk_size() != static_cast<int>(t.pk.size())) return Status::InvalidArgument("bad key");
    for (size_t j = 0; j < t.pk.size(); ++j) {
      SQLIFT_RETURN_IF_ERROR(bind(ch.pk(static_cast<int>(j)), *t.columns[t.pk[j]]));
    }
  }
  if (!t.table->constant_column.empty()) params.emplace_back(options_.constant_tenant);
  for (const PgSinkConstant& k : t.table->constants)
    params.emplace_back(k.value);
  SQLIFT_ASSIGN_OR_RETURN(std::string name,
                          Prepared(ctx, key, sql, static_cast<int>(params.size())));
  if (ctx.pipelined) return Send(ctx, name, params, ch);
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, ExecPrepared(name, params));
  return CheckAffected(ch, t, r.affected_rows());
}

}  // namespace sqlift::apply
