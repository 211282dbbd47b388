// Pieces of `sqlift bench capture` (tools/bench/bench_capture.h), one file each: the booking
// application's write transactions (bench_capture_app.cc) and the capture agent of mode wal
// beside it (bench_capture_wal.cc: throughput, decode rate, lag).
//
// Ownership: a BookingApp owns its connection and statements; a WalRig owns its log, its agent
// and the agent's thread. Thread safety: one thread drives each object; a WalRig's agent runs
// on the rig's own thread between Start() and Stop().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "capture/agent/wal_agent.h"
#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "state/change_log.h"

namespace sqlift {

class Recorder;

namespace bench_capture {

using Clock = std::chrono::steady_clock;

// The application's side: its connection and its cached statements, on a fresh WAL database
// with the booking schema, sqlift's tables and some seed rows. `capture_mode` non-empty: the
// database is marked for that mode as `sqlift init` marks it.
class BookingApp {
 public:
  [[nodiscard]] static Result<std::unique_ptr<BookingApp>> Create(
      const std::string& path, const std::string& capture_mode = "");

  // One application transaction: BEGIN IMMEDIATE, INSERT a booking, UPDATE an earlier one,
  // COMMIT; with a recorder, flushed before COMMIT.
  [[nodiscard]] Status Transaction(int64_t i, Recorder* recorder);

  sqlite3* handle() const { return db_->handle(); }

  // The row changes transactions 0..transactions-1 make on a fresh database: one per INSERT
  // and one per UPDATE that changes its row. An UPDATE that writes the values the row holds
  // already (the workload has a few) changes nothing, and neither capture mode records it.
  static int64_t RowChanges(int64_t transactions);

 private:
  explicit BookingApp(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  [[nodiscard]] Status Prepare();
  [[nodiscard]] Status Seed(const std::string& capture_mode);
  [[nodiscard]] Status Insert(int64_t i);

  std::unique_ptr<SqliteDb> db_;
  std::optional<SqliteStatement> begin_, commit_, insert_, update_;
};

// A WalCaptureAgent on a database, logging into RocksDB in `state_dir` (synced, as `sqlift
// capture` does), with each synced log write's seq and steady time recorded.
class WalRig {
 public:
  // restart_wal: CaptureAgentOptions::restart_wal.
  [[nodiscard]] static Result<std::unique_ptr<WalRig>> Open(const std::string& db_path,
                                                            const std::string& state_dir,
                                                            bool restart_wal = true);
  ~WalRig();  // Stop()s the agent if it runs; then the agent, then the log

  // The log's position right after Open (the fresh log's schema record): the application's
  // i-th transaction afterwards is seq first_seq() + 1 + i.
  uint64_t first_seq() const { return first_seq_; }
  WalCaptureAgent& agent() { return *agent_; }

  // Runs the agent's loop (Agent::Run) on the rig's thread.
  void Start();
  // Waits until the log holds `seq`; Aborted after `timeout`, or the loop's error if it ended.
  [[nodiscard]] Status WaitLogged(uint64_t seq, std::chrono::seconds timeout);
  // Ends the loop and joins the thread; the loop's status.
  [[nodiscard]] Status Stop();
  // Every synced log write since Open: (logged seq, when). Read it after Stop().
  const std::vector<std::pair<uint64_t, Clock::time_point>>& writes() const { return writes_; }

 private:
  WalRig() = default;
  void OnLogged(uint64_t seq);

  std::unique_ptr<state::ChangeLog> log_;
  std::unique_ptr<WalCaptureAgent> agent_;
  uint64_t first_seq_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t logged_ = 0;   // guarded by mu_
  bool running_ = false;  // guarded by mu_: the loop has not returned
  Status run_status_;     // guarded by mu_
  std::vector<std::pair<uint64_t, Clock::time_point>> writes_;  // guarded by mu_
};

// CPU time the agent cost: the process's CPU time less the writer's (the calling thread's),
// from the agent's start until its loop stopped, so its own thread and RocksDB's background
// work, per 1,000 application transactions.
class AgentCpu {
 public:
  AgentCpu();  // starts counting
  double MsPer1000(int64_t transactions) const;

 private:
  double process_s_ = 0, writer_s_ = 0;
};

// Application transactions per second with the agent's loop running beside the writer, and
// the agent's CPU time.
struct WalRun {
  double txn_per_s = 0;
  double agent_cpu_ms_per_1000_txn = 0;
  double catch_up_ms = 0;          // from the writer's last COMMIT until the agent had logged it
  uint64_t wal_restarts = 0;       // WAL restarts the agent brought about
  double writers_held_max_ms = 0;  // the longest it held the writer off for one
};
// restart_wal: the agent's CaptureAgentOptions::restart_wal ([capture] wal_restart).
[[nodiscard]] Result<WalRun> RunWithWalAgent(const std::string& db_path,
                                             const std::string& state_dir, int64_t transactions,
                                             bool restart_wal = true);

// Row changes per second the agent logs draining a backlog of `transactions` it was opened
// (pinned) before, but not running, while they were written.
struct Decode {
  double changes_per_s = 0;
  int64_t changes = 0;
};
[[nodiscard]] Result<Decode> MeasureDecode(const std::string& db_path, const std::string& state_dir,
                                           int64_t transactions);

// A writer paced at `txn_per_s` for `seconds` with the agent running; each transaction's lag
// is from its COMMIT returning to the synced log write that holds it.
struct Lag {
  double achieved_txn_per_s = 0;
  int64_t transactions = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double agent_cpu_ms_per_1000_txn = 0;  // as WalRun's, at this pace
  double wal_max_mb = 0;                 // the -wal file's largest size seen
  uint64_t wal_restarts = 0;             // WAL restarts the agent brought about
  double writers_held_max_ms = 0;        // the longest it held the writer off for one
};
[[nodiscard]] Result<Lag> MeasureLag(const std::string& db_path, const std::string& state_dir,
                                     double txn_per_s, double seconds, bool restart_wal = true);

}  // namespace bench_capture
}  // namespace sqlift
