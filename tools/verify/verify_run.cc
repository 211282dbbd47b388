// RunVerification (see verify_run.h).
#include "tools/verify/verify_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>

#include "apply/pg_sink/pg_state_schema.h"
#include "apply/translate/existing_schema.h"
#include "apply/translate/mapping_overrides.h"
#include "apply/translate/schema_translator.h"
#include "apply/translate/value_encoder.h"
#include "capture/outbox/route_table.h"
#include "capture/snapshot/snapshot_reader.h"
#include "common/base/exit_code.h"
#include "common/sqlite/sqlite_schema.h"
#include "tools/verify/applier_hold.h"
#include "tools/verify/verify_pg_reader.h"
#include "tools/verify/verify_run_internal.h"
#include "tools/verify/verify_scope.h"

namespace sqlift {

using verify_internal::BeginTable;
using verify_internal::KeyColumns;
using verify_internal::KeyFilter;
using verify_internal::Prepare;
using verify_internal::Run;
using verify_internal::TableRows;

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Status FailWith(Status st, int code, int* exit) {
  *exit = code;
  return st;
}

std::vector<std::string> Excluded(const Config* cfg) {
  return cfg ? cfg->source_exclude_tables : std::vector<std::string>{};
}

// The tables and the types their columns have in PostgreSQL, as `copy` decides them. Schema
// blockers do not stop a comparison (it only reads); `plan` reports them.
Status Translate(Run& run, int* exit) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> all,
                          ReadTables(run.reader->db(), Excluded(run.s.cfg)));
  Result<std::vector<TableSchema>> chosen = SelectTables(std::move(all), run.s.tables);
  if (!chosen.ok()) return FailWith(chosen.status(), kExitUsage, exit);
  run.tables = std::move(chosen).value();
  TranslateOptions topt;
  topt.schema = run.s.schema;
  Result<TypeOverrides> overrides = Overrides(run.s.cfg, run.tables);
  if (!overrides.ok()) return FailWith(overrides.status(), kExitUsage, exit);
  topt.overrides = std::move(overrides).value();
  SQLIFT_ASSIGN_OR_RETURN(run.plan, TranslateSchema(run.tables, topt));
  return Status::OK();
}

// Which tenants' rows stay out: the ones given, and with skip_moved_tenants those SQLite routes
// to PostgreSQL (read inside the SQLite snapshot, so at S).
Status ChooseTenants(Run& run) {
  std::vector<RouteRow> routes;
  if (run.s.skip_moved_tenants) {
    SQLIFT_ASSIGN_OR_RETURN(routes, ReadRoutes(run.reader->db().handle()));
  }
  SQLIFT_ASSIGN_OR_RETURN(run.skip, TenantsToSkip(run.s, routes));
  return Status::OK();
}

std::string TenantScope(const Run& run) {
  return TenantScopeText(run.s, run.skip);
}

// Planned columns PostgreSQL lacks make the table Different (its rows cannot be compared);
// columns only PostgreSQL has are noted and left out (the constant tenant column silently).
bool CheckColumns(const Run& run, const TablePlan& plan, const std::vector<std::string>& pg_columns,
                  TableVerdict* v) {
  std::set<std::string> pg(pg_columns.begin(), pg_columns.end()), planned;
  for (const ColumnPlan& c : plan.columns) {
    planned.insert(c.pg_name);
    if (!pg.count(c.pg_name)) {
      v->notes.push_back("column " + QuoteIdentifier(c.pg_name) + " is not in PostgreSQL");
    }
  }
  bool ok = v->notes.empty();
  if (!run.s.constant_tenant.empty()) planned.insert(PgNameFor(run.s.tenant_column));
  for (const std::string& c : pg_columns) {
    if (!planned.count(c))
      v->notes.push_back("column " + QuoteIdentifier(c) + " only in PostgreSQL (not compared)");
  }
  return ok;
}

VerifyOptions EngineOptions(const Run& run, const TableSchema& t, const TablePlan& plan) {
  VerifyOptions vo;
  for (const ColumnPlan& c : plan.columns)
    vo.column_names.push_back(c.source_name);
  vo.key_columns = KeyColumns(t);
  vo.max_rows_kept = run.s.max_rows_kept;
  return vo;
}

// A SQLite value as the tenant filter compares it; nullopt for NULL and blobs.
std::optional<std::string> TenantText(const wire::Value& v) {
  if (v.kind_case() == wire::Value::kText) return v.text();
  if (v.kind_case() == wire::Value::kInteger) return std::to_string(v.integer());
  return std::nullopt;
}

bool TableFilter(const Run& run, const TableSchema& t, const TablePlan& plan, int* sqlite_col,
                 RowFilter* pg) {
  return TableTenantFilter(run.s, run.skip, t, plan, sqlite_col, pg);
}

