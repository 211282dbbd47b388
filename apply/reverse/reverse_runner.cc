// ReverseRunner (see reverse_runner.h).
#include "apply/reverse/reverse_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "apply/reverse/reverse_runner_env.h"
#include "common/base/backoff.h"

namespace sqlift {

using Clock = std::chrono::steady_clock;

struct ReverseRunner::Loop {
  Loop(std::unique_ptr<ReverseEnv> e, std::chrono::milliseconds p) : env(std::move(e)), poll(p) {}

  void Run();
  // One step: false when the runner should wait before the next (nothing to do, or a retry).
  Result<bool> Step();
  Result<bool> AnyOnPostgres();
  Status OpenApplier();
  Status OpenStream();
  Status ApplyPending();
  void Close();
  void Wait(std::chrono::milliseconds d);

  const std::unique_ptr<ReverseEnv> env;
  const std::chrono::milliseconds poll;  // how often the routes are read, when idle
  std::unique_ptr<ReverseSink> applier;
  std::unique_ptr<ReverseSource> stream;
  // Read but not yet applied, in commit order: applied together in one SQLite transaction.
  std::vector<pgchange::Transaction> pending;
  pgchange::Lsn idle_lsn = 0;  // a marker or keepalive position read after `pending`
  Backoff backoff{std::chrono::milliseconds(100), std::chrono::milliseconds(5000)};
  Clock::time_point next_route_check{};
  bool on_postgres = false;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;   // guarded by mu
  ReverseStats stats;  // guarded by mu
};

Result<bool> ReverseRunner::Loop::AnyOnPostgres() {
  if (Clock::now() < next_route_check) return on_postgres;
  next_route_check = Clock::now() + poll / 2 + std::chrono::milliseconds(1);
  SQLIFT_ASSIGN_OR_RETURN(on_postgres, env->AnyOnPostgres());
  return on_postgres;
}

Status ReverseRunner::Loop::OpenApplier() {
  SQLIFT_ASSIGN_OR_RETURN(applier, env->OpenSink());
  SQLIFT_ASSIGN_OR_RETURN(pgchange::Lsn at, applier->Position());
  std::lock_guard lock(mu);
  stats.applied_lsn = at;
  return Status::OK();
}

Status ReverseRunner::Loop::OpenStream() {
  SQLIFT_ASSIGN_OR_RETURN(pgchange::Lsn start, applier->Position());
  SQLIFT_ASSIGN_OR_RETURN(stream, env->OpenSource(start));
  std::lock_guard lock(mu);
  stats.streaming = true;
  return Status::OK();
}

void ReverseRunner::Loop::Close() {
  stream.reset();
  applier.reset();
  pending.clear();
  std::lock_guard lock(mu);
  stats.streaming = false;
}

// Applies `pending` in one SQLite transaction, then confirms its end (and any marker or
// keepalive position read after it) to PostgreSQL.
Status ReverseRunner::Loop::ApplyPending() {
  Result<ReverseApplyStats> r = applier->ApplyBatch(pending);
  if (!r.ok() && r.status().code() == Status::Code::kFailedPrecondition &&
      r.status().message().find("mapping") != std::string::npos) {
    // A table created since the mapping was made (a DDL event): map again, once.
    SQLIFT_RETURN_IF_ERROR(OpenApplier());
    r = applier->ApplyBatch(pending);
  }
  if (!r.ok()) return r.status();
  const pgchange::Lsn end = std::max(pending.back().end_lsn, idle_lsn);
  SQLIFT_RETURN_IF_ERROR(stream->Confirm(end));
  std::lock_guard lock(mu);
  stats.applied_lsn = std::max<uint64_t>(stats.applied_lsn, pending.back().end_lsn);
  stats.confirmed_lsn = std::max<uint64_t>(stats.confirmed_lsn, end);
  for (const pgchange::Transaction& t : pending)
    (t.origin.rfind("sqlift", 0) == 0 ? stats.skipped : stats.transactions)++;
  stats.rows += static_cast<uint64_t>(r->rows);
  pending.clear();
  idle_lsn = 0;
  return Status::OK();
}

Result<bool> ReverseRunner::Loop::Step() {
  SQLIFT_ASSIGN_OR_RETURN(bool wanted, AnyOnPostgres());
  if (!wanted) {
    if (stream) {
      spdlog::info("reverse: no tenant is routed to postgres; stream closed");
      Close();
    }
    return false;
  }
  if (!applier) SQLIFT_RETURN_IF_ERROR(OpenApplier());
  if (!stream) SQLIFT_RETURN_IF_ERROR(OpenStream());
  if (pending.empty()) {
    // Wait for one transaction, then take every one already here (up to a bound).
    std::chrono::milliseconds wait(250);
    while (pending.size() < 1000) {
      SQLIFT_ASSIGN_OR_RETURN(PgLogicalStream::Event ev, stream->Next(wait));
      wait = std::chrono::milliseconds(0);
      if (ev.kind != PgLogicalStream::Event::Kind::kTransaction) {
        idle_lsn = std::max(idle_lsn, ev.lsn);
        break;
      }
      pending.push_back(std::move(ev.txn));
    }
  }
  if (pending.empty()) {
    if (idle_lsn == 0) return true;
    // A marker, or an idle keepalive: nothing before it is left to apply.
    SQLIFT_RETURN_IF_ERROR(stream->Confirm(idle_lsn));
    std::lock_guard lock(mu);
    stats.confirmed_lsn = std::max<uint64_t>(stats.confirmed_lsn, idle_lsn);
    idle_lsn = 0;
    return true;
  }
  SQLIFT_RETURN_IF_ERROR(ApplyPending());
  return true;
}

void ReverseRunner::Loop::Wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mu);
  cv.wait_for(lock, d, [&] { return stop; });
}

