// `sqlift verify`: compares SQLite and PostgreSQL table by table. With a
// configuration whose source PostgreSQL holds a position for, the applier is held at the SQLite
// snapshot's position while both snapshots are taken (the held form, design invariant 6);
// otherwise the two sides are compared as they are (one-shot: `--sqlite F --pg URI`, for a copy
// nobody writes). tools/verify_run.h runs it; docs/verify.md describes the method. Exit 0 all
// matched, 3 something differs, 1 failed, 2 usage.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "common/pg/pg_connection.h"
#include "tools/cli/command.h"
#include "tools/verify/applier_hold.h"
#include "tools/verify/verify_run.h"

namespace sqlift {
namespace {

struct VerifyCliOptions {
  std::string sqlite;
  std::string pg;
  std::string schema = "public";
  std::vector<std::string> tables;
  std::string tenant;
  bool json = false;
  bool no_hold = false;
  int hold_timeout_s = 60;
  size_t max_rows_kept = 50'000;  // ~280 bytes per kept row per side, measured
};

Result<VerifySpec> MakeSpec(const VerifyCliOptions& o, const Config* cfg) {
  VerifySpec s;
  s.sqlite = o.sqlite.empty() && cfg ? cfg->source_sqlite : o.sqlite;
  s.pg = o.pg.empty() && cfg ? cfg->target_pg : o.pg;
  if (s.sqlite.empty() || s.pg.empty()) {
    return Status::InvalidArgument("give --sqlite FILE and --pg URI (or --config with them)");
  }
  s.schema = o.schema, s.tables = o.tables, s.cfg = cfg, s.max_rows_kept = o.max_rows_kept;
  s.progress = !o.json;
  s.hold_timeout = std::chrono::seconds(o.hold_timeout_s);
  if (cfg) {
    s.tenant_column = cfg->source_tenant_column;
    s.constant_tenant = cfg->source_tenant;
    if (!s.constant_tenant.empty() && s.tenant_column.empty()) s.tenant_column = "tenant_id";
  }
  if (!o.tenant.empty()) {
    if (!s.constant_tenant.empty() && o.tenant != s.constant_tenant) {
      return Status::InvalidArgument(
          fmt::format("--tenant {}: this file holds tenant {} only ([source] tenant)", o.tenant,
                      s.constant_tenant));
    }
    if (s.constant_tenant.empty() && s.tenant_column.empty()) {
      return Status::InvalidArgument("--tenant needs [source] tenant_column in the configuration");
    }
    if (s.constant_tenant.empty()) s.tenant = o.tenant;
  }
  const bool same_file = cfg && (o.sqlite.empty() || o.sqlite == cfg->source_sqlite);
  if (!o.no_hold && same_file && !cfg->source_id.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(s.pg, std::chrono::seconds(10)));
    SQLIFT_ASSIGN_OR_RETURN(bool replicating, SourceReplicates(*conn, cfg->source_id));
    if (replicating) {
      s.hold_source = cfg->source_id;
      s.skip_moved_tenants = true;
    } else {
      spdlog::info("verify: PostgreSQL holds no position for source {}: comparing one-shot",
                   cfg->source_id);
    }
  }
  return s;
}

int RunVerify(const VerifyCliOptions& o, const GlobalOptions& global) {
  const Config* cfg = global.config ? &*global.config : nullptr;
  Result<VerifySpec> spec = MakeSpec(o, cfg);
  if (!spec.ok()) {
    spdlog::error("verify: {}", spec.status().ToString());
    return ExitCodeFor(spec.status());
  }
  int exit = kExitFailure;
  Result<VerifyReport> report = RunVerification(*spec, &exit);
  if (!report.ok()) {
    spdlog::error("verify {}: {}", spec->sqlite, report.status().ToString());
    return exit == kExitOk || exit == kExitBlocked ? kExitFailure : exit;
  }
  std::fputs((o.json ? ReportJson(*report) + "\n" : ReportText(*report)).c_str(), stdout);
  return exit;
}

}  // namespace

void AddVerifyCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static VerifyCliOptions o;  // lives as long as the CLI tree, which main() owns
  CLI::App* verify = root.add_subcommand(
      "verify",
      "Compare SQLite and PostgreSQL table by table at one position: row counts, checksums per "
      "key range, then the differing rows");
  verify->add_option("--sqlite", o.sqlite, "SQLite database file (default: [source] sqlite)");
  verify->add_option("--pg", o.pg, "PostgreSQL URI (default: [target] pg)");
  verify->add_option("--schema", o.schema, "PostgreSQL schema holding the tables")
      ->capture_default_str();
  verify->add_option("--tables", o.tables, "Compare only these tables")->delimiter(',');
  verify->add_option("--tenant", o.tenant,
                     "Compare only this tenant's rows (tables with [source] tenant_column)");
  verify->add_flag("--json", o.json, "Print one JSON document instead of a table");
  verify->add_flag("--no-hold", o.no_hold,
                   "Compare the sides as they are, without holding the applier (one-shot)");
  verify
      ->add_option("--hold-timeout", o.hold_timeout_s,
                   "Seconds to wait for the applier to reach the SQLite snapshot's position")
      ->capture_default_str();
  verify
      ->add_option("--max-rows-kept", o.max_rows_kept,
                   "Rows per side held to find the differing rows of a table")
      ->capture_default_str();
  verify->footer(
      "With --config, while the source replicates (PostgreSQL holds its position), the applier "
      "is held at the SQLite snapshot's outbox position S until PostgreSQL's snapshot is taken, "
      "so both sides are compared at S while capture keeps logging; tenants routed to "
      "PostgreSQL are left out (fallback verifies them). Without a replicating source (or "
      "with --no-hold) the sides are compared as they are: for a copy nobody writes. Every run "
      "is recorded in sqlift.verify_runs. Exit 0 all matched, 3 differences, 1 failed, 2 usage.");
  table.Set(verify, [&global] { return RunVerify(o, global); });
}

}  // namespace sqlift
