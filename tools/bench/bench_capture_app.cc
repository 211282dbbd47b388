// The booking application's write transactions for `sqlift bench capture`
// (tools/bench/bench_capture_internal.h).
#include <fmt/format.h>

#include <unordered_map>

#include "capture/outbox/outbox.h"
#include "capture/recorder/recorder.h"
#include "tools/bench/bench_capture_internal.h"
#include "tools/bench/bench_util.h"

namespace sqlift::bench_capture {
namespace {

constexpr int kRooms = 20;
constexpr int kSeedBookings = 1000;  // earlier bookings for the first UPDATEs to find

// A timestamp in the application's format, `minutes` after 2024-05-01 08:00.
std::string Timestamp(int64_t minutes) {
  int64_t day = minutes / (24 * 60) % 28, hour = 8 + minutes / 60 % 12, minute = minutes % 60;
  return fmt::format("2024-05-{:02d} {:02d}:{:02d}:00", day + 1, hour, minute);
}

Status RunReset(SqliteStatement& s) {
  Status st = s.Run();
  SQLIFT_RETURN_IF_ERROR(s.Reset());
  return st;
}

}  // namespace

Result<std::unique_ptr<BookingApp>> BookingApp::Create(const std::string& path,
                                                       const std::string& capture_mode) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate));
  SQLIFT_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"));
  SQLIFT_RETURN_IF_ERROR(db->Exec(kBookingSchemaSql));
  SQLIFT_RETURN_IF_ERROR(outbox::CreateTables(db->handle()));
  SQLIFT_RETURN_IF_ERROR(db->Exec(
      fmt::format("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) "
                  "INSERT INTO rooms (name, capacity, category, description, price_per_hour) "
                  "SELECT 'Room ' || i, 4 + i % 12, 'meeting', 'Whiteboard, screen', 25.5 FROM n",
                  kRooms)));
  std::unique_ptr<BookingApp> app(new BookingApp(std::move(db)));
  SQLIFT_RETURN_IF_ERROR(app->Prepare());
  SQLIFT_RETURN_IF_ERROR(app->Seed(capture_mode));
  return app;
}

// The seed bookings and, when asked, the capture mode `sqlift init` stores, in one transaction.
Status BookingApp::Seed(const std::string& capture_mode) {
  SQLIFT_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  for (int64_t i = 0; i < kSeedBookings; ++i)
    SQLIFT_RETURN_IF_ERROR(Insert(i));
  if (!capture_mode.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(SqliteStatement put,
                            db_->Prepare("INSERT INTO main._sqlift_state (key, value) "
                                         "VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET "
                                         "value = excluded.value"));
    SQLIFT_RETURN_IF_ERROR(put.BindText(1, outbox::kStateCaptureMode));
    SQLIFT_RETURN_IF_ERROR(put.BindText(2, capture_mode));
    SQLIFT_RETURN_IF_ERROR(put.Run());
  }
  return db_->Exec("COMMIT");
}

Status BookingApp::Transaction(int64_t i, Recorder* recorder) {
  SQLIFT_RETURN_IF_ERROR(RunReset(*begin_));
  SQLIFT_RETURN_IF_ERROR(Insert(kSeedBookings + i));
  SQLIFT_RETURN_IF_ERROR(update_->BindText(1, i % 7 == 0 ? "cancelled" : "checked_in"));
  SQLIFT_RETURN_IF_ERROR(update_->BindText(2, Timestamp(i)));
  SQLIFT_RETURN_IF_ERROR(update_->BindInt64(3, 1 + (i * 7919) % (kSeedBookings + i)));
  SQLIFT_RETURN_IF_ERROR(RunReset(*update_));
  if (recorder != nullptr) SQLIFT_RETURN_IF_ERROR(recorder->Flush().status());
  return RunReset(*commit_);
}

int64_t BookingApp::RowChanges(int64_t transactions) {
  std::unordered_map<int64_t, std::string> rows;  // id -> status and updated_at, once updated
  int64_t changes = 0;
  for (int64_t i = 0; i < transactions; ++i) {
    const int64_t id = 1 + (i * 7919) % (kSeedBookings + i);  // as Transaction's UPDATE
    std::string now = fmt::format("{} {}", i % 7 == 0 ? "cancelled" : "checked_in", Timestamp(i));
    const auto it = rows.find(id);
    const bool same = it != rows.end() ? it->second == now
                                       : now == "confirmed " + Timestamp(id - 1);  // as inserted
    changes += same ? 1 : 2;
    rows[id] = std::move(now);
  }
  return changes;
}

Status BookingApp::Prepare() {
  SQLIFT_ASSIGN_OR_RETURN(begin_, db_->Prepare("BEGIN IMMEDIATE"));
  SQLIFT_ASSIGN_OR_RETURN(commit_, db_->Prepare("COMMIT"));
  SQLIFT_ASSIGN_OR_RETURN(insert_,
                          db_->Prepare("INSERT INTO bookings (room_id, customer_name, "
                                       "customer_email, customer_phone, start_time, end_time, "
                                       "status, notes, total_price, created_at, updated_at) "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  SQLIFT_ASSIGN_OR_RETURN(update_, db_->Prepare("UPDATE bookings SET status = ?, updated_at = ? "
                                                "WHERE id = ?"));
  return Status::OK();
}

Status BookingApp::Insert(int64_t i) {
  SqliteStatement& s = *insert_;
  SQLIFT_RETURN_IF_ERROR(s.BindInt64(1, 1 + i % kRooms));
  SQLIFT_RETURN_IF_ERROR(s.BindText(2, fmt::format("Customer {}", i)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(3, fmt::format("customer{}@example.com", i)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(4, fmt::format("+1-555-{:04d}", i % 10000)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(5, Timestamp(i * 30)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(6, Timestamp(i * 30 + 60)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(7, "confirmed"));
  SQLIFT_RETURN_IF_ERROR(s.BindText(8, "Projector needed; two guests arrive early"));
  SQLIFT_RETURN_IF_ERROR(s.BindDouble(9, 25.5 * (1 + i % 4)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(10, Timestamp(i)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(11, Timestamp(i)));
  return RunReset(s);
}

}  // namespace sqlift::bench_capture
