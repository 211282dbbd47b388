// One verification: SQLite and PostgreSQL compared table by table at one position (design
// invariant 6), as `sqlift verify`, `cutover` and `fallback` run it. docs/verify.md has the
// method; this is the orchestration:
//
//  1. held form (`hold_source` set): the applier of that source is held at its applied
//     position (apply/applier_hold.h), the SQLite snapshot is opened (its position S is the
//     outbox high-water mark; in wal capture mode the log seq the WAL barrier names from the
//     agent's progress in cfg's [state] dir, capture/snapshot/wal_barrier.h), the hold is moved to
//     S and awaited, PostgreSQL's REPEATABLE READ snapshot is taken and checked to be at S, and the
//     applier is let go again before the tables are read: both sides are then compared at S while
//     capture and apply go on. One-shot form (no source): the two sides as they are, for a database
//     nobody writes.
//  2. the tables (less excluded ones, or `tables`) as `plan` translates them, each compared by
//     the engine (apply/verify_engine.h), restricted to the rows of the tenant scope;
//  3. the run recorded in sqlift.verify_runs.
//
// Tenant scope (docs/design.md, tenants): `tenant` limits the comparison to one tenant's rows
// (tables without the tenant column are left out and noted); `skip_tenants` leaves those tenants'
// rows out (the held form skips tenants routed to PostgreSQL: their rows change there, with no
// position to hold); with `constant_tenant` (database-per-tenant) PostgreSQL's rows are those
// whose tenant column holds that value and the column itself is not compared.
//
// Thread safety: one call at a time per spec; everything runs on the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/config/config.h"
#include "tools/verify/verify_fast.h"
#include "tools/verify/verify_report.h"

namespace sqlift {

struct VerifySpec {
  std::string sqlite;
  std::string pg;
  std::string schema = "public";
  std::vector<std::string> tables;  // empty: every table
  const Config* cfg = nullptr;      // exclude_tables, [mapping], [source] id and tenants
  size_t max_rows_kept = 50'000;
  bool progress = false;  // per-table progress on stderr

  std::string hold_source;  // non-empty: the held form
  std::chrono::seconds hold_ttl{30};
  std::chrono::milliseconds hold_timeout{60'000};

  std::string tenant_column;  // the tenant column's SQLite name ("" without tenants)
  std::string tenant;         // only this tenant's rows
  std::vector<std::string> skip_tenants;
  bool skip_moved_tenants = false;  // add the tenants SQLite routes to PostgreSQL (held form)
  std::string constant_tenant;      // database-per-tenant
  std::string scope;                // for sqlift.verify_runs; empty: made from the above

  // A switch's verify: the tenant is fenced and drained, its rows cannot change (recorded, so
  // a later switch may start its fast path from this run).
  bool still = false;
  // The incremental check (tools/verify_fast.h): only these rows; counts from the proof.
  const ChangedKeys* changed = nullptr;
  // Or the keys changed up to the position S the held form finds (null: compare every row),
  // asked once S is known; what it returns must live until RunVerification returns.
  std::function<Result<const ChangedKeys*>(uint64_t position)> changed_at;
  // A switch's check at a log position it knows (the tenant fenced and drained up to it): the
  // SQLite snapshot is opened as it is, with no WAL barrier, and the run is recorded at it.
  std::optional<uint64_t> still_at;
};

// Fails (with *exit = kExitUsage for bad input, else kExitFailure) when the comparison could
// not be made; otherwise returns the report, recorded, and sets *exit to 0 (all matched) or
// kExitBlocked.
[[nodiscard]] Result<VerifyReport> RunVerification(const VerifySpec& spec, int* exit);

// What a settle did: keys set aside, and batches read (one keyed read on each side apiece).
struct SettleCounts {
  size_t settled = 0;
  size_t batches = 0;
};

// Settles what it can of `changed` before a fence, where no held position exists (a fallback:
// PostgreSQL's writers go on): opens SQLite's snapshot as it is (after changed->to_seq, which
// the caller scanned up to), then PostgreSQL's, and reads the unsettled keys table by table in
// batches of `batch` (one catalog check per table; one snapshot on each side for the whole
// call); every key whose row is equal on both sides (or absent from both) is marked settled.
// A key that changes on either side after SQLite's snapshot comes back through the log after
// to_seq, where the next scan unsettles it; a key that differs (a change in flight, or a real
// difference) stays to be read inside the fence. Nothing is recorded.
[[nodiscard]] Result<SettleCounts> SettleChangedKeys(const VerifySpec& spec, ChangedKeys* changed,
                                                     size_t batch);

// The exit code of a comparison that was made: 0 when every table matched, else kExitBlocked.
int VerifyExitCode(const VerifyReport& report);

}  // namespace sqlift
