// The one-shot copy engine behind `sqlift copy`: one consistent copy of a SQLite database
// (schema and data) into PostgreSQL. It reads every table inside one SQLite read transaction
// whose position S is known (capture/snapshot/snapshot_reader.h), so the copy holds exactly the
// effects of the transactions up to S; it creates the tables, loads each with COPY
// (apply/pg_sink/copy_loader.h) and then builds indexes, unique constraints and foreign keys
// and sets identities past the largest key, all in ONE PostgreSQL transaction, so a failed
// copy leaves nothing half-loaded. Values that do not fit go to sqlift.dead_letter through a
// second connection, so they survive a stopped copy's rollback.
//
// Thread safety: RunCopy runs on the caller's thread; with jobs > 1 it encodes chunks on
// threads of its own and joins them before it returns. The progress callback is called on
// the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/config/config.h"

namespace sqlift {

struct CopyOptions {
  std::string sqlite;
  std::string pg;
  std::string schema = "public";
  int jobs = 1;                     // threads encoding chunks; one reads SQLite, one COPY stream
  std::vector<std::string> tables;  // empty: every table less [source] exclude_tables
  std::string on_error = "stop";    // or "skip-row"; dead-lettered either way
  bool truncate = false;            // empty target tables that already hold rows
  // 0: by `jobs`. One thread reads, encodes and sends best in chunks of 1,000 rows, whose
  // rows and encoded bytes stay in the CPU caches (10,000 took 40% more CPU); encoder threads
  // take chunks of 10,000, since each chunk starts a thread.
  size_t chunk_rows = 0;
};

struct CopyTableResult {
  std::string table;
  int64_t rows = 0, dead_letters = 0;
  double seconds = 0;
};

struct CopyReport {
  std::vector<CopyTableResult> tables;  // in load order
  size_t after_data_statements = 0;
  double after_data_seconds = 0, total_seconds = 0;
  uint64_t snapshot_seq = 0;  // S: the outbox position the copy holds (0 without an outbox)
};

// Called as a table loads: rows done so far, the table's total (0 when not counted: counting
// is a scan of the whole table, done only when `count_rows` is set), seconds since it began.
struct CopyProgress {
  bool count_rows = false;
  std::function<void(const std::string& table, int64_t done, int64_t total, double seconds)>
      on_rows;
};

// Runs the copy. `cfg` (may be null) supplies [source] exclude_tables and [mapping]. On
// failure, *exit_code says what kind: kExitUsage (an unknown --tables name, a bad [mapping]),
// kExitBlocked (the schema has blockers, as `plan` reports them) or kExitFailure.
[[nodiscard]] Result<CopyReport> RunCopy(const CopyOptions& options, const Config* cfg,
                                         const CopyProgress& progress, int* exit_code);

}  // namespace sqlift
