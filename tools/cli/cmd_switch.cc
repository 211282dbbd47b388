// `sqlift cutover`, `sqlift fallback` and `sqlift finish` (tools/switch_run.h has the protocol).
// Exit codes: 0 done; 1 failed (for cutover/fallback: undone, the tenant stays where it was);
// 2 usage; 3 finish refused because not everything is on PostgreSQL yet.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <numeric>

#include "apply/reverse/source_layout.h"
#include "common/base/parse.h"
#include "common/json/json.h"
#include "tools/cli/command.h"
#include "tools/switch/switch_run.h"

namespace sqlift {
namespace {

struct SwitchCli {
  std::string tenant;
  std::string timeout = "30s";
  uint64_t max_lag = 1000;
  bool no_verify = false;
  bool full_verify = false;
  size_t max_changes_since_proof = 300;
  bool json = false;
};

// "30s", "500ms", "2m", or a bare number of seconds.
Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  const size_t unit_at = std::min(text.find_first_of("ms"), text.size());
  Result<double> number = ParseDouble(std::string_view(text).substr(0, unit_at), "duration");
  if (!number.ok()) return Status::InvalidArgument("not a duration (30s, 500ms, 2m)");
  const double v = *number;
  const std::string unit = text.substr(unit_at);
  double ms = unit == "ms"                    ? v
              : unit == "m"                   ? v * 60000
              : (unit == "s" || unit.empty()) ? v * 1000
                                              : -1;
  if (ms <= 0) return Status::InvalidArgument("not a positive duration (30s, 500ms, 2m)");
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

double TotalMs(const std::vector<SwitchStep>& steps) {
  return std::accumulate(steps.begin(), steps.end(), 0.0,
                         [](double a, const SwitchStep& s) { return a + s.ms; });
}

std::string StepsText(const std::vector<SwitchStep>& steps) {
  std::string out;
  for (const SwitchStep& s : steps) {
    out +=
        fmt::format("  {:<15} {:>8.1f} ms  {}{}\n", s.name, s.ms, s.ok ? "" : "FAILED: ", s.note);
  }
  return out;
}

Json StepsJson(const std::vector<SwitchStep>& steps) {
  Json out = Json::array();
  for (const SwitchStep& s : steps) {
    out.push_back({{"name", s.name}, {"ms", JsonRounded(s.ms, 3)}, {"ok", s.ok}, {"note", s.note}});
  }
  return out;
}

int RunSwitch(const GlobalOptions& global, const SwitchCli& o, bool cutover) {
  Result<Config> cfg = RequireConfig(global);
  if (!cfg.ok()) {
    spdlog::error("{}: {}", cutover ? "cutover" : "fallback", cfg.status().ToString());
    return kExitUsage;
  }
  SwitchOptions so;
  so.tenant = o.tenant.empty() ? DefaultTenantOf(*cfg) : o.tenant;
  if (!cfg->source_tenant.empty() && so.tenant != cfg->source_tenant) {
    spdlog::error("--tenant {}: this source is the file of tenant {} only", so.tenant,
                  cfg->source_tenant);
    return kExitUsage;
  }
  if (so.tenant != "*" && cfg->source_tenant.empty() && cfg->source_tenant_column.empty()) {
    spdlog::error("--tenant needs [source] tenant_column (or tenant) in the configuration");
    return kExitUsage;
  }
  Result<std::chrono::milliseconds> timeout = ParseDuration(o.timeout);
  if (!timeout.ok()) {
    spdlog::error("--timeout {}: {}", o.timeout, timeout.status().message());
    return kExitUsage;
  }
  so.timeout = *timeout;
  so.max_lag_seqs = o.max_lag;
  so.verify = !o.no_verify;
  so.full_verify = o.full_verify;
  so.max_changes_since_proof = o.max_changes_since_proof;
  SwitchReport r = cutover ? RunCutover(*cfg, so) : RunFallback(*cfg, so);
  std::fputs((o.json ? SwitchReportJson(r) + "\n" : SwitchReportText(r)).c_str(), stdout);
  return r.ok ? kExitOk : kExitFailure;
}

int RunFinishCli(const GlobalOptions& global, bool json) {
  Result<Config> cfg = RequireConfig(global);
  if (!cfg.ok()) {
    spdlog::error("finish: {}", cfg.status().ToString());
    return kExitUsage;
  }
  FinishReport r = RunFinish(*cfg);
  if (json) {
    Json doc = {{"ok", r.ok}, {"reason", r.reason}, {"steps", StepsJson(r.steps)}};
    std::printf("%s\n", DumpJson(doc).c_str());
  } else {
    std::printf("finish: %s\n%s",
                r.ok ? "PostgreSQL stands alone; stop `sqlift apply`, and the "
                       "state directory can be removed"
                     : ("refused: " + r.reason).c_str(),
                StepsText(r.steps).c_str());
  }
  if (r.ok) return kExitOk;
  return r.reason.find("not every route") != std::string::npos ? kExitBlocked : kExitFailure;
}

void AddSwitchOptions(CLI::App* app, SwitchCli& o) {
  app->add_option("--tenant", o.tenant,
                  "The tenant to move (default: the whole database, or [source] tenant)");
  app->add_option("--timeout", o.timeout,
                  "How long before the switch gives up and undoes itself (30s, 500ms, 2m), counted "
                  "from the end of the proof (a held verify before the fence takes as long as "
                  "the tables need)")
      ->capture_default_str();
  app->add_option("--max-lag", o.max_lag, "Seqs of lag to wait for before fencing")
      ->capture_default_str();
  app->add_flag("--no-verify", o.no_verify, "Skip comparing the tenant's rows before the flip");
  app->add_flag("--full-verify", o.full_verify,
                "Compare every row of the tenant inside the fence (the pause then grows with the "
                "data). Default: a proof before the fence (the last verify at a position both "
                "sides were at, or a held verify run now while writes go on), then inside the "
                "fence only the rows the logs show changed since it");
  app->add_option("--max-changes-since-proof", o.max_changes_since_proof,
                  "Before fencing, the keys changed since the proof are checked (a cutover: with "
                  "the applier held, an incremental held verify; a fallback: in batches, the "
                  "equal ones set aside), again while more than this many are left, so that the "
                  "check inside the fence stays small")
      ->capture_default_str();
  app->add_flag("--json", o.json, "Print the report as one JSON document");
}

}  // namespace

std::string SwitchReportText(const SwitchReport& r) {
  std::string head =
      r.ok ? fmt::format("{} of {}: done in {:.0f} ms; write pause {:.1f} ms; route epoch {} -> {}",
                         r.direction, r.tenant == "*" ? "the whole database" : "tenant " + r.tenant,
                         TotalMs(r.steps), r.pause_ms, r.epoch_before, r.epoch_after)
           : fmt::format("{} of {}: FAILED{}: {}", r.direction,
                         r.tenant == "*" ? "the whole database" : "tenant " + r.tenant,
                         r.undone ? " and undone (nothing changed)" : "", r.reason);
  return head + "\n" + StepsText(r.steps);
}

std::string SwitchReportJson(const SwitchReport& r) {
  return DumpJson({{"direction", r.direction},
                   {"tenant", r.tenant},
                   {"ok", r.ok},
                   {"undone", r.undone},
                   {"reason", r.reason},
                   {"epoch_before", r.epoch_before},
                   {"epoch_after", r.epoch_after},
                   {"fence_seq", r.fence_seq},
                   {"flip_seq", r.flip_seq},
                   {"pause_ms", JsonRounded(r.pause_ms, 3)},
                   {"verify_matched", r.verify ? Json(r.verify->matched()) : Json(nullptr)},
                   {"steps", StepsJson(r.steps)}});
}

void AddSwitchCommands(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static SwitchCli cut, back;  // live as long as the CLI tree, which main() owns
  static bool finish_json = false;
  CLI::App* cutover = root.add_subcommand(
      "cutover",
      "Move a tenant's (or the whole database's) writes to PostgreSQL: prove both sides equal "
      "while writes go on, fence SQLite, drain, check only the rows changed since the proof, "
      "flip the route, open PostgreSQL; undone on any failure");
  AddSwitchOptions(cutover, cut);
  cutover->footer(
      "Needs --config ([source] id, sqlite, tenant_column or tenant; [target] pg) with "
      "`sqlift capture` and `sqlift apply` running. The tenant's writers get a retryable "
      "refusal for the length of the write pause (printed); others go on. Writers follow the "
      "route: Recorder::RouteFor / sqlift_route() / GET /route. Reverse replication "
      "(PostgreSQL -> SQLite) starts in `sqlift capture` once the route says postgres. The "
      "pause does not grow with the data: the whole comparison runs before the fence. It "
      "assumes every write of the tenant's rows went through capture: true in capture mode wal; "
      "in recorder mode a writer without the recorder bypasses it, so use --full-verify.");
  table.Set(cutover, [&global] { return RunSwitch(global, cut, true); });

  CLI::App* fallback = root.add_subcommand(
      "fallback",
      "Move a tenant's writes back to SQLite: fence, bring every PostgreSQL write back, verify, "
      "flip; nothing written on PostgreSQL is lost; undone on any failure");
  AddSwitchOptions(fallback, back);
  fallback->footer(
      "Needs the same as cutover, and the reverse path of `sqlift capture` streaming. When no "
      "tenant is left on PostgreSQL the replication slot is dropped. In capture mode wal the "
      "check inside the fence reads only the rows changed since the last proof (usually the "
      "cutover's), on either side; in recorder mode it compares every row.");
  table.Set(fallback, [&global] { return RunSwitch(global, back, false); });

  CLI::App* finish = root.add_subcommand(
      "finish",
      "After everything is on PostgreSQL: drop the replication slot, publication and fences, "
      "and sqlift's tables in SQLite; PostgreSQL stands alone");
  finish->add_flag("--json", finish_json, "Print the report as one JSON document");
  finish->footer(
      "Refuses (exit 3) while any route is not on postgres, and (exit 1) while `sqlift "
      "capture` still runs. Stop `sqlift apply` afterwards.");
  table.Set(finish, [&global] { return RunFinishCli(global, finish_json); });
}

}  // namespace sqlift
