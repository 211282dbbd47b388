// The WAL barrier: names the log seq of an SQLite read snapshot in wal capture mode, where the
// capture agent assigns log seqs itself, one per transaction it decodes from the -wal file,
// and publishes how far it has got (capture/wal/wal_progress.h).
//
//   WalBarrierOptions o{db_path, WalProgressPath(state_dir)};
//   SQLIFT_ASSIGN_OR_RETURN(uint64_t seq, RunWalBarrier(o, [&] {
//     return BeginAndReadOnMyConnection();  // the read that fixes the caller's snapshot
//   }));
//
// Steps: a connection of its own takes the write lock (BEGIN IMMEDIATE; the busy timeout is
// o.timeout), so no transaction can commit; begin_read() starts the caller's read transaction,
// which therefore sees exactly every committed transaction; the WAL's end E (just after its
// last commit frame) is read from the -wal file; the progress file is polled every
// millisecond until it shows E's generation (salts) and exactly E's frame count, and its
// logged_seq is the answer; ROLLBACK releases the lock (also on every error). A progress file
// past E in E's generation cannot happen while the lock is held: Internal, naming both.
//
// A WAL with no committed frame (absent, truncated, or restarted without a commit yet) holds
// nothing the agent has not logged: the agent keeps a read transaction open so that no
// checkpoint can empty or restart the WAL before it has decoded every frame. The progress
// file's logged_seq is then taken as it is.
//
// Cost: while the lock is held, application writers wait (their busy handler) for the scan of
// the frames written since an unlocked pre-scan and for the agent to catch up to E: usually
// milliseconds, at most o.timeout, after which the barrier gives up with Unavailable. Readers
// never wait. The agent must decode and publish without needing the write lock.
//
// Thread safety: functions; the barrier opens and closes its own connection. begin_read runs
// on the calling thread, inside the lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {

struct WalBarrierOptions {
  std::string db_path;        // the application's database (its WAL is db_path + "-wal")
  std::string progress_path;  // the agent's progress file (WalProgressPath of [state] dir)
  std::chrono::milliseconds timeout{10'000};  // for the write lock, then for the agent
};

// Runs the barrier around begin_read() and returns the log seq its snapshot includes. Errors
// (begin_read's with their code) name the database; Unavailable when the lock or the agent's
// progress does not come within the timeout.
[[nodiscard]] Result<uint64_t> RunWalBarrier(const WalBarrierOptions& o,
                                             const std::function<Status()>& begin_read);

// A log seq at or past every transaction committed on the database before the call, without
// the write lock (for a caller that needs "logged at or after", not an exact snapshot): the
// wal-index's end as `db` (a connection to the database, in WAL mode) maps it, then the
// agent's progress until it reaches that end or a later WAL generation (the agent pins the
// WAL, so a later generation means every frame of the earlier one is logged). Falls back to
// RunWalBarrier when the wal-index holds no committed frame. Unavailable when the agent does
// not get there within o.timeout.
[[nodiscard]] Result<uint64_t> WaitLoggedThrough(const WalBarrierOptions& o, SqliteDb& db);

// The agent's latest logged seq as its progress file shows it, without a barrier (for lag
// displays and catching up). Unavailable when the agent has published none.
[[nodiscard]] Result<uint64_t> LoggedSeqNow(const std::string& progress_path);

}  // namespace sqlift