// The fast path's keys of `t` to read (empty when none changed or all are settled); null for a
// full comparison.
const std::vector<wire::Row>* ChangedKeysOf(Run& run, const TableSchema& t) {
  if (!run.changed) return nullptr;
  static const std::vector<wire::Row> kNone;
  auto it = run.changed->keys.find(t.name);
  if (it == run.changed->keys.end()) return &kNone;
  if (!run.changed->settled.count(t.name)) return &it->second;
  run.to_read = KeysToRead(*run.changed, t.name);
  return &run.to_read;
}

}  // namespace

Status verify_internal::KeyFilter(const TableSchema& t, const TablePlan& plan,
                                  const std::vector<wire::Row>& keys, RowFilter* f) {
  f->keys_only = true;
  const wire::TableShape shape = SnapshotReader::ShapeOf(t);
  for (uint32_t i : shape.pk_columns())
    f->key_columns.push_back(i);
  for (const wire::Row& key : keys) {
    std::vector<std::string> text;
    for (int j = 0; j < key.values_size() && j < static_cast<int>(f->key_columns.size()); ++j) {
      SQLIFT_ASSIGN_OR_RETURN(
          std::string v, PgTextOf(key.values(j), plan.columns[f->key_columns[j]].mapping.type));
      text.push_back(std::move(v));
    }
    f->keys.push_back(std::move(text));
  }
  return Status::OK();
}

bool verify_internal::TableRows::InScope(const std::optional<std::string>& tenant) const {
  if (tenant_col < 0) return true;
  bool listed = tenant && wanted.count(*tenant);
  return pg_filter.exclude ? !listed : listed;
}

bool verify_internal::TableRows::Keep(const wire::Row& r) const {
  return tenant_col < 0 || InScope(TenantText(r.values(tenant_col)));
}

Result<std::optional<TableRows>> verify_internal::BeginTable(Run& run, size_t i, TableVerdict* v) {
  const TableSchema& t = run.tables[i];
  const TablePlan& plan = run.plan.tables[i];
  SQLIFT_ASSIGN_OR_RETURN(auto pg_columns, PgTableColumns(*run.conn, run.s.schema, plan.pg_name));
  if (!pg_columns) {
    v->status = TableStatus::kMissing;
    v->notes.push_back("table " + QuoteQualified(run.s.schema, plan.pg_name) +
                       " is not in PostgreSQL");
    return std::optional<TableRows>();
  }
  if (!CheckColumns(run, plan, *pg_columns, v)) {
    v->status = TableStatus::kDifferent;
    return std::optional<TableRows>();
  }
  TableRows rows;
  TableFilter(run, t, plan, &rows.tenant_col, &rows.pg_filter);
  if (rows.pg_filter.column.empty() && !run.constants[i].column.empty()) {
    rows.pg_filter = run.constants[i];
  }
  for (const ColumnPlan& c : plan.columns)
    rows.types.push_back(c.mapping.type);
  rows.wanted.insert(rows.pg_filter.values.begin(), rows.pg_filter.values.end());
  return std::optional<TableRows>(std::move(rows));
}

std::vector<size_t> verify_internal::KeyColumns(const TableSchema& t) {
  std::vector<size_t> out;
  const wire::TableShape shape = SnapshotReader::ShapeOf(t);
  for (uint32_t i : shape.pk_columns())
    out.push_back(i);
  return out;
}

