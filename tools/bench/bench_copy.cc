#include "tools/bench/bench_copy.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/base/parse.h"
#include "common/json/json.h"
#include "common/pg/pg_connection.h"
#include "common/pg/pg_identifier.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_schema.h"
#include "tools/bench/bench_copy_internal.h"
#include "tools/bench/bench_util.h"
#include "tools/sandbox/pg_sandbox.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;
using bench_copy::ChildRun;
using bench_copy::GeneratedDb;
using bench_copy::Spawn;

constexpr const char* kSchema = "public";

// Everything a run shares: the options, the generated file, its PostgreSQL plan, the server.
struct BenchRun {
  const BenchCopyOptions& o;
  std::filesystem::path dir;
  std::string db_path;
  GeneratedDb gen;
  SchemaPlan plan;
  std::unique_ptr<PgSandbox> pg;
  std::string psql;
  std::unique_ptr<PgConnection> admin;  // on the `postgres` database: CHECKPOINT, DROP
};

// One load's figures.
struct Load {
  double seconds = 0;
  int64_t peak_rss_kb = 0;
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

Status StartServer(BenchRun& run) {
  SQLIFT_ASSIGN_OR_RETURN(run.pg, PgSandbox::Start({}));
  SQLIFT_ASSIGN_OR_RETURN(PgSandboxInfo info, PgSandbox::ReadInfo(run.pg->dir()));
  run.psql = info.bindir + "/psql";
  if (access(run.psql.c_str(), X_OK) != 0) return Status::NotFound("no psql at " + run.psql);
  SQLIFT_ASSIGN_OR_RETURN(run.admin,
                          PgConnection::Connect(run.pg->uri(), std::chrono::seconds(10)));
  return Status::OK();
}

// The pipe for one table: CSV out of the sqlite3 shell into psql's COPY. NULL is an unquoted
// empty field both ways; booleans stay 0/1 and DECIMALs SQLite's REAL text, both of which
// PostgreSQL's input functions take; DATETIME text is read in UTC, as sqlift reads it.
Status PipeTable(const BenchRun& run, const std::string& uri, const TablePlan& t) {
  std::vector<std::string> src, dst;
  for (const ColumnPlan& c : t.columns) {
    src.push_back(QuoteSqliteIdentifier(c.source_name));
    dst.push_back(QuoteIdentifier(c.pg_name));
  }
  Spawn sqlite{{"sqlite3", "-batch", "-bail", "-csv", "-noheader", run.db_path,
                fmt::format("SELECT {} FROM {}", fmt::join(src, ", "),
                            QuoteSqliteIdentifier(t.source_name))},
               {}};
  Spawn psql{{run.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c",
              fmt::format("COPY {} ({}) FROM STDIN (FORMAT csv)",
                          QuoteQualified(kSchema, t.pg_name), fmt::join(dst, ", "))},
             {"PGOPTIONS=-c TimeZone=UTC"}};
  std::string log = (run.dir / "pipe.log").string();
  Result<ChildRun> r = bench_copy::RunPipeline(sqlite, psql, log, run.o.timeout);
  return r.ok() ? Status::OK() : r.status().With("pipe " + t.source_name);
}

// Tables, the pipe per table, then the statements sqlift runs after the data.
Result<Load> LoadWithPipe(const BenchRun& run, const std::string& uri) {
  SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(uri, std::chrono::seconds(10)));
  Clock::time_point start = Clock::now();
  for (const std::string& sql : run.plan.ddl)
    SQLIFT_RETURN_IF_ERROR(conn->Exec(sql));
  for (const TablePlan& t : run.plan.tables)
    SQLIFT_RETURN_IF_ERROR(PipeTable(run, uri, t));
  for (const std::string& sql : run.plan.after_data)
    SQLIFT_RETURN_IF_ERROR(conn->Exec(sql).With("after the data"));
  return Load{Seconds(start), 0};
}

Result<Load> LoadWithSqlift(const BenchRun& run, const std::string& uri) {
  Spawn copy{{run.o.sqlift_binary, "copy", "--sqlite", run.db_path, "--pg", uri, "--jobs",
              std::to_string(run.o.jobs), "--log-level", "warn"},
             {}};
  SQLIFT_ASSIGN_OR_RETURN(
      ChildRun r, bench_copy::RunChild(copy, (run.dir / "sqlift.log").string(), run.o.timeout));
  return Load{r.seconds, r.peak_rss_kb};
}

