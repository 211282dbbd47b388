// PgBatchSink's SQL text and libpq plumbing: statement text per row change shape, prepared
// statements, and rendering of keys and values for messages and dead letters.
// Thread safety: member functions run under PgBatchSink::mu_; the rest are pure functions.
#include <fmt/format.h>

#include "apply/pg_sink/pg_batch_sink_internal.h"
#include "apply/translate/value_encoder.h"

namespace sqlift::apply {

std::string RenderKey(const wire::RowChange& ch, const ResolvedTable& t) {
  // RowChange.pk is always sent; fall back to the row's own key columns if it is not.
  const auto& row = ch.op() == wire::RowChange::DELETE ? ch.old_values() : ch.new_values();
  std::string out = "(";
  for (size_t j = 0; j < t.pk.size(); ++j) {
    int i = static_cast<int>(j);
    const wire::Value v = i < ch.pk_size()       ? ch.pk(i)
                          : t.pk[j] < row.size() ? row[t.pk[j]]
                                                 : wire::Value();
    out += (j ? ", " : "") + DescribeValue(v);
  }
  return out + ")";
}

bool IsDataError(const Status& st) {
  std::string state = SqlStateOf(st);
  return state.starts_with("22") || state.starts_with("23");
}

// "$n::type" for parameter n of type t.
static std::string Param(int n, const PgType& t) {
  return fmt::format("${}::{}", n, t.sql);
}

// "pk1" = $k::T AND ..., parameters numbered from `first`; the constant tenant column, when
// the table has one, then the table's constants, are the last parameters.
static std::string PkWhere(const ResolvedTable& t, int first) {
  std::string out;
  for (size_t j = 0; j < t.pk.size(); ++j) {
    const PgSinkColumn& c = *t.columns[t.pk[j]];
    out += fmt::format("{}{} = {}", j ? " AND " : "", QuoteIdentifier(c.pg_name),
                       Param(first + static_cast<int>(j), c.type));
  }
  int n = first + static_cast<int>(t.pk.size());
  if (!t.table->constant_column.empty()) {
    out += fmt::format(" AND {} = ${}::text", QuoteIdentifier(t.table->constant_column), n++);
  }
  for (const PgSinkConstant& k : t.table->constants)
    out += fmt::format(" AND {} = {}", QuoteIdentifier(k.pg_name), Param(n++, k.type));
  return out;
}

Status CheckAffected(const wire::RowChange& ch, const ResolvedTable& t, int64_t affected) {
  if (affected > 0) return Status::OK();
  if (ch.op() == wire::RowChange::UPDATE) {
    return Status::FailedPrecondition(fmt::format(
        "consistency error: row to update is missing in PostgreSQL ({})", t.table->pg_name));
  }
  if (ch.op() == wire::RowChange::INSERT && !t.table->constants.empty() &&
      !t.table->constants_in_key) {
    return Status::FailedPrecondition(fmt::format(
        "consistency error: {} holds a row of another source under this key", t.table->pg_name));
  }
  return Status::OK();
}

// An existing target's constants: their names and values for the INSERT, the SET that keeps
// them (so the upsert always updates, and updates only this source's row: the WHERE), or
// (in the key) the columns ON CONFLICT names first.
static void AddConstants(const ResolvedTable& t, int first, std::string* names, std::string* values,
                         std::string* pk, std::string* set, std::string* where) {
  std::string lead;
  for (const PgSinkConstant& k : t.table->constants) {
    const std::string c = QuoteIdentifier(k.pg_name);
    *names += ", " + c;
    *values += ", " + Param(first++, k.type);
    if (t.table->constants_in_key) {
      lead += c + ", ";
      continue;
    }
    *set += fmt::format("{}{} = EXCLUDED.{}", set->empty() ? "" : ", ", c, c);
    *where += fmt::format("{}{}.{} = EXCLUDED.{}", where->empty() ? " WHERE " : " AND ",
                          QuoteIdentifier(t.table->pg_name), c, c);
  }
  *pk = lead + *pk;
}

std::string InsertSql(const std::string& schema, const ResolvedTable& t,
                      const std::vector<int>& cols) {
  std::string names, values, pk, set, where;
  for (size_t i = 0; i < cols.size(); ++i) {
    const PgSinkColumn& c = *t.columns[cols[i]];
    names += (i ? ", " : "") + QuoteIdentifier(c.pg_name);
    values += (i ? ", " : "") + Param(static_cast<int>(i) + 1, c.type);
    if (std::find(t.pk.begin(), t.pk.end(), cols[i]) != t.pk.end()) continue;
    set += fmt::format("{}{} = EXCLUDED.{}", set.empty() ? "" : ", ", QuoteIdentifier(c.pg_name),
                       QuoteIdentifier(c.pg_name));
  }
  for (size_t j = 0; j < t.pk.size(); ++j) {
    pk += (j ? ", " : "") + QuoteIdentifier(t.columns[t.pk[j]]->pg_name);
  }
  if (!t.table->constant_column.empty()) {  // the source's tenant, as the last parameter
    const std::string c = QuoteIdentifier(t.table->constant_column);
    names += ", " + c;
    values += fmt::format(", ${}::text", cols.size() + 1);
    pk = c + ", " + pk;
  }
  const int first = static_cast<int>(cols.size()) + (t.table->constant_column.empty() ? 1 : 2);
  AddConstants(t, first, &names, &values, &pk, &set, &where);
  return fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO {}{}",
                     QuoteQualified(schema, t.table->pg_name), names, values, pk,
                     set.empty() ? std::string("NOTHING") : fmt::format("UPDATE SET {}", set),
                     where);
}

