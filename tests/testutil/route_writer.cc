// RouteWriter: a writer that follows the route (see route_writer.h).
#include "tests/testutil/route_writer.h"

#include <fmt/format.h>
#include <time.h>

#include <optional>
#include <random>

#include "apply/pg_sink/pg_route.h"
#include "capture/recorder/recorder.h"
#include "capture/recorder/transaction.h"
#include "common/pg/pg_connection.h"
#include "common/pg/pg_identifier.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift::testing {
namespace {

using Clock = std::chrono::steady_clock;

// What one attempt came to.
enum class Outcome { kAcked, kRetry };

bool Mentions(const Status& st, std::string_view text) {
  return st.ToString().find(text) != std::string::npos;
}

// "YYYY-MM-DD HH:MM:SS" (UTC) of the writer's n-th write: whole seconds, as both sides and the
// independent comparison spell them.
std::string WriteTime(int64_t n) {
  time_t t = static_cast<time_t>(1735689600 + n);  // 2025-01-01 00:00:00 UTC
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string NewUuid(std::mt19937_64& rng) {
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

}  // namespace

std::string WriteSku(const std::string& writer, int64_t n) {
  return fmt::format("{}-{}", writer, n);
}

std::string CentsText(int64_t cents) {
  return fmt::format("{}.{:02d}", cents / 100, cents % 100);
}

struct RouteWriter::Loop {
  explicit Loop(RouteWriter& writer) : w(writer), o(writer.o_), rng(std::random_device{}()) {}

  Status Run();
  Result<Outcome> OnSqlite(AckedWrite& a);
  Result<Outcome> OnPostgres(AckedWrite& a);
  Status WriteSqlite(AckedWrite& a);
  Status SqliteCommerce(AckedWrite& a);
  Status SqliteBooking(AckedWrite& a);
  Status PgStatements(AckedWrite& a);
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

Status RouteWriter::Loop::SqliteCommerce(AckedWrite& a) {
  const std::string at = WriteTime(a.n);
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement p,
      db->Prepare("INSERT INTO products (product_id, tenant_id, sku, name, price, active, "
                  "created_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)"));
  SQLIFT_RETURN_IF_ERROR(p.BindText(1, a.key));
  SQLIFT_RETURN_IF_ERROR(p.BindText(2, o.tenant));
  SQLIFT_RETURN_IF_ERROR(p.BindText(3, WriteSku(o.writer, a.n)));
  SQLIFT_RETURN_IF_ERROR(p.BindText(4, "product " + WriteSku(o.writer, a.n)));
  SQLIFT_RETURN_IF_ERROR(p.BindDouble(5, static_cast<double>(a.cents) / 100.0));
  SQLIFT_RETURN_IF_ERROR(p.BindText(6, at));
  SQLIFT_RETURN_IF_ERROR(p.Run());
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement r,
      db->Prepare("INSERT INTO orders (order_id, tenant_id, external_order_id, customer_id, "
                  "total_amount, currency, order_status, order_date, raw_payload, created_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, 'USD', 'pending', ?6, ?7, ?6)"));
  SQLIFT_RETURN_IF_ERROR(r.BindText(1, a.order_id));
  SQLIFT_RETURN_IF_ERROR(r.BindText(2, o.tenant));
  SQLIFT_RETURN_IF_ERROR(r.BindText(3, "ext-" + WriteSku(o.writer, a.n)));
  SQLIFT_RETURN_IF_ERROR(r.BindText(4, o.customer_id));
  SQLIFT_RETURN_IF_ERROR(r.BindDouble(5, static_cast<double>(a.cents * a.quantity) / 100.0));
  SQLIFT_RETURN_IF_ERROR(r.BindText(6, at));
  SQLIFT_RETURN_IF_ERROR(
      r.BindText(7, fmt::format("{{\"n\": {}, \"writer\": \"{}\"}}", a.n, o.writer)));
  SQLIFT_RETURN_IF_ERROR(r.Run());
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement i,
      db->Prepare("INSERT INTO order_items (order_id, line_no, tenant_id, product_id, quantity, "
                  "unit_price) VALUES (?1, 1, ?2, ?3, ?4, ?5)"));
  SQLIFT_RETURN_IF_ERROR(i.BindText(1, a.order_id));
  SQLIFT_RETURN_IF_ERROR(i.BindText(2, o.tenant));
  SQLIFT_RETURN_IF_ERROR(i.BindText(3, a.key));
  SQLIFT_RETURN_IF_ERROR(i.BindInt64(4, a.quantity));
  SQLIFT_RETURN_IF_ERROR(i.BindDouble(5, static_cast<double>(a.cents) / 100.0));
  return i.Run();
}