// One round: fresh databases, both loads (in the order given), the comparison, cleanup.
Status Round(BenchRun& run, int round, Load* pipe, Load* sqlift) {
  std::string pipe_db = fmt::format("pipe_{}", round), sqlift_db = fmt::format("sqlift_{}", round);
  SQLIFT_ASSIGN_OR_RETURN(std::string pipe_uri, run.pg->CreateDatabase(pipe_db));
  SQLIFT_ASSIGN_OR_RETURN(std::string sqlift_uri, run.pg->CreateDatabase(sqlift_db));
  for (int k = 0; k < 2; ++k) {
    bool pipe_turn = (round + k) % 2 == 0;  // alternate which load goes first
    SQLIFT_RETURN_IF_ERROR(run.admin->Exec("CHECKPOINT"));
    if (pipe_turn) {
      SQLIFT_ASSIGN_OR_RETURN(*pipe, LoadWithPipe(run, pipe_uri));
    } else {
      SQLIFT_ASSIGN_OR_RETURN(*sqlift, LoadWithSqlift(run, sqlift_uri));
    }
    fmt::print(*run.o.err, "round {}: {} {:.2f} s\n", round + 1, pipe_turn ? "pipe" : "sqlift copy",
               pipe_turn ? pipe->seconds : sqlift->seconds);
  }
  SQLIFT_RETURN_IF_ERROR(bench_copy::CompareLoads(run.plan, run.gen.rows(), {"pipe", pipe_uri},
                                                  {"sqlift", sqlift_uri}));
  for (const std::string& db : {pipe_db, sqlift_db})
    SQLIFT_RETURN_IF_ERROR(run.admin->Exec("DROP DATABASE " + QuoteIdentifier(db)));
  return Status::OK();
}

struct Figures {
  double pipe_s = 0, sqlift_s = 0, rss_mb = 0, generate_s = 0;
};

void Print(const BenchRun& run, const Figures& f) {
  const BenchCopyOptions& o = run.o;
  const double rows = static_cast<double>(run.gen.rows());
  const double pipe_rate = rows / f.pipe_s, sqlift_rate = rows / f.sqlift_s;
  const double ratio = sqlift_rate / pipe_rate;
  if (o.json) {
    Json doc = {{"rows", run.gen.rows()},
                {"bookings", run.gen.bookings},
                {"rooms", run.gen.rooms},
                {"pipe_seconds", JsonRounded(f.pipe_s, 3)},
                {"pipe_rows_per_s", JsonRounded(pipe_rate, 0)},
                {"sqlift_seconds", JsonRounded(f.sqlift_s, 3)},
                {"sqlift_rows_per_s", JsonRounded(sqlift_rate, 0)},
                {"ratio", JsonRounded(ratio, 3)},
                {"ratio_target", 1.2},
                {"sqlift_peak_rss_mb", JsonRounded(f.rss_mb, 1)},
                {"rss_target_mb", 256},
                {"jobs", o.jobs},
                {"rounds", o.rounds},
                {"identical", true}};
    *o.out << DumpJsonSpaced(doc) << "\n";
    return;
  }
  fmt::print(*o.out,
             "copy benchmark: {} rooms, {} bookings, {} other rows (booking schema), generated in "
             "{:.1f} s; one PostgreSQL, {} round(s), medians; end to end (tables, rows, "
             "constraints)\n"
             "  {:<40} {:>10} {:>9} {:>10}\n"
             "  {:<40} {:>10} {:>9.2f} {:>10.0f}\n"
             "  {:<40} {:>10} {:>9.2f} {:>10.0f}\n"
             "  ratio sqlift / pipe {:>21.3f}   (target >= 1.2)\n"
             "  peak RSS of sqlift copy {:>17.1f} MB (target < 256 MB)\n"
             "  both loads hold the same rows (count and hash per table)\n",
             run.gen.rooms, run.gen.bookings, run.gen.others, f.generate_s, o.rounds, "", "rows",
             "seconds", "rows/s", "sqlite3 -csv | psql COPY (FORMAT csv)", run.gen.rows(), f.pipe_s,
             pipe_rate, fmt::format("sqlift copy --jobs {}", o.jobs), run.gen.rows(), f.sqlift_s,
             sqlift_rate, ratio, f.rss_mb);
}

