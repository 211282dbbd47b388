// DemoWriters: booking transactions through the recorder, on threads (see demo_writer.h).
#include "tools/demo_writer.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <random>

#include "capture/recorder.h"
#include "capture/sqlite_db.h"
#include "capture/sqlite_statement.h"
#include "capture/transaction.h"

namespace sqlift {

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
  Status st = Write(writer);
  if (st.ok()) return;
  std::lock_guard lock(mu_);
  if (error_.ok()) error_ = st.With(fmt::format("writer {}", writer));
  stop_ = true;
}

// One connection and recorder per writer, statements prepared once, as an application would.
Status DemoWriters::Write(int writer) {
  SQLIFT_ASSIGN_OR_RETURN(
      auto db, SqliteDb::Open(path_, SqliteDb::Mode::kReadWrite, std::chrono::milliseconds(20000)));
  SQLIFT_ASSIGN_OR_RETURN(std::unique_ptr<Recorder> rec, Recorder::Attach(db->handle()));
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement insert,
      db->Prepare("INSERT INTO bookings (id, room_id, customer_name, customer_email, start_time, "
                  "end_time, status, total_price, created_at, updated_at) VALUES (?1, ?2, ?3, "
                  "?4, ?5, ?6, 'confirmed', ?7, datetime('now'), datetime('now'))"));
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement update,
      db->Prepare("UPDATE bookings SET status = ?2, updated_at = datetime('now') WHERE id = ?1"));
  std::mt19937_64 rng(1234 + writer);
  for (int64_t n = 0; !stop_.load(); ++n) {
    const int64_t id = first_id_ + writer * 100'000'000LL + n;
    Result<Transaction> txn = Transaction::Begin(*rec);
    if (!txn.ok()) {
      if (txn.status().Retryable()) continue;
      return txn.status();
    }
    const int64_t hour = static_cast<int64_t>(rng() % (24 * 365));
    Status st = insert.BindInt64(1, id);
    if (st.ok()) st = insert.BindInt64(2, 1 + static_cast<int64_t>(rng() % 1000));
    if (st.ok()) st = insert.BindText(3, fmt::format("Guest {}-{}", writer, n));
    if (st.ok()) st = insert.BindText(4, fmt::format("guest{}.{}@example.org", writer, n));
    if (st.ok()) st = insert.BindText(5, fmt::format("2027-01-01 00:00:00"));
    if (st.ok()) st = insert.BindText(6, fmt::format("2027-01-02 {:02d}:00:00", hour % 24));
    if (st.ok()) st = insert.BindDouble(7, static_cast<double>(rng() % 50000) / 100.0);
    if (st.ok()) st = insert.Run();
    if (st.ok()) st = insert.Reset();
    if (st.ok()) st = update.BindInt64(1, 1 + static_cast<int64_t>(rng() % existing_));
    if (st.ok()) st = update.BindText(2, rng() % 2 ? "checked_in" : "cancelled");
    if (st.ok()) st = update.Run();
    if (st.ok()) st = update.Reset();
    if (!st.ok()) {
      (void)insert.Reset(), (void)update.Reset();
      (void)txn->Rollback();
      if (st.Retryable()) continue;
      return st;
    }
    Result<int64_t> done = txn->Commit();
    if (!done.ok()) {
      if (done.status().Retryable()) continue;
      return done.status();
    }
    ++committed_;
    std::lock_guard lock(mu_);
    acked_.push_back(id);
  }
  return Status::OK();
}

}  // namespace sqlift
