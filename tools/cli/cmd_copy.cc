// `sqlift copy`: a one-shot consistent copy of a SQLite database (schema and data) into
// PostgreSQL. Reads in one SQLite read transaction (capture/snapshot_reader.h),
// creates the tables in one PostgreSQL transaction, loads each table with COPY
// (apply/copy_loader.h), then builds indexes, unique constraints and foreign keys and sets
// identities past the largest key. Exit 0 copied, 1 failed, 2 usage, 3 blocked (as `plan`).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <future>

#include "apply/pg_sink/copy_loader.h"
#include "apply/pg_sink/pg_snapshot_loader.h"
#include "apply/pg_sink/pg_state_schema.h"
#include "apply/translate/schema_translator.h"
#include "tools/plan/data_profiler.h"
#include "capture/snapshot/snapshot_reader.h"
#include "tools/cli/command.h"
#include "apply/translate/mapping_overrides.h"
#include "common/sqlite/sqlite_schema.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;

struct CopyOptions {
  std::string sqlite;
  std::string pg;
  std::string schema = "public";
  int jobs = 1;
  std::vector<std::string> tables;
  std::string on_error = "stop";
  bool truncate = false;
  // 0: by --jobs. One thread reads, encodes and sends best in chunks of 1,000 rows, whose
  // rows and encoded bytes stay in the CPU caches (10,000 took 40% more CPU); encoder threads
  // take chunks of 10,000, since each chunk starts a thread.
  size_t chunk_rows = 0;
};

struct TableResult {
  std::string table;
  int64_t rows = 0, dead_letters = 0;
  double seconds = 0;
};

// Everything one run holds; owned by RunCopy, used from its thread only.
struct CopyRun {
  const CopyOptions& o;
  std::unique_ptr<SnapshotReader> reader;
  std::vector<TableSchema> tables;
  SchemaPlan plan;
  std::unique_ptr<PgConnection> conn, dead_conn;
  std::vector<bool> exists;  // per table: already in PostgreSQL
  std::vector<TableResult> results;
};

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Status FailWith(Status st, int code, int* exit) {
  *exit = code;
  return st;
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
  if (!run.plan.blocked()) return Status::OK();
  for (const Problem& p : run.plan.problems) {
    if (p.severity != Problem::Severity::kBlocker) continue;
    spdlog::error("blocker {}{}: {} (fix: {})", p.table, p.column.empty() ? "" : "." + p.column,
                  p.what, p.fix);
  }
  return FailWith(Status::FailedPrecondition("the schema has blockers; see `sqlift plan`"),
                  kExitBlocked, exit);
}

// Which target tables exist, and refuses ones holding rows unless --truncate.
Status CheckTargets(CopyRun& run) {
  std::vector<std::string> full;
  for (const TablePlan& t : run.plan.tables) {
    std::string name = QuoteQualified(run.o.schema, t.pg_name);
    SQLIFT_ASSIGN_OR_RETURN(PgResult r,
                            run.conn->Query("SELECT to_regclass($1) IS NOT NULL", {name}));
    run.exists.push_back(r.get(0, 0) == "t");
    if (!run.exists.back()) continue;
    SQLIFT_ASSIGN_OR_RETURN(PgResult rows,
                            run.conn->Query("SELECT EXISTS (SELECT 1 FROM " + name + ")"));
    if (rows.get(0, 0) == "t") full.push_back(name);
  }
  if (full.empty()) return Status::OK();
  if (!run.o.truncate) {
    return Status::FailedPrecondition(
        fmt::format("tables already hold rows: {}; give --truncate to empty them first",
                    fmt::join(full, ", ")));
  }
  spdlog::warn("--truncate: emptying {}", fmt::join(full, ", "));
  return run.conn->Exec("TRUNCATE " + fmt::format("{}", fmt::join(full, ", ")));
}

// The schema and the missing tables (inside the copy's one transaction).
Status CreateTables(CopyRun& run) {
  std::string sql = run.plan.ddl[0] + ";";
  for (size_t i = 0; i < run.plan.tables.size(); ++i) {
    if (!run.exists[i]) sql += run.plan.ddl[i + 1] + ";";
  }
  return run.conn->Exec(sql).With("create tables");
}

