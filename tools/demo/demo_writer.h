// DemoWriters: the booking application's writers for `sqlift demo`. They write the whole time
// the demo runs and follow the route, as an application must (docs/design.md, tenants): each is
// a RouteWriter (route_writer.h) of the demo layout, which before each transaction asks the
// recorder which side takes writes, writes there (a booking with an id of its own and a status
// change of an earlier one), and waits and asks again while a switch fences the route. A
// refusal is not an error: that transaction did not happen. Every insert whose COMMIT returned
// is recorded as acknowledged, so the demo can check that each one is there at the end (writes
// lost must be 0).
//
// Thread safety: Start/Stop from the demo's thread; the accessors from any thread. Each writer
// runs on its own thread with its own SQLite and PostgreSQL connections.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "tools/demo/route_writer.h"

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

  int64_t committed() const;
  int64_t committed_on_postgres() const;
  int64_t refusals() const;  // fenced or routed elsewhere
  // Booking ids whose inserting transaction committed, in no order. Corruption if a writer's
  // own key is not a number (it never should be: the writers make the ids).
  [[nodiscard]] Result<std::vector<int64_t>> acknowledged() const;

 private:
  const std::string path_, pg_;
  const int64_t first_id_, existing_;
  std::vector<std::unique_ptr<RouteWriter>> writers_;
};

}  // namespace sqlift
