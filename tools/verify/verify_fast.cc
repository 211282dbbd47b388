// ChangedSinceLastVerify (see verify_fast.h).
#include "tools/verify/verify_fast.h"

#include <fmt/format.h>

#include <set>

#include "common/json/json.h"
#include "state/change_log.h"

namespace sqlift {
namespace {

// The newest matched run that covers `tenant` over every table at a position both sides were
// at: `skipped` (the tenants a whole-database request leaves out now) must include every tenant
// that run left out.
Result<std::optional<VerifiedAt>> FindLastRun(PgConnection& pg, const std::string& source,
                                              const std::string& tenant,
                                              const std::vector<std::string>& skipped) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult exists,
      pg.Query("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('sqlift.verify_runs') "
               "AND attname = 'still'",
               {}));
  if (exists.rows() == 0) return std::optional<VerifiedAt>();  // no run recorded (as such) yet
  SQLIFT_ASSIGN_OR_RETURN(std::string skip, DumpJsonExact(Json(skipped)));
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      pg.Query("SELECT id, position FROM sqlift.verify_runs WHERE source = $1 AND matched AND "
               "all_tables AND (held OR still) AND position IS NOT NULL AND ("
               "tenant = $2 OR ((tenant IS NULL OR tenant = '*') AND "
               "(CASE WHEN $2 = '*' THEN coalesce(skipped, '[]') <@ $3::jsonb "
               "ELSE NOT coalesce(skipped, '[]') ? $2 END))) ORDER BY id DESC LIMIT 1",
               {source, tenant, skip}));
  if (r.rows() == 0) return std::optional<VerifiedAt>();
  SQLIFT_ASSIGN_OR_RETURN(int64_t id, r.GetInt64(0, 0));
  SQLIFT_ASSIGN_OR_RETURN(uint64_t position, r.GetUint64(0, 1));
  return std::optional<VerifiedAt>(VerifiedAt{id, position});
}

}  // namespace

Result<std::optional<ChangedKeys>> ChangedSinceLastVerify(const Config& cfg, PgConnection& pg,
                                                          const std::string& tenant,
                                                          const std::vector<std::string>& skipped,
                                                          uint64_t fence_seq, size_t max_keys,
                                                          std::string* why) {
  SQLIFT_ASSIGN_OR_RETURN(std::optional<VerifiedAt> run,
                          FindLastRun(pg, cfg.source_id, tenant, skipped));
  if (!run) {
    *why = "no earlier full verify of it matched";
    return std::optional<ChangedKeys>();
  }
  state::RocksChangeLogOptions o;
  o.read_only = true;
  SQLIFT_ASSIGN_OR_RETURN(auto log, state::OpenRocksChangeLog(cfg.state_dir, o));
  return ChangedKeysInLog(*log, *run, tenant, fence_seq, max_keys, why);
}

Result<std::optional<ChangedKeys>> ChangedKeysInLog(state::ChangeLog& log, const VerifiedAt& since,
                                                    const std::string& tenant, uint64_t fence_seq,
                                                    size_t max_keys, std::string* why) {
  SQLIFT_ASSIGN_OR_RETURN(state::LogStats stats, log.Stats());
  if (since.position < fence_seq && (stats.count == 0 || stats.first_seq > since.position + 1)) {
    *why = fmt::format("the log no longer holds seq {} (retention)", since.position + 1);
    return std::optional<ChangedKeys>();
  }
  ChangedKeys out;
  out.since_run = since.run_id;
  out.since_seq = since.position;
  std::map<std::string, std::set<std::string>> seen;  // serialized keys, to keep each once
  Status scan = log.Scan(since.position + 1, fence_seq, [&](uint64_t seq, std::string_view v) {
    wire::ChangeBatch batch;
    if (!batch.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      return Status::Corruption(fmt::format("log record of seq {} does not parse", seq));
    }
    for (const wire::Transaction& txn : batch.transactions()) {
      if (txn.kind() == wire::Transaction::DDL) return Status::Aborted("a schema change");
      if (txn.kind() == wire::Transaction::ROUTE && txn.route().side() == wire::Route::POSTGRES &&
          (txn.route().tenant() == tenant || txn.route().tenant() == "*")) {
        return Status::Aborted("it was routed to postgres since");
      }
      for (const wire::RowChange& c : txn.changes()) {
        const std::string& table = batch.tables(static_cast<int>(c.table_index())).name();
        wire::Row key;
        for (const wire::Value& part : c.pk())
          *key.add_values() = part;
        if (seen[table].insert(key.SerializeAsString()).second) {
          out.keys[table].push_back(std::move(key));
          if (++out.count > max_keys) return Status::Aborted("too many changed keys");
        }
      }
    }
    return Status::OK();
  });
  if (scan.code() == Status::Code::kAborted) {
    *why = scan.message() +
           fmt::format(" after verify run {} at seq {}", since.run_id, since.position);
    return std::optional<ChangedKeys>();
  }
  SQLIFT_RETURN_IF_ERROR(scan.With("read the log for the fast verify"));
  return std::optional<ChangedKeys>(std::move(out));
}

Result<int64_t> CountSqliteRows(SqliteDb& db, const std::string& table, const std::string& column,
                                const std::vector<std::string>& values, bool exclude) {
  std::string sql = "SELECT count(*) FROM main." + QuoteSqliteIdentifier(table);
  if (!column.empty() && values.empty()) {
    if (!exclude) return int64_t{0};  // no tenant asked for
  } else if (!column.empty()) {
    std::string list;
    for (size_t i = 0; i < values.size(); ++i)
      list += fmt::format("{}?{}", i ? ", " : "", i + 1);
    const std::string c = "CAST(" + QuoteSqliteIdentifier(column) + " AS TEXT)";
    sql += exclude ? fmt::format(" WHERE {} IS NULL OR {} NOT IN ({})", c, c, list)
                   : fmt::format(" WHERE {} IN ({})", c, list);
  }
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement q, db.Prepare(sql));
  for (size_t i = 0; !column.empty() && i < values.size(); ++i)
    SQLIFT_RETURN_IF_ERROR(q.BindText(static_cast<int>(i + 1), values[i]));
  SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("count(*) gave no row");
  return q.ColumnInt64(0);
}

Result<int64_t> CountPgRows(PgConnection& pg, const std::string& schema, const std::string& table,
                            const RowFilter& filter) {
  std::string sql = "SELECT count(*) FROM " + QuoteQualified(schema, table);
  std::vector<std::optional<std::string>> params;
  if (!filter.column.empty()) {
    std::string array = "{";
    for (const std::string& v : filter.values) {
      std::string quoted = "\"";
      for (char c : v) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      array += (array.size() > 1 ? "," : "") + quoted + "\"";
    }
    params.push_back(array + "}");
    sql += " WHERE (" + QuoteIdentifier(filter.column) + "::text = ANY ($1::text[])) IS " +
           (filter.exclude ? "NOT TRUE" : "TRUE");
  }
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, pg.Query(sql, params));
  return r.GetInt64(0, 0);
}

}  // namespace sqlift
