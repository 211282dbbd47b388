// `sqlift bench stream`: how many row changes per second the whole stream carries end to end
// (application commit -> recorder -> outbox -> capture agent -> durable log -> transport ->
// applier -> PostgreSQL commit), and how far PostgreSQL lags at a fixed offered rate, against
// baselines measured in the same run on the same machine.
//
// One throwaway PostgreSQL (deploy/pg_sandbox.h, track_commit_timestamp=on) and one scratch
// directory hold everything; the phases, in order:
//  1. plain SQLite: the workload's transactions on a database without a recorder (the
//     application alone);
//  2. direct PostgreSQL: the same transactions sent straight to PostgreSQL, prepared INSERT and
//     UPDATE over one libpq connection, one PostgreSQL transaction per source transaction;
//  3. then `sqlift init`, the real `sqlift apply` and `sqlift capture` daemons (child processes
//     of `binary`; the agent snapshots the seed rows first), and the same transactions written
//     as fast as possible through a recorder: end-to-end changes/s is measured from the first
//     commit until sqlift.positions.applied_seq reaches the last committed outbox seq;
//  4. paced load: a transaction of 10 inserts every 2 ms (5,000 changes/s offered) for
//     `seconds`; each row carries its start time in µs (system clock), and its lag is the
//     commit timestamp of the PostgreSQL transaction that inserted it minus that time, so the
//     lag is "until visible in PostgreSQL". p50/p99/max are computed in SQL.
// The workload's transactions are 10 row changes each: 5 inserts and 5 updates of seed rows.
// Everything started (daemons, PostgreSQL, the directory unless `dir` was given) is stopped
// and removed on return, on failure too.
//
// Targets: >= 20,000 changes/s end to end; lag p99 < 1 s at 5,000 changes/s.
//
// Thread safety: one call at a time; runs on the calling thread (and child processes).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/process/process.h"

namespace sqlift {

struct BenchStreamOptions {
  bool json = false;           // one JSON object: stream_changes_per_s, lag_p99_ms, ... (see Print)
  std::string size = "small";  // small: 60,000 changes, 4 s paced; full: 500,000 and 15 s
  int64_t changes = 0;         // overrides size: row changes per throughput phase (x10)
  double seconds = 0;          // overrides size: duration of the paced phase
  // The sqlift executable to run for init, apply and capture; the CLI passes /proc/self/exe.
  std::string binary = "/proc/self/exe";
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;  // progress and why a run failed (with the daemons' logs)
  std::string dir;  // scratch files go here and are kept; empty: a fresh temporary directory
};

// Returns 0 (figures printed; meeting the targets is for the reader to judge), 1 when a run
// failed, 2 for bad options.
int RunBenchStream(const BenchStreamOptions& options);

// ---- Internal: the pieces bench_stream*.cc share (and bench_snapshot.cc its daemons'). ----
namespace bench_stream {

inline constexpr int kSeedRows = 10000;         // rows every database starts with
inline constexpr int kInsertsPerTxn = 5;        // the throughput transactions: 5 inserts...
inline constexpr int kUpdatesPerTxn = 5;        // ...and 5 updates of seed rows
inline constexpr int kPacedInsertsPerTxn = 10;  // the paced transactions: 10 inserts

// Where a transaction goes: SQLite (with or without a recorder) or PostgreSQL directly.
class TxnTarget {
 public:
  virtual ~TxnTarget() = default;
  [[nodiscard]] virtual Status Begin() = 0;
  [[nodiscard]] virtual Status Insert(int64_t id, int64_t written_us) = 0;
  [[nodiscard]] virtual Status Update(int64_t id) = 0;  // qty + 1, a new note
  [[nodiscard]] virtual Status Commit() = 0;
};

// `path` must hold the items table; with `recorder`, it must have been through `sqlift init`.
[[nodiscard]] Result<std::unique_ptr<TxnTarget>> OpenSqliteTarget(const std::string& path,
                                                                  bool recorder);
[[nodiscard]] Result<std::unique_ptr<TxnTarget>> OpenPgTarget(const std::string& uri);

// Creates the items table with kSeedRows rows in a SQLite file (WAL) / a PostgreSQL database.
[[nodiscard]] Status CreateSqliteItems(const std::string& path);
[[nodiscard]] Status CreatePgItems(const std::string& uri);

// Throughput transaction `i` (0-based): inserts ids kSeedRows + 5i + 1.., updates seed rows.
[[nodiscard]] Status MixedTxn(TxnTarget& target, int64_t i);
// Runs `txns` throughput transactions; returns their row changes per second.
[[nodiscard]] Result<double> RunMixed(TxnTarget& target, int64_t txns);

// Paced load: a transaction of kPacedInsertsPerTxn inserts (ids from first_id) every
// `interval` for `duration`; returns the offered changes/s actually achieved and the rows.
struct Paced {
  double offered_changes_per_s = 0;
  int64_t rows = 0;
};
[[nodiscard]] Result<Paced> RunPaced(TxnTarget& target, int64_t first_id,
                                     std::chrono::microseconds interval,
                                     std::chrono::duration<double> duration);

// The outbox high-water mark of a SQLite file: the last seq any transaction committed.
[[nodiscard]] Result<uint64_t> CommittedSeq(const std::string& path);

// A daemon (`sqlift apply`, `sqlift capture`) with stdin from /dev/null and stdout and stderr
// appended to `log`; the Child kills (SIGKILL) and reaps it if still running when destroyed.
[[nodiscard]] Result<process::Child> SpawnDaemon(const std::vector<std::string>& argv,
                                                 const std::string& log);

// SIGTERM, then waits up to `grace` (then SIGKILL); the exit code (128 + signal if killed).
int Stop(process::Child& child, std::chrono::seconds grace);

// Runs argv to completion with a deadline; fails unless it exits 0 (with its output).
[[nodiscard]] Status RunToEnd(const std::vector<std::string>& argv, const std::string& log,
                              std::chrono::seconds timeout);

// A loopback port free right now (the applier binds it a moment later); 0 when none.
uint16_t FreePort();

}  // namespace bench_stream
}  // namespace sqlift
