// The steps cutover and fallback share (tools/switch_run.h): opening both sides, waiting on
// positions, changing the route, verifying the tenant. Internal to tools/.
//
// Thread safety: one Switch per call, used from the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/pg/pg_connection.h"
#include "capture/outbox/route_table.h"
#include "common/sqlite/sqlite_db.h"
#include "common/base/result.h"
#include "tools/switch/switch_run.h"

namespace sqlift::switching {

using Clock = std::chrono::steady_clock;

// One cutover or fallback in progress.
struct Switch {
  Switch(const Config& c, const SwitchOptions& opt, SwitchReport& rep)
      : cfg(c), o(opt), r(rep), deadline(Clock::now() + opt.timeout) {}

  // Runs one step, timing it and recording it in the report; returns its status.
  Status Step(const std::string& name, const std::function<Status(std::string* note)>& body);
  bool TimedOut() const { return Clock::now() > deadline; }

  const Config& cfg;
  const SwitchOptions& o;
  SwitchReport& r;
  Clock::time_point deadline;
  std::unique_ptr<SqliteDb> db;      // the application's database, read-write
  std::unique_ptr<PgConnection> pg;  // the target
  RouteRow route;                    // the tenant's route before the switch
  Clock::time_point fenced_at;       // when the fence committed (the write pause starts)
};

double MsSince(Clock::time_point t);

// Runs one step of `label` (for the log: "cutover tenant \"acme\"", "finish"), timing it and
// appending it to *steps; returns its status.
[[nodiscard]] Status RunStep(const std::string& label, std::vector<SwitchStep>* steps,
                             const std::string& name,
                             const std::function<Status(std::string* note)>& body);

// The three route changes of a switch, each one step (`side` is where the tenant is now):
// the fence (r.fence_seq; the pause starts), the flip to the other side at epoch + 1
// (r.flip_seq, r.epoch_after; the commit point) and, after a failure before the flip, the undo
// (the fence lifted; r.reason and r.undone say what happened).
[[nodiscard]] Status Fence(Switch& s, std::string_view side, const std::string& what);
[[nodiscard]] Status Flip(Switch& s, std::string_view to, const std::string& what);
void Undo(Switch& s, std::string_view side, const Status& why, const std::string& what);

// Opens both sides, reads the tenant's route, and checks that the source replicates
// (PostgreSQL holds its position).
[[nodiscard]] Status Open(Switch& s);

// The outbox's high-water mark: the last seq committed on SQLite (invariant 2).
[[nodiscard]] Result<uint64_t> OutboxHighWater(SqliteDb& db);
[[nodiscard]] Result<uint64_t> AppliedSeq(PgConnection& pg, const std::string& source);

// Until applied_seq >= seq; Aborted at the deadline.
[[nodiscard]] Status WaitApplied(Switch& s, uint64_t seq, std::string* note);
// Until the applier is within max_lag_seqs of the outbox.
[[nodiscard]] Status CatchUp(Switch& s, std::string* note);

// Writes the tenant's route (and its outbox event) on SQLite; returns the event's seq.
[[nodiscard]] Result<uint64_t> SetRoute(Switch& s, std::string_view side, int64_t epoch,
                                        bool fenced);

// Compares the tenant's rows on both sides (both must be still: fenced and drained). With
// `fast`, only the rows changed since the last full verify and the counts, when that applies.
[[nodiscard]] Status VerifyTenant(Switch& s, bool fast, std::string* note);

// Until the slot's confirmed position passes a marker written now (the reverse path has
// applied every PostgreSQL write committed before it); Aborted at the deadline.
[[nodiscard]] Status WaitReverseDrained(Switch& s, std::string* note);

}  // namespace sqlift::switching
