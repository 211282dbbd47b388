// sqlift's own tables in PostgreSQL (schema `sqlift`, docs/design.md, state): the applier's
// positions and the dead-letter table for values PostgreSQL cannot take (design invariant 8).
//
//   sqlift.positions(source text primary key, applied_seq bigint not null,
//                    snapshot_seq bigint, updated_at timestamptz not null default now(),
//                    snapshot_rows bigint, hold_seq bigint, hold_until timestamptz)
//     hold_seq/hold_until: while now() < hold_until, the applier applies nothing past
//     hold_seq (`sqlift verify` holds it at a position, design invariant 6; apply/applier_hold.h)
//   sqlift.dead_letter(id bigserial primary key, source text, seq bigint,
//                      table_name text not null, key text, column_name text, value text,
//                      error text not null, at timestamptz not null default now())
//   sqlift.source_schema(source text, ord integer, sql text, primary key (source, ord)):
//                      the SQLite schema statements of each source as the applier last
//                      applied them (snapshot, then DDL events), in the same transactions.
//
// Defined here once; `copy` creates them and the applier will use both.
// Thread safety: functions over the connection they are given (one thread at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/pg/pg_connection.h"

namespace sqlift {

inline constexpr char kStateSchema[] = "sqlift";

// Creates the schema and both tables when missing; idempotent. (Two first runs racing on two
// connections can fail one with a catalog unique violation, as CREATE ... IF NOT EXISTS is not
// atomic in PostgreSQL; running it again succeeds.)
[[nodiscard]] Status EnsureStateSchema(PgConnection& conn);

// Runs `create` (sqlift's CREATE ... IF NOT EXISTS / OR REPLACE statements) holding a session
// advisory lock, so that appliers, verifies and switches starting at once take turns: those
// statements are not safe against each other in PostgreSQL ("tuple concurrently updated", or
// a unique violation in the catalog).
[[nodiscard]] Status WithSchemaLock(PgConnection& conn, const std::function<Status()>& create);

struct DeadLetter {
  std::optional<std::string> source;  // the source id; none for a one-shot `copy`
  std::optional<int64_t> seq;         // the change's seq; for a snapshot, S
  std::string table;                  // the SQLite table name
  std::optional<std::string> key;     // the row's primary key values as text: "(7, 'a')"
  std::optional<std::string> column;  // the SQLite column name, when one value was at fault
  std::optional<std::string> value;   // a printable rendering of that value
  std::string error;
};

// Inserts one dead letter, every field a bound parameter.
[[nodiscard]] Status InsertDeadLetter(PgConnection& conn, const DeadLetter& letter);

// The schema statements stored for `source`; nullopt when none are.
[[nodiscard]] Result<std::optional<std::vector<std::string>>> LoadSourceSchema(
    PgConnection& conn, const std::string& source);
// Replaces the stored statements of `source` (inside the caller's transaction).
[[nodiscard]] Status StoreSourceSchema(PgConnection& conn, const std::string& source,
                                       const std::vector<std::string>& sqlite_sql);

}  // namespace sqlift
