// DemoWriters: the booking application's writers for `sqlift demo`. They write the whole time
// the demo runs and follow the route, as an application must (docs/design.md, tenants): before each
// transaction they ask the recorder which side takes writes (Recorder::RouteFor("*")).
//   sqlite: insert a booking and update an earlier one through the recorder;
//   postgres: the same on PostgreSQL;
//   fenced (a cutover or fallback is switching): wait a millisecond and ask again.
// A refusal from either side's fence (the recorder's Unavailable / FailedPrecondition,
// PostgreSQL's SQLSTATE SL001 / SL002) is not an error: the transaction did not happen, and it
// is tried again after the route is read again. Every insert whose COMMIT returned is recorded
// as acknowledged with the side it went to, so the demo can check that each one is there at
// the end (writes lost must be 0).
//
// Thread safety: Start/Stop and the accessors from the demo's thread; each writer runs on its
// own thread with its own SQLite connection and PostgreSQL connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/status.h"

namespace sqlift {

class DemoWriters {
 public:
  // `first_id`: booking ids above every generated one; `existing`: ids 1..existing to update;
  // `pg`: the target, for writes once the route says postgres.
  DemoWriters(std::string db_path, std::string pg, int64_t first_id, int64_t existing)
      : path_(std::move(db_path)), pg_(std::move(pg)), first_id_(first_id), existing_(existing) {}
  ~DemoWriters() { (void)Stop(); }

  void Start(int writers);
  // Stops every writer and joins; the first error any of them met.
  [[nodiscard]] Status Stop();

  int64_t committed() const { return committed_sqlite_.load() + committed_pg_.load(); }
  int64_t committed_on_postgres() const { return committed_pg_.load(); }
  int64_t refusals() const { return refusals_.load(); }  // fenced or routed elsewhere
  // Booking ids whose inserting transaction committed, in no order.
  std::vector<int64_t> acknowledged() const;

  struct Writer;  // demo_writer.cc

 private:
  void Run(int writer);

  const std::string path_, pg_;
  const int64_t first_id_, existing_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> committed_sqlite_{0}, committed_pg_{0}, refusals_{0};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::vector<int64_t> acked_;
  Status error_;
};

}  // namespace sqlift
