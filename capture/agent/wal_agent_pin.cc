// WalCaptureAgent's pin moves (wal_pin.h) and how it lets the WAL restart (agent.h
// restart_wal).
//
// SQLite restarts the WAL (the next writer overwrites it from the start) only when a
// checkpoint has copied every frame into the database file and no reader holds a snapshot
// inside it; a reader that began on a fully copied WAL reads the database file alone and does
// not stop a restart, though it stops further checkpoints. The agent always holds a snapshot
// no newer than what it has logged, so while the application writes those conditions meet
// only by chance, and every commit appends to a WAL that only grows. So, with restart_wal,
// when the pin moves past a WAL of pin_frames frames, the agent brings them about, first
// without holding anyone:
//
//   a. the pin moves to the logged end, and the checkpointer (wal_checkpointer.h, a thread of
//      its own) copies the WAL up to it while writers run;
//   b. when that is done, the agent looks: if the whole WAL is copied and nothing was
//      committed since, it pins again, and if the WAL's end is still the same, that pin reads
//      the database file alone. The old pin ends: the application's next commit restarts the
//      WAL, and the agent's next drain decodes the new generation as a continuation.
//
// That works whenever the application pauses between commits for a moment after a copy. An
// application that commits without a pause never leaves such a moment; once the WAL holds
// restart_hold_frames and a copy is done, the agent holds its writers:
//
//   1. BEGIN IMMEDIATE on a connection of its own, waiting 10 ms at most: the WAL's end stands
//      still;
//   2. decode and log (synced) what was committed since the drain: every frame is logged;
//   3. end its pins and checkpoint: the frames committed since the copy of step a are copied
//      up to the application's oldest reader, all of them when none holds an old snapshot;
//   4. pin again: a snapshot of the whole WAL, or of the database file alone when step 3
//      copied everything; ROLLBACK. The writer that was waiting restarts the WAL.
//
// No frame is lost: a restart needs a writer, and the agent's pin, no newer than its logged
// position, is in place before any writer can see a WAL copied whole (step b checks that no
// commit came between; steps 1-4 hold writers). wal_source.h: a restart seen while pinned is
// a continuation. The agent commits nothing of its own while it runs: a commit between an
// application's deferred transaction's read and its write would fail that write with
// SQLITE_BUSY_SNAPSHOT. A stop with the pin reading the database file alone and no restart
// yet would leave the saved position at the end of a generation a writer may restart at any
// moment, which the next start cannot tell from frames lost; so a stopping agent commits one
// write of its own then and logs it (FinishRestart). A crash there costs a repair, never a
// row. A busy writer at step 1, a checkpoint of the application's running at step 3, or an
// application reader that keeps step 3 short, only means no restart this time. Writers wait
// for the tail and the part of the copy that step a could not do: milliseconds. An
// application without a busy timeout may see SQLITE_BUSY then, which is why writers are held
// only past restart_hold_frames.
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <thread>

#include "capture/agent/wal_agent.h"
#include "capture/agent/wal_checkpointer.h"
#include "common/base/clock.h"
#include "common/sqlite/wal_index.h"

