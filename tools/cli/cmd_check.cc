// `sqlift check`: connects with [target] pg and reports, per command, every privilege, role
// attribute and server setting the login lacks, each with the statement that gives it
// (tools/check/privilege_check.h). Reads catalogs only. Exit 0 everything in place, 3 something
// missing, 1 failed (e.g. no connection), 2 usage.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "tools/check/privilege_check.h"
#include "tools/cli/command.h"

namespace sqlift {
namespace {

struct CheckCliOptions {
  std::string pg;
  std::string schema = "public";
  bool json = false;
};

int RunCheck(const CheckCliOptions& o, const GlobalOptions& global) {
  Result<Config> cfg = RequireConfig(global);
  if (!cfg.ok()) {
    spdlog::error("check: {}", cfg.status().ToString());
    return kExitUsage;
  }
  const std::string uri = o.pg.empty() ? cfg->target_pg : o.pg;
  if (uri.empty()) {
    spdlog::error("check: give [target] pg in the configuration, or --pg URI");
    return kExitUsage;
  }
  Result<CheckTarget> target = CheckTargetFor(*cfg, o.schema);
  Result<std::unique_ptr<PgConnection>> conn =
      target.ok() ? PgConnection::Connect(uri, std::chrono::seconds(10))
                  : Result<std::unique_ptr<PgConnection>>(target.status());
  Result<PrivilegeReport> report =
      conn.ok() ? CheckPrivileges(**conn, *target) : Result<PrivilegeReport>(conn.status());
  if (!report.ok()) {
    spdlog::error("check: {}", report.status().ToString());
    return ExitCodeFor(report.status());
  }
  std::fputs(o.json ? (DumpJson(CheckReportJson(*report)) + "\n").c_str()
                    : CheckReportText(*report).c_str(),
             stdout);
  return report->missing() == 0 ? kExitOk : kExitBlocked;
}

}  // namespace

void AddCheckCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static CheckCliOptions o;  // lives as long as the CLI tree, which main() owns
  CLI::App* check = root.add_subcommand(
      "check",
      "Check that the [target] pg login holds every privilege, role attribute and server "
      "setting each command needs; print the statement that gives each missing one");
  check->add_option("--pg", o.pg, "PostgreSQL URI to check (default: [target] pg)");
  check->add_option("--schema", o.schema, "PostgreSQL schema of the migrated tables")
      ->capture_default_str();
  check->add_flag("--json", o.json, "Print one JSON document instead of text");
  check->footer(
      "Needs --config. Reads catalogs and settings only; changes nothing. For each command "
      "(apply: the applier's DDL, snapshot load, change stream and fences; verify; cutover, "
      "fallback and finish with reverse replication) it lists what is missing, with the "
      "statement to run and who may run it (the object's owner, or a superuser), then what is "
      "fine. Checked: CONNECT and CREATE on the database; USAGE and CREATE on the schema; "
      "ownership of schema sqlift; EXECUTE on the pg_replication_origin_* functions; the "
      "REPLICATION attribute; wal_level = logical, max_replication_slots and max_wal_senders "
      "> 0; the publication; for each migrated table that exists already: SELECT, INSERT, "
      "UPDATE, DELETE, TRUNCATE, ownership, and row-level security that would hide rows from "
      "the login. Exit 0 everything in place, 3 something missing, 1 failed, 2 usage.");
  table.Set(check, [&global] { return RunCheck(o, global); });
}

}  // namespace sqlift
