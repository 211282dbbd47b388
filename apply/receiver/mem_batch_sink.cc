// MemBatchSink: the in-memory BatchSink for tests (see batch_sink.h).
#include <fmt/format.h>

#include "apply/receiver/batch_sink.h"

namespace sqlift::apply {

Result<uint64_t> MemBatchSink::AppliedSeq(const std::string& source) {
  std::lock_guard lock(mu_);
  ++calls_;
  auto it = sources_.find(source);
  if (it == sources_.end() || !it->second.has_position) {
    return Status::NotFound(fmt::format("no position for {}", source));
  }
  return it->second.applied;
}

Result<uint64_t> MemBatchSink::Apply(const std::string& source, const wire::ChangeBatch& batch) {
  std::function<void(uint64_t)> on_applied;
  uint64_t applied = 0;
  {
    std::unique_lock lock(mu_);
    ++calls_;
    ++held_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !hold_; });
    --held_;
    if (!fail_.ok()) return fail_;
    Source& src = sources_[source];
    if (batch.first_seq() != src.applied + 1 || batch.last_seq() < batch.first_seq()) {
      return Status::FailedPrecondition(fmt::format("apply seqs {}..{} after applied seq {}",
                                                    batch.first_seq(), batch.last_seq(),
                                                    src.applied));
    }
    for (const wire::Transaction& txn : batch.transactions()) {
      if (txn.kind() == wire::Transaction::CHANGES) src.seqs.push_back(txn.seq());
    }
    src.applied = applied = batch.last_seq();
    src.has_position = true;
    on_applied = on_applied_;
    cv_.notify_all();
  }
  if (on_applied) on_applied(applied);
  return applied;
}

Result<uint64_t> MemBatchSink::LoadSnapshot(const std::string& source,
                                            const wire::SnapshotChunk& chunk) {
  std::function<void(uint64_t)> on_applied;
  uint64_t applied = 0;
  {
    std::lock_guard lock(mu_);
    ++calls_;
    if (!fail_.ok()) return fail_;
    Source& src = sources_[source];
    if (chunk.chunk_no() == 0) src.loading.clear(), src.next_chunk = 0;
    if (chunk.chunk_no() != src.next_chunk) {
      return Status::FailedPrecondition(
          fmt::format("snapshot chunk {} where {} was expected", chunk.chunk_no(), src.next_chunk));
    }
    ++src.next_chunk;
    src.loading[chunk.table().name()] += static_cast<uint64_t>(chunk.rows_size());
    if (!chunk.last_chunk()) return src.applied;
    src.snapshot = std::move(src.loading);
    src.loading.clear();
    src.next_chunk = 0;
    src.applied = applied = chunk.snapshot_seq();
    src.has_position = true;
    on_applied = on_applied_;
    cv_.notify_all();
  }
  if (on_applied) on_applied(applied);
  return applied;
}

void MemBatchSink::AbortSnapshot(const std::string& source) {
  std::lock_guard lock(mu_);
  Source& src = sources_[source];
  if (src.next_chunk == 0) return;
  src.loading.clear();
  src.next_chunk = 0;
  ++aborted_;
}

std::map<std::string, uint64_t> MemBatchSink::snapshot_rows(const std::string& source) const {
  std::lock_guard lock(mu_);
  auto it = sources_.find(source);
  return it == sources_.end() ? std::map<std::string, uint64_t>{} : it->second.snapshot;
}

uint64_t MemBatchSink::snapshots_aborted() const {
  std::lock_guard lock(mu_);
  return aborted_;
}

std::vector<uint64_t> MemBatchSink::applied_seqs(const std::string& source) const {
  std::lock_guard lock(mu_);
  auto it = sources_.find(source);
  return it == sources_.end() ? std::vector<uint64_t>{} : it->second.seqs;
}

uint64_t MemBatchSink::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

void MemBatchSink::RewindTo(const std::string& source, uint64_t seq) {
  std::lock_guard lock(mu_);
  Source& src = sources_[source];
  src.applied = std::min(src.applied, seq);
  std::erase_if(src.seqs, [seq](uint64_t s) { return s > seq; });
}

void MemBatchSink::FailApplies(Status status) {
  std::lock_guard lock(mu_);
  fail_ = std::move(status);
}

void MemBatchSink::Hold() {
  std::lock_guard lock(mu_);
  hold_ = true;
}

void MemBatchSink::Release() {
  std::lock_guard lock(mu_);
  hold_ = false;
  cv_.notify_all();
}

void MemBatchSink::OnApplied(std::function<void(uint64_t)> fn) {
  std::lock_guard lock(mu_);
  on_applied_ = std::move(fn);
}

bool MemBatchSink::WaitForApplied(const std::string& source, uint64_t seq,
                                  std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return sources_[source].applied >= seq; });
}

bool MemBatchSink::WaitForHeld(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return held_ > 0; });
}

}  // namespace sqlift::apply
