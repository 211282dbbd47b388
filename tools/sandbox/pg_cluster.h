// Control of one PostgreSQL cluster directory with initdb and pg_ctl (internal to deploy/;
// PgSandbox is the public face). Every call is bounded in time.
//
// Thread safety: functions; distinct clusters may be handled from distinct threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/base/result.h"
#include "common/base/status.h"
#include "common/process/user.h"

namespace sqlift::pgcluster {

using Settings = std::vector<std::pair<std::string, std::string>>;

struct Cluster {
  std::string dir;                            // holds server.log and the unix socket
  std::string data_dir;                       // PGDATA
  std::string bindir;                         // initdb, pg_ctl, postgres
  std::optional<process::UserIdentity> user;  // run the tools as this user (when root)

  std::string log_file() const { return dir + "/server.log"; }
};

// $SQLIFT_PG_BINDIR, `pg_config --bindir`, or the newest /usr/lib/postgresql/*/bin: the first
// that holds initdb and pg_ctl.
[[nodiscard]] Result<std::string> FindServerBinDir();

// The user the server must run as: `postgres` when this process is root (PostgreSQL refuses to
// run as root), nullopt (the current user) otherwise.
[[nodiscard]] Result<std::optional<process::UserIdentity>> ServerUser();

// A loopback port that was free a moment ago, below the ephemeral range (so an outgoing
// connection cannot take it before the caller binds it); see pg_cluster.cc.
[[nodiscard]] Result<int> PickFreePort();

// Rejects setting names that are not plain identifiers, values with line breaks, and the
// settings the sandbox manages itself.
[[nodiscard]] Status ValidateSettings(const Settings& settings);

// initdb (superuser postgres, trust, UTF8, C locale, no sync) and an include of
// sqlift_sandbox.conf in postgresql.conf.
[[nodiscard]] Status InitDb(const Cluster& cluster);

// (Re)writes sqlift_sandbox.conf: the sandbox defaults, the port, then `extra`.
[[nodiscard]] Status WriteSettings(const Cluster& cluster, int port, const Settings& extra);

// pg_ctl start -w. On failure *port_taken says whether the server could not bind its port.
[[nodiscard]] Status StartServer(const Cluster& cluster, bool* port_taken);

// pg_ctl stop -m `mode` (fast, immediate) -w; OK when no server is running.
[[nodiscard]] Status StopServer(const Cluster& cluster, const std::string& mode);

// Fast stop, then immediate, then SIGKILL of the postmaster: the server is gone afterwards
// unless every step failed (the Status says which).
[[nodiscard]] Status StopAnyHow(const Cluster& cluster);

// True while the postmaster named in postmaster.pid is alive.
bool Running(const Cluster& cluster);

}  // namespace sqlift::pgcluster
