// Config: the sqlift.toml configuration file (docs/design.md, operating it), loaded and checked
// once.
//
// Keys are fixed by the design; the loader refuses unknown keys and wrong types with the file,
// line, column and key in the message ("sqlift.toml:3:6: source.id: expected a string, got an
// integer"), because a typo in a production migration's configuration must not be ignored.
// Presence is checked by the command that needs a key (Require), since `plan` needs less
// than `capture`.
//
// Thread safety: a Config is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"

namespace sqlift {

struct Config {
  std::string path;  // where it was loaded from, for messages; empty when built in code

  // [source]
  std::string source_id;
  std::string source_sqlite;
  std::string source_tenant_column;  // tenant column present in every tenant table, or
  std::string source_tenant;         // the constant tenant of a database-per-tenant file
  std::vector<std::string> source_exclude_tables;  // never captured, copied or checked
  // [state]
  std::string state_dir;
  int64_t state_retain_seconds = 24 * 3600;  // acked log records kept at least this long
  int64_t state_retain_bytes = 1LL << 30;    // and trimmed beyond this size
  // [capture]
  // "wal" (the agent reads the -wal file: every writer, no code change) or "recorder" (an
  // in-app recorder writes the outbox). Empty: what `init` stored in the database, and "wal"
  // for a database `init` has not prepared yet.
  std::string capture_mode;
  int64_t capture_batch_rows = 512;  // outbox rows per synced log write
  int64_t capture_poll_ms = 500;     // the floor when inotify sees no write
  // Mode "wal": who restarts the WAL while the application writes. "agent" (the default): the
  // agent has it copied into the database file on a thread of its own and lets the
  // application's next commit restart it, holding writers that never pause off for a moment
  // (capture/agent/agent.h restart_wal). "application": only the application's own
  // checkpoints, which the agent's pin keeps from ever restarting it, so the WAL grows while
  // the agent runs.
  std::string capture_wal_restart = "agent";
  // [target]
  std::string target_pg;
  // "create" (sqlift creates the tables it translates) or "existing" (the application's own
  // schema is deployed first; sqlift matches its tables and columns by name and loads into
  // them, creating and altering nothing; apply/translate/existing_schema.h).
  std::string target_schema_mode = "create";
  // [target.constants]: a value every row of a target column gets that no source column has
  // (database per tenant: `tenant_id = "8f14e45f-..."`), for every table, or per table as
  // [target.constants.Lead] tenant_id = "...". `table` is empty for every table.
  struct ConstantEntry {
    std::string table;
    std::string column;
    std::string value;
    std::string where;  // file:line:col, for messages
  };
  std::vector<ConstantEntry> target_constants;
  // [transport]
  std::string transport_listen;
  std::string transport_connect;
  std::string transport_token_file;
  int64_t transport_max_frame_bytes = 64 << 20;
  // TLS, when set: the applier presents tls_cert/tls_key (PEM); the agent trusts tls_ca (PEM)
  // and checks that the certificate names tls_server_name (default: the connect host).
  std::string transport_tls_cert;
  std::string transport_tls_key;
  std::string transport_tls_ca;
  std::string transport_tls_server_name;
  // [http]: the capture agent serves /status, /metrics (and later /route) at listen; the
  // applier at apply_listen (the two daemons may share a host, so they need two ports).
  std::string http_listen;
  std::string http_apply_listen;
  // [mapping]: per-column PostgreSQL type overrides, "table.column" = "pg type". Written either
  // as quoted keys ("rooms.price" = "numeric(12,2)") or as a table per SQLite table
  // ([mapping.rooms] price = "numeric(12,2)"). A time column may also declare the unit its
  // numbers are stored in: "Lead.capturedAt" = { type = "timestamptz(3)", unit = "ms" }
  // (docs/values.md); with [target] schema_mode = "existing", the target column a source
  // column fills when the names differ: "Lead.mail" = { column = "email" } (type optional).
  // `where` is file:line:col, for messages.
  struct MappingEntry {
    std::string column;  // "table.column"
    std::string pg_type;
    std::string where;
    std::string unit;           // "s" | "ms" | "us" | "julianday"; empty: numbers read by magnitude
    std::string target_column;  // existing target schemas: the target's column; empty: same name
  };
  std::vector<MappingEntry> mapping;
  // [shadow]: the sampled read queries `sqlift shadow` replays (capture/shadow_sampler.h).
  std::string shadow_log;  // the shadow log file the application's sampler appends to
  double shadow_rate = 0;  // 0..1: the sampling rate applications are to use (0: off)
  // [log]
  std::string log_format = "text";  // text | json
  std::string log_level = "info";   // trace | debug | info | warn | error | off

  // Fails with one line per missing key ("[state] dir is required by `sqlift capture`").
  [[nodiscard]] Status Require(const std::vector<std::string_view>& dotted_keys,
                               std::string_view command) const;
};

// Parses TOML text; `name` is used in messages (usually the file path).
[[nodiscard]] Result<Config> ParseConfig(std::string_view text, std::string_view name);

// Reads and parses a file.
[[nodiscard]] Result<Config> LoadConfigFile(const std::string& path);

// Splits "host:port" ("[::1]:7430" for IPv6); fails on a missing or out-of-range port.
struct Endpoint {
  std::string host;
  uint16_t port = 0;
};
[[nodiscard]] Result<Endpoint> ParseEndpoint(std::string_view text);

// The shared secret in [transport] token_file, without a trailing newline. Fails when the key
// is missing, the file unreadable or the token shorter than 16 bytes; warns when the file is
// readable by group or others. (token_file.cc)
[[nodiscard]] Result<std::string> ReadTokenFile(const Config& cfg);

}  // namespace sqlift
