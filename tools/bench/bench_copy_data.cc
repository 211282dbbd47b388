// The booking database `bench copy` loads: testdata/booking_schema.sql with generated rows.
// Values are what such an application stores: DECIMAL prices as SQLite keeps them (REAL, or
// INTEGER when whole), BOOLEAN as 0/1, DATETIME as 'YYYY-MM-DD HH:MM:SS' text, optional
// columns often NULL, and text with commas, quotes, backslashes, tabs, newlines and non-ASCII
// letters, so that both loaders' escaping is exercised. One fixed-seed generator (splitmix64,
// not <random>'s distributions, whose output differs between standard libraries) makes the
// file the same on every machine.
#include <fmt/format.h>

#include <array>
#include <optional>

#include "common/sqlite/sqlite_db.h"
#include "tools/bench/bench_copy_internal.h"
#include "tools/bench/bench_util.h"

namespace sqlift::bench_copy {
namespace {

constexpr int64_t kUsers = 200;
constexpr int64_t kEpoch2022 = 1640995200;  // 2022-01-01 00:00:00 UTC
constexpr int64_t kDay = 86400;

class Rng {
 public:
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
  bool Percent(int p) { return Below(100) < p; }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& a) {
    return a[static_cast<size_t>(Below(N))];
  }

 private:
  uint64_t state_ = 20240501;
};

// Unix seconds as SQLite's datetime() writes them: 'YYYY-MM-DD HH:MM:SS' (UTC). Days to civil
// date after Howard Hinnant's days_from_civil inverse; gmtime + fmt per value made generating
// two million bookings noticeably slower.
std::string Timestamp(int64_t t) {
  int64_t days = t / kDay, secs = t % kDay;
  int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, m, d, secs / 3600, secs / 60 % 60,
                     secs % 60);
}

const std::array<std::pair<const char*, const char*>, 16> kFirst = {{
    {"Anna", "anna"},
    {"José", "jose"},
    {"Zoë", "zoe"},
    {"Liam", "liam"},
    {"Mei", "mei"},
    {"Łukasz", "lukasz"},
    {"Fatima", "fatima"},
    {"Noah", "noah"},
    {"Sofía", "sofia"},
    {"Oliver", "oliver"},
    {"Aiko", "aiko"},
    {"Ethan", "ethan"},
    {"Chloé", "chloe"},
    {"Mateo", "mateo"},
    {"Ingrid", "ingrid"},
    {"Kwame", "kwame"},
}};
const std::array<std::pair<const char*, const char*>, 12> kLast = {{
    {"Smith", "smith"},
    {"O'Brien", "obrien"},
    {"Müller", "mueller"},
    {"García", "garcia"},
    {"Nguyen", "nguyen"},
    {"Kowalski", "kowalski"},
    {"Tanaka", "tanaka"},
    {"Dubois", "dubois"},
    {"Okafor", "okafor"},
    {"Rossi", "rossi"},
    {"Johansson", "johansson"},
    {"Lee", "lee"},
}};
const std::array<const char*, 8> kNotes = {
    "Projector needed",
    "Two guests arrive early, please have coffee ready",
    "Catering: 12 sandwiches, one \"vegan\" option",
    "Client call; the room must be quiet.\nNo interruptions after 14:00",
    "Besprechung mit Kunde – Präsentation über Q3",
    "Slides on \\\\fileserver\\share\\deck.pptx",
    "Needs\ttwo whiteboards",
    "Recurring weekly stand-up 🗓",
};
const std::array<const char*, 6> kCategories = {"meeting", "conference", "focus",
                                                "studio",  "auditorium", "phone booth"};

// A status with the weights an active booking system has.
const char* BookingStatus(Rng& rng) {
  int64_t r = rng.Below(100);
  return r < 70 ? "confirmed" : r < 85 ? "completed" : r < 95 ? "cancelled" : "pending";
}

Status Bind(SqliteStatement& s, int i, const std::optional<std::string>& v) {
  return v ? s.BindText(i, *v) : s.BindNull(i);
}

Status Step(SqliteStatement& s) {
  SQLIFT_RETURN_IF_ERROR(s.Run());
  return s.Reset();
}

