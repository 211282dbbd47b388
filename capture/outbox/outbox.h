// The SQLite side's own tables, defined once: the outbox the recorder writes and the agent
// drains, and the state table the agent and (later) the reverse applier keep positions in.
//
//   _sqlift_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- commit order (invariant 2)
//                  committed_at INTEGER NOT NULL,           -- unix microseconds at flush
//                  kind INTEGER NOT NULL,                   -- OutboxKind
//                  payload BLOB NOT NULL)                   -- a SQLite changeset
//   _sqlift_state(key TEXT PRIMARY KEY, value)              -- small named values
//   _sqlift_route(...)                                       -- capture/route_table.h
//
// Every table whose name starts with kReservedPrefix belongs to sqlift and is never captured.
// Thread safety: constants and functions that act on the connection they are given.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/result.h"
#include "common/sqlite/sqlite_schema.h"

namespace sqlift::outbox {

inline constexpr std::string_view kReservedPrefix = kSqliftTablePrefix;
inline constexpr std::string_view kOutboxTable = "_sqlift_outbox";
inline constexpr std::string_view kStateTable = "_sqlift_state";

enum class OutboxKind : int64_t {
  kChangeset = 1,  // payload is a changeset from the session extension
  kRoute = 2,      // payload is a serialized wire::Route (capture/route_writer.h)
};

// _sqlift_state keys.
// The highest seq the agent has deleted from the outbox, written in the same SQLite
// transaction as the delete. A log that ends below it belongs to another state directory.
inline constexpr std::string_view kStateTrimmedSeq = "trimmed_seq";
// How rows map to tenants (capture/route_table.h), from [source] tenant_column / tenant.
inline constexpr std::string_view kStateTenantColumn = "tenant_column";
inline constexpr std::string_view kStateTenant = "tenant";
// How changes are captured, written by `init`: kCaptureModeRecorder (the in-app recorder
// writes the outbox) or kCaptureModeWal (the agent decodes the -wal file and assigns the log
// seqs itself). Absent in databases initialised before the key existed: recorder.
inline constexpr std::string_view kStateCaptureMode = "capture_mode";
inline constexpr std::string_view kCaptureModeRecorder = "recorder";
inline constexpr std::string_view kCaptureModeWal = "wal";

// True for sqlift's own tables, which are never captured or copied.
inline bool IsReservedTable(std::string_view name) {
  return IsSqliftTable(name);
}

// Creates the outbox, the state table and the route table if they do not exist (idempotent). Runs
// inside the caller's transaction, if any.
[[nodiscard]] Status CreateTables(sqlite3* db);

// OK when the outbox exists; FailedPrecondition naming `sqlift init` otherwise.
[[nodiscard]] Status CheckTables(sqlite3* db);

// The database's capture mode (kStateCaptureMode): "recorder" or "wal"; "recorder" when the
// key or the state table is absent. Corruption naming the value when it is neither.
[[nodiscard]] Result<std::string> ReadCaptureMode(sqlite3* db);

}  // namespace sqlift::outbox
