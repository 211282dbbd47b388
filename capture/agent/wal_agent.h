// WalCaptureAgent: capture mode "wal". Moves every transaction committed to the application's
// database, by any client, into the durable log, by reading the -wal file itself: no
// recorder, no trigger, nothing in the application's write path.
//
// A drain: open a new pin (wal_pin.h), decode the committed transactions after the logged
// position (wal_source.h) into log records (wal_encode.h; one seq per SQLite transaction that
// changed a captured table or the schema, one more per route event; transactions that change
// nothing captured, and the reverse applier's own, take no seq), append them together with
// the new WAL position in one synced write, publish the progress (capture/wal/
// wal_progress.h), and only then let the older pin go. A crash anywhere re-decodes from the
// last synced position, which the records of the same write match: nothing twice, nothing
// lost.
//
// What the application pays (Run). It shares the machine with the agent, and three things of
// the agent's reach into its commits, so while it writes: drains start at most every
// busy_drain_interval (one synced write and one progress file for everything in between); the
// inotify watch is removed (wal_watch.h: each write to the -wal would queue an event). The pin
// moves once pin_frames more frames are logged or pin_interval has passed, busy or idle (each
// move lets the application's next commit checkpoint, and sync, what it frees). Idle, the
// agent watches and publishes at once, so a barrier waits one pause at most.
//
// Gaps. When the WAL lost transactions the log never saw (the agent was stopped while the
// application checkpointed and restarted or deleted the WAL), the agent holds writers off for
// a moment to open a read snapshot exactly at the WAL's end, has PostgreSQL repaired by
// difference against it (options.repair_gap), logs that repair as one transaction together
// with the new position, and streams on from there. Until the repair is logged nothing after
// the gap is; a failed repair is tried again.
//
// Commit times are the decode times: the WAL records no clock.
//
// Ownership: owns its connections and files; *log must outlive the agent. Thread safety: as
// Agent (agent.h).
#pragma once

#include <google/protobuf/arena.h>

#include <atomic>
#include <memory>

#include "capture/agent/agent.h"
#include "capture/agent/wal_checkpointer.h"
#include "capture/agent/wal_encode.h"
#include "capture/agent/wal_pin.h"
#include "capture/agent/wal_watch.h"

namespace sqlift {

// The log meta keys of this mode.
inline constexpr std::string_view kMetaCaptureMode = "capture_mode";  // "wal" in this mode
inline constexpr std::string_view kMetaWalPosition = "wal/position";  // EncodeWalPosition
// Gap repairs so far: "<count> <rows> <last repair's unix microseconds>".
inline constexpr std::string_view kMetaWalRepairs = "wal/repairs";
inline constexpr std::string_view kDdlMetaPrefix =
    "ddl/";  // a table's DDL, as SchemaTracker keeps it

class WalCaptureAgent final : public Agent {
 public:
  // FailedPrecondition, saying what happened and what to do, when the log belongs to the
  // recorder mode or the WAL lost transactions since the logged position (a gap).
  [[nodiscard]] static Result<std::unique_ptr<WalCaptureAgent>> Open(
      const CaptureAgentOptions& options, state::ChangeLog* log);
  // Closing finishes a WAL restart the agent let happen and no writer made yet (FinishRestart),
  // as the end of Run does: `log` must still be open.
  ~WalCaptureAgent() override;

  [[nodiscard]] Result<DrainStats> DrainAvailable() override;
  [[nodiscard]] Status Run() override;
  void Stop() override;
  uint64_t logged_seq() const override { return logged_seq_; }
  // WAL restarts the agent decoded through (new generations, agent.h restart_wal) since it
  // was opened.
  uint64_t wal_restarts() const { return wal_restarts_.load(); }
  // The longest the application's writers were held off for one of them, in milliseconds.
  double writers_held_max_ms() const { return writers_held_max_ms_; }

 private:
  // What one drain will append.
  struct Pending {
    std::vector<state::LogRecord> records;
    std::vector<state::RouteRecord> routes;
    std::vector<state::MetaRecord> ddl;  // "ddl/<table>" values of the DDL events in records
    size_t bytes = 0;
  };

