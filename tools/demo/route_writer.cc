// RouteWriter: a writer that follows the route (see route_writer.h).
#include "tools/demo/route_writer.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <random>

#include "apply/pg_sink/pg_route.h"
#include "capture/recorder/recorder.h"
#include "capture/recorder/transaction.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/demo/route_writes.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;

// What one attempt came to.
enum class Outcome { kAcked, kRetry };

bool Mentions(const Status& st, std::string_view text) {
  return st.ToString().find(text) != std::string::npos;
}

std::string NewUuid(std::mt19937_64& rng) {
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

}  // namespace

struct RouteWriter::Loop {
  explicit Loop(RouteWriter& writer) : w(writer), o(writer.o_), rng(std::random_device{}()) {}

  Status Run();
  Result<Outcome> OnSqlite(AckedWrite& a);
  Result<Outcome> OnPostgres(AckedWrite& a);
  Status WriteSqlite(AckedWrite& a);
  void Count(uint64_t WriterStats::*field) {
    std::lock_guard lock(w.mu_);
    ++(w.stats_.*field);
  }
  void Pause(std::chrono::microseconds d) { std::this_thread::sleep_for(d); }

  RouteWriter& w;
  const RouteWriterOptions& o;
  std::mt19937_64 rng;
  int64_t n = 0;
  std::unique_ptr<SqliteDb> db;  // declared before the recorder: destroyed after it
  std::unique_ptr<Recorder> rec;
  std::unique_ptr<PgConnection> pg;
};

Status RouteWriter::Loop::WriteSqlite(AckedWrite& a) {
  SQLIFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*rec));
  SQLIFT_RETURN_IF_ERROR(WriteOnSqlite(*db, o, a));
  SQLIFT_RETURN_IF_ERROR(txn.Commit().status());
  // The recorder inserted the outbox row last, on this connection: its rowid is the seq.
  a.seq = static_cast<uint64_t>(sqlite3_last_insert_rowid(db->handle()));
  return Status::OK();
}

Result<Outcome> RouteWriter::Loop::OnSqlite(AckedWrite& a) {
  Status st = WriteSqlite(a);
  if (st.ok()) return Outcome::kAcked;
  if (st.code() == Status::Code::kUnavailable && Mentions(st, "being switched")) {
    Count(&WriterStats::sqlite_fenced);
    Pause(std::chrono::milliseconds(1));
    return Outcome::kRetry;
  }
  if (st.code() == Status::Code::kUnavailable) {  // SQLITE_BUSY: another writer holds the lock
    Count(&WriterStats::busy);
    return Outcome::kRetry;
  }
  // The recorder's fence says "routed to postgres"; sqlift's guard triggers "is on postgres".
  if (st.code() == Status::Code::kFailedPrecondition &&
      (Mentions(st, "routed to postgres") || Mentions(st, "is on postgres"))) {
    Count(&WriterStats::sqlite_routed);
    return Outcome::kRetry;  // re-read the route
  }
  return st.With(fmt::format("writer {} on SQLite", o.writer));
}

Result<Outcome> RouteWriter::Loop::OnPostgres(AckedWrite& a) {
  if (!pg) {
    Result<std::unique_ptr<PgConnection>> c =
        PgConnection::Connect(o.pg_uri, std::chrono::seconds(2));
    if (!c.ok()) {
      Count(&WriterStats::pg_errors);
      Pause(std::chrono::milliseconds(20));
      return Outcome::kRetry;
    }
    pg = std::move(c).value();
  }
  Status st = pg->Exec("BEGIN");
  if (st.ok()) st = WriteOnPostgres(*pg, o, a);
  if (st.ok() && o.pg_hold.count() > 0) Pause(o.pg_hold);
  if (st.ok()) {
    st = pg->Exec("COMMIT");
    if (st.ok()) return Outcome::kAcked;
    if (st.code() == Status::Code::kUnavailable) Count(&WriterStats::uncertain);
  }
  const std::string state = SqlStateOf(st);
  if (st.code() != Status::Code::kUnavailable) (void)pg->Exec("ROLLBACK");
  if (state == kFencedSqlState) {
    Count(&WriterStats::pg_fenced);
    Pause(std::chrono::milliseconds(1));
    return Outcome::kRetry;
  }
  if (state == kRoutedElsewhereSqlState) {
    Count(&WriterStats::pg_routed);
    Pause(std::chrono::milliseconds(1));
    return Outcome::kRetry;  // re-read the route
  }
  if (st.code() == Status::Code::kUnavailable) {  // the server went away: a new connection
    pg.reset();
    Count(&WriterStats::pg_errors);
    Pause(std::chrono::milliseconds(20));
    return Outcome::kRetry;
  }
  if (st.code() == Status::Code::kAborted) {  // serialization failure, deadlock: retry
    Count(&WriterStats::busy);
    return Outcome::kRetry;
  }
  return st.With(fmt::format("writer {} on PostgreSQL", o.writer));
}