void Progress(const std::string& table, int64_t done, int64_t total, Clock::time_point start) {
  double secs = Since(start), rate = secs > 0 ? done / secs : 0;
  double eta = rate > 0 ? (total - done) / rate : 0;
  std::fprintf(stderr, "\r%s: %lld/%lld rows, %.0f rows/s, ETA %.0f s\033[K%s", table.c_str(),
               static_cast<long long>(done), static_cast<long long>(total), rate, eta,
               done >= total ? "\n" : "");
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

// Feeds chunks to the loader. With --jobs N > 1, up to N chunks are encoded at once on their
// own threads (encoding is most of the CPU a copy costs) while this thread reads SQLite and
// sends; results are submitted in read order, so "the first bad row stops" still holds.
class ChunkPipeline {
 public:
  ChunkPipeline(CopyLoader& loader, size_t jobs) : loader_(loader), jobs_(jobs) {}
  ~ChunkPipeline() {  // waits for encoders still running (an error stopped the read)
    for (auto& f : inflight_)
      f.wait();
  }

  Status Add(std::vector<wire::Row>&& rows) {
    if (jobs_ <= 1) return loader_.AddRows(rows);
    inflight_.push_back(std::async(
        std::launch::async, [this, rows = std::move(rows)] { return loader_.EncodeRows(rows); }));
    while (inflight_.size() >= jobs_)
      SQLIFT_RETURN_IF_ERROR(SubmitOldest());
    return Status::OK();
  }

  Status Drain() {
    while (!inflight_.empty())
      SQLIFT_RETURN_IF_ERROR(SubmitOldest());
    return Status::OK();
  }

 private:
  Status SubmitOldest() {
    Result<CopyLoader::Encoded> e = inflight_.front().get();
    inflight_.pop_front();
    if (!e.ok()) return e.status();
    return loader_.Submit(std::move(e).value());
  }

  CopyLoader& loader_;
  const size_t jobs_;
  std::deque<std::future<Result<CopyLoader::Encoded>>> inflight_;  // at most jobs_
};

Status LoadTable(CopyRun& run, size_t i) {
  const TableSchema& t = run.tables[i];
  Clock::time_point start = Clock::now();
  const bool tty = isatty(STDERR_FILENO);
  // The count is for the progress line only: it is a scan of the whole table.
  int64_t total = 0;
  if (tty) {
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
      done += static_cast<int64_t>(rows.size());
      if (tty && done < total) Progress(t.name, done, total, start);
      return pipeline.Add(std::move(rows));
    });
    if (st.ok()) st = pipeline.Drain();
  }
  if (!st.ok()) {
    loader.Abort(st.message());
    return st;
  }
  SQLIFT_RETURN_IF_ERROR(loader.Finish());
  if (tty) Progress(t.name, total, total, start);
  run.results.push_back({t.name, loader.stats().rows, loader.stats().dead_letters, Since(start)});
  return Status::OK();
}

void PrintSummary(const CopyRun& run, double after_secs, double total_secs) {
  std::printf("%-30s %12s %9s %10s %12s\n", "table", "rows", "seconds", "rows/s", "dead letters");
  int64_t rows = 0, dead = 0;
  for (const TableResult& r : run.results) {
    std::printf("%-30s %12lld %9.2f %10.0f %12lld\n", r.table.c_str(),
                static_cast<long long>(r.rows), r.seconds, r.seconds > 0 ? r.rows / r.seconds : 0,
                static_cast<long long>(r.dead_letters));
    rows += r.rows, dead += r.dead_letters;
  }
  std::printf("%-30s %12lld %9.2f %10.0f %12lld\n", "total", static_cast<long long>(rows),
              total_secs, total_secs > 0 ? rows / total_secs : 0, static_cast<long long>(dead));
  std::printf("after the data: %zu statements in %.2f s; snapshot at outbox seq %lld\n",
              run.plan.after_data.size(), after_secs,
              static_cast<long long>(run.reader->snapshot_seq()));
}

