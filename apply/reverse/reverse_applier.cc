#include "apply/reverse/reverse_applier.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "apply/reverse/pg_text_value.h"
#include "apply/translate/value_repr.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"
#include "common/sqlite/sqlite_schema.h"

namespace sqlift {

namespace {

using pgchange::Change;
using pgchange::Datum;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool SameRelation(const pgchange::Relation& a, const pgchange::Relation& b) {
  if (a.schema != b.schema || a.table != b.table || a.columns.size() != b.columns.size()) {
    return false;
  }
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const pgchange::Column &x = a.columns[i], &y = b.columns[i];
    if (x.name != y.name || x.type_oid != y.type_oid || x.key != y.key) return false;
  }
  return true;
}

Status CheckTableExists(SqliteDb& db, const char* table, const char* column) {
  int rc = sqlite3_table_column_metadata(db.handle(), "main", table, column, nullptr, nullptr,
                                         nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return Status::OK();
  return Status::FailedPrecondition(fmt::format(
      "open reverse applier on {}: no table {} (with column {}): run `sqlift init` first",
      db.path(), table, column));
}

// Checks that a change carries one value per column of its relation where it needs them.
Status CheckShape(const Change& c) {
  size_t n = c.rel->columns.size();
  bool ok = true;
  if (c.op == Change::Op::kInsert || c.op == Change::Op::kUpdate) ok = c.new_tuple.size() == n;
  if (c.op == Change::Op::kDelete) ok = c.old_tuple.size() == n;
  if (!c.old_tuple.empty()) ok = ok && c.old_tuple.size() == n;
  if (ok) return Status::OK();
  return Status::InvalidArgument(fmt::format(
      "change of {}.{}: tuple sizes (old {}, new {}) do not match the relation's {} columns",
      c.rel->schema, c.rel->table, c.old_tuple.size(), c.new_tuple.size(), n));
}

// The unit rel column `i` of `t` stores its instants in, when [mapping] declares none: that of
// the newest value among the table's last 1,000 rows, read once per relation (kAuto: text, or
// no such value). An application that stores integer milliseconds gets them back.
Result<TimeUnit> StoredUnitOf(SqliteDb& db, const ReverseTarget& t, size_t i) {
  const uint32_t oid = t.rel->columns[i].type_oid;
  if ((oid != pgoid::kTimestamp && oid != pgoid::kTimestamptz) || t.sqlite_col[i] < 0 ||
      t.time_unit[i] != TimeUnit::kAuto)
    return TimeUnit::kAuto;
  const std::string column = QuoteSqliteIdentifier(t.table->columns[t.sqlite_col[i]].name);
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement stmt,
      db.Prepare(fmt::format(
          "SELECT {0} FROM (SELECT {0} FROM {1}{2} LIMIT 1000) WHERE {0} IS NOT NULL LIMIT 1",
          column, QuoteSqliteIdentifier(t.table->name),
          t.table->without_rowid ? "" : " ORDER BY rowid DESC")));
  SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  wire::Value v;
  if (!row) return TimeUnit::kAuto;
  if (stmt.ColumnType(0) == SQLITE_INTEGER) {
    v.set_integer(stmt.ColumnInt64(0));
  } else if (stmt.ColumnType(0) == SQLITE_FLOAT) {
    v.set_real(stmt.ColumnDouble(0));
  } else {
    return TimeUnit::kAuto;
  }
  return UnitOf(v, PgType{});
}

}  // namespace

ReverseApplier::ReverseApplier(std::unique_ptr<SqliteDb> db, ReverseApplierOptions options)
    : db_(std::move(db)), options_(std::move(options)), writer_(db_.get()) {}

ReverseApplier::~ReverseApplier() = default;

