// `sqlift bench copy`: how fast `sqlift copy` loads a booking database into PostgreSQL, against
// the pipe an operator would otherwise use, measured in the same run on the same server.
//
// It generates a SQLite file with the booking application's schema (testdata/
// booking_schema.sql: DECIMAL, DATETIME, BOOLEAN, TEXT) and `rooms` rooms plus `bookings`
// bookings, starts one throwaway PostgreSQL (deploy/pg_sandbox.h) and loads the file into two
// fresh databases of it, each round in alternating order:
//  - the pipe: the tables `sqlift plan` would create (same column types, primary keys), then
//    per table `sqlite3 -csv FILE "SELECT ..." | psql -c "COPY ... FROM STDIN (FORMAT csv)"`
//    (TimeZone=UTC, as sqlift reads DATETIME text), then plan's after-data statements
//    (foreign keys, unique constraints, identities), so both loads end in the same state;
//  - `sqlift copy --jobs N`, as a child process whose peak RSS wait4() reports.
// Before each load the server is checkpointed. Afterwards both databases must hold the same
// rows (a count and a hash of every row's text, per table), or the run fails. It prints rows,
// seconds and rows/s of each (medians over the rounds), the ratio sqlift / pipe (target >= 1.2)
// and sqlift's peak RSS (target < 256 MB).
//
// Needs `sqlite3` on PATH and PostgreSQL's server binaries (as PgSandbox finds them; psql is
// taken from the same directory).
//
// Thread safety: one call at a time per options object; runs on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

namespace sqlift {

struct BenchCopyOptions {
  bool json = false;  // one JSON object: pipe_rows_per_s, sqlift_rows_per_s, ratio, ...
  int64_t rooms = 1000;
  int64_t bookings = 200000;
  int rounds = 1;  // loads of each kind; the medians are reported
  int jobs = 1;    // sqlift copy --jobs
  // The sqlift binary to run (`copy`); the default is the running one.
  std::string sqlift_binary = "/proc/self/exe";
  std::chrono::seconds timeout{3600};  // per load: the child processes are killed after it
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;  // progress and why a run failed
  std::string dir;  // where the SQLite file goes; empty: a fresh directory under TMPDIR, removed
};

// Returns 0 (the figures are printed; meeting the targets is for the reader to judge), 1 when a
// run failed or the two loads differ, 2 for bad options.
int RunBenchCopy(const BenchCopyOptions& options);

}  // namespace sqlift
