// CaptureAgent: moves committed outbox rows into the durable log, then trims the outbox
// (design invariants 2 and 3).
//
// A drain reads outbox rows after the log's logged_seq in seq order, checks they are
// contiguous (a gap is reported, never skipped), decodes each changeset into a ChangeBatch
// record with typed values and column names, appends the records and the new logged_seq in
// one synced write, and only then deletes those rows from the outbox in one short
// transaction. A crash anywhere leaves either rows still in the outbox that the next drain
// rewrites under the same keys, or rows already logged that it trims.
//
// Ownership: owns its SQLite connection; *log must outlive the agent.
// Thread safety: one thread drives it; Stop() may be called from any thread or a signal
// handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "capture/agent/agent.h"
#include "capture/agent/change_watcher.h"
#include "capture/agent/outbox_reader.h"
#include "capture/agent/schema_tracker.h"
#include "common/base/result.h"
#include "state/change_log.h"

namespace sqlift {

class CaptureAgent final : public Agent {
 public:
  [[nodiscard]] static Result<std::unique_ptr<CaptureAgent>> Open(
      const CaptureAgentOptions& options, state::ChangeLog* log);

  // Moves every row committed so far into the log, batch by batch.
  [[nodiscard]] Result<DrainStats> DrainAvailable() override;

  // Drains, then waits for the next commit, until Stop() or an error that retrying cannot
  // fix. Retryable errors (a busy database) are logged and retried with back-off.
  [[nodiscard]] Status Run() override;
  void Stop() override;

  // ApplyLogRetention (agent.h) with this agent's options.
  [[nodiscard]] Status ApplyRetention() { return ApplyLogRetention(log_, options_); }

  uint64_t logged_seq() const override { return logged_seq_; }

 private:
  CaptureAgent(CaptureAgentOptions options, state::ChangeLog* log,
               std::unique_ptr<OutboxReader> outbox, std::unique_ptr<ChangeWatcher> watcher);
  [[nodiscard]] Status Recover();
  [[nodiscard]] Result<bool> DrainBatch(DrainStats* stats);
  // Keeps the guard triggers in step with the schema (see capture_agent.cc).
  void KeepGuards();
  [[nodiscard]] Result<wire::ChangeBatch> Encode(const OutboxRow& row, DrainStats* stats);
  std::vector<wire::ChangeBatch> EncodeRun(const std::vector<OutboxRow>& rows, DrainStats* stats,
                                           Status* stop);
  static void AddDdl(std::vector<wire::Transaction> ddl, uint64_t seq, int64_t committed_at_us,
                     wire::ChangeBatch* batch, DrainStats* stats);

  CaptureAgentOptions options_;
  state::ChangeLog* log_;
  std::unique_ptr<OutboxReader> outbox_;
  std::unique_ptr<ChangeWatcher> watcher_;
  SchemaTracker schema_;
  uint64_t logged_seq_ = 0;
  int64_t guards_version_ = -1;  // the schema_version KeepGuards last brought up to date
  std::atomic<bool> stop_{false};
};

}  // namespace sqlift