namespace sqlift {

// Each move of the pin lets the application's next commit checkpoint the frames up to it, and
// a checkpoint that copies syncs the WAL and the database file in the application's commit
// path. Moved at every drain, the pin had a busy application checkpoint a hundred times a
// second and a sporadic one at every commit; so in Run it moves once pin_frames are logged
// past it (what SQLite would checkpoint at a time without the agent) or pin_interval has
// passed. One that stayed is moved by the next drain after that (AwaitNext wakes for it), so an
// application's RESTART or TRUNCATE checkpoint waits that long at most. A drain called on its
// own (DrainAvailable outside Run) always moves it. A pin always in the WAL keeps it from
// restarting: past pin_frames the move restarts it (TryRestart, below).
Status WalCaptureAgent::MovePin(DrainStats* stats) {
  const auto now = std::chrono::steady_clock::now();
  const uint64_t frames = source_->position().frames;
  const bool logged_enough = frames < pin_frames_ || frames - pin_frames_ >= options_.pin_frames;
  const bool after_copy = wal_copied_.exchange(false);  // the checkpointer finished a copy
  pin_stale_ =
      running_ && !logged_enough && !after_copy && now - pin_moved_ < options_.pin_interval;
  if (pin_stale_) {
    pin_->AbandonNext();
    return Status::OK();
  }
  SQLIFT_ASSIGN_OR_RETURN(bool restarted, TryRestart(stats, after_copy));
  if (!restarted) pin_->ReleaseOlder();
  pin_moved_ = now;
  pin_frames_ = source_->position().frames;
  return Status::OK();
}

Result<bool> WalCaptureAgent::TryRestart(DrainStats* stats, bool after_copy) {
  if (after_copy) copy_pending_ = false;
  const uint64_t at = source_->position().frames;
  if (!options_.restart_wal || at < options_.pin_frames) return false;
  pin_->ReleaseOlder();  // the pin at the logged end, the only one: step a copies up to it
  if (!running_) {
    // A drain called on its own (outside Run) copies on its own thread: what it leaves
    // behind does not depend on another thread's timing.
    int wal_frames = 0, copied = 0;
    (void)sqlite3_wal_checkpoint_v2(db_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                    &copied);
    after_copy = true;
  }
  SQLIFT_ASSIGN_OR_RETURN(bool let, LetIfCopied(at));
  if (let) return true;
  if (!after_copy && !copy_pending_) {  // one copy at a time: none runs during a hold
    copy_pending_ = true;
    if (!checkpointer_) {
      SQLIFT_ASSIGN_OR_RETURN(checkpointer_, WalCheckpointer::Open(options_.sqlite_path, [this] {
                                wal_copied_.store(true);
                                watch_->Wake();
                              }));
    }
    checkpointer_->Request();
  }
  // The application commits without a pause: hold its writers, once the WAL is large enough
  // and right after a copy (the hold's own copy is what was committed since).
  if (!after_copy || at < options_.restart_hold_frames) return false;
  if (!writers_) {
    // Waits a little for a writer's commit: one that never pauses leaves no gap otherwise.
    SQLIFT_ASSIGN_OR_RETURN(writers_,
                            SqliteDb::Open(options_.sqlite_path, SqliteDb::Mode::kReadWrite,
                                           std::chrono::milliseconds(10)));
    SQLIFT_RETURN_IF_ERROR(KeepWalOnClose(*writers_));
  }
  if (!writers_->Exec("BEGIN IMMEDIATE").ok()) return false;  // a writer is busy: later
  const auto held = std::chrono::steady_clock::now();
  Result<bool> restarted = RestartHeld(stats);
  (void)writers_->Exec("ROLLBACK");  // it wrote nothing
  const std::chrono::duration<double, std::milli> hold = std::chrono::steady_clock::now() - held;
  writers_held_max_ms_ = std::max(writers_held_max_ms_, hold.count());
  if (!restarted.ok() || !*restarted) return restarted;
  restart_let_at_ = source_->position();
  restart_let_time_ = std::chrono::steady_clock::now();
  return true;
}

// Step b: with every frame up to the position copied and none committed after it, a pin
// taken now reads the database file alone; the WAL's end, unchanged after it, says so.
Result<bool> WalCaptureAgent::LetIfCopied(uint64_t at) {
  const wal::WalHeader& gen = source_->position().header;
  auto whole_and_still = [&](const Result<std::optional<WalIndexHead>>& head) {
    return head.ok() && *head && (*head)->max_frame == at && (*head)->backfilled == at &&
           (*head)->salt1 == gen.salt1 && (*head)->salt2 == gen.salt2;
  };
  if (!whole_and_still(ReadWalIndexHead(*db_))) return false;
  SQLIFT_RETURN_IF_ERROR(pin_->BeginNext());
  if (!whole_and_still(ReadWalIndexHead(*db_))) {
    pin_->AbandonNext();
    return false;
  }
  pin_->ReleaseOlder();
  restart_let_at_ = source_->position();
  restart_let_time_ = std::chrono::steady_clock::now();
  return true;
}

void WalCaptureAgent::FinishRestart() {
  if (!restart_let_at_ || !source_) return;
  const wal::WalPosition& at = source_->position();
  const bool moved =
      at.frames != restart_let_at_->frames || !at.header.SameGeneration(restart_let_at_->header);
  restart_let_at_.reset();
  if (moved) return;  // a writer restarted the WAL (or appended to it), and it is logged
  Status st = CommitOwnWrite("wal_restarted", std::chrono::seconds(5));
  DrainStats stats;
  if (st.ok()) st = LogTail(&stats);
  if (!st.ok()) {
    spdlog::warn(
        "capture: stopping with the WAL copied whole, the write that restarts it failed ({}): "
        "the next start may find a gap and repair it",
        st.ToString());
  }
}

// Logs what was committed after the position: around a restart, a short tail.
Status WalCaptureAgent::LogTail(DrainStats* stats) {
  bool gap = false, routed = false;
  SQLIFT_RETURN_IF_ERROR(LogNext(std::numeric_limits<size_t>::max(), stats, &gap, &routed)
                             .With("log the WAL's end around a restart"));
  Publish(routed);
  return Status::OK();
}

Result<bool> WalCaptureAgent::RestartHeld(DrainStats* stats) {
  Status logged = LogTail(stats);
  if (!logged.ok()) {
    pin_->AbandonNext();
    return logged;
  }
  if (!source_->at_end()) {  // cannot be while writers are held; keep the pins as they are
    pin_->AbandonNext();
    return false;
  }
  // Every committed frame is logged and no writer can commit: the pins may go while the
  // checkpoint copies.
  pin_->EndAll();
  // The hold usually begins right after a writer's commit, whose automatic checkpoint may
  // still run (SQLITE_BUSY): it is short, so look again a few times.
  int wal_frames = 0, copied = 0, rc = SQLITE_BUSY;
  for (int attempt = 0; attempt < 10 && rc == SQLITE_BUSY; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    rc = sqlite3_wal_checkpoint_v2(db_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                   &copied);
  }
  Status pinned = pin_->BeginNext();
  if (!pinned.ok()) {
    pinned_ = false;  // a restart from now on is a gap, repaired, never a silent skip
    return pinned.With("pin the WAL after checkpointing it");
  }
  return rc == SQLITE_OK && copied == wal_frames;
}

}  // namespace sqlift
