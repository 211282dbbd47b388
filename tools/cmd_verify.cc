// `sqlift verify`: compares SQLite and PostgreSQL table by table (issue 5 part 1).
// (Being written; this stub registers the sub-command.)
#include "tools/command.h"

namespace sqlift {

void AddVerifyCommand(CLI::App& root, CommandTable& table, const GlobalOptions&) {
  CLI::App* verify = root.add_subcommand(
      "verify", "Compare SQLite and PostgreSQL at one log position, table by table");
  table.Set(verify, [] {
    std::fprintf(stderr, "sqlift verify: not implemented yet\n");
    return kExitUsage;
  });
}

}  // namespace sqlift
