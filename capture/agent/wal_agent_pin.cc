// WalCaptureAgent's pin moves (wal_pin.h) and its restarts of the WAL (agent.h restart_wal).
//
// SQLite restarts the WAL (the next writer overwrites it from the start) only when a
// checkpoint has copied every frame into the database file and no reader holds a snapshot
// inside it; a reader that began on a fully checkpointed WAL reads the database file alone and
// does not stop a restart, though it stops further checkpoints. The agent always holds a
// snapshot no newer than what it has logged, so while the application writes without pause
// those conditions never meet by themselves, and every commit appends to a WAL that only
// grows. So, with restart_wal, when the pin moves past 1,000 frames, the agent brings them
// about itself, first without holding anyone:
//
//   a. checkpoint (PASSIVE) up to its pin, which is at its logged position, while writers run;
//   b. if that copied the whole WAL and nothing was committed since the drain, pin again, and
//      if the WAL's end is still the same, that pin reads the database file alone: end the
//      old one and go to step 5.
//
// That works whenever the application pauses between commits for the few hundred
// microseconds it takes. An application that commits without a pause never leaves such a
// gap; once the WAL holds restart_hold_frames, the agent holds its writers:
//
//   1. BEGIN IMMEDIATE on a connection of its own, not waiting: the WAL's end stands still;
//   2. decode and log (synced) what was committed since the drain: every frame is logged;
//   3. end its pins and checkpoint again: what step a left (the frames committed since) is
//      copied up to the application's oldest reader, all of it when none holds an old snapshot;
//   4. pin again: a snapshot of the whole WAL, or of the database file alone when step 3
//      copied everything; ROLLBACK;
//   5. when everything was copied, commit a small write of sqlift's own (never shipped) at
//      once: it restarts the WAL, unless an application writer got there first and did;
//   6. decode that commit (and any the application made meanwhile): the logged position is in
//      the new generation.
//
// No frame is lost: a restart needs a writer, and the agent's pin, no newer than its logged
// position, is in place before any writer can see a WAL copied whole (step b checks that no
// commit came between; steps 1-4 hold writers). wal_source.h: a restart seen while pinned is
// a continuation. Step 6 keeps the window short in which a stopped agent's position would
// be the end of a generation that is gone: such a start cannot tell that nothing followed it,
// and repairs (a crash exactly there costs a repair, never a row). A busy writer at step 1, a
// checkpoint of the application's running at step 3, or an application reader that keeps
// step 3 short, only means no restart this time; the next move of the pin (pin_frames more
// frames, or pin_interval) tries again. Writers wait for the tail and the part of the copy
// that step a could not do: milliseconds. An application without a busy timeout may see
// SQLITE_BUSY then, which is why writers are held only past restart_hold_frames.
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include "capture/agent/wal_agent.h"
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
  pin_stale_ = running_ && !logged_enough && now - pin_moved_ < options_.pin_interval;
  if (pin_stale_) {
    pin_->AbandonNext();
    return Status::OK();
  }
  SQLIFT_ASSIGN_OR_RETURN(bool restarted, TryRestart(stats));
  if (!restarted) pin_->ReleaseOlder();
  pin_moved_ = now;
  pin_frames_ = source_->position().frames;
  return Status::OK();
}

Result<bool> WalCaptureAgent::TryRestart(DrainStats* stats) {
  const uint64_t at = source_->position().frames;
  if (!options_.restart_wal || at < options_.pin_frames) return false;
  if (!writers_) {
    SQLIFT_ASSIGN_OR_RETURN(writers_,
                            SqliteDb::Open(options_.sqlite_path, SqliteDb::Mode::kReadWrite,
                                           std::chrono::milliseconds(0)));
    SQLIFT_RETURN_IF_ERROR(KeepWalOnClose(*writers_));
  }
  // The bulk of the copy while writers run: up to the pin at the logged end, the only one now.
  pin_->ReleaseOlder();
  int wal_frames = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                           &wal_frames, &copied);
  if (rc == SQLITE_OK && copied == wal_frames && static_cast<uint64_t>(wal_frames) == at) {
    // Nothing committed since the drain, and all of it copied: a pin taken before the next
    // commit reads the database file alone. The WAL's end, unchanged after it, says so.
    SQLIFT_RETURN_IF_ERROR(pin_->BeginNext());
    Result<std::optional<WalIndexHead>> head = ReadWalIndexHead(*db_);
    const wal::WalHeader& gen = source_->position().header;
    if (head.ok() && *head && (*head)->max_frame == at && (*head)->salt1 == gen.salt1 &&
        (*head)->salt2 == gen.salt2) {
      pin_->ReleaseOlder();
      SQLIFT_RETURN_IF_ERROR(LetWalRestart(stats));
      return true;
    }
    pin_->AbandonNext();
  }
  // The application commits without a pause: hold its writers, once the WAL is large enough.
  if (at < options_.restart_hold_frames) return false;
  if (!writers_->Exec("BEGIN IMMEDIATE").ok()) return false;  // a writer is busy: later
  const auto held = std::chrono::steady_clock::now();
  Result<bool> restarted = RestartHeld(stats);
  (void)writers_->Exec("ROLLBACK");  // it wrote nothing
  const std::chrono::duration<double, std::milli> hold = std::chrono::steady_clock::now() - held;
  writers_held_max_ms_ = std::max(writers_held_max_ms_, hold.count());
  if (!restarted.ok() || !*restarted) return restarted;
  SQLIFT_RETURN_IF_ERROR(LetWalRestart(stats));
  return true;
}

// The WAL is copied whole and the only pin reads the database file: one small write of
// sqlift's own restarts it (unless an application writer did first), and is logged at once.
// A write that does not go through (a writer of the application's is in a transaction) is
// fine as long as the agent runs: that writer restarts the WAL, and the next drain logs it.
Status WalCaptureAgent::LetWalRestart(DrainStats* stats) {
  ++wal_restarts_;
  Result<SqliteStatement> put = writers_->Prepare(
      "INSERT INTO main._sqlift_state (key, value) VALUES ('wal_restarted', ?1) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  const bool wrote = put.ok() && put->BindInt64(1, NowMicros()).ok() && put->Run().ok();
  restart_let_at_.reset();
  if (!wrote) restart_let_at_ = source_->position();
  return LogTail(stats);
}

void WalCaptureAgent::FinishRestart() {
  if (!restart_let_at_ || !source_ || !writers_) return;
  const wal::WalPosition& at = source_->position();
  if (at.frames != restart_let_at_->frames || !at.header.SameGeneration(restart_let_at_->header)) {
    restart_let_at_.reset();  // the position moved on since: nothing is pending
    return;
  }
  (void)sqlite3_busy_timeout(writers_->handle(), 5000);
  DrainStats stats;
  Status st = LetWalRestart(&stats);
  (void)sqlite3_busy_timeout(writers_->handle(), 0);
  if (!st.ok() || restart_let_at_) {
    spdlog::warn(
        "capture: stopping right after letting the WAL restart, its write did not go "
        "through ({}): the next start may find a gap and repair it",
        st.ok() ? "busy" : st.ToString());
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
  int wal_frames = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                           &wal_frames, &copied);
  Status pinned = pin_->BeginNext();
  if (!pinned.ok()) {
    pinned_ = false;  // a restart from now on is a gap, repaired, never a silent skip
    return pinned.With("pin the WAL after checkpointing it");
  }
  return rc == SQLITE_OK && copied == wal_frames;
}

}  // namespace sqlift
