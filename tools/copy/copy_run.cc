#include "tools/copy/copy_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>

#include "apply/pg_sink/copy_loader.h"
#include "apply/pg_sink/pg_snapshot_loader.h"
#include "apply/pg_sink/pg_state_schema.h"
#include "apply/pg_sink/target_constants.h"
#include "apply/translate/existing_schema.h"
#include "apply/translate/mapping_overrides.h"
#include "apply/translate/schema_translator.h"
#include "capture/snapshot/snapshot_reader.h"
#include "common/base/exit_code.h"
#include "common/pg/pg_identifier.h"
#include "common/sqlite/sqlite_schema.h"
#include "tools/copy/chunk_pipeline.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;

// Everything one run holds; owned by RunCopy, used from its thread only.
struct CopyRun {
  const CopyOptions& o;
  const CopyProgress& progress;
  std::unique_ptr<SnapshotReader> reader;
  std::vector<TableSchema> tables;
  SchemaPlan plan;
  std::unique_ptr<PgConnection> conn, dead_conn;
  std::vector<bool> exists;  // per table: already in PostgreSQL
  bool existing = false;     // [target] schema_mode = "existing": the plan is the target's
  CopyReport report;
};

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Status FailWith(Status st, int code, int* exit) {
  *exit = code;
  return st;
}

// Blockers make the run stop with 3, each logged with its fix.
Status StopOnBlockers(const SchemaPlan& plan, int* exit) {
  if (!plan.blocked()) return Status::OK();
  for (const Problem& p : plan.problems) {
    if (p.severity != Problem::Severity::kBlocker) continue;
    spdlog::error("blocker {}{}: {} (fix: {})", p.table, p.column.empty() ? "" : "." + p.column,
                  p.what, p.fix);
  }
  return FailWith(Status::FailedPrecondition("the schema has blockers; see `sqlift plan`"),
                  kExitBlocked, exit);
}

// Reads and translates the schema inside the snapshot; blockers make the run stop with 3.
Status Translate(CopyRun& run, const Config* cfg, int* exit) {
  std::vector<std::string> excluded;
  if (cfg) excluded = cfg->source_exclude_tables;
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> all, ReadTables(run.reader->db(), excluded));
  Result<std::vector<TableSchema>> chosen = SelectTables(std::move(all), run.o.tables);
  if (!chosen.ok()) return FailWith(chosen.status(), kExitUsage, exit);
  run.tables = std::move(chosen).value();
  TranslateOptions topt;
  topt.schema = run.o.schema;
  topt.one_shot = true;  // a copy needs no capture: tables without a key are copied too
  Result<TypeOverrides> overrides = Overrides(cfg, run.tables);
  if (!overrides.ok()) return FailWith(overrides.status(), kExitUsage, exit);
  topt.overrides = std::move(overrides).value();
  SQLIFT_ASSIGN_OR_RETURN(run.plan, TranslateSchema(run.tables, topt));
  for (const TableSchema& t : run.tables) {
    if (t.HasPrimaryKey()) continue;
    spdlog::warn(
        "table {} has no primary key: copied whole, but live replication (`sqlift init`) needs a "
        "PRIMARY KEY on it or [source] exclude_tables",
        t.name);
  }
  return StopOnBlockers(run.plan, exit);
}

// Empties the tables in `full` (indexes into the plan): whole ones with one TRUNCATE; in tables
// other sources share, only this source's rows, children before parents (an existing
// schema's foreign keys need not be deferrable).
Status Empty(CopyRun& run, const std::vector<size_t>& full) {
  std::vector<std::string> whole;
  for (size_t i : full) {
    if (!SourceConstant(run.plan.tables[i]))
      whole.push_back(QuoteQualified(run.o.schema, run.plan.tables[i].pg_name));
  }
  if (!whole.empty())
    SQLIFT_RETURN_IF_ERROR(run.conn->Exec("TRUNCATE " + fmt::format("{}", fmt::join(whole, ", "))));
  std::vector<size_t> order = ParentsFirst(run.tables);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const TablePlan& t = run.plan.tables[*it];
    if (!SourceConstant(t) || std::find(full.begin(), full.end(), *it) == full.end()) continue;
    SQLIFT_RETURN_IF_ERROR(
        run.conn
            ->Query("DELETE FROM " + QuoteQualified(run.o.schema, t.pg_name) + SourceRowsWhere(t),
                    SourceRowsParams(t))
            .status());
  }
  return Status::OK();
}