namespace {

// The incremental check's counts: the count proven at P plus the net inserts and deletes the
// log shows since, for the keys in the comparison's scope (`in_scope` of a key's tenant). No
// row is counted inside the fence.
void CountsFromProof(const ChangedKeys& changed, const TableSchema& t,
                     const std::function<bool(const std::optional<std::string>&)>& in_scope,
                     TableVerdict* v) {
  int64_t net = 0;
  auto fates = changed.fates.find(t.name);
  if (fates != changed.fates.end()) {
    for (const KeyFate& f : fates->second) {
      if (f.existed_before != f.exists_after && in_scope(f.tenant)) net += f.exists_after ? 1 : -1;
    }
  }
  auto proven = changed.counts_at_since.find(t.name);
  const int64_t read = v->comparison.sqlite_rows + v->comparison.pg_rows;
  v->rows_read = read;
  if (proven == changed.counts_at_since.end()) {
    v->counted = false;
    v->notes.push_back(
        fmt::format("incremental: {} rows read for the changed keys; no count proven at seq {}",
                    read, changed.since_seq));
    return;
  }
  v->comparison.sqlite_rows = v->comparison.pg_rows = proven->second + net;
  v->notes.push_back(fmt::format(
      "incremental: {} rows read for the changed keys; {} rows = {} at seq {} {:+} since", read,
      proven->second + net, proven->second, changed.since_seq, net));
}

Result<TableVerdict> VerifyTable(Run& run, size_t i) {
  const TableSchema& t = run.tables[i];
  const TablePlan& plan = run.plan.tables[i];
  TableVerdict v{t.name, plan.pg_name, TableStatus::kMatched, {}, {}, 0};
  Clock::time_point start = Clock::now();
  SQLIFT_ASSIGN_OR_RETURN(std::optional<TableRows> rows, BeginTable(run, i, &v));
  if (!rows) return v;
  if (!t.HasPrimaryKey()) v.notes.push_back("no primary key: rows are matched whole");
  RowFilter& pg_filter = rows->pg_filter;
  auto keep = [&](const wire::Row& r) { return rows->Keep(r); };
  const std::vector<wire::Row>* keys = ChangedKeysOf(run, t);
  if (keys) SQLIFT_RETURN_IF_ERROR(KeyFilter(t, plan, *keys, &pg_filter));
  WireTableReader sqlite(rows->types, [&](const WireTableReader::WireSink& sink) {
    if (keys) {
      return run.reader->ReadKeys(
          t, *keys, [&](const wire::Row& r) { return keep(r) ? sink(r) : Status::OK(); });
    }
    return run.reader->ReadTable(t, 1000, [&](std::vector<wire::Row>&& batch) {
      for (const wire::Row& r : batch) {
        if (keep(r)) SQLIFT_RETURN_IF_ERROR(sink(r));
      }
      return Status::OK();
    });
  });
  PgTableReader pg(*run.conn, run.s.schema, plan, pg_filter);
  SQLIFT_ASSIGN_OR_RETURN(v.comparison, CompareTable(sqlite, pg, EngineOptions(run, t, plan)));
  if (!v.comparison.matched()) v.status = TableStatus::kDifferent;
  if (keys) {
    CountsFromProof(
        *run.changed, t,
        [&](const std::optional<std::string>& tenant) { return rows->InScope(tenant); }, &v);
  } else {
    v.rows_read = v.comparison.sqlite_rows + v.comparison.pg_rows;
  }
  v.seconds = Since(start);
  return v;
}

// Tables of the target schema that SQLite does not have (all tables only; not sqlift's own,
// not the excluded ones, not with a tenant scope: other sources own tables too, and not in an
// existing target schema, which the application owns: its migrations' own tables are there).
Status AddExtraTables(Run& run) {
  if (!run.s.tables.empty() || run.s.schema == kStateSchema || !run.s.tenant.empty() ||
      !run.s.constant_tenant.empty() || ExistingSchemaMode(run.s.cfg))
    return Status::OK();
  std::set<std::string> known;
  for (const TablePlan& p : run.plan.tables)
    known.insert(p.pg_name);
  for (const std::string& e : Excluded(run.s.cfg))
    known.insert(PgNameFor(e));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> pg, PgTablesIn(*run.conn, run.s.schema));
  for (const std::string& name : pg) {
    if (known.count(name)) continue;
    TableVerdict v{name, name, TableStatus::kExtra, {}, {"table only in PostgreSQL"}, 0};
    run.report.tables.push_back(std::move(v));
  }
  return Status::OK();
}

void Progress(const std::string& table, size_t i, size_t n, bool done) {
  std::fprintf(stderr, "\rverify %s (%zu/%zu)%s\033[K%s", table.c_str(), i + 1, n,
               done ? " done" : "...", done && i + 1 == n ? "\n" : "");
}

Status Compare(Run& run) {
  const bool tty = run.s.progress && isatty(STDERR_FILENO);
  for (size_t i = 0; i < run.tables.size(); ++i) {
    int col = -1;
    RowFilter ignored;
    if (!TableFilter(run, run.tables[i], run.plan.tables[i], &col, &ignored)) continue;
    if (tty) Progress(run.tables[i].name, i, run.tables.size(), false);
    Result<TableVerdict> v = VerifyTable(run, i);
    if (!v.ok()) return v.status().With("verify table " + run.tables[i].name);
    if (tty) Progress(run.tables[i].name, i, run.tables.size(), true);
    run.report.tables.push_back(std::move(v).value());
  }
  SQLIFT_RETURN_IF_ERROR(AddExtraTables(run));
  return run.conn->Exec("COMMIT");
}

std::string Scope(const Run& run) {
  if (!run.s.scope.empty()) return run.s.scope;
  std::string tables =
      run.s.tables.empty() ? "all tables" : fmt::format("tables {}", fmt::join(run.s.tables, ","));
  std::string tenants = TenantScope(run);
  return fmt::format("{} -> {}: {}{}{}", run.s.sqlite, run.s.schema, tables,
                     tenants.empty() ? "" : "; ", tenants);
}

uint64_t Position(const Run& run) {
  return run.s.still_at.value_or(static_cast<uint64_t>(run.reader->snapshot_seq()));
}

