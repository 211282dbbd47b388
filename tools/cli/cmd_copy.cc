// `sqlift copy`: the options and the printing of a one-shot consistent copy of a SQLite
// database into PostgreSQL; the engine is tools/copy/copy_run.h. Exit 0 copied, 1 failed,
// 2 usage, 3 blocked (as `plan`).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

#include "tools/cli/command.h"
#include "tools/copy/copy_run.h"

namespace sqlift {
namespace {

void PrintProgress(const std::string& table, int64_t done, int64_t total, double secs) {
  double rate = secs > 0 ? done / secs : 0;
  double eta = rate > 0 ? (total - done) / rate : 0;
  std::fprintf(stderr, "\r%s: %lld/%lld rows, %.0f rows/s, ETA %.0f s\033[K%s", table.c_str(),
               static_cast<long long>(done), static_cast<long long>(total), rate, eta,
               done >= total ? "\n" : "");
}

void PrintSummary(const CopyReport& report) {
  std::printf("%-30s %12s %9s %10s %12s\n", "table", "rows", "seconds", "rows/s", "dead letters");
  int64_t rows = 0, dead = 0;
  for (const CopyTableResult& r : report.tables) {
    std::printf("%-30s %12lld %9.2f %10.0f %12lld\n", r.table.c_str(),
                static_cast<long long>(r.rows), r.seconds, r.seconds > 0 ? r.rows / r.seconds : 0,
                static_cast<long long>(r.dead_letters));
    rows += r.rows, dead += r.dead_letters;
  }
  const double total = report.total_seconds;
  std::printf("%-30s %12lld %9.2f %10.0f %12lld\n", "total", static_cast<long long>(rows), total,
              total > 0 ? rows / total : 0, static_cast<long long>(dead));
  std::printf("after the data: %zu statements in %.2f s; snapshot at outbox seq %lld\n",
              report.after_data_statements, report.after_data_seconds,
              static_cast<long long>(report.snapshot_seq));
}

int RunCopyCommand(CopyOptions o, const GlobalOptions& global) {
  const Config* cfg = global.config ? &*global.config : nullptr;
  if (o.sqlite.empty() && cfg) o.sqlite = cfg->source_sqlite;
  if (o.pg.empty() && cfg) o.pg = cfg->target_pg;
  if (o.sqlite.empty() || o.pg.empty()) {
    spdlog::error("copy: give --sqlite FILE and --pg URI (or --config with them)");
    return kExitUsage;
  }
  CopyProgress progress;
  if (isatty(STDERR_FILENO)) {  // a progress line per table, with its row count
    progress.count_rows = true;
    progress.on_rows = [](const std::string& table, int64_t done, int64_t total, double secs) {
      if (done <= total) PrintProgress(table, done, total, secs);
    };
  }
  int exit = kExitFailure;
  Result<CopyReport> report = RunCopy(o, cfg, progress, &exit);
  if (!report.ok()) {
    spdlog::error("copy {}: {}", o.sqlite, report.status().ToString());
    return exit;
  }
  PrintSummary(*report);
  return kExitOk;
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
  table.Set(copy, [&global] { return RunCopyCommand(o, global); });
}

}  // namespace sqlift
