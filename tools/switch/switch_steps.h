// The steps cutover and fallback share (tools/switch/switch_run.h), over the real databases:
// opening both sides, waiting on positions, changing the route, verifying the tenant. Internal
// to tools/switch. DatabaseSides is SwitchSides (switch_sides.h) over them; each direction adds
// its own steps (cutover_run.cc, fallback_run.cc).
//
// Thread safety: one Switch per call, used from the calling thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "capture/outbox/route_table.h"
#include "common/base/result.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "state/change_log.h"
#include "tools/switch/switch_run.h"
#include "tools/switch/switch_sequence.h"
#include "tools/switch/switch_sides.h"
#include "tools/verify/verify_fast.h"
#include "tools/verify/verify_run.h"

namespace sqlift::switching {

// One cutover or fallback in progress.
struct Switch {
  Switch(const Config& c, const SwitchOptions& opt, SwitchReport& rep)
      : cfg(c), o(opt), r(rep), deadline(Clock::now() + opt.timeout) {}

  bool TimedOut() const { return Clock::now() > deadline; }

  const Config& cfg;
  const SwitchOptions& o;
  SwitchReport& r;
  Clock::time_point deadline;
  std::unique_ptr<SqliteDb> db;      // the application's database, read-write
  std::unique_ptr<PgConnection> pg;  // the target
  RouteRow route;                    // the tenant's route before the switch
  // wal capture mode: the capture agent's progress file, from which log seqs are named
  // (capture/snapshot/wal_barrier.h); empty in recorder mode, where they are outbox seqs.
  std::string wal_progress;
  std::chrono::milliseconds wal_barrier_timeout{10'000};  // each barrier's wait for the agent
  // The proof the check inside the fence starts from ("prove", switch_proof.h), and the keys
  // that check found changed since it (for the sequences inside the fence).
  std::optional<VerifiedAt> proof;
  std::optional<ChangedKeys> prior;  // the keys changed since the proof, as "prove" read them
  std::optional<ChangedKeys> changed;
  // The agent's log, opened beside it as a secondary before the fence (SwitchLog), so that
  // inside the fence reading it costs only catching up.
  std::unique_ptr<state::ChangeLog> log;
  std::string log_dir;  // the secondary's own files, removed with the switch
  ~Switch();
  std::optional<Clock::time_point> route_committed_at;  // the last WriteRouteAt's commit
};

// The agent's log as of now: opened as a secondary the first time, caught up after that.
[[nodiscard]] Result<state::ChangeLog*> SwitchLog(Switch& s);

// Opens both sides, reads the tenant's route and the capture mode, and checks that the source
// replicates (PostgreSQL holds its position).
[[nodiscard]] Status Open(Switch& s);

// The outbox's high-water mark: the last seq committed on SQLite (invariant 2).
[[nodiscard]] Result<uint64_t> OutboxHighWater(SqliteDb& db);
[[nodiscard]] Result<uint64_t> AppliedSeq(PgConnection& pg, const std::string& source);
// Writes the tenant's route and returns a log seq at or past its event. In wal capture mode
// the seq is the agent's once it has logged the WAL past the commit (WaitLoggedThrough, no
// write lock); the same wait before the write checks that the agent keeps up, so that a
// stopped agent fails the step before the route changes.
[[nodiscard]] Result<uint64_t> WriteRouteAt(Switch& s, const RouteRow& row);

// Until applied_seq >= seq; Aborted at the deadline.
[[nodiscard]] Status WaitApplied(Switch& s, uint64_t seq, std::string* note);
// Until the applier is within max_lag_seqs of the outbox (wal capture mode: of the agent's
// logged seq).
[[nodiscard]] Status CatchUp(Switch& s, std::string* note);

// The comparison's scope for the switch's tenant (which tenants it covers or leaves out).
[[nodiscard]] Result<VerifySpec> TenantSpec(Switch& s);

// Compares the tenant's rows on both sides (both must be still: fenced and drained). With
// `fast`, only the rows changed since the proof (s.proof, else the last matched verify), when
// that applies (tools/verify/verify_fast.h).
[[nodiscard]] Status VerifyTenant(Switch& s, bool fast, std::string* note);
// The key scan for the switch's tenant up to `to_seq` (wal capture mode: the reverse applier's
// changes are in the log).
KeyScan ScanFor(const Switch& s, const VerifySpec& spec, uint64_t to_seq, size_t max_keys);
// A verify's failure as the switch reports it: the first table that differs, its first key.
[[nodiscard]] Status VerifyVerdict(const VerifyReport& report);

// Until the slot's confirmed position passes a marker written now (the reverse path has
// applied every PostgreSQL write committed before it); Aborted at the deadline.
[[nodiscard]] Status WaitReverseDrained(Switch& s, std::string* note);

// The steps both directions share, over the real databases. The steps of one direction only
// are Internal here; CutoverSides and FallbackSides override them.
class DatabaseSides : public SwitchSides {
 public:
  DatabaseSides(const Config& cfg, const SwitchOptions& o, SwitchReport& r) : s_(cfg, o, r) {}

  Status CatchUp(std::string* note) override { return switching::CatchUp(s_, note); }
  Status Prove(std::string* note) override;
  Status PrepareReverse(std::string* note) override;
  Status WaitReverseDrained(std::string* note) override {
    return switching::WaitReverseDrained(s_, note);
  }
  Result<uint64_t> SetRoute(const RouteRow& row) override;
  std::optional<Clock::time_point> LastRouteCommit() const override {
    return s_.route_committed_at;
  }
  Status WaitApplied(uint64_t seq, std::string* note) override {
    return switching::WaitApplied(s_, seq, note);
  }
  Status Verify(bool fast, std::string* note) override { return VerifyTenant(s_, fast, note); }
  Status SetSequences(bool fenced, std::string* note) override;
  Status CloseReverse(std::string* note) override;
  bool TimedOut() const override { return s_.TimedOut(); }
  void ExtendDeadline(std::chrono::milliseconds from_now) override;

 protected:
  Status NotAStep(const std::string& name) const;

  Switch s_;
};

}  // namespace sqlift::switching