Status Bench(const BenchCopyOptions& o, const std::filesystem::path& dir) {
  BenchRun run{o, dir, (dir / "booking.db").string(), {}, {}, {}, {}, {}};
  Figures f;
  Clock::time_point start = Clock::now();
  fmt::print(*o.err, "generating {} rooms and {} bookings in {}\n", o.rooms, o.bookings,
             run.db_path);
  SQLIFT_ASSIGN_OR_RETURN(run.gen, bench_copy::GenerateBookingDb(run.db_path, o.rooms, o.bookings));
  f.generate_s = Seconds(start);
  SQLIFT_ASSIGN_OR_RETURN(run.plan, bench_copy::PlanOf(run.db_path));
  SQLIFT_RETURN_IF_ERROR(StartServer(run));
  std::vector<double> pipe, sqlift, rss;
  for (int round = 0; round < o.rounds; ++round) {
    Load p, s;
    SQLIFT_RETURN_IF_ERROR(Round(run, round, &p, &s).With(fmt::format("round {}", round + 1)));
    pipe.push_back(p.seconds), sqlift.push_back(s.seconds);
    rss.push_back(static_cast<double>(s.peak_rss_kb) / 1024.0);
  }
  f.pipe_s = Median(pipe), f.sqlift_s = Median(sqlift);
  f.rss_mb = *std::max_element(rss.begin(), rss.end());  // the worst round: a ceiling
  Print(run, f);
  return Status::OK();
}

}  // namespace

namespace bench_copy {

Result<SchemaPlan> PlanOf(const std::string& sqlite_path) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(sqlite_path, SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadSchema(*db));
  TranslateOptions topt;
  topt.schema = kSchema;
  SQLIFT_ASSIGN_OR_RETURN(SchemaPlan plan, TranslateSchema(tables, topt));
  if (plan.blocked()) return Status::Internal("the booking schema has plan blockers");
  return plan;
}

Result<std::vector<std::string>> Fingerprint(const SchemaPlan& plan, const std::string& uri) {
  SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(uri, std::chrono::seconds(10)));
  SQLIFT_RETURN_IF_ERROR(conn->Exec("SET TimeZone = 'UTC'"));
  std::vector<std::string> out;
  for (const TablePlan& t : plan.tables) {
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult r, conn->Query(fmt::format("SELECT count(*), coalesce(sum(hashtext(t::text)::"
                                            "bigint), 0) FROM {} t",
                                            QuoteQualified(kSchema, t.pg_name))));
    out.push_back(fmt::format("{} {} {}", t.pg_name, r.get(0, 0), r.get(0, 1)));
  }
  return out;
}

Status CompareLoads(const SchemaPlan& plan, int64_t rows, const NamedUri& a, const NamedUri& b) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> fa, Fingerprint(plan, a.uri));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> fb, Fingerprint(plan, b.uri));
  if (fa != fb) {
    return Status::Corruption(fmt::format("the loads differ: {} [{}], {} [{}]", a.name,
                                          fmt::join(fa, "; "), b.name, fmt::join(fb, "; ")));
  }
  int64_t loaded = 0;
  for (const std::string& f : fa) {  // "table count hash", the table's name maybe with spaces
    const size_t hash_at = f.rfind(' ');
    const size_t count_at = f.rfind(' ', hash_at - 1) + 1;
    std::string_view count = std::string_view(f).substr(count_at, hash_at - count_at);
    SQLIFT_ASSIGN_OR_RETURN(int64_t table_rows, ParseInt64(count, "row count"));
    loaded += table_rows;
  }
  if (loaded != rows) {
    return Status::Corruption(fmt::format("{} rows loaded of {}", loaded, rows));
  }
  return Status::OK();
}

}  // namespace bench_copy

int RunBenchCopy(const BenchCopyOptions& o) {
  if (o.rooms < 1 || o.bookings < 0 || o.rounds < 1 || o.jobs < 1) {
    fmt::print(*o.err, "bench copy: rooms, rounds and jobs must be at least 1, bookings >= 0\n");
    return 2;
  }
  ScratchDir scratch;
  Status st = MakeScratchDir(o.dir, &scratch);
  if (st.ok()) st = Bench(o, scratch.dir);
  if (st.ok()) return 0;
  fmt::print(*o.err, "bench copy: {}\n", st.ToString());
  return 1;
}

}  // namespace sqlift