Status RouteWriter::Loop::Run() {
  SQLIFT_ASSIGN_OR_RETURN(
      db, SqliteDb::Open(o.sqlite_path, SqliteDb::Mode::kReadWrite, o.sqlite_busy_timeout));
  SQLIFT_ASSIGN_OR_RETURN(rec, Recorder::Attach(db->handle()));
  while (!w.stop_.load()) {
    SQLIFT_ASSIGN_OR_RETURN(RouteRow route, rec->RouteFor(o.tenant));
    if (route.fenced) {
      Count(&WriterStats::route_fenced);
      Pause(std::chrono::milliseconds(1));
      continue;
    }
    AckedWrite a;
    a.n = ++n;
    a.cents = 100 + (a.n * 37) % 9900;
    a.quantity = 1 + a.n % 5;
    if (o.layout == WriterLayout::kCommerce) a.key = NewUuid(rng), a.order_id = NewUuid(rng);
    a.side = route.on_postgres() ? WriteSide::kPostgres : WriteSide::kSqlite;
    SQLIFT_ASSIGN_OR_RETURN(Outcome out,
                            a.side == WriteSide::kSqlite ? OnSqlite(a) : OnPostgres(a));
    if (out != Outcome::kAcked) continue;
    a.at = Clock::now();
    w.Record(a);
    if (o.pace.count() > 0) Pause(o.pace);
  }
  return Status::OK();
}

Result<std::unique_ptr<RouteWriter>> RouteWriter::Start(RouteWriterOptions options) {
  std::unique_ptr<RouteWriter> w(new RouteWriter(std::move(options)));
  w->loop_ = std::make_unique<Loop>(*w);
  w->thread_ = std::thread([p = w.get()] { p->Finish(p->loop_->Run()); });
  return w;
}

RouteWriter::RouteWriter(RouteWriterOptions o) : o_(std::move(o)) {}

RouteWriter::~RouteWriter() {
  (void)Stop();
}

void RouteWriter::Finish(Status st) {
  loop_->rec.reset();
  loop_->db.reset();
  loop_->pg.reset();
  std::lock_guard lock(mu_);
  error_ = st;
  done_ = true;
}

Status RouteWriter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  return error();
}

Status RouteWriter::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void RouteWriter::Record(const AckedWrite& a) {
  std::lock_guard lock(mu_);
  if (!acked_.empty()) {
    double gap = std::chrono::duration<double, std::milli>(a.at - acked_.back().at).count();
    stats_.max_gap_ms = std::max(stats_.max_gap_ms, gap);
  }
  (a.side == WriteSide::kSqlite ? stats_.acked_sqlite : stats_.acked_pg)++;
  acked_.push_back(a);
}

WriterStats RouteWriter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<AckedWrite> RouteWriter::acked() const {
  std::lock_guard lock(mu_);
  return acked_;
}

uint64_t RouteWriter::acked_count() const {
  std::lock_guard lock(mu_);
  return acked_.size();
}

uint64_t RouteWriter::acked_on(WriteSide side) const {
  std::lock_guard lock(mu_);
  return side == WriteSide::kSqlite ? stats_.acked_sqlite : stats_.acked_pg;
}

void RouteWriter::ResetMaxGap() {
  std::lock_guard lock(mu_);
  stats_.max_gap_ms = 0;
}

bool RouteWriter::WaitAcked(uint64_t count, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (acked_count() >= count) return true;
    if (done_.load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling the count
  }
  return acked_count() >= count;
}

}  // namespace sqlift