// Which target tables exist, and refuses ones holding rows (this source's, in a table other
// sources share) unless --truncate.
Status CheckTargets(CopyRun& run) {
  std::vector<size_t> full;
  std::vector<std::string> names;
  for (size_t i = 0; i < run.plan.tables.size(); ++i) {
    const TablePlan& t = run.plan.tables[i];
    std::string name = QuoteQualified(run.o.schema, t.pg_name);
    SQLIFT_ASSIGN_OR_RETURN(PgResult r,
                            run.conn->Query("SELECT to_regclass($1) IS NOT NULL", {name}));
    run.exists.push_back(r.get(0, 0) == "t");
    if (!run.exists.back()) continue;
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult rows,
        run.conn->Query(fmt::format("SELECT EXISTS (SELECT 1 FROM {}{})", name, SourceRowsWhere(t)),
                        SourceRowsParams(t)));
    if (rows.get(0, 0) != "t") continue;
    full.push_back(i);
    const ColumnPlan* k = SourceConstant(t);
    names.push_back(k ? fmt::format("{} (rows of {} = '{}')", name, k->pg_name, *k->constant)
                      : name);
  }
  if (full.empty()) return Status::OK();
  if (!run.o.truncate) {
    return Status::FailedPrecondition(
        fmt::format("tables already hold rows: {}; give --truncate to empty them first",
                    fmt::join(names, ", ")));
  }
  spdlog::warn("--truncate: emptying {}", fmt::join(names, ", "));
  return Empty(run, full);
}

// The schema and the missing tables (inside the copy's one transaction); nothing for an
// existing target schema.
Status CreateTables(CopyRun& run) {
  if (run.existing) return Status::OK();
  std::string sql = run.plan.ddl[0] + ";";
  for (size_t i = 0; i < run.plan.tables.size(); ++i) {
    if (!run.exists[i]) sql += run.plan.ddl[i + 1] + ";";
  }
  return run.conn->Exec(sql).With("create tables");
}

CopyLoaderOptions LoaderOptions(const CopyRun& run, const TableSchema& t) {
  CopyLoaderOptions lo;
  lo.on_error = run.o.on_error == "skip-row" ? OnError::kSkipRow : OnError::kStop;
  lo.seq = run.reader->snapshot_seq();
  const wire::TableShape shape = SnapshotReader::ShapeOf(t);  // kept alive for the loop
  for (uint32_t i : shape.pk_columns())
    lo.key_columns.push_back(i);
  return lo;
}

Status LoadTable(CopyRun& run, size_t i) {
  const TableSchema& t = run.tables[i];
  Clock::time_point start = Clock::now();
  // The count is for the progress line only: it is a scan of the whole table.
  int64_t total = 0;
  if (run.progress.count_rows) {
    SQLIFT_ASSIGN_OR_RETURN(total, run.reader->CountRows(t));
  }
  CopyLoader loader(*run.conn, *run.dead_conn, run.plan.tables[i], run.o.schema,
                    LoaderOptions(run, t));
  SQLIFT_RETURN_IF_ERROR(loader.Begin());
  int64_t done = 0;
  Status st;
  {
    ChunkPipeline pipeline(loader, static_cast<size_t>(run.o.jobs));
    size_t chunk_rows = run.o.chunk_rows ? run.o.chunk_rows : run.o.jobs > 1 ? 10000 : 1000;
    st = run.reader->ReadTable(t, chunk_rows, [&](std::vector<wire::Row>&& rows) {
      AppendConstants(run.plan.tables[i], &rows);
      done += static_cast<int64_t>(rows.size());
      if (run.progress.on_rows) run.progress.on_rows(t.name, done, total, Since(start));
      return pipeline.Add(std::move(rows));
    });
    if (st.ok()) st = pipeline.Drain();
  }
  if (!st.ok()) {
    loader.Abort(st.message());
    return st;
  }
  SQLIFT_RETURN_IF_ERROR(loader.Finish());
  run.report.tables.push_back(
      {t.name, loader.stats().rows, loader.stats().dead_letters, Since(start)});
  return Status::OK();
}

