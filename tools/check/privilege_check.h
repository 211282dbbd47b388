// What `sqlift check` finds about the [target] pg login before anything runs: for each sqlift
// command that uses PostgreSQL (the applier, verify, the switches with reverse replication),
// every privilege, role attribute and server setting it needs, held or missing, and for each
// missing one the statement that gives it (identifiers quoted, the real names).
//
//   SQLIFT_ASSIGN_OR_RETURN(CheckTarget target, CheckTargetFor(cfg, "public"));
//   SQLIFT_ASSIGN_OR_RETURN(PrivilegeReport r, CheckPrivileges(*conn, target));
//   r.missing() == 0: every command can run as this login.
//
// The checks only read catalogs and settings; nothing is changed. Ownership: the caller owns
// the connection. Thread safety: pure functions over a connection used by one thread.
#pragma once

#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/config/config.h"
#include "common/json/json.h"
#include "common/pg/pg_connection.h"

namespace sqlift {

// The commands a finding matters to, as bits of Finding::needed_by.
enum CheckCommand : unsigned {
  kForApply = 1,   // the applier daemon: DDL, snapshot load, the change stream, the fences
  kForVerify = 2,  // verify (and the checks inside cutover and fallback)
  kForSwitch = 4,  // cutover, fallback, finish and reverse replication (capture's way back)
};

struct Finding {
  std::string what;  // e.g. CREATE on schema "public"
  unsigned needed_by = 0;
  bool ok = false;
  std::string fix;     // when missing: the statements that give it
  std::string run_as;  // who may run `fix`: "a superuser", "the table's owner or a superuser"
  std::string note;    // why it is needed, or another way (managed services)
};

// What the check looks at besides the login: the migration's names in PostgreSQL.
struct CheckTarget {
  std::string schema = "public";
  std::string replication_name;     // slot, publication and origin (ReplicationNameFor)
  std::vector<std::string> tables;  // PostgreSQL names of the migrated tables
  bool every_table = false;         // no SQLite file to read: every table of the schema
  std::string tables_note;          // why every_table, for the report
};

struct PrivilegeReport {
  std::string role;
  std::string database;
  std::string schema;
  bool superuser = false;
  std::string tables_note;
  std::vector<Finding> findings;

  size_t missing() const;
};

// The target of `cfg`'s source: its replication name and the PostgreSQL names of the tables of
// [source] sqlite (without exclude_tables). An unreadable file is no error: every table of the
// schema is checked, and tables_note says why.
[[nodiscard]] Result<CheckTarget> CheckTargetFor(const Config& cfg, const std::string& schema);

// Every check, in report order: database, schemas, functions, role and server, publication,
// tables (privileges, ownership, row-level security).
[[nodiscard]] Result<PrivilegeReport> CheckPrivileges(PgConnection& conn,
                                                      const CheckTarget& target);

// For people: per command, what is missing (with its fix) and what is fine.
std::string CheckReportText(const PrivilegeReport& report);
// For scripts: {"role", "database", "schema", "ok", "missing", "findings": [...]}.
Json CheckReportJson(const PrivilegeReport& report);

}  // namespace sqlift