std::string UpdateSql(const std::string& schema, const ResolvedTable& t,
                      const std::vector<int>& cols) {
  std::string set;
  for (size_t i = 0; i < cols.size(); ++i) {
    const PgSinkColumn& c = *t.columns[cols[i]];
    set += fmt::format("{}{} = {}", i ? ", " : "", QuoteIdentifier(c.pg_name),
                       Param(static_cast<int>(i) + 1, c.type));
  }
  return fmt::format("UPDATE {} SET {} WHERE {}", QuoteQualified(schema, t.table->pg_name), set,
                     PkWhere(t, static_cast<int>(cols.size()) + 1));
}

std::string DeleteSql(const std::string& schema, const ResolvedTable& t) {
  return fmt::format("DELETE FROM {} WHERE {}", QuoteQualified(schema, t.table->pg_name),
                     PkWhere(t, 1));
}

Result<std::string> PgBatchSink::Prepared(Context& ctx, const std::string& key,
                                          const std::string& sql, int nparams) {
  auto it = statements_.find(key);
  if (it != statements_.end()) return it->second;
  SQLIFT_RETURN_IF_ERROR(FlushPipeline(ctx, /*exit=*/true));
  std::string name = fmt::format("s{}", statements_.size() + 1);
  SQLIFT_RETURN_IF_ERROR(conn_->Prepare(name, sql, nparams));
  statements_.emplace(key, name);
  return name;
}

Status PgBatchSink::Send(Context& ctx, const std::string& name,
                         const std::vector<std::optional<std::string>>& params,
                         const wire::RowChange& ch) {
  if (!conn_->in_pipeline()) SQLIFT_RETURN_IF_ERROR(conn_->EnterPipeline());
  SQLIFT_RETURN_IF_ERROR(conn_->SendPrepared(name, params));
  ctx.sent.push_back({ctx.txn, &ch});
  // A bounded number in flight: the results wait in socket buffers until read.
  return ctx.sent.size() >= 1000 ? FlushPipeline(ctx, /*exit=*/false) : Status::OK();
}

Status PgBatchSink::FlushPipeline(Context& ctx, bool exit) {
  if (!conn_->in_pipeline()) return Status::OK();
  SQLIFT_ASSIGN_OR_RETURN(std::vector<Result<PgResult>> results, conn_->SyncPipeline());
  std::vector<Context::Sent> sent = std::move(ctx.sent);
  ctx.sent.clear();
  if (exit) SQLIFT_RETURN_IF_ERROR(conn_->ExitPipeline());
  for (size_t i = 0; i < results.size() && i < sent.size(); ++i) {
    const wire::RowChange& ch = *sent[i].change;
    if (!results[i].ok()) {
      return ChangeFailed(ctx, *sent[i].txn, ch, results[i].status(), "", "");
    }
    Status st = CheckAffected(ch, ctx.tables[ch.table_index()], results[i]->affected_rows());
    if (!st.ok()) return ChangeFailed(ctx, *sent[i].txn, ch, st, "", "");
  }
  return Status::OK();
}

Result<PgResult> PgBatchSink::ExecPrepared(const std::string& name,
                                           const std::vector<std::optional<std::string>>& params) {
  return conn_->ExecPrepared(name, params);
}

}  // namespace sqlift::apply
