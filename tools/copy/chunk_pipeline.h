// ChunkPipeline: feeds chunks of rows to a CopyLoader. With jobs > 1, up to `jobs` chunks
// are encoded at once on their own threads (encoding is most of the CPU a copy costs) while
// the caller's thread reads SQLite and sends; results are submitted in read order, so "the
// first bad row stops the copy" still holds. Internal to tools/copy.
//
// Ownership: `loader` must outlive the pipeline. Thread safety: one caller thread; the
// destructor waits for encoders still running (an error stopped the read).
#pragma once

#include <deque>
#include <future>
#include <vector>

#include "apply/pg_sink/copy_loader.h"
#include "common/base/status.h"

namespace sqlift {

class ChunkPipeline {
 public:
  ChunkPipeline(CopyLoader& loader, size_t jobs) : loader_(loader), jobs_(jobs) {}
  ~ChunkPipeline() {  // waits for encoders still running (an error stopped the read)
    for (auto& f : inflight_)
      f.wait();
  }

  Status Add(std::vector<wire::Row>&& rows) {
    if (jobs_ <= 1) return loader_.AddRows(rows);
    inflight_.push_back(std::async(
        std::launch::async, [this, rows = std::move(rows)] { return loader_.EncodeRows(rows); }));
    while (inflight_.size() >= jobs_)
      SQLIFT_RETURN_IF_ERROR(SubmitOldest());
    return Status::OK();
  }

  Status Drain() {
    while (!inflight_.empty())
      SQLIFT_RETURN_IF_ERROR(SubmitOldest());
    return Status::OK();
  }

 private:
  Status SubmitOldest() {
    Result<CopyLoader::Encoded> e = inflight_.front().get();
    inflight_.pop_front();
    if (!e.ok()) return e.status();
    return loader_.Submit(std::move(e).value());
  }

  CopyLoader& loader_;
  const size_t jobs_;
  std::deque<std::future<Result<CopyLoader::Encoded>>> inflight_;  // at most jobs_
};

}  // namespace sqlift
