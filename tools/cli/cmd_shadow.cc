// `sqlift shadow`: replays the application's sampled read queries (the shadow log) on SQLite
// and PostgreSQL at one position and reports every query whose result differs, or that
// PostgreSQL does not accept. tools/shadow_replay.h runs it; docs/shadow.md describes
// it. Exit 0 nothing differs, 3 something differs or is not valid on PostgreSQL, 1 failed,
// 2 usage.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "tools/cli/command.h"
#include "tools/shadow/shadow_replay.h"

namespace sqlift {
namespace {

struct ShadowCliOptions {
  std::string log;
  size_t limit = 0;
  bool json = false;
  int timeout_s = 30;
  int hold_timeout_s = 60;
  size_t max_rows = 10'000;
};

int RunShadow(const ShadowCliOptions& o, const GlobalOptions& global) {
  Result<Config> cfg = RequireConfig(global);
  if (!cfg.ok()) {
    spdlog::error("shadow: {}", cfg.status().ToString());
    return kExitUsage;
  }
  std::vector<std::string_view> needed = {"source.sqlite", "target.pg"};
  if (o.log.empty()) needed.push_back("shadow.log");
  if (Status st = cfg->Require(needed, "shadow"); !st.ok()) {
    spdlog::error("shadow: {}", st.ToString());
    return kExitUsage;
  }
  ShadowSpec spec;
  spec.sqlite = cfg->source_sqlite, spec.pg = cfg->target_pg, spec.source = cfg->source_id;
  spec.state_dir = cfg->state_dir;
  spec.log_path = o.log.empty() ? cfg->shadow_log : o.log;
  spec.rate = cfg->shadow_rate;
  spec.limit = o.limit, spec.max_rows = o.max_rows;
  spec.query_timeout = std::chrono::seconds(o.timeout_s);
  spec.hold_timeout = std::chrono::seconds(o.hold_timeout_s);
  Result<ShadowReport> report = RunShadowReplay(spec);
  if (!report.ok()) {
    spdlog::error("shadow: {}", report.status().ToString());
    return kExitFailure;
  }
  if (!report->held) spdlog::info("shadow: {}", report->note);
  std::fputs((o.json ? ShadowReportJson(*report) + "\n" : ShadowReportText(*report)).c_str(),
             stdout);
  return ShadowExitCode(*report);
}

}  // namespace

void AddShadowCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static ShadowCliOptions o;  // lives as long as the CLI tree, which main() owns
  CLI::App* shadow = root.add_subcommand(
      "shadow",
      "Replay the application's sampled read queries on SQLite and PostgreSQL at one position "
      "and report the queries whose results differ");
  shadow->add_option("--log", o.log, "The shadow log (default: [shadow] log)");
  shadow->add_option("--limit", o.limit, "Replay only the first N log entries (0: all)")
      ->capture_default_str();
  shadow->add_flag("--json", o.json, "Print one JSON document with every query");
  shadow->add_option("--timeout", o.timeout_s, "Seconds one query may run on each side")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  shadow
      ->add_option("--hold-timeout", o.hold_timeout_s,
                   "Seconds to wait for the applier to reach the SQLite snapshot's position")
      ->capture_default_str();
  shadow
      ->add_option("--max-rows", o.max_rows,
                   "Rows per query and side kept to show the differing rows")
      ->capture_default_str();
  shadow->footer(
      "Needs --config with [source] sqlite, [target] pg and [shadow] log (or --log). While the "
      "source replicates (PostgreSQL holds its position) the applier is held at the SQLite "
      "snapshot's outbox position S until PostgreSQL's snapshot is taken, so every query runs "
      "on both sides at S; otherwise the sides are read as they are (one-shot). PostgreSQL runs "
      "each query in a READ ONLY transaction under a SAVEPOINT, with SQLite blob literals "
      "x'..' rewritten to '\\x..'::bytea and no other change. Results are compared as multisets "
      "of rows after normalizing by the PostgreSQL column types, and in order too when the query "
      "has a top-level ORDER BY. Exit 0 nothing differs, 3 a query differs (rows or order) or is "
      "not valid on PostgreSQL, 1 failed, 2 usage. Queries that fail on SQLite are reported and "
      "do not change the exit code.");
  table.Set(shadow, [&global] { return RunShadow(o, global); });
}

}  // namespace sqlift