// [target] schema_mode = "existing": the target's names and types, as `copy` loads them. Its
// constant columns are no SQLite column: the first becomes the PostgreSQL side's row filter
// (the rows of this source), the others are left out of the comparison. Mismatches do not
// stop a comparison (it only reads); `plan` reports them.
Status MatchTarget(Run& run) {
  run.constants.assign(run.plan.tables.size(), RowFilter{});
  SQLIFT_RETURN_IF_ERROR(
      ForTargetSchemaMode(run.s.cfg, *run.conn, run.s.schema, &run.plan).status());
  for (size_t i = 0; i < run.plan.tables.size(); ++i) {
    std::vector<ColumnPlan>& cols = run.plan.tables[i].columns;
    for (const ColumnPlan& c : cols) {
      if (!c.constant || !run.constants[i].column.empty()) continue;
      run.constants[i].column = c.pg_name;
      run.constants[i].values = {*c.constant};
    }
    std::erase_if(cols, [](const ColumnPlan& c) { return c.constant.has_value(); });
  }
  return Status::OK();
}

}  // namespace

Status verify_internal::Prepare(Run& run, int* exit) {
  if (!run.s.hold_source.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(auto hold_conn,
                            PgConnection::Connect(run.s.pg, std::chrono::seconds(10)));
    SQLIFT_ASSIGN_OR_RETURN(
        run.hold, ApplierHold::Begin(std::move(hold_conn), run.s.hold_source, run.s.hold_ttl));
  }
  // In wal capture mode S comes from the capture agent's progress, in [state] dir; a switch's
  // check names its own position.
  SnapshotOptions snapshot;
  if (!run.s.still_at) {
    SQLIFT_ASSIGN_OR_RETURN(
        snapshot,
        SnapshotOptionsFor(run.s.sqlite, run.s.cfg ? run.s.cfg->state_dir : "", "verify"));
  }
  SQLIFT_ASSIGN_OR_RETURN(run.reader, SnapshotReader::Open(run.s.sqlite, snapshot));
  SQLIFT_RETURN_IF_ERROR(Translate(run, exit));
  Status tenants = ChooseTenants(run);
  if (!tenants.ok()) return FailWith(tenants, kExitUsage, exit);
  SQLIFT_ASSIGN_OR_RETURN(run.conn, PgConnection::Connect(run.s.pg, std::chrono::seconds(10)));
  SQLIFT_RETURN_IF_ERROR(MatchTarget(run));
  return TakeSnapshotAt(run.hold.get(), *run.conn, Position(run), run.s.hold_timeout);
}

Result<VerifyReport> RunVerification(const VerifySpec& spec, int* exit) {
  *exit = kExitFailure;
  Clock::time_point start = Clock::now();
  VerifyRunRecord record;
  record.started_at = std::chrono::system_clock::now();
  if (spec.cfg && !spec.cfg->source_id.empty()) record.source = spec.cfg->source_id;
  Run run{spec, {}, {}, {}, {}, {}, {}, {}, spec.changed, {}, {}};
  Status st = Prepare(run, exit);
  if (st.ok() && spec.changed_at) {
    Result<const ChangedKeys*> keys = spec.changed_at(Position(run));
    st = keys.status();
    if (keys.ok()) run.changed = *keys;
  }
  if (st.ok()) {
    run.report.sqlite = spec.sqlite, run.report.pg = run.conn->Describe();
    run.report.schema = spec.schema;
    run.report.position = static_cast<int64_t>(Position(run));
    run.report.held = run.hold != nullptr;
    run.report.tenant_scope = TenantScope(run);
    st = Compare(run);
  }
  if (!st.ok()) {
    if (run.conn) (void)run.conn->Exec("ROLLBACK");  // the comparison's error is the one to report
    return st;
  }
  SQLIFT_RETURN_IF_ERROR(run.reader->Close());
  run.report.seconds = Since(start);
  record.finished_at = std::chrono::system_clock::now();
  record.scope = Scope(run);
  if (!spec.tenant.empty()) record.tenant = spec.tenant;
  if (!spec.constant_tenant.empty()) record.tenant = spec.constant_tenant;
  record.skipped = run.skip;
  record.all_tables = spec.tables.empty();
  record.still = spec.still;
  record.fast = run.changed != nullptr;
  SQLIFT_RETURN_IF_ERROR(WithSchemaLock(*run.conn, [&] { return EnsureVerifyRuns(*run.conn); }));
  SQLIFT_ASSIGN_OR_RETURN(run.report.run_id, RecordVerifyRun(*run.conn, run.report, record));
  *exit = VerifyExitCode(run.report);
  return std::move(run.report);
}

int VerifyExitCode(const VerifyReport& report) {
  return report.matched() ? kExitOk : kExitBlocked;
}

}  // namespace sqlift
