// DemoWriters: the booking application's writers for `sqlift demo`, writing through the
// recorder (capture/recorder.h) the whole time the demo runs: each transaction inserts a
// booking with an id of its own and updates the status of an earlier one. Every insert whose
// COMMIT returned is recorded as acknowledged, so the demo can check that each one reached
// PostgreSQL (writes lost must be 0).
//
// Thread safety: Start/Stop/acknowledged from the demo's thread; each writer runs on its own
// thread with its own SQLite connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace sqlift {

class DemoWriters {
 public:
  // `first_id`: booking ids above every generated one; `existing`: ids 1..existing to update.
  DemoWriters(std::string db_path, int64_t first_id, int64_t existing)
      : path_(std::move(db_path)), first_id_(first_id), existing_(existing) {}
  ~DemoWriters() { (void)Stop(); }

  void Start(int writers);
  // Stops every writer and joins; the first error any of them met.
  [[nodiscard]] Status Stop();

  int64_t committed() const { return committed_.load(); }
  // Booking ids whose inserting transaction committed, in no order.
  std::vector<int64_t> acknowledged() const;

 private:
  void Run(int writer);
  Status Write(int writer);

  const std::string path_;
  const int64_t first_id_, existing_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> committed_{0};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::vector<int64_t> acked_;
  Status error_;
};

}  // namespace sqlift
