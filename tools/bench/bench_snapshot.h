// `sqlift bench snapshot`: how fast the initial snapshot of a live migration loads, in capture
// mode wal, against `sqlift copy` of the same file, measured in the same run on the same
// server (target: snapshot / copy >= 0.9 in rows per second, that is in time).
//
// It generates the booking database `sqlift bench copy` loads (bench_copy_internal.h, the same
// rooms and bookings for the same size), starts one throwaway PostgreSQL (tools/sandbox) and,
// each round in alternating order, loads it into a fresh database twice, with no writers:
//  - copy: `sqlift copy --jobs N`, timed from spawn to exit;
//  - snapshot: on a copy of the file, `sqlift init` ([capture] mode = "wal"), then the real
//    `sqlift apply` and `sqlift capture` daemons (child processes of `binary`); timed from the
//    spawn of `init` until sqlift.positions holds the source's snapshot_seq, which the applier
//    writes in the snapshot's own COMMIT (so the rows are there). How long `init` took is
//    reported too.
// Before each load the server is checkpointed. Afterwards both databases must hold the same
// rows (a count and a hash of every row's text, per table), or the run fails. The daemons'
// logs are kept in `dir` when it is given (to see where a slow snapshot spends its time).
//
// Needs PostgreSQL's server binaries (as PgSandbox finds them).
//
// Thread safety: one call at a time; runs on the calling thread (and child processes).
#pragma once

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

namespace sqlift {

struct BenchSnapshotOptions {
  bool json = false;  // one JSON object: copy_seconds, snapshot_seconds, ratio, ...
  int64_t rooms = 1000;
  int64_t bookings = 200000;
  int rounds = 1;  // loads of each kind; the medians are reported
  int jobs = 1;    // sqlift copy --jobs
  // The sqlift executable to run for copy, init, apply and capture; the CLI passes
  // /proc/self/exe.
  std::string binary = "/proc/self/exe";
  std::chrono::seconds timeout{3600};  // per load
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;  // progress and why a run failed (with the daemons' logs)
  std::string dir;  // scratch files go here and are kept; empty: a fresh temporary directory
};

// Returns 0 (figures printed; meeting the target is for the reader to judge), 1 when a run
// failed or the two loads differ, 2 for bad options.
int RunBenchSnapshot(const BenchSnapshotOptions& options);

}  // namespace sqlift
