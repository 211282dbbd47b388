// The incremental check a switch runs inside its fence ("only what changed since the proof").
//
// A verify that matched at log position P proves the tenant's rows equal on both sides at P.
// Every later change of those rows on SQLite is in the agent's log, and PostgreSQL's fences let
// nobody but the applier write them meanwhile; so at the fence position F, comparing the rows
// whose keys the log shows changed in (P, F] is enough, and each table's row count at F is its
// count proven at P plus the net inserts and deletes the log shows since (no count(*) inside
// the fence). It is used only when that reasoning holds: the run covered the tenant and every
// table, was held (both sides at P) or a switch's own verify (the tenant still), the log still
// holds every record of (P, F], none of them is a schema change, and the tenant did not move to
// PostgreSQL in between (its rows would then have changed there, outside the log). Otherwise
// the full comparison runs. Too many changed keys (over max_keys) also means the full one: a
// switch refreshes its proof before fencing so that this does not happen inside the pause.
//
// What it assumes: every write of the tenant's rows went through the log. In wal capture mode
// no SQLite write can bypass it; in recorder mode a writer without the recorder can, and only
// `--full-verify` would see that.
//
// Thread safety: functions of their arguments; one thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/config/config.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "proto/wire/sqlift.pb.h"
#include "state/change_log.h"
#include "tools/verify/verify_pg_reader.h"

namespace sqlift {

// What the log shows of one changed key in (P, F]: whether its row existed at P (its first
// change is not an INSERT), exists at F (its last is not a DELETE), and its tenant as the
// first whole row logged for it holds it (an INSERT's or DELETE's; a key whose existence
// changed always has one).
struct KeyFate {
  bool existed_before = false;
  bool exists_after = false;
  std::optional<std::string> tenant;
};

struct ChangedKeys {
  int64_t since_run = 0;   // the verify run P comes from
  uint64_t since_seq = 0;  // P
  // SQLite table name → the primary keys (RowChange.pk) changed in (P, F], each once.
  std::map<std::string, std::vector<wire::Row>> keys;
  std::map<std::string, std::vector<KeyFate>> fates;  // parallel to keys
  // SQLite table name → its rows in the run's scope, proven at P (absent: not known).
  std::map<std::string, int64_t> counts_at_since;
  size_t count = 0;
  uint64_t to_seq = 0;  // the scan covered (since_seq, to_seq]
  // Parallel to keys (shorter: the rest are not): keys a settle (SettleChangedKeys) found equal
  // on both sides after to_seq and that the log has not shown changed since. The check inside
  // the fence reads only the others; the counts still come from every fate.
  std::map<std::string, std::vector<bool>> settled;
  // SQLite table name → each key's serialized form → its place in keys (for a resumed scan).
  std::map<std::string, std::map<std::string, size_t>> index;
};

// The keys of `table` the check still has to read (every changed key less the settled ones).
std::vector<wire::Row> KeysToRead(const ChangedKeys& changed, const std::string& table);

// How many changed keys are not settled.
size_t UnsettledCount(const ChangedKeys& changed);

// The verify run a switch's check starts from: its id, the position P both sides were at, and
// the row counts it proved (SQLite table name → rows in its scope; empty for a run recorded
// without them).
struct VerifiedAt {
  int64_t run_id = 0;
  uint64_t position = 0;
  std::map<std::string, int64_t> counts;
};

// The newest matched run that covers `tenant` over every table at a position both sides were
// at (held, or a switch's own), or nullopt. `skipped`: the tenants the comparison leaves out
// now (for "*", those with a route of their own); the run must have left out no others.
[[nodiscard]] Result<std::optional<VerifiedAt>> LastProof(PgConnection& pg,
                                                          const std::string& source,
                                                          const std::string& tenant,
                                                          const std::vector<std::string>& skipped);

// What to collect changed keys for, up to which seq.
struct KeyScan {
  std::string tenant;         // the switch's tenant ("*": the whole database)
  std::string tenant_column;  // its SQLite name ("" without tenants)
  uint64_t to_seq = 0;        // F (the end of the log for the maximum)
  size_t max_keys = 0;
  // wal capture mode: the reverse applier's changes are in the log (REVERSE), so the time the
  // tenant spent on PostgreSQL is covered too and a route to postgres does not end the scan.
  bool reverse_logged = false;
};

// The keys `log` shows changed in (since.position, scan.to_seq] (up to the log's end), with
// their fates, or nullopt (with the reason in *why) when the log no longer holds all of them,
// shows a schema change or (unless scan.reverse_logged) a route of the tenant (or "*") to
// postgres, or more than scan.max_keys changed keys. With `prior` (an earlier scan from the
// same proof), only the records after prior->to_seq are read and added to it.
[[nodiscard]] Result<std::optional<ChangedKeys>> ChangedKeysInLog(
    state::ChangeLog& log, const VerifiedAt& since, const KeyScan& scan, std::string* why,
    const ChangedKeys* prior = nullptr);

// The same as resuming from *keys (which must hold a scan), in place: no copy of what it holds.
// *keys is reset when the check would not apply (the reason in *why) and on an error.
[[nodiscard]] Status ExtendChangedKeys(state::ChangeLog& log, const VerifiedAt& since,
                                       const KeyScan& scan, std::string* why,
                                       std::optional<ChangedKeys>* keys);

}  // namespace sqlift
