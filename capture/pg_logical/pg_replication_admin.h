// Administration of what reverse replication needs on the PostgreSQL side, over an ordinary
// PgConnection (not a replication one): the publication of the migrated schema, the logical
// replication slot PgLogicalStream reads, the replication origin the forward applier writes
// under (so the reverse path can skip the applier's own changes), and markers in the WAL.
//
// Names are values (bound parameters) in the function calls and quoted identifiers in
// CREATE/DROP PUBLICATION. Every function is idempotent where it says "when missing": a
// concurrent creator of the same object is not an error.
//
// Thread safety: functions are stateless; the PgConnection is used by one thread at a time.
#pragma once

#include <chrono>
#include <string>

#include "capture/pg_logical/pg_change.h"
#include "common/base/result.h"
#include "common/base/status.h"
#include "common/pg/pg_connection.h"

namespace sqlift {

// The replication slot of source `source`: "sqlift_" + the source id when it is already
// lower-case [a-z0-9_] and the whole fits in 63 bytes; otherwise the id lower-cased with other
// bytes as '_', cut to fit, then '_' and 8 hex digits of a hash of the id (FNV-1a), so that
// distinct ids keep distinct, stable names.
std::string SlotNameFor(const std::string& source);

// CREATE PUBLICATION name FOR TABLES IN SCHEMA schema, when missing. An existing publication
// that publishes neither all tables nor `schema` is kFailedPrecondition (it is left alone).
[[nodiscard]] Status EnsurePublication(PgConnection& conn, const std::string& name,
                                       const std::string& schema);
// OK when absent. A publication the login neither owns nor could drop as a superuser is left
// in place (OK): an administrator made it for a login that may not publish a whole schema
// (only a superuser may), and without a slot it holds nothing back; the next cutover uses it.
[[nodiscard]] Status DropPublication(PgConnection& conn, const std::string& name);

// Creates logical slot `slot` with plugin pgoutput in the connection's database when missing,
// and returns its confirmed_flush_lsn. An existing slot of another plugin, kind or database
// is kFailedPrecondition. Creating a slot waits for transactions already running to end.
[[nodiscard]] Result<pgchange::Lsn> EnsureSlot(PgConnection& conn, const std::string& slot);

struct SlotInfo {
  bool exists = false;
  bool active = false;  // a connection streams from it now
  int active_pid = 0;
  pgchange::Lsn confirmed_flush = 0;
  pgchange::Lsn restart = 0;
};
[[nodiscard]] Result<SlotInfo> GetSlot(PgConnection& conn, const std::string& slot);

// Drops the slot once no connection streams from it, polling pg_replication_slots for up to
// `wait`. OK when absent; kFailedPrecondition naming the PID when still active after `wait`.
[[nodiscard]] Status DropSlot(PgConnection& conn, const std::string& slot,
                              std::chrono::milliseconds wait);

// pg_replication_origin_drop when the origin exists (OK when it does not); FailedPrecondition
// while a session has it set up (the applier, still running).
[[nodiscard]] Status DropOrigin(PgConnection& conn, const std::string& name);

// pg_replication_origin_create(name) when missing.
[[nodiscard]] Status EnsureOrigin(PgConnection& conn, const std::string& name);
// EnsureOrigin, then pg_replication_origin_session_setup(name): this session's transactions
// are marked with the origin from now on. An origin still held by another backend (a crashed
// applier's, still ending) is kUnavailable with the server's message: retry later.
[[nodiscard]] Status SetupOriginSession(PgConnection& conn, const std::string& name);

// pg_logical_emit_message(false, prefix, content): a non-transactional message that the
// stream reports as a kMarker event, then a transaction that flushes the WAL past it (so the
// walsender sends it at once, not when the WAL writer next runs). Returns its LSN (the
// Event's lsn).
[[nodiscard]] Result<pgchange::Lsn> EmitMarker(PgConnection& conn, const std::string& prefix,
                                               const std::string& content);

// pg_current_wal_lsn().
[[nodiscard]] Result<pgchange::Lsn> CurrentWalLsn(PgConnection& conn);

}  // namespace sqlift