// Rooms; *cents receives each room's price per hour in cents, for its bookings' totals.
Status InsertRooms(SqliteDb& db, Rng& rng, int64_t n, std::vector<int64_t>* cents) {
  static const std::array<const char*, 5> kBuildings = {"Atlas", "Borealis", "Cedar", "Delta",
                                                        "Elm"};
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement s,
                          db.Prepare("INSERT INTO rooms (name, capacity, category, description, "
                                     "price_per_hour, is_active, created_at, updated_at) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  for (int64_t i = 0; i < n; ++i) {
    cents->push_back(1000 + 50 * rng.Below(280));
    int64_t created = kEpoch2022 + rng.Below(365 * kDay);
    SQLIFT_RETURN_IF_ERROR(
        s.BindText(1, fmt::format("{} {}.{:02}", rng.Pick(kBuildings), 1 + i % 9, 1 + i / 9 % 99)));
    SQLIFT_RETURN_IF_ERROR(s.BindInt64(2, 2 + rng.Below(39)));
    SQLIFT_RETURN_IF_ERROR(s.BindText(3, rng.Pick(kCategories)));
    std::optional<std::string> desc;
    if (rng.Percent(70))
      desc = fmt::format("Screen, whiteboard, {} seats, floor {}", 2 + i % 30, i % 9);
    SQLIFT_RETURN_IF_ERROR(Bind(s, 4, desc));
    SQLIFT_RETURN_IF_ERROR(s.BindDouble(5, static_cast<double>(cents->back()) / 100.0));
    SQLIFT_RETURN_IF_ERROR(s.BindInt64(6, rng.Percent(90) ? 1 : 0));
    SQLIFT_RETURN_IF_ERROR(s.BindText(7, Timestamp(created)));
    SQLIFT_RETURN_IF_ERROR(s.BindText(8, Timestamp(created + rng.Below(400) * kDay)));
    SQLIFT_RETURN_IF_ERROR(Step(s));
  }
  return Status::OK();
}

