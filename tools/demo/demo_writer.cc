// DemoWriters: booking transactions that follow the route, on threads (see demo_writer.h).
#include "tools/demo/demo_writer.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <random>

#include "apply/pg_sink/pg_route.h"
#include "capture/recorder/recorder.h"
#include "capture/recorder/transaction.h"
#include "common/base/parse.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_statement.h"

namespace sqlift {

// One writer's connections and statements, prepared once, as an application would.
struct DemoWriters::Writer {
  std::unique_ptr<SqliteDb> db;
  std::unique_ptr<Recorder> rec;
  std::optional<SqliteStatement> insert, update;
  std::unique_ptr<PgConnection> pg;
  std::mt19937_64 rng;

  // The values of one booking transaction.
  struct Booking {
    int64_t id, room, other;
    std::string name, email, end, status, price;
  };
  Booking Next(int writer, int64_t n, int64_t existing) {
    const int64_t hour = static_cast<int64_t>(rng() % 24);
    return {0,
            1 + static_cast<int64_t>(rng() % 1000),
            1 + static_cast<int64_t>(rng() % existing),
            fmt::format("Guest {}-{}", writer, n),
            fmt::format("guest{}.{}@example.org", writer, n),
            fmt::format("2027-01-02 {:02d}:00:00", hour),
            rng() % 2 ? "checked_in" : "cancelled",
            fmt::format("{}.{:02d}", rng() % 500, rng() % 100)};
  }

  // Through the recorder. Unavailable: fenced; FailedPrecondition: routed to postgres.
  Status OnSqlite(const Booking& b) {
    SQLIFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*rec));
    Status st = insert->BindInt64(1, b.id);
    if (st.ok()) st = insert->BindInt64(2, b.room);
    if (st.ok()) st = insert->BindText(3, b.name);
    if (st.ok()) st = insert->BindText(4, b.email);
    if (st.ok()) st = insert->BindText(5, "2027-01-01 00:00:00");
    if (st.ok()) st = insert->BindText(6, b.end);
    Result<double> price = ParseDouble(b.price, "price");
    if (st.ok()) st = price.ok() ? insert->BindDouble(7, *price) : price.status();
    if (st.ok()) st = insert->Run();
    if (st.ok()) st = insert->Reset();
    if (st.ok()) st = update->BindInt64(1, b.other);
    if (st.ok()) st = update->BindText(2, b.status);
    if (st.ok()) st = update->Run();
    if (st.ok()) st = update->Reset();
    if (!st.ok()) {
      (void)insert->Reset(), (void)update->Reset();
      (void)txn.Rollback();
      return st;
    }
    return txn.Commit().status();
  }

  // On PostgreSQL; SL001/SL002 (the fence) come back as kUnavailable.
  Status OnPostgres(const std::string& uri, const Booking& b) {
    if (!pg) {
      SQLIFT_ASSIGN_OR_RETURN(pg, PgConnection::Connect(uri, std::chrono::seconds(10)));
    }
    Status st = pg->Exec("BEGIN");
    if (st.ok()) {
      st = pg->Query(
                 "INSERT INTO public.bookings (id, room_id, customer_name, customer_email, "
                 "start_time, end_time, status, total_price, created_at, updated_at) VALUES "
                 "($1, $2, $3, $4, '2027-01-01 00:00:00+00', $5, 'confirmed', $6, now(), "
                 "now())",
                 {std::to_string(b.id), std::to_string(b.room), b.name, b.email, b.end + "+00",
                  b.price})
               .status();
    }
    if (st.ok()) {
      st = pg->Query("UPDATE public.bookings SET status = $2, updated_at = now() WHERE id = $1",
                     {std::to_string(b.other), b.status})
               .status();
    }
    if (st.ok()) st = pg->Exec("COMMIT");
    if (st.ok()) return st;
    (void)pg->Exec("ROLLBACK");
    const std::string state = SqlStateOf(st);
    if (state == kFencedSqlState || state == kRoutedElsewhereSqlState)
      return Status::Unavailable(st.message());
    if (PQstatus(pg->raw()) != CONNECTION_OK) pg.reset();
    return st;
  }
};

void DemoWriters::Start(int writers) {
  for (int w = 0; w < writers; ++w)
    threads_.emplace_back([this, w] { Run(w); });
}

Status DemoWriters::Stop() {
  stop_ = true;
  for (std::thread& t : threads_)
    t.join();
  threads_.clear();
  std::lock_guard lock(mu_);
  return error_;
}

std::vector<int64_t> DemoWriters::acknowledged() const {
  std::lock_guard lock(mu_);
  return acked_;
}

void DemoWriters::Run(int writer) {
  Writer w;
  w.rng.seed(1234 + writer);
  auto fail = [&](const Status& st) {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = st.With(fmt::format("writer {}", writer));
    stop_ = true;
  };
  Result<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(path_, SqliteDb::Mode::kReadWrite, std::chrono::milliseconds(20000));
  if (!db.ok()) return fail(db.status());
  w.db = std::move(db).value();
  auto rec = Recorder::Attach(w.db->handle());
  auto insert = w.db->Prepare(
      "INSERT INTO bookings (id, room_id, customer_name, customer_email, start_time, end_time, "
      "status, total_price, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
      "'confirmed', ?7, datetime('now'), datetime('now'))");
  auto update =
      w.db->Prepare("UPDATE bookings SET status = ?2, updated_at = datetime('now') WHERE id = ?1");
  if (!rec.ok() || !insert.ok() || !update.ok()) {
    return fail(!rec.ok() ? rec.status() : !insert.ok() ? insert.status() : update.status());
  }
  w.rec = std::move(rec).value();
  w.insert.emplace(std::move(insert).value());
  w.update.emplace(std::move(update).value());
  for (int64_t n = 0; !stop_.load(); ++n) {
    Writer::Booking b = w.Next(writer, n, existing_);
    b.id = first_id_ + writer * 100'000'000LL + n;
    Result<RouteRow> route = w.rec->RouteFor("*");
    if (!route.ok()) return fail(route.status());
    Status st = route->fenced          ? Status::Unavailable("fenced")
                : route->on_postgres() ? w.OnPostgres(pg_, b)
                                       : w.OnSqlite(b);
    if (st.ok()) {
      (route->on_postgres() ? committed_pg_ : committed_sqlite_)++;
      std::lock_guard lock(mu_);
      acked_.push_back(b.id);
      continue;
    }
    const bool refused = st.code() == Status::Code::kUnavailable ||
                         (st.code() == Status::Code::kFailedPrecondition &&
                          st.message().find("routed to") != std::string::npos);
    if (!refused && !st.Retryable()) return fail(st);
    if (refused) ++refusals_;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // then the route is read again
  }
}

}  // namespace sqlift
