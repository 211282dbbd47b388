// Cutover, fallback and finish: moving a tenant's writes between SQLite and PostgreSQL (design
// section 1, invariants 6 and 7). The route in SQLite's
// _sqlift_route is the authority writers follow (Recorder::RouteFor, GET /route); every change
// of it is also an outbox event (capture/route_writer.h), so PostgreSQL's sqlift.route follows
// in commit order when the applier applies it, and `applied_seq >= seq of the event` tells that
// PostgreSQL enforces it.
//
// Cutover of tenant T (route sqlite, epoch E):
//   check      the source replicates; T is on SQLite; keys cannot collide once both sides
//              generate them (tenant cutover refuses tables keyed by SQLite's rowid alone)
//   catch up   until the applier is within max_lag_seqs of the outbox
//   prove      while T's writers go on: a verify that matched at a position P both sides were
//              at (the last one, or a held verify now when none is recent enough), with its
//              row counts (switch_proof.h); a difference fails here, before any fence
//   sequences ahead  identities set past the largest key PostgreSQL holds
//   reverse    publication and logical slot exist (before PostgreSQL takes any write of T)
//   fence      SQLite: (T, sqlite, E, fenced) at seq F: T's writers get a retryable refusal
//   drain      applied_seq >= F: every change of T is in PostgreSQL
//   verify     only T's rows the log shows changed in (P, F], on both sides; the counts are
//              P's plus the net inserts and deletes since (--full-verify: every row)
//   sequences  identities moved past the keys inserted since (no scan)
//   flip       SQLite: (T, postgres, E+1) at seq F2 — the commit point
//   open       applied_seq >= F2: PostgreSQL takes T's writes; the write pause ends here
// Nothing between fence and open reads more than the rows changed since P, so the pause does
// not grow with the tables. Any failure or the timeout before the flip undoes the fence
// ((T, sqlite, E) again): T stays on SQLite and its writers go on. The flip is the commit
// point: after it only waiting for PostgreSQL to open is left, and a timeout there is
// reported, not undone (T's writers then wait for the applier, which is the safe side).
//
// Fallback of tenant T (route postgres, epoch E), the other direction:
//   prove      the last recorded proof of T (usually the cutover's own check); in wal capture
//              mode the log holds every key changed since on either side (the reverse
//              applier's writes are logged as REVERSE), in recorder mode it does not and the
//              check below compares every row
//   fence      SQLite: (T, postgres, E, fenced) at F3; drain forward: applied_seq >= F3, so
//              PostgreSQL refuses T's writes (ApplyRoute waits for the ones in flight)
//   drain      a logical marker written after that; the slot's confirmed position passes it
//              only once the reverse path has applied every earlier PostgreSQL write to SQLite
//   verify     the rows changed since the proof (as the cutover's), or every row
//   flip       (T, sqlite, E+1): SQLite takes T's writes again; the pause ends here
//   close      when no tenant is left on postgres, the slot and publication are dropped
// Failure or timeout before the flip undoes the fence ((T, postgres, E)).
//
// Finish: every route on postgres, the capture agent stopped; drops the slot, the publication,
// the fences, and on SQLite the outbox, state and route tables.
//
// Thread safety: one call at a time; everything runs on the calling thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/config/config.h"
#include "tools/verify/verify_report.h"

namespace sqlift {

struct SwitchOptions {
  std::string tenant;  // "*": the whole database
  std::chrono::milliseconds timeout{30'000};
  uint64_t max_lag_seqs = 1000;  // catch up this close before fencing
  bool verify = true;
  // The check inside the fence compares the rows changed since the proof (switch_proof.h); past
  // this many changed keys it compares everything instead.
  size_t fast_verify_max_keys = 100'000;
  // "prove" settles the proof again (an incremental held verify before the fence) while more
  // keys than this changed during its last round, so that the check inside the fence stays
  // small.
  size_t max_changes_since_proof = 300;
  bool full_verify = false;  // every row compared inside the fence
};

struct SwitchStep {
  std::string name;
  double ms = 0;
  bool ok = false;
  std::string note;
};

struct SwitchReport {
  std::string direction;  // "cutover" | "fallback"
  std::string tenant;
  bool ok = false;
  bool undone = false;  // failed before the flip, and the fence was lifted
  std::string reason;   // why it failed
  int64_t epoch_before = 0, epoch_after = 0;
  uint64_t fence_seq = 0, flip_seq = 0;
  double pause_ms = 0;  // the tenant's writes refused on both sides
  std::vector<SwitchStep> steps;
  std::optional<VerifyReport> verify;
};

// Never fails as a Result: a failure is in the report (ok false, with the steps done).
SwitchReport RunCutover(const Config& cfg, const SwitchOptions& options);
SwitchReport RunFallback(const Config& cfg, const SwitchOptions& options);

struct FinishReport {
  bool ok = false;
  std::string reason;
  std::vector<SwitchStep> steps;
};
FinishReport RunFinish(const Config& cfg);

std::string SwitchReportText(const SwitchReport& r);
std::string SwitchReportJson(const SwitchReport& r);

}  // namespace sqlift
