// The fast path of a switch's verify ("only what changed since the last full
// verify, plus counts").
//
// A full verify that matched at log position P0 proves the tenant's rows equal on both sides
// at P0. Every later change of those rows on SQLite is in the agent's log, and PostgreSQL's
// fences let nobody but the applier write them meanwhile; so at the fence position F, comparing
// the rows whose keys the log shows changed in (P0, F], and every table's row count, is enough.
// It is used only when that reasoning holds: the run covered the tenant and every table, was
// held (both sides at P0) or a switch's own verify (the tenant still), the log still holds every
// record of (P0, F], none of them is a schema change, and the tenant did not move to PostgreSQL
// in between (its rows would then have changed there, outside the log). Otherwise the full
// comparison runs. Too many changed keys (over max_keys) also means the full one: it is then
// the cheaper.
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

struct ChangedKeys {
  int64_t since_run = 0;   // the verify run P0 comes from
  uint64_t since_seq = 0;  // P0
  // SQLite table name → the primary keys (RowChange.pk) changed in (P0, F], each once.
  std::map<std::string, std::vector<wire::Row>> keys;
  size_t count = 0;
};

// The changed keys for `tenant` up to `fence_seq`, or nullopt (with the reason in *why) when
// the fast path does not apply. `skipped`: the tenants the comparison leaves out (for "*", those
// with a route of their own); the earlier run must have left out no others. Reads
// sqlift.verify_runs and the agent's log (read-only, beside the running agent).
[[nodiscard]] Result<std::optional<ChangedKeys>> ChangedSinceLastVerify(
    const Config& cfg, PgConnection& pg, const std::string& tenant,
    const std::vector<std::string>& skipped, uint64_t fence_seq, size_t max_keys, std::string* why);

// The verify run the fast path starts from: its id and the position P0 both sides were at.
struct VerifiedAt {
  int64_t run_id = 0;
  uint64_t position = 0;
};

// The log's part of ChangedSinceLastVerify, once the run is found: the keys `log` shows changed
// in (since.position, fence_seq], or nullopt (with the reason in *why) when the log no longer
// holds all of them, shows a schema change or a route of the tenant (or "*") to postgres, or
// more than max_keys changed keys.
[[nodiscard]] Result<std::optional<ChangedKeys>> ChangedKeysInLog(
    state::ChangeLog& log, const VerifiedAt& since, const std::string& tenant, uint64_t fence_seq,
    size_t max_keys, std::string* why);

// Row counts for the fast path's count check, with the comparison's tenant filter: on SQLite
// the rows whose `column` (SQLite name; empty: every row) holds one of `values` (compared as
// text), or with `exclude` the others; on PostgreSQL the rows RowFilter keeps (its keys ignored).
[[nodiscard]] Result<int64_t> CountSqliteRows(SqliteDb& db, const std::string& table,
                                              const std::string& column,
                                              const std::vector<std::string>& values, bool exclude);
[[nodiscard]] Result<int64_t> CountPgRows(PgConnection& pg, const std::string& schema,
                                          const std::string& table, const RowFilter& filter);

}  // namespace sqlift