Status RouteWriter::Loop::SqliteBooking(AckedWrite& a) {
  const std::string at = WriteTime(a.n);
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement b,
      db->Prepare("INSERT INTO bookings (room_id, customer_name, customer_email, start_time, "
                  "end_time, status, total_price, created_at, updated_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, 'confirmed', ?6, ?4, ?4)"));
  SQLIFT_RETURN_IF_ERROR(b.BindInt64(1, o.room_id));
  SQLIFT_RETURN_IF_ERROR(b.BindText(2, WriteSku(o.writer, a.n)));
  SQLIFT_RETURN_IF_ERROR(b.BindText(3, WriteSku(o.writer, a.n) + "@example.com"));
  SQLIFT_RETURN_IF_ERROR(b.BindText(4, at));
  SQLIFT_RETURN_IF_ERROR(b.BindText(5, WriteTime(a.n + 3600)));
  SQLIFT_RETURN_IF_ERROR(b.BindDouble(6, static_cast<double>(a.cents) / 100.0));
  SQLIFT_RETURN_IF_ERROR(b.Run());
  a.key = std::to_string(sqlite3_last_insert_rowid(db->handle()));
  return Status::OK();
}

Status RouteWriter::Loop::WriteSqlite(AckedWrite& a) {
  SQLIFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*rec));
  SQLIFT_RETURN_IF_ERROR(o.layout == WriterLayout::kCommerce ? SqliteCommerce(a)
                                                             : SqliteBooking(a));
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement c,
                          db->Prepare("UPDATE writer_counters SET n = n + 1 WHERE writer = ?1"));
  SQLIFT_RETURN_IF_ERROR(c.BindText(1, o.writer));
  SQLIFT_RETURN_IF_ERROR(c.Run());
  if (sqlite3_changes(db->handle()) != 1) {
    return Status::Internal("writer_counters has no row for writer " + o.writer);
  }
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

Status RouteWriter::Loop::PgStatements(AckedWrite& a) {
  const std::string at = WriteTime(a.n) + "+00";
  // Database-per-tenant: the tenant's column set on the booking, and the counter's row.
  const bool constant = !o.pg_tenant_column.empty();
  const std::string tenant_col = constant ? QuoteIdentifier(o.pg_tenant_column) : "";
  if (o.layout == WriterLayout::kBooking) {
    std::vector<std::optional<std::string>> params = {std::to_string(o.room_id),
                                                      WriteSku(o.writer, a.n),
                                                      WriteSku(o.writer, a.n) + "@example.com",
                                                      at,
                                                      WriteTime(a.n + 3600) + "+00",
                                                      CentsText(a.cents)};
    if (constant) params.push_back(o.tenant);
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult r,
        pg->Query(fmt::format("INSERT INTO public.bookings (room_id, customer_name, "
                              "customer_email, start_time, end_time, status, total_price, "
                              "created_at, updated_at{}) VALUES ($1, $2, $3, $4, $5, "
                              "'confirmed', $6, $4, $4{}) RETURNING id",
                              constant ? ", " + tenant_col : "", constant ? ", $7" : ""),
                  params));
    a.key = std::string(r.get(0, 0));
  } else {
    SQLIFT_RETURN_IF_ERROR(
        pg->Query("INSERT INTO public.products (product_id, tenant_id, sku, name, price, active, "
                  "created_at) VALUES ($1, $2, $3, $4, $5, true, $6)",
                  {a.key, o.tenant, WriteSku(o.writer, a.n), "product " + WriteSku(o.writer, a.n),
                   CentsText(a.cents), at})
            .status());
    SQLIFT_RETURN_IF_ERROR(
        pg->Query("INSERT INTO public.orders (order_id, tenant_id, external_order_id, "
                  "customer_id, total_amount, currency, order_status, order_date, raw_payload, "
                  "created_at) VALUES ($1, $2, $3, $4, $5, 'USD', 'pending', $6, $7, $6)",
                  {a.order_id, o.tenant, "ext-" + WriteSku(o.writer, a.n), o.customer_id,
                   CentsText(a.cents * a.quantity), at,
                   fmt::format("{{\"n\": {}, \"writer\": \"{}\"}}", a.n, o.writer)})
            .status());
    SQLIFT_RETURN_IF_ERROR(
        pg->Query("INSERT INTO public.order_items (order_id, line_no, tenant_id, product_id, "
                  "quantity, unit_price) VALUES ($1, 1, $2, $3, $4, $5)",
                  {a.order_id, o.tenant, a.key, std::to_string(a.quantity), CentsText(a.cents)})
            .status());
  }
  std::vector<std::optional<std::string>> counter = {o.writer};
  if (constant) counter.push_back(o.tenant);
  SQLIFT_ASSIGN_OR_RETURN(PgResult c,
                          pg->Query(fmt::format("UPDATE public.writer_counters SET n = n + 1 "
                                                "WHERE writer = $1{}",
                                                constant ? " AND " + tenant_col + " = $2" : ""),
                                    counter));
  if (c.affected_rows() != 1) {
    return Status::Internal("writer_counters has no row for writer " + o.writer + " on PostgreSQL");
  }
  return Status::OK();
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
  if (st.ok()) st = PgStatements(a);
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
  SQLIFT_ASSIGN_OR_RETURN(db, SqliteDb::Open(o.sqlite_path, SqliteDb::Mode::kReadWrite));
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

}  // namespace sqlift::testing
