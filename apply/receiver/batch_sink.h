// BatchSink: where the receiver hands each ChangeBatch (design invariant 4). The production
// sink applies a batch to PostgreSQL and moves sqlift.positions in the same transaction; the
// receiver sends Ack(applied_seq) only after Apply returned, so an acked seq is committed.
//
// MemBatchSink is the in-memory fake for tests: it records every applied transaction, checks
// continuity itself (a duplicate or a gap is an error, so a test cannot miss one), can be told
// to fail or to block, and can be rewound to simulate a target that lost commits.
//
// Thread safety: the receiver calls a sink from its apply thread pool, at most one call at a
// time per source; implementations must allow calls for different sources concurrently.
// MemBatchSink's methods may all be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift::apply {

class BatchSink {
 public:
  virtual ~BatchSink() = default;
  // The last seq applied for `source`; NotFound when the target holds no position for it
  // (a snapshot is needed first).
  [[nodiscard]] virtual Result<uint64_t> AppliedSeq(const std::string& source) = 0;
  // Applies `batch`, whose first_seq is AppliedSeq + 1, and returns the new applied seq once
  // it is committed together with the position.
  [[nodiscard]] virtual Result<uint64_t> Apply(const std::string& source,
                                               const wire::ChangeBatch& batch) = 0;

  // The snapshot (design invariant 5), one chunk at a time, in chunk_no order, from one
  // session. Chunk 0 starts a snapshot (discarding an unfinished one); nothing is visible
  // until the chunk with last_chunk commits every table together with the position
  // applied_seq = snapshot_seq. Returns that seq for the last chunk; for the others, the
  // source's applied seq before the snapshot (0).
  [[nodiscard]] virtual Result<uint64_t> LoadSnapshot(const std::string& source,
                                                      const wire::SnapshotChunk& chunk) = 0;
  // The same, for a chunk whose rows the receiver left serialized (proto/wire/chunk_rows.h):
  // `rows` are the chunk's rows in order, each a serialized wire::Row, and `chunk` holds no
  // rows when `rows` is not empty. A sink that reads rows itself overrides this; the default
  // parses them into the chunk and calls LoadSnapshot.
  [[nodiscard]] virtual Result<uint64_t> LoadSnapshotRows(
      const std::string& source, const wire::SnapshotChunk& chunk,
      const std::vector<std::string_view>& rows);
  // Discards an unfinished snapshot of `source` (its session ended); a no-op when none.
  virtual void AbortSnapshot(const std::string& source) = 0;
};

class MemBatchSink final : public BatchSink {
 public:
  Result<uint64_t> AppliedSeq(const std::string& source) override;
  Result<uint64_t> Apply(const std::string& source, const wire::ChangeBatch& batch) override;
  // Keeps the rows of the snapshot being loaded; the last chunk makes them the source's
  // snapshot and sets its position. Chunks out of order fail.
  Result<uint64_t> LoadSnapshot(const std::string& source,
                                const wire::SnapshotChunk& chunk) override;
  void AbortSnapshot(const std::string& source) override;

  // The committed snapshot of `source`: row count per table; empty when none.
  std::map<std::string, uint64_t> snapshot_rows(const std::string& source) const;
  uint64_t snapshots_aborted() const;

  // Seqs of the CHANGES transactions applied for `source`, in apply order.
  std::vector<uint64_t> applied_seqs(const std::string& source) const;
  uint64_t calls() const;  // AppliedSeq and Apply calls, for "never touched" checks
  // Forgets everything applied after `seq`, as a target that lost commits would.
  void RewindTo(const std::string& source, uint64_t seq);
  // Every later Apply fails with `status` until cleared with an OK status.
  void FailApplies(Status status);
  // Apply blocks, before applying, while held (back-pressure tests). Release() lets it go.
  void Hold();
  void Release();
  // Called (outside the lock) after each successful Apply with the new applied seq.
  void OnApplied(std::function<void(uint64_t)> fn);
  // Waits until `source` has applied `seq`; false on timeout.
  bool WaitForApplied(const std::string& source, uint64_t seq, std::chrono::milliseconds timeout);
  // Waits until an Apply is blocked by Hold(); false on timeout.
  bool WaitForHeld(std::chrono::milliseconds timeout);

 private:
  struct Source {
    uint64_t applied = 0;
    bool has_position = false;
    std::vector<uint64_t> seqs;
    std::map<std::string, uint64_t> snapshot;  // committed: table -> rows
    std::map<std::string, uint64_t> loading;   // the snapshot in progress
    uint64_t next_chunk = 0;                   // chunk_no expected next while loading
  };
  uint64_t aborted_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Source> sources_;
  uint64_t calls_ = 0;
  Status fail_;
  bool hold_ = false;
  int held_ = 0;  // Apply calls waiting in Hold
  std::function<void(uint64_t)> on_applied_;
};

}  // namespace sqlift::apply
