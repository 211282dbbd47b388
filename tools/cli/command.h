// How sub-commands plug into the one `sqlift` binary.
//
// Each tools/cmd_*.cc file adds its sub-commands to the CLI11 tree and registers the function
// that runs it; main() parses, sets up logging, and runs the innermost sub-command given.
//
// Thread safety: used from main() only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/base/exit_code.h"
#include "common/base/result.h"
#include "common/config/config.h"

namespace sqlift {

// Options every sub-command accepts (they may also be given before the sub-command).
struct GlobalOptions {
  std::string config_path;
  std::string log_format;  // empty: from the configuration file, else "text"
  std::string log_level;   // empty: from the configuration file, else "info"

  // Loaded and checked by main() before any sub-command runs, when --config was given.
  std::optional<Config> config;
};

class CommandTable {
 public:
  // `run` is called when `sub` is the innermost sub-command on the command line.
  void Set(CLI::App* sub, std::function<int()> run) { runs_.emplace_back(sub, std::move(run)); }

  // Runs the innermost parsed sub-command; a parsed sub-command without a function (a group
  // such as `log`) prints its help and returns kExitUsage.
  int RunParsed(CLI::App& root) const;

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> runs_;
};

// The configuration given with --config; fails, saying so, when there was none.
[[nodiscard]] Result<Config> RequireConfig(const GlobalOptions& global);

// Sub-command groups, one per file.
void AddPgSandboxCommands(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddDemoCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddCaptureCommands(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddLogCommands(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddBenchCommands(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddPlanCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddCopyCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddStatusCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddVerifyCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddApplyCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddSwitchCommands(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddShadowCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global);
void AddCheckCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global);

}  // namespace sqlift