// Everything PostgreSQL sees, in one transaction: a failed copy leaves no half-loaded
// tables behind. Foreign keys of tables that already exist (--truncate) are deferred to the
// commit, since tables load one after the other.
Status Load(CopyRun& run) {
  SQLIFT_RETURN_IF_ERROR(run.conn->Exec("BEGIN; SET CONSTRAINTS ALL DEFERRED"));
  SQLIFT_RETURN_IF_ERROR(CheckTargets(run));
  SQLIFT_RETURN_IF_ERROR(CreateTables(run));
  std::vector<size_t> order(run.tables.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  if (run.existing) order = ParentsFirst(run.tables);
  for (size_t i : order)
    SQLIFT_RETURN_IF_ERROR(LoadTable(run, i));
  Clock::time_point after = Clock::now();
  // Checks the deferred foreign keys now that every table is loaded (CREATE INDEX refuses a
  // table with checks pending).
  SQLIFT_RETURN_IF_ERROR(run.conn->Exec("SET CONSTRAINTS ALL IMMEDIATE"));
  // Indexes, constraints, foreign keys, identities; one that exists already (a --truncate
  // rerun) is kept as it is.
  SQLIFT_RETURN_IF_ERROR(RunAfterData(*run.conn, run.plan.after_data).With("after the data"));
  SQLIFT_RETURN_IF_ERROR(run.conn->Exec("COMMIT").With("commit the copy"));
  run.report.after_data_seconds = Since(after);
  return Status::OK();
}

Status Copy(CopyRun& run, const Config* cfg, int* exit) {
  SQLIFT_ASSIGN_OR_RETURN(run.reader, SnapshotReader::Open(run.o.sqlite));
  SQLIFT_RETURN_IF_ERROR(Translate(run, cfg, exit));
  SQLIFT_ASSIGN_OR_RETURN(run.conn, PgConnection::Connect(run.o.pg, std::chrono::seconds(10)));
  SQLIFT_ASSIGN_OR_RETURN(run.dead_conn, PgConnection::Connect(run.o.pg, std::chrono::seconds(10)));
  run.existing = ExistingSchemaMode(cfg);
  SQLIFT_RETURN_IF_ERROR(ForTargetSchemaMode(cfg, *run.conn, run.o.schema, &run.plan).status());
  SQLIFT_RETURN_IF_ERROR(StopOnBlockers(run.plan, exit));
  SQLIFT_RETURN_IF_ERROR(EnsureStateSchema(*run.conn));
  Status st = Load(run);
  if (!st.ok()) {
    (void)run.conn->Exec("ROLLBACK");  // the load's error is the one worth reporting
    return st;
  }
  run.report.after_data_statements = run.plan.after_data.size();
  run.report.snapshot_seq = run.reader->snapshot_seq();
  return run.reader->Close();
}

}  // namespace

Result<CopyReport> RunCopy(const CopyOptions& options, const Config* cfg,
                           const CopyProgress& progress, int* exit_code) {
  *exit_code = kExitFailure;
  Clock::time_point start = Clock::now();
  CopyRun run{options, progress, {}, {}, {}, {}, {}, {}, false, {}};
  SQLIFT_RETURN_IF_ERROR(Copy(run, cfg, exit_code));
  run.report.total_seconds = Since(start);
  *exit_code = kExitOk;
  return std::move(run.report);
}

}  // namespace sqlift
