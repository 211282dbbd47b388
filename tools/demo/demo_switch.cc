// `sqlift demo`'s cutover, fallback and finish stages (see demo_run.h), in this process through
// the sub-commands' own code (tools/switch_run.h), with the daemons and the writers running.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <thread>

#include "common/sqlite/sqlite_db.h"
#include "tools/demo/demo_stages.h"
#include "tools/switch/switch_run.h"

namespace sqlift::demo {
namespace {

std::string StepsOf(const SwitchReport& r) {
  std::vector<std::string> parts;
  for (const SwitchStep& s : r.steps)
    parts.push_back(fmt::format("{} {:.0f} ms", s.name, s.ms));
  return fmt::format("{}", fmt::join(parts, ", "));
}

// How many of `ids` a table of bookings lacks; the query is given the ids as one array.
Result<int64_t> MissingInPg(PgConnection& conn, const std::vector<int64_t>& ids) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult found,
      conn.Query("SELECT count(*) FROM public.bookings WHERE id = ANY($1::bigint[])",
                 {fmt::format("{{{}}}", fmt::join(ids, ","))}));
  SQLIFT_ASSIGN_OR_RETURN(int64_t present, found.GetInt64(0, 0));
  return static_cast<int64_t>(ids.size()) - present;
}

Result<int64_t> MissingInSqlite(const std::string& path, const std::vector<int64_t>& ids) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement q, db->Prepare("SELECT 1 FROM bookings WHERE id = ?1"));
  int64_t missing = 0;
  for (int64_t id : ids) {
    SQLIFT_RETURN_IF_ERROR(q.BindInt64(1, id));
    SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
    missing += row ? 0 : 1;
    SQLIFT_RETURN_IF_ERROR(q.Reset());
  }
  return missing;
}

}  // namespace

Status Demo::Cutover(std::string* note, std::optional<double>* pause_ms) {
  const int64_t before = writers_->committed_on_postgres();
  SwitchOptions so;
  so.tenant = "*";
  SwitchReport r = RunCutover(cfg_, so);
  if (!r.ok) return Status::FailedPrecondition(SwitchReportText(r));
  *pause_ms = r.pause_ms;
  // The writers follow the route: wait until one of them has written on PostgreSQL.
  Clock::time_point start = Clock::now();
  while (writers_->committed_on_postgres() == before) {
    if (Since(start) > 30) return Status::Aborted("no writer wrote on PostgreSQL within 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  *note = fmt::format(
      "write pause {:.1f} ms (route epoch {} -> {}); {}; the writers now write on "
      "PostgreSQL",
      r.pause_ms, r.epoch_before, r.epoch_after, StepsOf(r));
  return Status::OK();
}

Status Demo::WritesOnPostgres(std::string* note) {
  const int64_t before = writers_->committed_on_postgres();
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(o_.stream_seconds * 1000)));
  *note = fmt::format(
      "{} transactions on PostgreSQL, brought back to SQLite by reverse "
      "replication as they commit",
      writers_->committed_on_postgres() - before);
  return Status::OK();
}

Status Demo::Fallback(std::string* note) {
  SQLIFT_ASSIGN_OR_RETURN(const std::vector<int64_t> acked_before, writers_->acknowledged());
  SwitchOptions so;
  so.tenant = "*";
  SwitchReport r = RunFallback(cfg_, so);
  if (!r.ok) return Status::FailedPrecondition(SwitchReportText(r));
  r_.fallback_pause_ms = r.pause_ms;
  // Every write acknowledged before the fallback (on either side) must now be in SQLite.
  SQLIFT_ASSIGN_OR_RETURN(r_.lost_after_fallback, MissingInSqlite(Path("app.db"), acked_before));
  *note = fmt::format("write pause {:.1f} ms; {} acknowledged writes, {} missing in SQLite; {}",
                      r.pause_ms, acked_before.size(), r_.lost_after_fallback, StepsOf(r));
  return r_.lost_after_fallback == 0 ? Status::OK() : Status::FailedPrecondition(*note);
}

// The writers stop, forward replication catches up, the agent stops, `finish` leaves
// PostgreSQL alone; then every acknowledged write must be in PostgreSQL.
Status Demo::Finish(std::string* note) {
  SQLIFT_RETURN_IF_ERROR(writers_->Stop());
  r_.writes_acknowledged = writers_->committed();
  r_.writes_on_postgres = writers_->committed_on_postgres();
  r_.writes_refused = writers_->refusals();
  Clock::time_point stopped = Clock::now();
  SQLIFT_RETURN_IF_ERROR(CatchUp(std::chrono::seconds(120)));
  r_.catch_up_ms = Since(stopped) * 1000;
  SQLIFT_ASSIGN_OR_RETURN(uint64_t applied, Position("applied_seq"));
  r_.changes_streamed = applied - r_.snapshot_seq;
  int agent = bench_stream::Stop(*agent_, std::chrono::seconds(30));
  agent_.reset();
  if (agent != 0) return Status::Internal(fmt::format("capture exited {}", agent));
  FinishReport f = RunFinish(cfg_);
  if (!f.ok) return Status::FailedPrecondition("finish: " + f.reason);
  SQLIFT_ASSIGN_OR_RETURN(const std::vector<int64_t> acked, writers_->acknowledged());
  SQLIFT_ASSIGN_OR_RETURN(r_.writes_lost, MissingInPg(*conn_, acked));
  *note = fmt::format(
      "writers stopped ({} acknowledged, {} on PostgreSQL); slot, fences and "
      "sqlift's SQLite tables dropped; {} acknowledged writes missing in "
      "PostgreSQL",
      r_.writes_acknowledged, r_.writes_on_postgres, r_.writes_lost);
  return r_.writes_lost == 0 ? Status::OK() : Status::FailedPrecondition(*note);
}

Status Demo::StopApplier(std::string* note) {
  int applier = bench_stream::Stop(*applier_, std::chrono::seconds(30));
  applier_.reset();
  *note = fmt::format("apply exited {} on SIGTERM", applier);
  return applier == 0 ? Status::OK() : Status::Internal(*note);
}

}  // namespace sqlift::demo
