// ReverseRunner (see reverse_runner.h).
#include "tools/reverse_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <optional>

#include "apply/pg_logical_stream.h"
#include "apply/pg_replication_admin.h"
#include "apply/schema_translator.h"
#include "capture/reverse_applier.h"
#include "capture/route_table.h"
#include "capture/sqlite_db.h"
#include "tools/plan_input.h"
#include "tools/source_layout.h"

namespace sqlift {

using Clock = std::chrono::steady_clock;

struct ReverseRunner::Loop {
  explicit Loop(Config c) : cfg(std::move(c)) {}

  void Run();
  // One step: false when the runner should wait before the next (nothing to do, or a retry).
  Result<bool> Step();
  Result<bool> AnyOnPostgres();
  Status OpenApplier();
  Status OpenStream();
  Status Apply(const pgchange::Transaction& txn);
  void Close();
  void Wait(std::chrono::milliseconds d);

  const Config cfg;
  std::unique_ptr<SqliteDb> routes_db;
  std::unique_ptr<ReverseApplier> applier;
  std::unique_ptr<PgLogicalStream> stream;
  std::optional<pgchange::Transaction> pending;  // read but not yet applied (busy SQLite)
  std::chrono::milliseconds backoff{100};
  Clock::time_point next_route_check{};
  bool on_postgres = false;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;   // guarded by mu
  ReverseStats stats;  // guarded by mu
};

Result<bool> ReverseRunner::Loop::AnyOnPostgres() {
  if (Clock::now() < next_route_check) return on_postgres;
  next_route_check = Clock::now() + std::chrono::milliseconds(cfg.capture_poll_ms / 2 + 1);
  if (!routes_db) {
    SQLIFT_ASSIGN_OR_RETURN(routes_db, SqliteDb::Open(cfg.source_sqlite, SqliteDb::Mode::kReadOnly));
  }
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(routes_db->handle()));
  on_postgres = std::any_of(routes.begin(), routes.end(),
                            [](const RouteRow& r) { return r.on_postgres(); });
  return on_postgres;
}

Status ReverseRunner::Loop::OpenApplier() {
  SQLIFT_ASSIGN_OR_RETURN(ReverseApplierOptions o, ReverseOptionsFor(cfg));
  SQLIFT_ASSIGN_OR_RETURN(applier, ReverseApplier::Open(cfg.source_sqlite, std::move(o)));
  SQLIFT_ASSIGN_OR_RETURN(pgchange::Lsn at, applier->Position());
  std::lock_guard lock(mu);
  stats.applied_lsn = at;
  return Status::OK();
}

Status ReverseRunner::Loop::OpenStream() {
  LogicalStreamOptions o;
  o.conninfo = cfg.target_pg;
  o.slot = o.publication = SlotNameFor(cfg.source_id);
  SQLIFT_ASSIGN_OR_RETURN(o.start_lsn, applier->Position());
  SQLIFT_ASSIGN_OR_RETURN(stream, PgLogicalStream::Open(o));
  spdlog::info("reverse: streaming slot {} from {} into {}", o.slot,
               pgchange::FormatLsn(o.start_lsn), cfg.source_sqlite);
  std::lock_guard lock(mu);
  stats.streaming = true;
  return Status::OK();
}

void ReverseRunner::Loop::Close() {
  stream.reset();
  applier.reset();
  pending.reset();
  std::lock_guard lock(mu);
  stats.streaming = false;
}

Status ReverseRunner::Loop::Apply(const pgchange::Transaction& txn) {
  Result<ReverseApplyStats> r = applier->Apply(txn);
  if (!r.ok() && r.status().code() == Status::Code::kFailedPrecondition &&
      r.status().message().find("mapping") != std::string::npos) {
    // A table created since the mapping was made (a DDL event): map again, once.
    SQLIFT_RETURN_IF_ERROR(OpenApplier());
    r = applier->Apply(txn);
  }
  if (!r.ok()) return r.status();
  SQLIFT_RETURN_IF_ERROR(stream->Confirm(txn.end_lsn));
  std::lock_guard lock(mu);
  stats.applied_lsn = std::max<uint64_t>(stats.applied_lsn, txn.end_lsn);
  stats.confirmed_lsn = std::max<uint64_t>(stats.confirmed_lsn, txn.end_lsn);
  (r->skipped ? stats.skipped : stats.transactions)++;
  stats.rows += static_cast<uint64_t>(r->rows);
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
  if (!pending) {
    SQLIFT_ASSIGN_OR_RETURN(PgLogicalStream::Event ev, stream->Next(std::chrono::milliseconds(250)));
    if (ev.kind == PgLogicalStream::Event::Kind::kTransaction) {
      pending = std::move(ev.txn);
    } else if (ev.lsn != 0) {  // a marker, or an idle keepalive: nothing before it is pending
      SQLIFT_RETURN_IF_ERROR(stream->Confirm(ev.lsn));
      std::lock_guard lock(mu);
      stats.confirmed_lsn = std::max<uint64_t>(stats.confirmed_lsn, ev.lsn);
      return true;
    }
  }
  if (!pending) return true;
  SQLIFT_RETURN_IF_ERROR(Apply(*pending));
  pending.reset();
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
      backoff = std::chrono::milliseconds(100);
      if (!*busy) Wait(std::chrono::milliseconds(cfg.capture_poll_ms));
      continue;
    }
    const Status& st = busy.status();
    if (!st.Retryable() && st.code() != Status::Code::kNotFound) {
      spdlog::error("reverse replication stopped: {}", st.ToString());
      Close();
      std::lock_guard lock(mu);
      stats.failed = true;
      stats.last_error = st.ToString();
      return;
    }
    // A lost connection, a busy database, or a slot `sqlift cutover` has not created yet.
    spdlog::warn("reverse: {} (retrying in {} ms)", st.ToString(), backoff.count());
    stream.reset();  // a stream's errors are final; the next one resumes at the position
    pending.reset();  // applied exactly once anyway: the applier skips what it has recorded
    {
      std::lock_guard lock(mu);
      stats.streaming = stream != nullptr;
      stats.last_error = st.ToString();
    }
    Wait(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

std::unique_ptr<ReverseRunner> ReverseRunner::Start(const Config& cfg) {
  std::unique_ptr<ReverseRunner> r(new ReverseRunner());
  r->loop_ = std::make_unique<Loop>(cfg);
  r->thread_ = std::thread([loop = r->loop_.get()] { loop->Run(); });
  return r;
}

ReverseRunner::~ReverseRunner() { Stop(); }

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
