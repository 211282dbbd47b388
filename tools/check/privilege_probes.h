// The probes behind CheckPrivileges (privilege_check.h), one family per function; each reads
// catalogs or settings over `conn` and appends its findings to `out`. Internal to tools/check.
//
// Thread safety: functions over a connection used by one thread.
#pragma once

#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/pg/pg_connection.h"
#include "tools/check/privilege_check.h"

namespace sqlift::privcheck {

// The login as PostgreSQL sees it (current_user, which is session_user at connect).
struct Login {
  std::string role;
  std::string database;
  bool superuser = false;
  bool replication = false;
  bool bypassrls = false;
};

[[nodiscard]] Result<Login> ReadLogin(PgConnection& conn);

// CONNECT and CREATE on the database.
[[nodiscard]] Status CheckDatabase(PgConnection& conn, const Login& login,
                                   std::vector<Finding>* out);

// USAGE and CREATE on the target schema; ownership of sqlift's own schema when it exists.
[[nodiscard]] Status CheckSchemas(PgConnection& conn, const Login& login, const std::string& schema,
                                  std::vector<Finding>* out);

// EXECUTE on each pg_replication_origin_* function sqlift calls.
[[nodiscard]] Status CheckOriginFunctions(PgConnection& conn, const Login& login,
                                          std::vector<Finding>* out);

// The REPLICATION attribute, wal_level, max_replication_slots, max_wal_senders and the
// publication the way back streams from.
[[nodiscard]] Status CheckReplication(PgConnection& conn, const Login& login,
                                      const CheckTarget& target, std::vector<Finding>* out);

// For each migrated table that already exists: the privileges on it, its ownership, and
// whether row-level security would hide rows from the login.
[[nodiscard]] Status CheckTables(PgConnection& conn, const Login& login, const CheckTarget& target,
                                 std::vector<Finding>* out);

// A finding that holds, or one that is missing with its fix.
Finding Held(std::string what, unsigned needed_by, std::string note = "");
Finding Missing(std::string what, unsigned needed_by, std::string fix, std::string run_as,
                std::string note = "");

}  // namespace sqlift::privcheck
