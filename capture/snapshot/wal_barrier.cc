// The WAL barrier (see wal_barrier.h).
#include "capture/snapshot/wal_barrier.h"

#include <fmt/format.h>

#include <optional>
#include <thread>

#include "capture/wal/wal_progress.h"
#include "capture/wal/wal_reader.h"
#include "common/base/clock.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/wal_index.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;
using wal::WalPosition;
using wal::WalProgress;

// Transactions per scan call: the scan holds their pages in memory until it returns.
constexpr size_t kScanBatch = 64;
// The longest the write lock is held in one go (more than the agent's default poll, so that a
// running agent publishes within it even when it has nothing to decode).
constexpr std::chrono::milliseconds kRound{1500};

// The position after the WAL's last commit frame, scanning on from `from` (a position of an
// earlier scan; a WAL restarted since is scanned from its start); nullopt when the file holds
// no valid WAL header.
Result<std::optional<WalPosition>> ScanToEnd(wal::RandomAccessFile& file,
                                             std::optional<WalPosition> from) {
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(wal::WalScan scan, wal::ScanWal(file, from, kScanBatch));
    if (scan.continuity == wal::WalContinuity::kNoLog) return std::optional<WalPosition>();
    if (scan.continuity == wal::WalContinuity::kRestarted) {
      from.reset();
      continue;
    }
    from = scan.next;
    if (scan.stop != wal::WalStop::kLimit) return from;
  }
}

std::string Seconds(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
  return fmt::format("{} ms", d.count());
}

std::string Describe(const std::optional<WalProgress>& p) {
  if (!p) return "no progress file yet";
  return fmt::format("its progress file shows frame {} of generation {}/{}", p->frames, p->salt1,
                     p->salt2);
}

// Whether progress `p` is the agent's account of the WAL ending at `end` (nullopt: no WAL).
// With no committed frame in the WAL, only a progress written after `since_us` (when the lock
// was taken) counts: an older one may be a stopped agent's, from before the WAL went.
Result<bool> Reached(const std::optional<WalProgress>& p, const std::optional<WalPosition>& end,
                     int64_t since_us) {
  if (!p) return false;
  const bool same = end && p->salt1 == end->header.salt1 && p->salt2 == end->header.salt2;
  if (same && p->frames > end->frames) {
    return Status::Internal(fmt::format(
        "the capture agent reports frame {} of WAL generation {}/{}, but with writers locked out "
        "the WAL ends at frame {}",
        p->frames, p->salt1, p->salt2, end->frames));
  }
  if (!end || end->frames == 0) return p->written_at_us >= since_us;
  return same && p->frames == end->frames;
}

Status TimedOut(const WalBarrierOptions& o, const std::optional<WalPosition>& end,
                const std::optional<WalProgress>& last) {
  const std::string what = end && end->frames > 0
                               ? fmt::format("logged the WAL up to frame {} of generation {}/{}",
                                             end->frames, end->header.salt1, end->header.salt2)
                               : fmt::format("published its WAL progress ({})", o.progress_path);
  return Status::Unavailable(fmt::format(
      "the capture agent has not {} within {}: is `sqlift capture` running (capture mode wal)? "
      "({})",
      what, Seconds(o.timeout), Describe(last)));
}

// Polls the progress file until it accounts for `end` or `until` passes; its logged seq, or
// nullopt (with the last progress seen in *last).
Result<std::optional<uint64_t>> WaitForAgent(const WalBarrierOptions& o,
                                             const std::optional<WalPosition>& end,
                                             int64_t since_us, Clock::time_point until,
                                             std::optional<WalProgress>* last) {
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(*last, wal::ReadWalProgress(o.progress_path));
    SQLIFT_ASSIGN_OR_RETURN(bool reached, Reached(*last, end, since_us));
    if (reached) return std::optional<uint64_t>((*last)->logged_seq);
    if (Clock::now() >= until) return std::optional<uint64_t>();
    // Another process (the agent) moves the file: nothing to wait on but time.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// One round under the write lock: the WAL's end, the agent's account of it, and only then the
// caller's read (no transaction can commit while the lock is held, so the read sees exactly
// that end). nullopt when the agent did not get there by `until`.
Result<std::optional<uint64_t>> Locked(const WalBarrierOptions& o,
                                       const std::function<Status()>& begin_read, SqliteDb& locked,
                                       wal::RandomAccessFile& file,
                                       const std::optional<WalPosition>& pre, int64_t since_us,
                                       Clock::time_point until, std::optional<WalPosition>* end,
                                       std::optional<WalProgress>* last) {
  // The end that counts is the wal-index's (common/sqlite/wal_index.h): a commit frame a
  // killed writer left in the file without publishing it is no commit.
  SQLIFT_ASSIGN_OR_RETURN(std::optional<WalIndexHead> head, ReadWalIndexHead(locked));
  if (head) {
    WalPosition at;
    at.header.salt1 = head->salt1;
    at.header.salt2 = head->salt2;
    at.frames = head->max_frame;
    *end = at;
  } else {
    SQLIFT_ASSIGN_OR_RETURN(*end, ScanToEnd(file, pre));
  }
  SQLIFT_ASSIGN_OR_RETURN(std::optional<uint64_t> seq,
                          WaitForAgent(o, *end, since_us, until, last));
  if (seq) SQLIFT_RETURN_IF_ERROR(begin_read());
  return seq;
}

}  // namespace

