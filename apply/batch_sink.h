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
#include <vector>

#include "common/result.h"
#include "proto/sqlift.pb.h"

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
};

class MemBatchSink final : public BatchSink {
 public:
  Result<uint64_t> AppliedSeq(const std::string& source) override;
  Result<uint64_t> Apply(const std::string& source, const wire::ChangeBatch& batch) override;

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
    std::vector<uint64_t> seqs;
  };
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