Result<std::unique_ptr<ReverseApplier>> ReverseApplier::Open(const std::string& sqlite_path,
                                                             ReverseApplierOptions options) {
  if (options.constant_tenant && options.tenant_column.empty()) {
    return Status::InvalidArgument(
        "open reverse applier: constant_tenant needs tenant_column (the PostgreSQL column that "
        "holds it)");
  }
  SQLIFT_ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteDb> db,
      SqliteDb::Open(sqlite_path, SqliteDb::Mode::kReadWrite, options.busy_timeout));
  // PostgreSQL enforced the constraints and sends every cascaded change itself.
  SQLIFT_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = OFF"));
  // The position commits with the rows: it must be on disk before the reader confirms it to
  // PostgreSQL, whatever the build's default or the journal mode.
  SQLIFT_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = FULL"));
  SQLIFT_RETURN_IF_ERROR(CheckTableExists(*db, "_sqlift_state", "value"));
  SQLIFT_RETURN_IF_ERROR(CheckTableExists(*db, "_sqlift_route", "side"));
  std::unique_ptr<ReverseApplier> applier(new ReverseApplier(std::move(db), std::move(options)));
  SQLIFT_RETURN_IF_ERROR(applier->RefreshSchema());
  for (const auto& [pg_table, map] : applier->options_.tables) {
    auto it = applier->schema_.find(Lower(map.sqlite_table));
    if (it == applier->schema_.end() || !it->second.HasPrimaryKey()) {
      return Status::FailedPrecondition(fmt::format(
          "open reverse applier on {}: PostgreSQL table {} maps to SQLite table {}, which {}",
          sqlite_path, pg_table, map.sqlite_table,
          it == applier->schema_.end() ? "does not exist" : "has no primary key"));
    }
  }
  return applier;
}

Status ReverseApplier::RefreshSchema() {
  // The version first: a change made while the schema is read shows at the next check.
  SQLIFT_ASSIGN_OR_RETURN(int64_t version, db_->QueryInt64("PRAGMA schema_version"));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadSchema(*db_));
  targets_.clear();  // they point into schema_
  writer_.Clear();
  schema_.clear();
  for (TableSchema& t : tables) {
    std::string key = Lower(t.name);
    schema_.emplace(std::move(key), std::move(t));
  }
  schema_version_ = version;
  return Status::OK();
}

Status ReverseApplier::RefreshSchemaIfChanged() {
  SQLIFT_ASSIGN_OR_RETURN(int64_t version, db_->QueryInt64("PRAGMA schema_version"));
  if (version == schema_version_) return Status::OK();
  return RefreshSchema().With("re-read the SQLite schema after a change");
}

Result<pgchange::Lsn> ReverseApplier::Position() {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt,
                          db_->Prepare("SELECT value FROM _sqlift_state WHERE key = ?1"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, kStateReverseLsn));
  SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return pgchange::Lsn{0};
  if (stmt.ColumnType(0) != SQLITE_INTEGER || stmt.ColumnInt64(0) < 0) {
    return Status::Corruption(fmt::format("{}: _sqlift_state.{} is not a non-negative integer",
                                          db_->path(), kStateReverseLsn));
  }
  return static_cast<pgchange::Lsn>(stmt.ColumnInt64(0));
}

Result<ReverseApplyStats> ReverseApplier::Apply(const pgchange::Transaction& txn) {
  return ApplyBatch(std::span<const pgchange::Transaction>(&txn, 1));
}

Result<ReverseApplyStats> ReverseApplier::ApplyBatch(std::span<const pgchange::Transaction> txns) {
  ReverseApplyStats stats;
  stats.skipped = true;
  bool any = false;
  for (const pgchange::Transaction& txn : txns) {
    if (txn.end_lsn > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status::InvalidArgument(fmt::format("end LSN {} does not fit an SQLite integer",
                                                 pgchange::FormatLsn(txn.end_lsn)));
    }
    any |= txn.origin.rfind("sqlift", 0) != 0;  // not only the forward applier's own writes
  }
  if (!any || txns.empty()) return stats;
  const pgchange::Transaction& last = txns.back();
  std::string what = fmt::format(
      "reverse apply of {} PostgreSQL transaction{} up to xid {} (end LSN {})", txns.size(),
      txns.size() == 1 ? "" : "s", last.xid, pgchange::FormatLsn(last.end_lsn));
  SQLIFT_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE").With(what));
  Result<ReverseApplyStats> result = ApplyInTransaction(txns);
  Status end = result.ok() && !result->skipped ? db_->Exec("COMMIT") : Status::OK();
  if (!sqlite3_get_autocommit(db_->handle())) {  // failed, skipped, or a COMMIT that failed
    Status rollback = db_->Exec("ROLLBACK");
    if (!rollback.ok()) {
      std::string first = !result.ok() ? result.status().ToString() : end.ToString();
      return rollback.With(fmt::format("{}: roll back after {}", what, first));
    }
  }
  if (!result.ok()) return result.status().With(what);
  SQLIFT_RETURN_IF_ERROR(end.With(what + ": commit"));
  return result;
}

