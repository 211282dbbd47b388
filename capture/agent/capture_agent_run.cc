// CaptureAgent's daemon loop and log retention (the drain itself is in capture_agent.cc).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/agent/capture_agent.h"
#include "common/base/backoff.h"
#include "common/base/clock.h"
#include "state/keys.h"

namespace sqlift {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr std::chrono::seconds kRetentionEvery{60};

}  // namespace

Status CaptureAgent::Run() {
  Backoff backoff(kFirstBackoff, kMaxBackoff);
  auto last_retention = std::chrono::steady_clock::now() - kRetentionEvery;
  while (!stop_.load()) {
    // Read before draining: a commit that lands during the drain moves it, and is not missed.
    Result<int64_t> version = outbox_->DataVersion();
    Result<DrainStats> drained =
        version.ok() ? DrainAvailable() : Result<DrainStats>(version.status());
    if (!drained.ok()) {
      if (!drained.status().Retryable()) return drained.status();
      const std::chrono::milliseconds wait = backoff.Next();
      spdlog::warn("capture: {} (retrying in {} ms)", drained.status().ToString(), wait.count());
      (void)watcher_->Wait(wait);
      continue;
    }
    backoff.Reset();
    if (drained->transactions > 0) {
      spdlog::debug("logged {} transactions ({} changes) up to seq {}", drained->transactions,
                    drained->changes, drained->logged_seq);
    }
    if (std::chrono::steady_clock::now() - last_retention >= kRetentionEvery) {
      last_retention = std::chrono::steady_clock::now();
      Status st = ApplyRetention();
      if (!st.ok()) spdlog::warn("log retention: {}", st.ToString());
    }
    std::chrono::milliseconds wait = options_.poll_interval;
    while (!stop_.load()) {
      SQLIFT_ASSIGN_OR_RETURN(ChangeWatcher::Event ev, watcher_->Wait(wait));
      Result<int64_t> now = outbox_->DataVersion();
      if (!now.ok() || *now != *version || ev == ChangeWatcher::Event::kWoken) break;
      // inotify sees a commit's WAL frames before SQLite publishes the commit in the WAL index,
      // so the drain may not see it yet: look again in a moment rather than a poll later.
      wait = ev == ChangeWatcher::Event::kChanged ? std::chrono::milliseconds(2)
                                                  : options_.poll_interval;
    }
  }
  return Status::OK();
}

Result<DrainStats> DrainBatches(uint64_t logged_seq, const std::atomic<bool>& stop,
                                const std::function<Result<bool>(DrainStats*)>& batch) {
  DrainStats stats;
  stats.logged_seq = logged_seq;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool more, batch(&stats));
    if (!more || stop.load()) break;
  }
  return stats;
}

Status ApplyLogRetention(state::ChangeLog* log, const CaptureAgentOptions& options) {
  SQLIFT_ASSIGN_OR_RETURN(uint64_t acked, log->GetPosition(state::kMetaAckedSeq));
  if (acked == 0) return Status::OK();
  SQLIFT_ASSIGN_OR_RETURN(state::LogStats stats, log->Stats());
  if (stats.count == 0 || stats.first_seq > acked) return Status::OK();
  const int64_t cutoff =
      NowMicros() -
      std::chrono::duration_cast<std::chrono::microseconds>(options.retain_time).count();
  uint64_t trim_below = stats.first_seq;
  uint64_t bytes = stats.bytes;
  Status scan = log->Scan(stats.first_seq, acked, [&](uint64_t seq, std::string_view value) {
    wire::ChangeBatch batch;
    if (!batch.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
        batch.transactions().empty()) {
      return Status::Corruption(fmt::format("log record of seq {} does not parse", seq));
    }
    bool old = batch.transactions().rbegin()->committed_at_us() < cutoff;
    if (!old && bytes <= options.retain_bytes) return Status::Aborted("retained from here");
    trim_below = seq + 1;
    bytes -= std::min<uint64_t>(bytes, value.size());
    return Status::OK();
  });
  if (!scan.ok() && scan.code() != Status::Code::kAborted) return scan;
  if (trim_below == stats.first_seq) return Status::OK();
  spdlog::info("log retention: dropping acked seqs {}..{}", stats.first_seq, trim_below - 1);
  return log->TrimBefore(trim_below);
}

}  // namespace sqlift