Status InsertBooking(SqliteStatement& s, Rng& rng, const std::vector<int64_t>& cents) {
  int64_t room = rng.Below(static_cast<int64_t>(cents.size()));
  auto [first, first_ascii] = rng.Pick(kFirst);
  auto [last, last_ascii] = rng.Pick(kLast);
  int64_t start =
      kEpoch2022 + rng.Below(3 * 365) * kDay + (7 + rng.Below(12)) * 3600 + rng.Below(4) * 900;
  int64_t quarters = 1 + rng.Below(16);
  int64_t created = start - rng.Below(60 * kDay);
  SQLIFT_RETURN_IF_ERROR(s.BindInt64(1, room + 1));
  SQLIFT_RETURN_IF_ERROR(s.BindText(2, fmt::format("{} {}", first, last)));
  std::optional<std::string> email, phone, notes;
  if (rng.Percent(95))
    email = fmt::format("{}.{}{}@example.com", first_ascii, last_ascii, rng.Below(1000));
  if (rng.Percent(80)) phone = fmt::format("+1-555-{:04}", rng.Below(10000));
  if (rng.Percent(40)) notes = rng.Pick(kNotes);
  SQLIFT_RETURN_IF_ERROR(Bind(s, 3, email));
  SQLIFT_RETURN_IF_ERROR(Bind(s, 4, phone));
  SQLIFT_RETURN_IF_ERROR(s.BindText(5, Timestamp(start)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(6, Timestamp(start + quarters * 900)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(7, BookingStatus(rng)));
  SQLIFT_RETURN_IF_ERROR(Bind(s, 8, notes));
  if (rng.Percent(97)) {  // a price in cents, stored as SQLite stores a DECIMAL: REAL
    int64_t total = (cents[static_cast<size_t>(room)] * quarters + 2) / 4;
    SQLIFT_RETURN_IF_ERROR(s.BindDouble(9, static_cast<double>(total) / 100.0));
  } else {
    SQLIFT_RETURN_IF_ERROR(s.BindNull(9));
  }
  SQLIFT_RETURN_IF_ERROR(s.BindText(10, Timestamp(created)));
  SQLIFT_RETURN_IF_ERROR(s.BindText(11, Timestamp(created + rng.Below(5 * kDay))));
  return Step(s);
}

Status InsertBookings(SqliteDb& db, Rng& rng, int64_t n, const std::vector<int64_t>& cents) {
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement s,
      db.Prepare("INSERT INTO bookings (room_id, customer_name, customer_email, customer_phone, "
                 "start_time, end_time, status, notes, total_price, created_at, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (int64_t i = 0; i < n; ++i)
    SQLIFT_RETURN_IF_ERROR(InsertBooking(s, rng, cents).With(fmt::format("booking {}", i + 1)));
  return Status::OK();
}

// Users, the week's business hours and a few settings: small tables, as in the application.
Status InsertOthers(SqliteDb& db, Rng& rng) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement u,
                          db.Prepare("INSERT INTO users (email, password, name, role, created_at, "
                                     "updated_at) VALUES (?, ?, ?, ?, ?, ?)"));
  for (int64_t i = 0; i < kUsers; ++i) {
    auto [first, first_ascii] = rng.Pick(kFirst);
    auto [last, last_ascii] = rng.Pick(kLast);
    std::string created = Timestamp(kEpoch2022 + rng.Below(700 * kDay));
    SQLIFT_RETURN_IF_ERROR(
        u.BindText(1, fmt::format("{}.{}.{}@example.org", first_ascii, last_ascii, i)));
    SQLIFT_RETURN_IF_ERROR(
        u.BindText(2, fmt::format("$2b$12${:016x}{:016x}", rng.Next(), rng.Next())));
    SQLIFT_RETURN_IF_ERROR(u.BindText(3, fmt::format("{} {}", first, last)));
    SQLIFT_RETURN_IF_ERROR(u.BindText(4, i < 5 ? "admin" : "user"));
    SQLIFT_RETURN_IF_ERROR(u.BindText(5, created));
    SQLIFT_RETURN_IF_ERROR(u.BindText(6, created));
    SQLIFT_RETURN_IF_ERROR(Step(u));
  }
  return db.Exec(
      "INSERT INTO business_hours (day_of_week, open_time, close_time, is_closed, created_at, "
      "updated_at) VALUES (0, '00:00', '00:00', 1, '2022-01-01 09:00:00', '2022-01-01 09:00:00'),"
      " (1, '07:00', '20:00', 0, '2022-01-01 09:00:00', '2023-03-14 17:45:10'),"
      " (2, '07:00', '20:00', 0, '2022-01-01 09:00:00', '2023-03-14 17:45:10'),"
      " (3, '07:00', '20:00', 0, '2022-01-01 09:00:00', '2023-03-14 17:45:10'),"
      " (4, '07:00', '20:00', 0, '2022-01-01 09:00:00', '2023-03-14 17:45:10'),"
      " (5, '07:00', '18:00', 0, '2022-01-01 09:00:00', '2023-03-14 17:45:10'),"
      " (6, '09:00', '13:00', 0, '2022-01-01 09:00:00', '2022-01-01 09:00:00');"
      "INSERT INTO settings (key, value, created_at, updated_at) VALUES"
      " ('site_name', 'Downtown Rooms', '2022-01-01 09:00:00', '2022-01-01 09:00:00'),"
      " ('currency', 'EUR', '2022-01-01 09:00:00', '2022-01-01 09:00:00'),"
      " ('max_booking_hours', '4', '2022-01-01 09:00:00', '2022-06-30 12:00:00'),"
      " ('cancellation_policy', 'Free up to 24 h before; then 50%', '2022-01-01 09:00:00',"
      "  '2022-01-01 09:00:00'),"
      " ('email_footer', 'Thanks, the front desk\nDowntown Rooms', '2022-01-01 09:00:00',"
      "  '2022-01-01 09:00:00')");
}

}  // namespace

Result<GeneratedDb> GenerateBookingDb(const std::string& path, int64_t rooms, int64_t bookings) {
  if (rooms < 1 || bookings < 0) return Status::InvalidArgument("rooms must be at least 1");
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate));
  // A scratch file: no journal, no syncs. One transaction, statements prepared once.
  SQLIFT_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF"));
  SQLIFT_RETURN_IF_ERROR(db->Exec(kBookingSchemaSql));
  SQLIFT_RETURN_IF_ERROR(db->Exec("BEGIN"));
  Rng rng;
  std::vector<int64_t> cents;
  SQLIFT_RETURN_IF_ERROR(InsertOthers(*db, rng).With("generate users and settings"));
  SQLIFT_RETURN_IF_ERROR(InsertRooms(*db, rng, rooms, &cents).With("generate rooms"));
  SQLIFT_RETURN_IF_ERROR(InsertBookings(*db, rng, bookings, cents).With("generate bookings"));
  SQLIFT_RETURN_IF_ERROR(db->Exec("COMMIT"));
  GeneratedDb out;
  out.rooms = rooms, out.bookings = bookings, out.others = kUsers + 7 + 5;
  out.tables = {"users", "rooms", "bookings", "business_hours", "settings"};
  return out;
}

}  // namespace sqlift::bench_copy
