// The WAL barrier (see wal_barrier.h).
#include "capture/snapshot/wal_barrier.h"

#include <fmt/format.h>

#include <optional>
#include <thread>

#include "capture/wal/wal_progress.h"
#include "capture/wal/wal_reader.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;
using wal::WalPosition;
using wal::WalProgress;

// Transactions per scan call: the scan holds their pages in memory until it returns.
constexpr size_t kScanBatch = 64;

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
Result<bool> Reached(const std::optional<WalProgress>& p, const std::optional<WalPosition>& end) {
  if (!p) return false;
  const bool same = end && p->salt1 == end->header.salt1 && p->salt2 == end->header.salt2;
  if (same && p->frames > end->frames) {
    return Status::Internal(fmt::format(
        "the capture agent reports frame {} of WAL generation {}/{}, but with writers locked out "
        "the WAL ends at frame {}",
        p->frames, p->salt1, p->salt2, end->frames));
  }
  if (!end || end->frames == 0) return true;  // no committed frame: nothing left to log
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

// Polls the progress file until it accounts for `end`; its logged seq.
Result<uint64_t> WaitForAgent(const WalBarrierOptions& o, const std::optional<WalPosition>& end) {
  const Clock::time_point deadline = Clock::now() + o.timeout;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(std::optional<WalProgress> p, wal::ReadWalProgress(o.progress_path));
    SQLIFT_ASSIGN_OR_RETURN(bool reached, Reached(p, end));
    if (reached) return p->logged_seq;
    if (Clock::now() >= deadline) return TimedOut(o, end, p);
    // Another process (the agent) moves the file: nothing to wait on but time.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// The steps inside the write lock: the caller's read, the WAL's end, the agent.
Result<uint64_t> Locked(const WalBarrierOptions& o, const std::function<Status()>& begin_read,
                        wal::RandomAccessFile& file, const std::optional<WalPosition>& pre) {
  SQLIFT_RETURN_IF_ERROR(begin_read());
  SQLIFT_ASSIGN_OR_RETURN(std::optional<WalPosition> end, ScanToEnd(file, pre));
  return WaitForAgent(o, end);
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
  Status lock = (*db)->Exec("BEGIN IMMEDIATE");
  if (!lock.ok()) return lock.With(what + ": take the write lock");
  Result<uint64_t> seq = Locked(o, begin_read, *file, *pre);
  // The lock goes whatever happened; closing the connection (on return) would end the
  // transaction too, should the rollback fail.
  (void)(*db)->Exec("ROLLBACK");
  if (!seq.ok()) return seq.status().With(what);
  return seq;
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
