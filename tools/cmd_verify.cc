// `sqlift verify`: compares SQLite and PostgreSQL table by table (issue 5 part 1, the one-shot
// form). The SQLite side is read in one read transaction (capture/snapshot_reader.h), the
// PostgreSQL side in one REPEATABLE READ snapshot (apply/verify_pg_reader.h); each table goes
// through the comparison engine (apply/verify_engine.h) and the run is recorded in
// sqlift.verify_runs (apply/verify_report.h). Exit 0 all matched, 3 something differs, 1 failed,
// 2 usage. docs/verify.md describes the method and its limits.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "apply/pg_state_schema.h"
#include "apply/schema_translator.h"
#include "apply/verify_pg_reader.h"
#include "apply/verify_report.h"
#include "capture/snapshot_reader.h"
#include "tools/command.h"
#include "tools/plan_input.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;

struct VerifyCliOptions {
  std::string sqlite;
  std::string pg;
  std::string schema = "public";
  std::vector<std::string> tables;
  bool json = false;
  size_t max_rows_kept = 50'000;  // ~280 bytes per kept row per side, measured
};

// Everything one run holds; owned by Verify, used from its thread only.
struct VerifyRun {
  const VerifyCliOptions& o;
  const Config* cfg;
  std::unique_ptr<SnapshotReader> reader;
  std::vector<TableSchema> tables;
  SchemaPlan plan;
  std::unique_ptr<PgConnection> conn;
  VerifyReport report;
};

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
Status Translate(VerifyRun& run, int* exit) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> all,
                          ReadTables(run.reader->db(), Excluded(run.cfg)));
  Result<std::vector<TableSchema>> chosen = SelectTables(std::move(all), run.o.tables);
  if (!chosen.ok()) return FailWith(chosen.status(), kExitUsage, exit);
  run.tables = std::move(chosen).value();
  TranslateOptions topt;
  topt.schema = run.o.schema;
  Result<TypeOverrides> overrides = Overrides(run.cfg, run.tables);
  if (!overrides.ok()) return FailWith(overrides.status(), kExitUsage, exit);
  topt.overrides = std::move(overrides).value();
  SQLIFT_ASSIGN_OR_RETURN(run.plan, TranslateSchema(run.tables, topt));
  return Status::OK();
}

// Planned columns PostgreSQL lacks make the table Different (its rows cannot be compared);
// columns only PostgreSQL has are noted and left out of the comparison.
bool CheckColumns(const TablePlan& plan, const std::vector<std::string>& pg_columns,
                  TableVerdict* v) {
  std::set<std::string> pg(pg_columns.begin(), pg_columns.end()), planned;
  for (const ColumnPlan& c : plan.columns) {
    planned.insert(c.pg_name);
    if (!pg.count(c.pg_name)) {
      v->notes.push_back("column " + QuoteIdentifier(c.pg_name) + " is not in PostgreSQL");
    }
  }
  bool ok = v->notes.empty();
  for (const std::string& c : pg_columns) {
    if (!planned.count(c))
      v->notes.push_back("column " + QuoteIdentifier(c) + " only in PostgreSQL (not compared)");
  }
  return ok;
}

VerifyOptions EngineOptions(const VerifyRun& run, const TableSchema& t, const TablePlan& plan) {
  VerifyOptions vo;
  for (const ColumnPlan& c : plan.columns)
    vo.column_names.push_back(c.source_name);
  const wire::TableShape shape = SnapshotReader::ShapeOf(t);
  for (uint32_t i : shape.pk_columns())
    vo.key_columns.push_back(i);
  vo.max_rows_kept = run.o.max_rows_kept;
  return vo;
}

void Progress(const std::string& table, size_t i, size_t n, bool done) {
  std::fprintf(stderr, "\rverify %s (%zu/%zu)%s\033[K%s", table.c_str(), i + 1, n,
               done ? " done" : "...", done && i + 1 == n ? "\n" : "");
}

Result<TableVerdict> VerifyTable(VerifyRun& run, size_t i) {
  const TableSchema& t = run.tables[i];
  const TablePlan& plan = run.plan.tables[i];
  TableVerdict v{t.name, plan.pg_name, TableStatus::kMatched, {}, {}, 0};
  Clock::time_point start = Clock::now();
  SQLIFT_ASSIGN_OR_RETURN(auto pg_columns, PgTableColumns(*run.conn, run.o.schema, plan.pg_name));
  if (!pg_columns) {
    v.status = TableStatus::kMissing;
    v.notes.push_back("table " + QuoteQualified(run.o.schema, plan.pg_name) +
                      " is not in PostgreSQL");
    return v;
  }
  if (!CheckColumns(plan, *pg_columns, &v)) {
    v.status = TableStatus::kDifferent;
    return v;
  }
  if (!t.HasPrimaryKey()) v.notes.push_back("no primary key: rows are matched whole");
  std::vector<PgType> types;
  for (const ColumnPlan& c : plan.columns)
    types.push_back(c.mapping.type);
  WireTableReader sqlite(std::move(types), [&](const WireTableReader::WireSink& sink) {
    return run.reader->ReadTable(t, 1000, [&](std::vector<wire::Row>&& rows) {
      for (const wire::Row& r : rows)
        SQLIFT_RETURN_IF_ERROR(sink(r));
      return Status::OK();
    });
  });
  PgTableReader pg(*run.conn, run.o.schema, plan);
  SQLIFT_ASSIGN_OR_RETURN(v.comparison, CompareTable(sqlite, pg, EngineOptions(run, t, plan)));
  if (!v.comparison.matched()) v.status = TableStatus::kDifferent;
  v.seconds = Since(start);
  return v;
}

