// The steps cutover and fallback share (tools/switch_run.h): opening both sides, waiting on
// positions, changing the route, verifying the tenant. Internal to tools/.
//
// Thread safety: one Switch per call, used from the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "apply/pg_connection.h"
#include "capture/route_table.h"
#include "capture/sqlite_db.h"
#include "common/result.h"
#include "tools/switch_run.h"

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
};

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
