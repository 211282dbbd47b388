// The `sqlift` command line: one binary, one sub-command per stage of a migration.
// Exceptions stop here (the process boundary); everything below returns Status.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "proto/wire/frame_codec.h"
#include "tools/cli/command.h"
#include "tools/daemon/logging.h"

#ifndef SQLIFT_VERSION
#define SQLIFT_VERSION "0.0.0"
#endif

namespace sqlift {
namespace {

constexpr const char* kFooter = R"(
A migration runs these stages: plan, init, capture + apply (snapshot, then stream), verify,
cutover, fallback if needed, finish. `sqlift demo` walks all of them on a sample database.
Exit codes: 0 ok, 1 failed, 2 usage error, 3 blocked (plan, verify, shadow, finish).)";

// Loads --config (when given) and starts logging: command-line options first, then the
// configuration file's [log] section, then defaults. A bad file stops here, before any work.
Status Prepare(GlobalOptions& global) {
  if (!global.config_path.empty()) {
    Result<Config> cfg = LoadConfigFile(global.config_path);
    if (!cfg.ok()) return cfg.status();
    global.config = std::move(cfg).value();
  }
  std::string format = global.log_format, level = global.log_level;
  if (global.config) {
    if (format.empty()) format = global.config->log_format;
    if (level.empty()) level = global.config->log_level;
  }
  return SetupLogging(format.empty() ? "text" : format, level.empty() ? "info" : level);
}

int Main(int argc, char** argv) {
  CLI::App app{"sqlift: move a live SQLite application to PostgreSQL with no maintenance window",
               "sqlift"};
  app.set_version_flag("--version", fmt::format("sqlift {} (wire protocol {})", SQLIFT_VERSION,
                                                proto::kProtocolVersion));
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the sub-command: `sqlift capture --config F`
  app.footer(kFooter);

  GlobalOptions global;
  app.add_option("-c,--config", global.config_path, "Configuration file (TOML)");
  app.add_option("--log-format", global.log_format, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", global.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  CommandTable table;
  AddPlanCommand(app, table, global);
  AddCopyCommand(app, table, global);
  AddApplyCommand(app, table, global);
  AddVerifyCommand(app, table, global);
  AddCheckCommand(app, table, global);
  AddShadowCommand(app, table, global);
  AddStatusCommand(app, table, global);
  AddSwitchCommands(app, table, global);
  AddCaptureCommands(app, table, global);
  AddLogCommands(app, table, global);
  AddBenchCommands(app, table, global);
  AddDemoCommand(app, table, global);
  AddPgSandboxCommands(app, table, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  Status st = Prepare(global);
  if (!st.ok()) {
    std::fprintf(stderr, "sqlift: %s\n", st.ToString().c_str());
    return kExitUsage;
  }
  return table.RunParsed(app);
}

}  // namespace
}  // namespace sqlift

int main(int argc, char** argv) {
  try {
    return sqlift::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sqlift: internal error: %s\n", e.what());
    return sqlift::kExitFailure;
  }
}