Result<ReverseApplyStats> ReverseApplier::ApplyInTransaction(
    std::span<const pgchange::Transaction> txns) {
  ReverseApplyStats stats;
  stats.skipped = true;
  SQLIFT_RETURN_IF_ERROR(RefreshSchemaIfChanged());
  // The guard triggers let this transaction write tenants on postgres; the marker is deleted
  // again below, so it is never committed (a failure rolls it back with everything else).
  SQLIFT_RETURN_IF_ERROR(OpenGuardPass(*db_));
  // Read inside the write transaction: the store that owns the position decides.
  SQLIFT_ASSIGN_OR_RETURN(pgchange::Lsn position, Position());
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(db_->handle()));
  pgchange::Lsn end = position;
  for (const pgchange::Transaction& txn : txns) {
    if (txn.end_lsn <= end) continue;  // a replay, exactly once
    end = txn.end_lsn;
    if (txn.origin.rfind("sqlift", 0) == 0) continue;  // the forward applier's own writes
    stats.skipped = false;
    for (const Change& change : txn.changes) {
      SQLIFT_RETURN_IF_ERROR(ApplyChange(txn, change, routes, &stats));
    }
  }
  SQLIFT_RETURN_IF_ERROR(CloseGuardPass(*db_));
  if (stats.skipped) return stats;
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt,
                          db_->Prepare("INSERT INTO _sqlift_state (key, value) VALUES (?1, ?2) "
                                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, kStateReverseLsn));
  SQLIFT_RETURN_IF_ERROR(stmt.BindInt64(2, static_cast<int64_t>(end)));
  SQLIFT_RETURN_IF_ERROR(stmt.Run().With("record the reverse position"));
  return stats;
}

Status ReverseApplier::ApplyChange(const pgchange::Transaction& txn, const Change& change,
                                   const std::vector<RouteRow>& routes, ReverseApplyStats* stats) {
  if (!change.rel) return Status::InvalidArgument("a change without its relation");
  SQLIFT_ASSIGN_OR_RETURN(const ReverseTarget* target, Resolve(change.rel));
  if (target->unmapped) {
    ++stats->rows_unmapped;
    return Status::OK();
  }
  if (change.op == Change::Op::kTruncate) {
    return Status::FailedPrecondition(
        fmt::format("{} truncated {}.{}: refused (TRUNCATE is not applied to SQLite; delete the "
                    "rows instead)",
                    ReverseTxnName(txn), change.rel->schema, change.rel->table));
  }
  SQLIFT_RETURN_IF_ERROR(CheckShape(change));
  SQLIFT_ASSIGN_OR_RETURN(bool mine, CheckConstants(txn, *target, change));
  if (mine) {
    SQLIFT_ASSIGN_OR_RETURN(mine, CheckTenants(txn, *target, change, routes));
  }
  if (!mine) {
    ++stats->rows_other_tenants;
    return Status::OK();
  }
  switch (change.op) {
    case Change::Op::kInsert:
      SQLIFT_RETURN_IF_ERROR(writer_.Insert(*target, change));
      break;
    case Change::Op::kUpdate:
      SQLIFT_RETURN_IF_ERROR(writer_.Update(*target, change));
      break;
    case Change::Op::kDelete:
      SQLIFT_RETURN_IF_ERROR(writer_.Delete(*target, change));
      break;
    case Change::Op::kTruncate:
      break;  // refused above
  }
  ++stats->rows;
  return Status::OK();
}

Result<const ReverseTarget*> ReverseApplier::Resolve(
    const std::shared_ptr<const pgchange::Relation>& rel) {
  auto it = targets_.find(rel->id);
  if (it != targets_.end()) {
    if (it->second.rel == rel) return &it->second;
    if (SameRelation(*it->second.rel, *rel)) {
      it->second.rel = rel;
      return &it->second;
    }
    targets_.erase(it);  // the relation changed (ALTER TABLE on PostgreSQL)
  }
  SQLIFT_ASSIGN_OR_RETURN(ReverseTarget target, BuildTarget(rel));
  return &targets_.insert_or_assign(rel->id, std::move(target)).first->second;
}

