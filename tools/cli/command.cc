#include "tools/cli/command.h"

#include <cstdio>
#include <iostream>

namespace sqlift {

int CommandTable::RunParsed(CLI::App& root) const {
  CLI::App* innermost = &root;
  for (;;) {
    auto subs = innermost->get_subcommands();
    if (subs.empty()) break;
    innermost = subs.front();
  }
  for (const auto& [app, run] : runs_) {
    if (app == innermost) return run();
  }
  std::cerr << innermost->help();
  return kExitUsage;
}

Result<Config> RequireConfig(const GlobalOptions& global) {
  if (!global.config) {
    return Status::InvalidArgument(
        "this command needs --config FILE (see deploy/sqlift.example.toml)");
  }
  return *global.config;
}

}  // namespace sqlift
