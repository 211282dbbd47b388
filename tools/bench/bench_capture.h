// `sqlift bench capture`: what the recorder costs an application's write transactions.
//
// Runs the same workload with and without a recorder, in the same process and run, alternating
// a few rounds on fresh databases, and reports the median of each: transactions per second, the
// ratio (recorder / baseline; the target is >= 0.85) and the milliseconds the recorder adds to
// each transaction. The workload is the booking application's: a WAL database with
// synchronous=NORMAL; each transaction is BEGIN IMMEDIATE, one INSERT of a booking with every
// column bound, one UPDATE of an earlier booking's status and updated_at, COMMIT, with the
// statements prepared once, as an application's statement cache would.
//
// Thread safety: one call at a time per options object; runs on the calling thread.
#pragma once

#include <cstdint>
#include <iostream>
#include <string>

namespace sqlift {

struct BenchCaptureOptions {
  bool json = false;  // one JSON object: baseline_txn_per_s, recorder_txn_per_s, ratio, ...
  int64_t transactions = 5000;  // per run
  int rounds = 3;               // runs of each variant; the median is reported
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;  // why a run failed
  std::string dir;  // where the databases go; empty: a fresh directory under TMPDIR, removed after
};

// Returns 0 (the figures are printed; meeting the target is for the reader to judge), 1 when a
// run failed, 2 for bad options.
int RunBenchCapture(const BenchCaptureOptions& options);

}  // namespace sqlift