  WalCaptureAgent(CaptureAgentOptions options, state::ChangeLog* log);
  [[nodiscard]] Status Recover();
  [[nodiscard]] Status OpenSource();
  [[nodiscard]] Status LogFreshSchema();
  [[nodiscard]] Status StartGeneration();
  [[nodiscard]] Result<bool> DrainBatch(DrainStats* stats);
  [[nodiscard]] Status Add(const WalTxn& txn, Pending* p, DrainStats* stats);
  // Sets the batch's seqs and times and adds it, serialized, to what the drain appends.
  void AddBatch(wire::ChangeBatch& batch, Pending* p);
  // with_position: the write also moves the logged WAL position to the source's.
  [[nodiscard]] Status Append(Pending* p, bool with_position = true,
                              std::vector<state::MetaRecord> extra = {});
  [[nodiscard]] Status HandleGap(const Status& gap);
  // What SQLite's readers count as committed, through the agent's own connection.
  WalSource::PublishedFn Published();
  [[nodiscard]] Status Repair();
  [[nodiscard]] Status LogChangedSchema();
  // Rewrites the progress file; while busy (Run) at most every so often unless `idle`.
  void Publish(bool idle);
  // After a drain that reached the WAL's end: the pin moves there, or stays (see the .cc).
  [[nodiscard]] Status MovePin(DrainStats* stats);
  // Lets the application's next commit restart the WAL (agent.h restart_wal;
  // wal_agent_pin.cc): true when the WAL is copied whole and the only pin reads the database
  // file alone. `after_copy`: the checkpointer finished a copy since the last look.
  [[nodiscard]] Result<bool> TryRestart(DrainStats* stats, bool after_copy);
  [[nodiscard]] Result<bool> LetIfCopied(uint64_t at);
  [[nodiscard]] Result<bool> RestartHeld(DrainStats* stats);
  [[nodiscard]] Status LogTail(DrainStats* stats);
  // Stopping (the end of Run, or closing): when the agent's pin reads the database file alone
  // and no writer has restarted the WAL yet, one write of its own does, and is logged, so the
  // saved position is not left at the end of a generation a writer may restart at any moment
  // (which the next start would have to repair as a gap).
  void FinishRestart();
  // Commits one row of its own (`key`, the time) to _sqlift_state: the agent's only write.
  [[nodiscard]] Status CommitOwnWrite(std::string_view key, std::chrono::milliseconds busy);
  // Decodes up to `max` transactions after the position and logs them, with the new position,
  // in one synced write (what was decoded before an error too). *gap: the error is a gap
  // (wal_source.h); *routed: a route event was logged. A decoding error resets the source.
  [[nodiscard]] Status LogNext(size_t max, DrainStats* stats, bool* gap, bool* routed);
  [[nodiscard]] Status RunLoop();  // Run() but for what it sets up and publishes at the end
  // Run(): the pause after a drain that began at `started` (and logged something if `busy`).
  [[nodiscard]] Status AwaitNext(std::chrono::steady_clock::time_point started, bool busy);
  void KeepGuards();

  CaptureAgentOptions options_;
  state::ChangeLog* log_;
  std::unique_ptr<WalPin> pin_;
  std::unique_ptr<WalSource> source_;
  std::unique_ptr<WalWatch> watch_;
  std::unique_ptr<SqliteDb> db_;         // for the guard triggers and checkpoints
  std::unique_ptr<SqliteDb> writers_;    // holds the application's writers off (TryRestart)
  std::atomic<bool> wal_copied_{false};  // set by the checkpointer's thread after a copy
  bool copy_pending_ = false;            // a copy was requested and has not been seen done
  std::unique_ptr<WalCheckpointer> checkpointer_;  // after watch_ and wal_copied_: it uses them
  std::atomic<uint64_t> wal_restarts_{0};          // read from other threads (tests, benchmarks)
  double writers_held_max_ms_ = 0;
  std::optional<wal::WalPosition> saved_;  // the position in the log
  uint64_t logged_seq_ = 0;
  bool pinned_ = false;  // a pin no newer than the position is held (wal_source.h Next)
  std::chrono::steady_clock::time_point pin_moved_;  // when the pin last moved
  uint64_t pin_frames_ = 0;  // and the frames logged then (the WAL position's count)
  bool pin_stale_ = false;   // the last drain reached the end but the pin stayed behind
  // LetWalRestart's write did not go through: the position it was let at (a pin reading the
  // database file alone still held), until the position moves.
  std::optional<wal::WalPosition> restart_let_at_;
  std::chrono::steady_clock::time_point restart_let_time_;  // when restart_let_at_ was set
  bool opening_ = false;  // inside Recover's OpenSource: shipping has not started yet
  bool running_ = false;  // inside Run()
  bool busy_ = false;     // Run(): the last drain logged something
  int rechecks_ = 0;      // Run(): short looks left after a write that showed no commit
  std::chrono::steady_clock::time_point published_at_;
  uint32_t guards_cookie_ = 0;
  bool guards_done_ = false;
  bool warned_recorder_ = false;
  std::string repair_pending_;           // why PostgreSQL must be repaired before streaming on
  std::unique_ptr<char[]> arena_block_;  // the arena's first block, kept across Resets
  std::unique_ptr<google::protobuf::Arena> arena_;  // one transaction's log record, as built
  std::atomic<bool> stop_{false};
};

}  // namespace sqlift
