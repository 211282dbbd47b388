// ReverseRunner: reverse replication (PostgreSQL → SQLite) inside `sqlift capture`, for the
// tenants that have been cut over (docs/design.md, the life of a migration).
//
// While SQLite's route table (capture/route_table.h) routes any tenant to postgres, it streams
// the source's logical slot (apply/pg_logical_stream.h; `sqlift cutover` creates the slot and
// its publication before the first flip) and applies each PostgreSQL transaction to SQLite
// with capture/reverse_applier.h, which records the position in _sqlift_state in the same
// SQLite transaction and skips the forward applier's own writes (origin sqlift_*). Only after
// a transaction is applied (synced) is its LSN confirmed to PostgreSQL, so the slot never
// moves past what SQLite holds; `sqlift fallback` waits on the slot's confirmed position.
// When no tenant is routed to postgres it closes the stream and only watches the routes.
//
// Errors: a lost connection or a busy SQLite database is retried with back-off; a refusal
// (a row of a tenant SQLite owns, an update that finds no row: the sides have diverged) stops
// reverse replication with the reason in stats() and the log, and leaves the slot where it is
// (nothing after the failed transaction is confirmed). The capture agent itself goes on.
//
// Ownership: owns its thread, its SQLite connections and the replication connection.
// Thread safety: Stop and stats may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/config/config.h"

namespace sqlift {

class ReverseEnv;

struct ReverseStats {
  bool streaming = false;      // a replication stream is open
  bool failed = false;         // stopped on a refusal; see last_error
  uint64_t applied_lsn = 0;    // end LSN of the last transaction applied to SQLite
  uint64_t confirmed_lsn = 0;  // the last position confirmed to PostgreSQL
  uint64_t transactions = 0;   // PostgreSQL transactions applied
  uint64_t rows = 0;           // row changes written to SQLite
  uint64_t skipped = 0;        // transactions skipped (the forward applier's own)
  std::string last_error;
};

class ReverseRunner {
 public:
  // Starts the thread. `cfg` ([source], [target] pg, [mapping]) is copied.
  static std::unique_ptr<ReverseRunner> Start(const Config& cfg);
  // Starts the thread over `env` (reverse_runner_env.h; unit tests pass fakes), reading the
  // routes at most every `poll` / 2 and waiting `poll` when idle.
  static std::unique_ptr<ReverseRunner> Start(std::unique_ptr<ReverseEnv> env,
                                              std::chrono::milliseconds poll);
  ~ReverseRunner();  // Stop()
  ReverseRunner(const ReverseRunner&) = delete;
  ReverseRunner& operator=(const ReverseRunner&) = delete;

  void Stop();
  ReverseStats stats() const;

  struct Loop;  // reverse_runner.cc

 private:
  ReverseRunner() = default;

  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace sqlift
