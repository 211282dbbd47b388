// Guard triggers: design invariant 7 on the SQLite side for every client, with or without a
// recorder (the `sqlite3` shell, Python's sqlite3, better-sqlite3, a cron job). They are plain
// SQL in the application's file, so any SQLite library honours them; they call no custom
// function, which other clients would not have.
//
// Per captured table, three BEFORE INSERT / UPDATE / DELETE triggers named
// `_sqlift_guard_{insert,update,delete}_<table>`. Their WHEN clause finds the row's route in
// _sqlift_route (capture/outbox/route_table.h: the tenant column's value as text, NULL and
// tables without the column and whole-database sources → '*'; an UPDATE checks the old row and,
// when the tenant column changes, the new one) and refuses when it is not "sqlite, not fenced",
// unless the reverse applier's marker row exists (below). The common case, route sqlite, costs
// one or two primary-key lookups of _sqlift_route per row.
//
// The refusal's message names the route: `sqlift: tenant "T" is on postgres (epoch N)`, or
// `sqlift: tenant "T" is being switched (epoch N); retry shortly` while it is fenced, whichever
// side the route names (a cutover's fence says sqlite, a fallback's postgres: neither sends the
// writer to the other side while the switch is in flight, and PostgreSQL's fence says the same,
// apply/pg_sink/pg_route.h) ("the whole database" instead of `tenant "T"` when the
// whole-database route decided). SQLite
// before 3.48 takes only a literal as RAISE's message, so the messages are baked into one trigger,
// `_sqlift_guard_messages` (INSTEAD OF INSERT on the empty view `_sqlift_guard_refusal`, into which
// a refusing trigger inserts the route), rewritten from _sqlift_route whenever a route changes
// (RefreshGuardMessages, in the route's own transaction). Whether a write is refused never depends
// on that trigger being current: the table triggers read the live route; a route nobody refreshed
// gets a generic message of the same kind.
//
// The reverse applier's pass: it inserts _sqlift_state key kStateReverseWriter after BEGIN and
// deletes it before COMMIT, in its own write transaction. SQLite lets one transaction write at
// a time, so no other writer can ever see the row, and it is never committed. This is a guard
// against mistakes, not a security boundary: SQLite has no roles, and a client that may write
// the file may write that row too, or drop the triggers. (PostgreSQL's fence, which recognises
// the applier by its role, is a boundary.)
//
// Thread safety: functions over the connection they are given.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "capture/outbox/route_table.h"
#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {

inline constexpr std::string_view kGuardPrefix = "_sqlift_guard_";
// _sqlift_state key of the reverse applier's pass (see above).
inline constexpr std::string_view kStateReverseWriter = "reverse_writer";
// _sqlift_state key the reverse applier's pass counts its transactions in (CloseGuardPass). It
// is the one committed trace of such a transaction, so that capture in wal mode, which sees
// only what is committed, can tell the reverse applier's writes apart and not ship them back.
inline constexpr std::string_view kStateReverseApplied = "reverse_applied";

// The message a refusal by `route` carries (see above).
std::string GuardMessage(const RouteRow& route);

// Creates or re-creates the guards of `tables` (sqlift's own tables are skipped, so are tables
// that do not exist) and the messages, and drops guards of tables not listed. Idempotent: a
// guard whose SQL is already the one wanted is left alone, so a second call changes nothing.
// Runs in the caller's transaction; without one, in a BEGIN IMMEDIATE of its own when there is
// something to change. Needs _sqlift_route and _sqlift_state (outbox::CreateTables).
[[nodiscard]] Status InstallGuards(SqliteDb& db, const std::vector<std::string>& tables,
                                   const TenantScheme& scheme);

// Whether guards are installed in this file (the view exists).
[[nodiscard]] Result<bool> GuardsInstalled(SqliteDb& db);

// Rewrites `_sqlift_guard_messages` from the current routes when guards are installed and its
// SQL differs; nothing otherwise. Call inside the transaction that changed a route.
[[nodiscard]] Status RefreshGuardMessages(SqliteDb& db);

// Drops every `_sqlift_guard_*` object. Runs in the caller's transaction, if any.
[[nodiscard]] Status RemoveGuards(SqliteDb& db);

// The reverse applier's pass, inside its own write transaction: Open after BEGIN, Close before
// COMMIT.
[[nodiscard]] Status OpenGuardPass(SqliteDb& db);
[[nodiscard]] Status CloseGuardPass(SqliteDb& db);

}  // namespace sqlift
