// DemoWriters: the demo's route-following writers (see demo_writer.h).
#include "tools/demo/demo_writer.h"

#include "common/base/parse.h"

namespace sqlift {

void DemoWriters::Start(int writers) {
  for (int w = 0; w < writers; ++w) {
    RouteWriterOptions o;
    o.sqlite_path = path_;
    o.pg_uri = pg_;
    o.layout = WriterLayout::kDemo;
    o.writer = std::to_string(w);
    o.pace = std::chrono::microseconds(0);  // as fast as the database takes them
    o.sqlite_busy_timeout = std::chrono::milliseconds(20000);
    o.first_id = first_id_ + w * 100'000'000LL;
    o.existing = existing_;
    Result<std::unique_ptr<RouteWriter>> started = RouteWriter::Start(std::move(o));
    if (started.ok()) writers_.push_back(std::move(started).value());
  }
}

Status DemoWriters::Stop() {
  Status first;
  for (const std::unique_ptr<RouteWriter>& w : writers_) {
    Status st = w->Stop();
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

int64_t DemoWriters::committed() const {
  int64_t n = 0;
  for (const std::unique_ptr<RouteWriter>& w : writers_)
    n += static_cast<int64_t>(w->acked_count());
  return n;
}

int64_t DemoWriters::committed_on_postgres() const {
  int64_t n = 0;
  for (const std::unique_ptr<RouteWriter>& w : writers_)
    n += static_cast<int64_t>(w->acked_on(WriteSide::kPostgres));
  return n;
}

int64_t DemoWriters::refusals() const {
  int64_t n = 0;
  for (const std::unique_ptr<RouteWriter>& w : writers_)
    n += static_cast<int64_t>(w->stats().refusals());
  return n;
}

Result<std::vector<int64_t>> DemoWriters::acknowledged() const {
  std::vector<int64_t> ids;
  for (const std::unique_ptr<RouteWriter>& w : writers_) {
    for (const AckedWrite& a : w->acked()) {
      SQLIFT_ASSIGN_OR_RETURN(int64_t id, ParseInt64(a.key, "acknowledged booking id"));
      ids.push_back(id);
    }
  }
  return ids;
}

}  // namespace sqlift
