// `sqlift pg-sandbox start|stop --dir D`: the throwaway PostgreSQL of the tests and the demo,
// for people and scripts. `start` leaves the server running and prints its URI.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include "tools/cli/command.h"
#include "tools/sandbox/pg_sandbox.h"

namespace sqlift {
namespace {

struct SandboxOptions {
  std::string dir;
  std::vector<std::string> settings;  // key=value
};

int Start(const SandboxOptions& o) {
  PgSandboxOptions options;
  options.dir = o.dir;
  options.keep = true;
  for (const std::string& kv : o.settings) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      spdlog::error("pg-sandbox start: setting '{}' is not key=value", kv);
      return kExitUsage;
    }
    options.settings.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  Result<std::unique_ptr<PgSandbox>> sb = PgSandbox::Start(options);
  if (!sb.ok()) {
    spdlog::error("pg-sandbox start: {}", sb.status().ToString());
    return kExitFailure;
  }
  std::printf("%s\n", (*sb)->uri().c_str());
  spdlog::info("PostgreSQL running in {}; stop it with: sqlift pg-sandbox stop --dir {}",
               (*sb)->dir(), (*sb)->dir());
  return kExitOk;
}

int Stop(const SandboxOptions& o) {
  Status st = PgSandbox::StopDir(o.dir);
  if (!st.ok()) {
    spdlog::error("pg-sandbox stop: {}", st.ToString());
    return kExitFailure;
  }
  spdlog::info("stopped and removed {}", o.dir);
  return kExitOk;
}

}  // namespace

void AddPgSandboxCommands(CLI::App& root, CommandTable& table, const GlobalOptions&) {
  static SandboxOptions o;
  CLI::App* sb = root.add_subcommand(
      "pg-sandbox", "Start or stop a throwaway local PostgreSQL (the one the tests use)");
  sb->require_subcommand(1);
  CLI::App* start = sb->add_subcommand(
      "start", "initdb into --dir, start on a free loopback port, print the URI, leave it running");
  start->add_option("--dir", o.dir, "Directory for the cluster (must not exist or be empty)")
      ->required();
  start->add_option("--set", o.settings, "Extra server setting, key=value (repeatable)");
  table.Set(start, [] { return Start(o); });
  CLI::App* stop = sb->add_subcommand("stop", "Stop the server started in --dir and remove --dir");
  stop->add_option("--dir", o.dir, "Directory given to `start`")->required();
  table.Set(stop, [] { return Stop(o); });
}

}  // namespace sqlift
