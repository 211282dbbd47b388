#include "tools/bench/bench_capture.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "capture/outbox/outbox.h"
#include "capture/recorder/recorder.h"
#include "common/json/json.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/bench/bench_util.h"

namespace sqlift {
namespace {

constexpr int kRooms = 20;
constexpr int kSeedBookings = 1000;  // earlier bookings for the first UPDATEs to find

// A timestamp in the application's format, `minutes` after 2024-05-01 08:00.
std::string Timestamp(int64_t minutes) {
  int64_t day = minutes / (24 * 60) % 28, hour = 8 + minutes / 60 % 12, minute = minutes % 60;
  return fmt::format("2024-05-{:02d} {:02d}:{:02d}:00", day + 1, hour, minute);
}

// The application's side: its connection and its cached statements.
class BookingApp {
 public:
  static Result<std::unique_ptr<BookingApp>> Create(const std::string& path) {
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
    SQLIFT_RETURN_IF_ERROR(app->db_->Exec("BEGIN"));
    for (int64_t i = 0; i < kSeedBookings; ++i)
      SQLIFT_RETURN_IF_ERROR(app->Insert(i));
    SQLIFT_RETURN_IF_ERROR(app->db_->Exec("COMMIT"));
    return app;
  }

  // One application transaction; with a recorder, flushed before COMMIT.
  Status Transaction(int64_t i, Recorder* recorder) {
    SQLIFT_RETURN_IF_ERROR(Run(*begin_));
    SQLIFT_RETURN_IF_ERROR(Insert(kSeedBookings + i));
    SQLIFT_RETURN_IF_ERROR(update_->BindText(1, i % 7 == 0 ? "cancelled" : "checked_in"));
    SQLIFT_RETURN_IF_ERROR(update_->BindText(2, Timestamp(i)));
    SQLIFT_RETURN_IF_ERROR(update_->BindInt64(3, 1 + (i * 7919) % (kSeedBookings + i)));
    SQLIFT_RETURN_IF_ERROR(Run(*update_));
    if (recorder != nullptr) SQLIFT_RETURN_IF_ERROR(recorder->Flush().status());
    return Run(*commit_);
  }

  sqlite3* handle() const { return db_->handle(); }

 private:
  explicit BookingApp(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  Status Prepare() {
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

  Status Insert(int64_t i) {
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
    return Run(s);
  }

  static Status Run(SqliteStatement& s) {
    Status st = s.Run();
    SQLIFT_RETURN_IF_ERROR(s.Reset());
    return st;
  }

  std::unique_ptr<SqliteDb> db_;
  std::optional<SqliteStatement> begin_, commit_, insert_, update_;
};

// Transactions per second of one run on a fresh database.
Result<double> RunOnce(const std::string& path, int64_t transactions, bool with_recorder) {
  SQLIFT_ASSIGN_OR_RETURN(auto app, BookingApp::Create(path));
  std::unique_ptr<Recorder> recorder;
  if (with_recorder) {
    SQLIFT_ASSIGN_OR_RETURN(recorder, Recorder::Attach(app->handle()));
  }
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < transactions; ++i) {
    SQLIFT_RETURN_IF_ERROR(app->Transaction(i, recorder.get()).With(fmt::format("txn {}", i)));
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return transactions / elapsed.count();
}

void Print(const BenchCaptureOptions& o, double base, double rec) {
  double ratio = rec / base, overhead_ms = 1000.0 / rec - 1000.0 / base;
  if (o.json) {
    Json doc = {{"baseline_txn_per_s", JsonRounded(base, 1)},
                {"recorder_txn_per_s", JsonRounded(rec, 1)},
                {"ratio", JsonRounded(ratio, 3)},
                {"overhead_ms_per_txn", JsonRounded(overhead_ms, 4)},
                {"transactions", o.transactions},
                {"rounds", o.rounds}};
    *o.out << DumpJsonSpaced(doc) << "\n";
    return;
  }
  fmt::print(*o.out,
             "capture benchmark: {} rounds x {} transactions (booking INSERT + UPDATE), WAL, "
             "synchronous=NORMAL; medians\n"
             "  without recorder  {:10.0f} txn/s\n"
             "  with recorder     {:10.0f} txn/s\n"
             "  ratio             {:10.3f}   (target >= 0.85)\n"
             "  overhead          {:10.4f} ms per transaction\n",
             o.rounds, o.transactions, base, rec, ratio, overhead_ms);
}

}  // namespace

int RunBenchCapture(const BenchCaptureOptions& o) {
  if (o.transactions < 1 || o.rounds < 1) {
    fmt::print(*o.err, "bench capture: transactions and rounds must be at least 1\n");
    return 2;
  }
  ScratchDir scratch;
  Status made = MakeScratchDir(o.dir, &scratch);
  if (!made.ok()) {
    fmt::print(*o.err, "bench capture: {}\n", made.ToString());
    return 1;
  }
  const std::filesystem::path* dir = &scratch.dir;
  std::vector<double> base, rec;
  for (int round = 0; round < o.rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      bool with_recorder = (round + k) % 2 == 1;  // alternate which variant goes first
      std::string path = (*dir / fmt::format("r{}_{}.db", round, with_recorder)).string();
      Result<double> tps = RunOnce(path, o.transactions, with_recorder);
      if (!tps.ok()) {
        fmt::print(*o.err, "bench capture: {}\n", tps.status().ToString());
        return 1;
      }
      (with_recorder ? rec : base).push_back(*tps);
      for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path + suffix);
    }
  }
  Print(o, Median(base), Median(rec));
  return 0;
}

}  // namespace sqlift
