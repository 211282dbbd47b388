// Sub-commands whose stage is not built yet. Each already documents, in --help, the options
// its issue specifies, and exits with kExitUsage and "not implemented yet" until built.
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "tools/command.h"

namespace sqlift {
namespace {

// Storage for options of commands that do not run yet: parsed so --help and typos behave as
// they will, then ignored.
struct PendingOptions {
  std::string text1, text2, text3;
  std::vector<std::string> list;
  bool flag1 = false, flag2 = false;
  int number = 0;
};

void Pending(CLI::App* sub, CommandTable& table) {
  table.Set(sub, [sub] {
    std::string path = sub->get_name();
    for (CLI::App* p = sub->get_parent(); p && p->get_parent(); p = p->get_parent()) {
      path = p->get_name() + " " + path;
    }
    spdlog::error("sqlift {}: not implemented yet", path);
    return kExitUsage;
  });
}

}  // namespace

void AddPendingCommands(CLI::App& root, CommandTable& table, const GlobalOptions&) {
  static PendingOptions o;  // lives as long as the CLI tree, which main() owns

  CLI::App* cutover =
      root.add_subcommand("cutover",
                          "Move writes to PostgreSQL: fence SQLite, drain, verify, flip the route, "
                          "start reverse replication");
  cutover->add_option("--tenant", o.text1, "Move only this tenant");
  cutover->add_option("--timeout", o.text2, "Give up and undo after this long (e.g. 30s)");
  Pending(cutover, table);

  CLI::App* fallback = root.add_subcommand(
      "fallback", "Move writes back to SQLite without losing anything written on PostgreSQL");
  fallback->add_option("--tenant", o.text1, "Move back only this tenant");
  Pending(fallback, table);

  CLI::App* finish = root.add_subcommand(
      "finish", "Stop replication and remove sqlift's tables, leaving PostgreSQL alone");
  Pending(finish, table);
}

}  // namespace sqlift
