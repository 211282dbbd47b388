// PgSandbox: a private, throwaway PostgreSQL cluster for tests, the demo and the benchmarks.
//
//   SQLIFT_ASSIGN_OR_RETURN(auto pg, PgSandbox::Start({}));
//   auto conn = PgConnection::Connect(pg->uri(), std::chrono::seconds(10));
//
// Start() runs initdb into a fresh directory, picks a free loopback port and starts the server
// with pg_ctl; the destructor stops it and removes the directory, so a failing test cleans up
// too. Nothing is shared between sandboxes: two may run at once.
//
// Layout of dir(): data/ (PGDATA), server.log, sandbox.info (port, uri, data dir, bindir), and
// the server's unix socket. Server settings for a throwaway: fsync=off, shared_buffers=64MB,
// max_connections=100, wal_level=logical, max_replication_slots=10, max_wal_senders=10;
// PgSandboxOptions::settings are written after these and win.
//
// Authentication is `trust`, superuser `postgres`, listening on 127.0.0.1 only. The URI is
// postgresql://postgres@127.0.0.1:PORT/postgres.
//
// Server binaries: $SQLIFT_PG_BINDIR if set, else `pg_config --bindir` when it holds initdb,
// else the newest /usr/lib/postgresql/*/bin. Run as root, the server runs as the system user
// `postgres` (the directory tree is given to it); otherwise as the current user.
//
// Every wait is bounded (60 s to start, 60 s to stop, then stronger means).
//
// Thread safety: one thread at a time per PgSandbox; const accessors may be called
// concurrently. Distinct sandboxes are independent.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/base/result.h"
#include "common/base/status.h"

namespace sqlift {

struct PgSandboxOptions {
  // Empty: a fresh directory under $TMPDIR (or /tmp). Otherwise this directory, which must not
  // exist or be empty; it is removed with the sandbox.
  std::string dir;
  // Extra postgresql.conf settings, name and value ("max_wal_senders", "20"). Values are
  // written quoted. port, listen_addresses and unix_socket_directories are the sandbox's own.
  std::vector<std::pair<std::string, std::string>> settings;
  // When true, the destructor leaves the server running and the directory in place (for
  // `sqlift pg-sandbox start`); StopDir() ends it later.
  bool keep = false;
};

// What sandbox.info records, for tools that find a sandbox by its directory.
struct PgSandboxInfo {
  int port = 0;
  std::string uri;
  std::string data_dir;
  std::string bindir;
};

class PgSandbox {
 public:
  // Creates and starts a cluster. On failure nothing is left behind, and the Status carries
  // the tool's output or the last lines of server.log.
  [[nodiscard]] static Result<std::unique_ptr<PgSandbox>> Start(PgSandboxOptions options);

  // Stops the server (fast, then immediate, then SIGKILL) and removes dir(), unless keep.
  ~PgSandbox();
  PgSandbox(const PgSandbox&) = delete;
  PgSandbox& operator=(const PgSandbox&) = delete;

  // postgresql://postgres@127.0.0.1:PORT/postgres
  const std::string& uri() const { return uri_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  const std::string& data_dir() const { return data_dir_; }

  // The URI of database `name` on this server (percent-encoded).
  std::string UriFor(const std::string& database) const;

  // Clean shutdown (pg_ctl stop -m fast); the data directory stays, for Restart().
  [[nodiscard]] Status Stop();
  // Immediate shutdown, without a checkpoint: the next start runs crash recovery.
  [[nodiscard]] Status Crash();
  // Starts the server again on the same directory and port (stopping it first if running).
  [[nodiscard]] Status Restart();
  // True while the postmaster named in data/postmaster.pid is alive.
  bool running() const;

  // CREATE DATABASE with the name quoted; returns the database's URI.
  [[nodiscard]] Result<std::string> CreateDatabase(const std::string& name);

  // Reads dir/sandbox.info.
  [[nodiscard]] static Result<PgSandboxInfo> ReadInfo(const std::string& dir);
  // Stops the sandbox recorded in dir/sandbox.info (one started with keep = true) and removes
  // dir. Refuses a directory without sandbox.info.
  [[nodiscard]] static Status StopDir(const std::string& dir);

 private:
  PgSandbox(std::string dir, std::string bindir, std::string run_as);
  Status Init(const std::vector<std::pair<std::string, std::string>>& settings);
  Status WriteInfo() const;

  std::string dir_;
  std::string data_dir_;
  std::string bindir_;
  std::string run_as_;  // system user that runs the server tools; empty: the current user
  int port_ = 0;
  std::string uri_;
  bool keep_ = false;
};

}  // namespace sqlift
