// Changing a route on the SQLite side (docs/design.md, tenants): the row in _sqlift_route and an
// outbox event of kind kRoute, in ONE SQLite transaction. The event gets the next seq, so the
// agent logs it, mirrors it into its state's route family and ships it in commit order; the
// applier writes it into sqlift.route in the same PostgreSQL transaction as the changes
// before it. PostgreSQL's route is thereby always the one of its applied position, and a
// cutover learns that PostgreSQL has seen a fence by waiting for applied_seq >= that seq.
//
// Thread safety: functions over the connection they are given.
#pragma once

#include <cstdint>

#include "capture/outbox/route_table.h"
#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

// Inside the caller's write transaction: upserts `route` (updated_at = now), appends its
// outbox event and rewrites the guard triggers' messages (capture/outbox/guard_triggers.h);
// returns the event's seq.
[[nodiscard]] Result<uint64_t> WriteRoute(SqliteDb& db, RouteRow route);

// WriteRoute in a transaction of its own (BEGIN IMMEDIATE ... COMMIT; the connection's busy
// timeout bounds the wait for the write lock); returns the event's seq.
[[nodiscard]] Result<uint64_t> CommitRoute(SqliteDb& db, const RouteRow& route);

// The wire form of a route, and back (the outbox payload and Transaction.route).
wire::Route ToWire(const RouteRow& route);
[[nodiscard]] Result<RouteRow> FromWire(const wire::Route& route);

}  // namespace sqlift