// Everything PostgreSQL sees, in one transaction: a failed copy leaves no half-loaded
// tables behind. Foreign keys of tables that already exist (--truncate) are deferred to the
// commit, since tables load one after the other.
Status Load(CopyRun& run, double* after_secs) {
  SQLIFT_RETURN_IF_ERROR(run.conn->Exec("BEGIN; SET CONSTRAINTS ALL DEFERRED"));
  SQLIFT_RETURN_IF_ERROR(CheckTargets(run));
  SQLIFT_RETURN_IF_ERROR(CreateTables(run));
  for (size_t i = 0; i < run.tables.size(); ++i)
    SQLIFT_RETURN_IF_ERROR(LoadTable(run, i));
  Clock::time_point after = Clock::now();
  // Checks the deferred foreign keys now that every table is loaded (CREATE INDEX refuses a
  // table with checks pending).
  SQLIFT_RETURN_IF_ERROR(run.conn->Exec("SET CONSTRAINTS ALL IMMEDIATE"));
  // Indexes, constraints, foreign keys, identities; one that exists already (a --truncate
  // rerun) is kept as it is.
  SQLIFT_RETURN_IF_ERROR(RunAfterData(*run.conn, run.plan.after_data).With("after the data"));
  SQLIFT_RETURN_IF_ERROR(run.conn->Exec("COMMIT").With("commit the copy"));
  *after_secs = Since(after);
  return Status::OK();
}

Status Copy(const CopyOptions& o, const Config* cfg, int* exit) {
  Clock::time_point start = Clock::now();
  CopyRun run{o, {}, {}, {}, {}, {}, {}, {}};
  SQLIFT_ASSIGN_OR_RETURN(run.reader, SnapshotReader::Open(o.sqlite));
  SQLIFT_RETURN_IF_ERROR(Translate(run, cfg, exit));
  SQLIFT_ASSIGN_OR_RETURN(run.conn, PgConnection::Connect(o.pg, std::chrono::seconds(10)));
  SQLIFT_ASSIGN_OR_RETURN(run.dead_conn, PgConnection::Connect(o.pg, std::chrono::seconds(10)));
  SQLIFT_RETURN_IF_ERROR(EnsureStateSchema(*run.conn));
  double after_secs = 0;
  Status st = Load(run, &after_secs);
  if (!st.ok()) {
    (void)run.conn->Exec("ROLLBACK");  // the load's error is the one worth reporting
    return st;
  }
  SQLIFT_RETURN_IF_ERROR(run.reader->Close());
  PrintSummary(run, after_secs, Since(start));
  return Status::OK();
}

int RunCopy(CopyOptions o, const GlobalOptions& global) {
  const Config* cfg = global.config ? &*global.config : nullptr;
  if (o.sqlite.empty() && cfg) o.sqlite = cfg->source_sqlite;
  if (o.pg.empty() && cfg) o.pg = cfg->target_pg;
  if (o.sqlite.empty() || o.pg.empty()) {
    spdlog::error("copy: give --sqlite FILE and --pg URI (or --config with them)");
    return kExitUsage;
  }
  int exit = kExitFailure;
  Status st = Copy(o, cfg, &exit);
  if (st.ok()) return kExitOk;
  spdlog::error("copy {}: {}", o.sqlite, st.ToString());
  return exit;
}

}  // namespace

void AddCopyCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static CopyOptions o;  // lives as long as the CLI tree, which main() owns
  CLI::App* copy = root.add_subcommand(
      "copy", "One-shot consistent copy of a SQLite database (schema and data) into PostgreSQL");
  copy->add_option("--sqlite", o.sqlite, "SQLite database file (default: [source] sqlite)");
  copy->add_option("--pg", o.pg, "PostgreSQL URI (default: [target] pg)");
  copy->add_option("--schema", o.schema, "Target PostgreSQL schema")->capture_default_str();
  copy->add_option("--jobs", o.jobs, "Threads encoding rows (one SQLite snapshot, one COPY stream)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  copy->add_option("--tables", o.tables, "Copy only these tables")->delimiter(',');
  copy->add_option(
          "--on-error", o.on_error,
          "A value that does not fit: stop the copy, or skip-row (dead-lettered either way)")
      ->check(CLI::IsMember({"stop", "skip-row"}))
      ->capture_default_str();
  copy->add_flag("--truncate", o.truncate, "Empty target tables that already hold rows");
  copy->add_option("--chunk-rows", o.chunk_rows,
                   "Rows read per chunk (default: 1000 with --jobs 1, else 10000)");
  table.Set(copy, [&global] { return RunCopy(o, global); });
}

}  // namespace sqlift
