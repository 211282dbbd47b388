// RouteWriter: an application writer thread that follows the route, as an application migrated
// with sqlift must (design invariant 7, tools/switch/switch_run.h): the writers of `sqlift
// demo` (demo_writer.h) and of the cutover, fallback and finish end-to-end tests.
//
// Each writer owns one SQLite connection with a Recorder attached and a lazily opened
// PostgreSQL connection. Until Stop() it loops:
//   route = recorder->RouteFor(tenant)           ("*" for a database without tenants)
//   fenced                 wait ~1 ms, ask again (counted: route_fenced)
//   sqlite                 one SQLite transaction through the recorder. Unavailable "being
//                          switched": fenced (sqlite_fenced), retry; FailedPrecondition "routed to
//                          postgres" (or the guard triggers' "is on postgres"): re-read the route
//                          (sqlite_routed); SQLITE_BUSY: retry (busy)
//   postgres               the same writes on PostgreSQL in one transaction, bound parameters.
//                          SL001: fenced (pg_fenced), retry; SL002: re-read the route
//                          (pg_routed); a lost connection: reconnect (pg_errors; a COMMIT
//                          whose outcome is unknown counts as `uncertain`)
// A refused write did not happen: it is not acknowledged, and the next one is tried after the
// route is read again. Anything else stops the writer with the error (error()).
//
// One write (per layout, see WriterLayout; the SQL is in route_writes.cc):
//   commerce   a product (fresh UUID key, sku "<writer>-<n>"), an order (fresh UUID) with one
//              order item, and writer_counters.n + 1 for the writer's row
//   booking    a booking whose id SQLite (AUTOINCREMENT) or PostgreSQL (identity) generates,
//              customer_name "<writer>-<n>", and writer_counters.n + 1; for a
//              database-per-tenant file (pg_tenant_column), on PostgreSQL the booking gets the
//              tenant in that column and the counter is the tenant's row
//   demo       the demo's booking application: a booking with id first_id + n, and a status
//              change of one of the bookings 1..existing
// Every acknowledged write is recorded with its keys, values, side, time and (on SQLite) the
// outbox seq of its changeset, so a test can look each one up afterwards and place it against
// a switch's fence (WriteSku, CentsText: the values as both sides store them). Times are whole
// UTC seconds and JSON is written in jsonb's own text form, so both sides spell them alike.
//
// Ownership: owns its thread and connections. Thread safety: every public method may be called
// from any thread while the writer runs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/result.h"

namespace sqlift {

enum class WriterLayout { kCommerce, kBooking, kDemo };
enum class WriteSide { kSqlite, kPostgres };

struct RouteWriterOptions {
  std::string sqlite_path;
  std::string pg_uri;
  WriterLayout layout = WriterLayout::kCommerce;
  std::string tenant = "*";              // the tenant every row belongs to ("*": no tenant column)
  std::string writer;                    // unique name; its writer_counters row must exist
  std::string customer_id;               // commerce: an existing customer of the tenant
  int64_t room_id = 1;                   // booking: an existing room
  std::chrono::microseconds pace{4000};  // sleep after each acknowledged write (0: none)
  std::chrono::milliseconds sqlite_busy_timeout{5000};
  // On PostgreSQL, the time between the transaction's last statement and its COMMIT: a
  // transaction in flight while a switch fences the tenant.
  std::chrono::milliseconds pg_hold{0};
  // Booking, database-per-tenant (`tenant` is the file's): the constant tenant column
  // PostgreSQL's tables have and SQLite's do not. Empty: none.
  std::string pg_tenant_column;
  // Demo: the n-th write's booking id is first_id + n; it changes one of bookings 1..existing.
  int64_t first_id = 0;
  int64_t existing = 1;
};

struct AckedWrite {
  int64_t n = 0;  // the writer's sequence number of this write
  WriteSide side = WriteSide::kSqlite;
  std::string key;       // commerce: product_id; booking, demo: the booking id
  std::string order_id;  // commerce only
  int64_t cents = 0;     // price (commerce) or total_price (booking, demo) in cents
  int64_t quantity = 0;  // commerce: the order item's quantity
  uint64_t seq = 0;      // acknowledged on SQLite: the outbox seq of its changeset
  std::chrono::steady_clock::time_point at;
};

struct WriterStats {
  uint64_t acked_sqlite = 0, acked_pg = 0;
  uint64_t route_fenced = 0;   // RouteFor said fenced
  uint64_t sqlite_fenced = 0;  // the recorder refused: being switched
  uint64_t sqlite_routed = 0;  // the recorder refused: routed to postgres
  uint64_t pg_fenced = 0;      // SL001
  uint64_t pg_routed = 0;      // SL002
  uint64_t busy = 0;           // SQLITE_BUSY, serialization failures: retried
  uint64_t pg_errors = 0;      // connection lost or refused: reconnected
  uint64_t uncertain = 0;      // COMMITs whose outcome is unknown (the connection broke)
  double max_gap_ms = 0;       // the longest time between two acknowledged writes

  uint64_t acked() const { return acked_sqlite + acked_pg; }
  // Every kind of refusal a switch causes (not busy, not lost connections).
  uint64_t refusals() const {
    return route_fenced + sqlite_fenced + sqlite_routed + pg_fenced + pg_routed;
  }
};

class RouteWriter {
 public:
  // Starts the thread, which opens its SQLite connection and attaches a recorder first (a
  // failure there stops it: error()).
  [[nodiscard]] static Result<std::unique_ptr<RouteWriter>> Start(RouteWriterOptions options);
  ~RouteWriter();  // Stop()
  RouteWriter(const RouteWriter&) = delete;
  RouteWriter& operator=(const RouteWriter&) = delete;

  // Asks the loop to end after its current write and joins it; returns error().
  Status Stop();
  // The error that stopped the writer on its own, OK while it runs fine.
  Status error() const;
  bool running() const { return !done_.load(); }

  WriterStats stats() const;
  std::vector<AckedWrite> acked() const;
  uint64_t acked_count() const;
  uint64_t acked_on(WriteSide side) const;
  // Forgets the longest gap so far (the next one is measured from the last write on).
  void ResetMaxGap();
  // Blocks until at least `count` writes are acknowledged in total; false at the deadline or
  // when the writer stopped.
  bool WaitAcked(uint64_t count, std::chrono::milliseconds timeout) const;
  const RouteWriterOptions& options() const { return o_; }

  struct Loop;  // route_writer.cc

 private:
  explicit RouteWriter(RouteWriterOptions o);
  void Record(const AckedWrite& a);
  void Finish(Status st);

  const RouteWriterOptions o_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, done_{false};

  mutable std::mutex mu_;
  WriterStats stats_;              // guarded by mu_
  std::vector<AckedWrite> acked_;  // guarded by mu_
  Status error_;                   // guarded by mu_
};

// The values a write stores, as text both sides agree on (shared with the checks).
std::string WriteSku(const std::string& writer, int64_t n);  // also booking customer_name
std::string CentsText(int64_t cents);                        // 1234 -> "12.34"

}  // namespace sqlift
