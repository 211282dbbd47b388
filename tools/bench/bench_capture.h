// `sqlift bench capture`: what capturing costs an application's write transactions, in both
// capture modes, and how the wal mode's agent keeps up.
//
// Runs the same workload without sqlift (the baseline), with a recorder (mode recorder: the
// changeset is flushed into the outbox before each COMMIT) and with a WalCaptureAgent (mode
// wal: the agent's loop runs on a thread of this process, reads the -wal file and appends to a
// RocksDB log with synced writes, as `sqlift capture` does), in the same process and run,
// rotating the order over a few rounds on fresh databases, and reports the median of each:
// transactions per second, the ratio to the baseline (targets: recorder >= 0.85, wal >= 0.95)
// and the milliseconds each mode adds to a transaction. For the wal mode it also reports:
//  - the agent's CPU per 1,000 transactions (the process's CPU less the writer thread's, from
//    the agent's start until it has logged the last transaction), and its catch-up: how long
//    after the writer's last COMMIT it had logged it (an agent that falls behind frees the
//    application from checkpointing, which flatters the ratio: this shows it), medians;
//  - the decode rate: row changes per second the agent logs while draining a backlog (the
//    agent is opened, and so pins the WAL, before the backlog is written, and is not running
//    while it is; then one DrainAvailable is timed), median over the rounds;
//  - the lag at `lag_txn_per_s` (5,000 txn/s): a writer paced on a fixed schedule for
//    `lag_seconds` with the agent running; each transaction's lag runs from its COMMIT
//    returning to the agent's synced log write that holds it; p50, p99 and max.
// Every wal run checks that the log holds exactly one seq per application transaction.
// The workload is the booking application's: a WAL database with synchronous=NORMAL; each
// transaction is BEGIN IMMEDIATE, one INSERT of a booking with every column bound, one UPDATE
// of an earlier booking's status and updated_at, COMMIT, with the statements prepared once, as
// an application's statement cache would.
//
// Thread safety: one call at a time per options object; runs on the calling thread (and, in
// the wal runs, the agent's thread it starts and joins).
#pragma once

#include <cstdint>
#include <iostream>
#include <string>

namespace sqlift {

struct BenchCaptureOptions {
  bool json = false;  // one JSON object: baseline_txn_per_s, recorder_txn_per_s, ratio, ...
  int64_t transactions = 5000;  // per run, and the decode backlog
  int rounds = 3;               // runs of each variant; the median is reported
  double lag_txn_per_s = 5000;  // the paced writer's rate for the lag figure
  double lag_seconds = 3;       // and how long it writes
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;  // why a run failed
  std::string dir;  // where the databases go; empty: a fresh directory under TMPDIR, removed after
};

// Returns 0 (the figures are printed; meeting the target is for the reader to judge), 1 when a
// run failed, 2 for bad options.
int RunBenchCapture(const BenchCaptureOptions& options);

}  // namespace sqlift