void ReverseRunner::Loop::Run() {
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (stop) return;
    }
    Result<bool> busy = Step();
    if (busy.ok()) {
      backoff.Reset();
      if (!*busy) Wait(poll);
      continue;
    }
    const Status& st = busy.status();
    if (StopsReverse(st)) {
      spdlog::error("reverse replication stopped: {}", st.ToString());
      Close();
      std::lock_guard lock(mu);
      stats.failed = true;
      stats.last_error = st.ToString();
      return;
    }
    // A lost connection, a busy database, or a slot `sqlift cutover` has not created yet.
    const std::chrono::milliseconds wait = backoff.NextUpTo(RetryCeiling(st));
    spdlog::warn("reverse: {} (retrying in {} ms)", st.ToString(), wait.count());
    stream.reset();   // a stream's errors are final; the next one resumes at the position
    pending.clear();  // applied exactly once anyway: the applier skips what it has recorded
    idle_lsn = 0;
    {
      std::lock_guard lock(mu);
      stats.streaming = stream != nullptr;
      stats.last_error = st.ToString();
    }
    Wait(wait);
  }
}

bool StopsReverse(const Status& st) {
  return !st.Retryable() && st.code() != Status::Code::kNotFound;
}

std::chrono::milliseconds RetryCeiling(const Status& st) {
  // A missing slot is looked for again soon: a cutover creates it just before its flip.
  return std::chrono::milliseconds(st.code() == Status::Code::kNotFound ? 500 : 5000);
}

std::unique_ptr<ReverseRunner> ReverseRunner::Start(const Config& cfg) {
  return Start(RealReverseEnv(cfg), std::chrono::milliseconds(cfg.capture_poll_ms));
}

std::unique_ptr<ReverseRunner> ReverseRunner::Start(std::unique_ptr<ReverseEnv> env,
                                                    std::chrono::milliseconds poll) {
  std::unique_ptr<ReverseRunner> r(new ReverseRunner());
  r->loop_ = std::make_unique<Loop>(std::move(env), poll);
  r->thread_ = std::thread([loop = r->loop_.get()] { loop->Run(); });
  return r;
}

ReverseRunner::~ReverseRunner() {
  Stop();
}

void ReverseRunner::Stop() {
  if (!loop_) return;
  {
    std::lock_guard lock(loop_->mu);
    loop_->stop = true;
  }
  loop_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
}

ReverseStats ReverseRunner::stats() const {
  std::lock_guard lock(loop_->mu);
  return loop_->stats;
}

}  // namespace sqlift