// Tables of the target schema that SQLite does not have (all tables only; not sqlift's own,
// not the excluded ones).
Status AddExtraTables(VerifyRun& run) {
  if (!run.o.tables.empty() || run.o.schema == kStateSchema) return Status::OK();
  std::set<std::string> known;
  for (const TablePlan& p : run.plan.tables)
    known.insert(p.pg_name);
  for (const std::string& e : Excluded(run.cfg))
    known.insert(PgNameFor(e));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> pg, PgTablesIn(*run.conn, run.o.schema));
  for (const std::string& name : pg) {
    if (known.count(name)) continue;
    TableVerdict v{name, name, TableStatus::kExtra, {}, {"table only in PostgreSQL"}, 0};
    run.report.tables.push_back(std::move(v));
  }
  return Status::OK();
}

Status Compare(VerifyRun& run) {
  SQLIFT_RETURN_IF_ERROR(BeginVerifySnapshot(*run.conn));
  const bool tty = isatty(STDERR_FILENO);
  for (size_t i = 0; i < run.tables.size(); ++i) {
    if (tty) Progress(run.tables[i].name, i, run.tables.size(), false);
    Result<TableVerdict> v = VerifyTable(run, i);
    if (!v.ok()) return v.status().With("verify table " + run.tables[i].name);
    if (tty) Progress(run.tables[i].name, i, run.tables.size(), true);
    run.report.tables.push_back(std::move(v).value());
  }
  SQLIFT_RETURN_IF_ERROR(AddExtraTables(run));
  return run.conn->Exec("COMMIT");
}

std::string Scope(const VerifyCliOptions& o) {
  return fmt::format(
      "{} -> {}: {}", o.sqlite, o.schema,
      o.tables.empty() ? "all tables" : "tables " + fmt::format("{}", fmt::join(o.tables, ",")));
}

Status Verify(const VerifyCliOptions& o, const Config* cfg, int* exit) {
  Clock::time_point start = Clock::now();
  VerifyRunRecord record{std::chrono::system_clock::now(), {}, {}, Scope(o)};
  if (cfg && !cfg->source_id.empty()) record.source = cfg->source_id;
  VerifyRun run{o, cfg, {}, {}, {}, {}, {}};
  SQLIFT_ASSIGN_OR_RETURN(run.reader, SnapshotReader::Open(o.sqlite));
  SQLIFT_RETURN_IF_ERROR(Translate(run, exit));
  SQLIFT_ASSIGN_OR_RETURN(run.conn, PgConnection::Connect(o.pg, std::chrono::seconds(10)));
  run.report.sqlite = o.sqlite, run.report.pg = run.conn->Describe(), run.report.schema = o.schema;
  run.report.position = run.reader->snapshot_seq();
  Status st = Compare(run);
  if (!st.ok()) {
    (void)run.conn->Exec("ROLLBACK");  // the comparison's error is the one worth reporting
    return st;
  }
  SQLIFT_RETURN_IF_ERROR(run.reader->Close());
  run.report.seconds = Since(start);
  record.finished_at = std::chrono::system_clock::now();
  SQLIFT_RETURN_IF_ERROR(EnsureVerifyRuns(*run.conn));
  SQLIFT_ASSIGN_OR_RETURN(run.report.run_id, RecordVerifyRun(*run.conn, run.report, record));
  std::fputs((o.json ? ReportJson(run.report) + "\n" : ReportText(run.report)).c_str(), stdout);
  *exit = run.report.matched() ? kExitOk : kExitBlocked;
  return Status::OK();
}

int RunVerify(VerifyCliOptions o, const GlobalOptions& global) {
  const Config* cfg = global.config ? &*global.config : nullptr;
  if (o.sqlite.empty() && cfg) o.sqlite = cfg->source_sqlite;
  if (o.pg.empty() && cfg) o.pg = cfg->target_pg;
  if (o.sqlite.empty() || o.pg.empty()) {
    spdlog::error("verify: give --sqlite FILE and --pg URI (or --config with them)");
    return kExitUsage;
  }
  int exit = kExitFailure;
  Status st = Verify(o, cfg, &exit);
  if (st.ok()) return exit;
  spdlog::error("verify {}: {}", o.sqlite, st.ToString());
  return exit == kExitOk || exit == kExitBlocked ? kExitFailure : exit;
}

}  // namespace

void AddVerifyCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static VerifyCliOptions o;  // lives as long as the CLI tree, which main() owns
  CLI::App* verify = root.add_subcommand(
      "verify",
      "Compare SQLite and PostgreSQL table by table: row counts, checksums per key range, "
      "then the differing rows (one-shot: the SQLite file must not be written meanwhile)");
  verify->add_option("--sqlite", o.sqlite, "SQLite database file (default: [source] sqlite)");
  verify->add_option("--pg", o.pg, "PostgreSQL URI (default: [target] pg)");
  verify->add_option("--schema", o.schema, "PostgreSQL schema holding the tables")
      ->capture_default_str();
  verify->add_option("--tables", o.tables, "Compare only these tables")->delimiter(',');
  verify->add_flag("--json", o.json, "Print one JSON document instead of a table");
  verify
      ->add_option("--max-rows-kept", o.max_rows_kept,
                   "Rows per side held to find the differing rows of a table")
      ->capture_default_str();
  table.Set(verify, [&global] { return RunVerify(o, global); });
}

}  // namespace sqlift