// The schema was checked at the start of this transaction, which holds the write lock: a table
// or column not found here is missing, not stale.
Result<ReverseTarget> ReverseApplier::BuildTarget(
    const std::shared_ptr<const pgchange::Relation>& rel) {
  ReverseTarget t;
  t.rel = rel;
  t.pg_name = rel->schema + "." + rel->table;
  auto refuse = [&](const std::string& why) {
    return Status::FailedPrecondition(
        fmt::format("reverse replication: PostgreSQL table {}: {}", t.pg_name, why));
  };
  if (rel->schema != options_.pg_schema) {
    return refuse(fmt::format("outside schema {}: refused (publish only the mapped tables)",
                              options_.pg_schema));
  }
  auto map = options_.tables.find(rel->table);
  if (map == options_.tables.end()) {
    if (!options_.skip_unmapped) return refuse("no mapping to an SQLite table: refused");
    t.unmapped = true;  // the application's own table: nothing of it goes to SQLite
    return t;
  }
  auto table = schema_.find(Lower(map->second.sqlite_table));
  if (table == schema_.end()) {
    return refuse(fmt::format("SQLite table {} does not exist", map->second.sqlite_table));
  }
  t.table = &table->second;
  if (!t.table->HasPrimaryKey()) {
    return refuse(fmt::format("SQLite table {} has no primary key", t.table->name));
  }
  const bool constant = options_.constant_tenant.has_value();
  for (size_t i = 0; i < rel->columns.size(); ++i) {
    const pgchange::Column& c = rel->columns[i];
    auto unit = map->second.time_units.find(c.name);
    t.time_unit.push_back(unit == map->second.time_units.end() ? TimeUnit::kAuto : unit->second);
    if (!options_.tenant_column.empty() && c.name == options_.tenant_column) {
      t.tenant_col = static_cast<int>(i);
      t.tenant_in_key = c.key;
      if (constant) {  // PostgreSQL only: never written to SQLite
        t.sqlite_col.push_back(-1);
        continue;
      }
    }
    auto constant = map->second.constants.find(c.name);
    if (constant != map->second.constants.end()) {  // PostgreSQL only: never written to SQLite
      t.constants.emplace_back(static_cast<int>(i), constant->second);
      t.sqlite_col.push_back(-1);
      continue;
    }
    std::string name = c.name;
    bool listed = false;
    for (const ReverseColumnMap& m : map->second.columns) {
      if (m.pg_name == c.name) name = m.sqlite_name, listed = true;
    }
    if (map->second.only_listed && !listed) {  // the application's own column
      t.sqlite_col.push_back(-1);
      continue;
    }
    int index = t.table->ColumnIndex(name);
    if (index < 0) {
      return refuse(fmt::format("column {} has no SQLite column {} in table {}", c.name, name,
                                t.table->name));
    }
    // A generated column: SQLite computes it.
    t.sqlite_col.push_back(t.table->columns[index].hidden ? -1 : index);
  }
  for (size_t i = 0; i < rel->columns.size(); ++i) {
    SQLIFT_ASSIGN_OR_RETURN(TimeUnit unit, StoredUnitOf(*db_, t, i));
    t.stored_unit.push_back(unit);
  }
  for (uint32_t pk : t.table->PrimaryKeyColumns()) {
    auto src = std::find(t.sqlite_col.begin(), t.sqlite_col.end(), static_cast<int>(pk));
    if (src == t.sqlite_col.end()) {
      return refuse(fmt::format("no column holds SQLite primary key column {} of table {}",
                                t.table->columns[pk].name, t.table->name));
    }
    const size_t col = static_cast<size_t>(src - t.sqlite_col.begin());
    // pgoutput sends an UPDATE's and a DELETE's old row with only the replica identity's
    // columns: without the key among them, SQLite's row could not be found.
    if (!rel->columns[col].key) {
      return refuse(fmt::format(
          "column {} (SQLite primary key column {}) is not in the table's replica identity, so "
          "an UPDATE or DELETE would not carry it: run ALTER TABLE {} REPLICA IDENTITY USING "
          "INDEX <a unique index on the SQLite key's columns> (or REPLICA IDENTITY FULL)",
          rel->columns[col].name, t.table->columns[pk].name, t.pg_name));
    }
    t.key_src.push_back(static_cast<int>(col));
  }
  return t;
}

}  // namespace sqlift