Result<uint64_t> RunWalBarrier(const WalBarrierOptions& o,
                               const std::function<Status()>& begin_read) {
  const std::string what = "WAL barrier on " + o.db_path;
  // An agent that has not published yet may still need the write lock to start: wait for it
  // without holding the lock.
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  for (;;) {
    Result<std::optional<WalProgress>> p = wal::ReadWalProgress(o.progress_path);
    if (p.ok() && *p) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable(fmt::format(
          "{}: the capture agent has published no WAL progress ({}) within {} ms: is `sqlift "
          "capture` running (capture mode wal)?",
          what, o.progress_path, o.timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // another process's progress
  }
  std::unique_ptr<wal::RandomAccessFile> file = wal::OpenPathForReading(o.db_path + "-wal");
  // Most of the WAL is scanned before the lock, so that writers wait only for the rest.
  Result<std::optional<WalPosition>> pre = ScanToEnd(*file, std::nullopt);
  if (!pre.ok()) return pre.status().With(what);
  Result<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(o.db_path, SqliteDb::Mode::kReadWrite, o.timeout);
  if (!db.ok()) return db.status().With(what);
  // Rounds of at most kRound under the lock: an agent that needs the lock itself (to repair a
  // gap) gets it between rounds.
  std::optional<WalPosition> end;
  std::optional<WalProgress> last;
  for (;;) {
    Status lock = (*db)->Exec("BEGIN IMMEDIATE");
    if (!lock.ok()) return lock.With(what + ": take the write lock");
    const int64_t since_us = NowMicros();
    const Clock::time_point until = std::min(deadline, Clock::now() + kRound);
    Result<std::optional<uint64_t>> seq =
        Locked(o, begin_read, **db, *file, *pre, since_us, until, &end, &last);
    // The lock goes whatever happened; closing the connection (on return) would end the
    // transaction too, should the rollback fail.
    (void)(*db)->Exec("ROLLBACK");
    if (!seq.ok()) return seq.status().With(what);
    if (*seq) return **seq;
    if (Clock::now() >= deadline) return TimedOut(o, end, last).With(what);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the agent's turn at the lock
  }
}

Result<uint64_t> WaitLoggedThrough(const WalBarrierOptions& o, SqliteDb& db) {
  const std::string what = "wait for the capture agent to log " + o.db_path;
  SQLIFT_ASSIGN_OR_RETURN(std::optional<WalIndexHead> head, ReadWalIndexHead(db));
  if (!head || head->max_frame == 0) {
    return RunWalBarrier(o, [] { return Status::OK(); });
  }
  const auto deadline = Clock::now() + o.timeout;
  std::optional<WalProgress> last;
  for (;;) {
    Result<std::optional<WalProgress>> p = wal::ReadWalProgress(o.progress_path);
    if (!p.ok()) return p.status().With(what);
    last = *p;
    if (last) {
      const bool same = last->salt1 == head->salt1 && last->salt2 == head->salt2;
      // salt1 grows by one at every restart of the WAL.
      const bool later = static_cast<int32_t>(last->salt1 - head->salt1) > 0;
      if ((same && last->frames >= head->max_frame) || later) return last->logged_seq;
    }
    if (Clock::now() >= deadline) {
      WalPosition end;
      end.header.salt1 = head->salt1;
      end.header.salt2 = head->salt2;
      end.frames = head->max_frame;
      return TimedOut(o, end, last).With(what);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // another process's progress
  }
}

Result<uint64_t> LoggedSeqNow(const std::string& progress_path) {
  SQLIFT_ASSIGN_OR_RETURN(std::optional<WalProgress> p, wal::ReadWalProgress(progress_path));
  if (!p) {
    return Status::Unavailable(
        fmt::format("the capture agent has published no WAL progress ({}): is `sqlift capture` "
                    "running (capture mode wal)?",
                    progress_path));
  }
  return p->logged_seq;
}

}  // namespace sqlift
