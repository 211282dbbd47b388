// Internal to PgLogicalStream (pg_logical_stream.cc): opening a libpq replication connection,
// starting START_REPLICATION on it, and turning libpq's errors into Status. Not a public
// header; kept apart so that the stream's own file stays about the protocol.
//
// Thread safety: pure functions over a PGconn that one thread uses at a time.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <string>

#include "capture/pg_logical/pg_change.h"
#include "common/base/result.h"
#include "common/base/status.h"

namespace sqlift::replconn {

using Clock = std::chrono::steady_clock;
using pgchange::Lsn;

// Milliseconds from now until `t`, rounded up, at least 0 (a poll() timeout).
int MillisUntil(Clock::time_point t);

// "<what>: <libpq's message on one line>".
std::string ConnError(PGconn* conn, const std::string& what);

// "user@host:port/db", without the password.
std::string DescribeConn(PGconn* conn);

// Slot names are what PostgreSQL allows (ReplicationSlotValidateName): [a-z0-9_], 1 to 63
// bytes. A replication command takes the name as an identifier, so it is checked before use.
[[nodiscard]] Status CheckSlotName(const std::string& slot);

// A replication=database connection to `conninfo` (URI or key=value, expanded by libpq) with
// the session options of pg_logical_stream.h appended to the caller's, made by `deadline`.
// The caller owns the PGconn (PQfinish). Parse errors never show the password.
[[nodiscard]] Result<PGconn*> ConnectReplication(const std::string& conninfo,
                                                 Clock::time_point deadline);

// A server error as a Status, "[SQLSTATE] message (detail)": kUnavailable for a lost
// connection, shutdown, exhausted resources and an object in use (55006: a slot streamed by
// another connection); kNotFound for 42704; kInvalidArgument for classes 22 and 42; else
// kFailedPrecondition.
Status ServerError(PGconn* conn, const PGresult* res);

// Reads the results that are ready (a few at most, never blocking), keeping `st` or else the
// first error among them.
Status DrainResults(PGconn* conn, Status st);

// START_REPLICATION SLOT "slot" LOGICAL X/Y (proto_version '1', publication_names '...',
// messages 'true'). `slot` must have passed CheckSlotName.
std::string StartReplicationCommand(const std::string& slot, const std::string& publication,
                                    Lsn start);

// Sends `command` and waits (until `deadline`) for the server to enter COPY BOTH mode.
[[nodiscard]] Status StartCopyBoth(PGconn* conn, const std::string& command,
                                   Clock::time_point deadline);

}  // namespace sqlift::replconn
