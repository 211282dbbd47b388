// What the benchmarks share (see bench_util.h).
#include "tools/bench/bench_util.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>

namespace sqlift {

const char* const kBookingSchemaSql = R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT UNIQUE NOT NULL,
  password TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT DEFAULT 'user',
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE rooms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  capacity INTEGER NOT NULL,
  category TEXT NOT NULL,
  description TEXT,
  price_per_hour DECIMAL(10,2) DEFAULT 0,
  is_active BOOLEAN DEFAULT 1,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE bookings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id INTEGER NOT NULL,
  customer_name TEXT NOT NULL,
  customer_email TEXT,
  customer_phone TEXT,
  start_time DATETIME NOT NULL,
  end_time DATETIME NOT NULL,
  status TEXT DEFAULT 'confirmed',
  notes TEXT,
  total_price DECIMAL(10,2),
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (room_id) REFERENCES rooms (id)
);
CREATE TABLE business_hours (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  day_of_week INTEGER NOT NULL,
  open_time TEXT NOT NULL,
  close_time TEXT NOT NULL,
  is_closed BOOLEAN DEFAULT 0,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE settings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT UNIQUE NOT NULL,
  value TEXT NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
)sql";

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (owned) std::filesystem::remove_all(dir, ec);
}

Status MakeScratchDir(const std::string& requested, ScratchDir* s) {
  if (!requested.empty()) {
    s->dir = requested;
    std::error_code ec;
    std::filesystem::create_directories(s->dir, ec);
    return ec ? Status::IOError(fmt::format("create {}: {}", requested, ec.message()))
              : Status::OK();
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "sqlift_bench_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::IOError("mkdtemp " + pattern);
  s->dir = pattern;
  s->owned = true;
  return Status::OK();
}

}  // namespace sqlift
