// Agent: what `sqlift capture` runs to fill the durable log, whichever capture mode feeds it:
// CaptureAgent (mode "recorder": outbox rows an in-process recorder wrote) or WalCaptureAgent
// (mode "wal": the transactions in the database's -wal file, from every writer).
//
// Thread safety: one thread drives an agent; Stop() may be called from any thread or a signal
// handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "proto/wire/sqlift.pb.h"
#include "state/change_log.h"

namespace sqlift {

// Mode wal: after a gap (wal_agent.h), the changes that make PostgreSQL equal the database as
// `snapshot` (a connection inside a read transaction, at the WAL position streaming resumes
// from) shows it, computed once PostgreSQL has applied every seq up to `logged_seq`. The
// capture command supplies it, since it needs PostgreSQL; without one a gap stops the agent.
struct GapRepair {
  wire::ChangeBatch batch;  // its tables and one CHANGES transaction (no seq)
  uint64_t rows = 0;        // row changes in it
  std::string summary;      // "3 inserted, 1 updated, 0 deleted"
};
using GapRepairFn = std::function<Result<GapRepair>(SqliteDb& snapshot, uint64_t logged_seq)>;

struct CaptureAgentOptions {
  std::string sqlite_path;
  std::set<std::string> exclude_tables;
  size_t batch_rows = 512;                       // transactions per log write
  size_t batch_bytes = 8 << 20;                  // payload bytes per log write
  std::chrono::milliseconds poll_interval{500};  // the floor when inotify sees nothing
  // Mode "wal": while the application writes (the last drain logged something), a drain
  // starts at most this long after the previous one started, so that one synced log write
  // and one progress publish carry every transaction committed in between instead of a few.
  // It adds at most this much to the lag; an idle agent still drains at the first commit.
  std::chrono::milliseconds busy_drain_interval{10};
  // Mode "wal": the checkpoint pin (wal_pin.h) moves once this many more frames are logged
  // (SQLite's own wal_autocheckpoint), or this long after it last moved, so that the
  // application checkpoints (and syncs) about as often as it would without the agent.
  uint64_t pin_frames = 1000;
  std::chrono::milliseconds pin_interval{1000};
  // Mode "wal": when the pin moves past a WAL of at least pin_frames frames, the agent has the
  // WAL copied into the database file (on a checkpointer thread of its own) and, once it is
  // copied whole, pins the database file alone, so that the application's next commit
  // restarts the WAL from its start (wal_agent_pin.cc); past restart_hold_frames it holds the
  // application's writers off for a moment to do so (one BEGIN IMMEDIATE, never waited for).
  // Without it the WAL, never free of the pin, grows while the application writes. Writers
  // wait for a hold as for any other writer (their busy timeout).
  bool restart_wal = true;
  // The WAL size (frames) from which a restart may hold writers off; below it, only a restart
  // that needs nobody held is tried (the application paused between commits).
  uint64_t restart_hold_frames = 4000;
  // Mode "wal": a resuming agent first waits for a checkpoint another process is running
  // (seen in SQLite's checkpoint lock, common/sqlite/shm_lock.h) so that it counts what the
  // checkpoint copied; past checkpoint_wait it fails, naming the lock. on_checkpoint_wait,
  // when set, is called as such a wait begins.
  std::chrono::milliseconds checkpoint_wait{std::chrono::seconds(60)};
  std::function<void()> on_checkpoint_wait;
  // Retention of acked log records: kept at least this long, and trimmed beyond this size.
  std::chrono::seconds retain_time{24 * 3600};
  uint64_t retain_bytes = 1ULL << 30;
  // Called on the agent's thread after each synced log write with the new logged_seq (the
  // shipper's Notify), so shipping does not wait for its poll.
  std::function<void(uint64_t)> on_logged;
  // Mode "wal": where the agent publishes how far it has logged the WAL (capture/wal/
  // wal_progress.h), for the barrier of snapshots, verify and switches.
  std::string wal_progress_path;
  GapRepairFn repair_gap;
};

struct DrainStats {
  uint64_t transactions = 0;  // source transactions moved into the log
  uint64_t changes = 0;       // row changes in them
  uint64_t ddl_events = 0;
  uint64_t route_events = 0;  // route changes (cutover, fallback), mirrored in the state
  uint64_t logged_seq = 0;    // the log's position afterwards
};

class Agent {
 public:
  virtual ~Agent() = default;
  // Moves every transaction committed so far into the log, batch by batch.
  [[nodiscard]] virtual Result<DrainStats> DrainAvailable() = 0;
  // Drains, then waits for the next commit, until Stop() or an error that retrying cannot
  // fix. Retryable errors (a busy database) are logged and retried with back-off.
  [[nodiscard]] virtual Status Run() = 0;
  virtual void Stop() = 0;
  virtual uint64_t logged_seq() const = 0;
};

// DrainAvailable's loop, for every agent: one batch at a time (`batch` returns whether more may
// be there) until none is left or `stop` is set.
[[nodiscard]] Result<DrainStats> DrainBatches(
    uint64_t logged_seq, const std::atomic<bool>& stop,
    const std::function<Result<bool>(DrainStats*)>& batch);

// Deletes acked log records older than retain_time, and the oldest acked ones while the log
// is over retain_bytes. Never touches a record the applier has not acked.
[[nodiscard]] Status ApplyLogRetention(state::ChangeLog* log, const CaptureAgentOptions& options);

}  // namespace sqlift
