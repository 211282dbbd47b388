// `sqlift demo`: the README's main job. Until every stage exists it prints the plan of the
// stages it will run, marking the ones that are built.
#include <cstdio>
#include <string>

#include "tools/command.h"

namespace sqlift {
namespace {

struct DemoOptions {
  std::string pg;
  bool json = false;
  bool keep = false;
};

struct Stage {
  const char* name;
  const char* what;
};

constexpr Stage kStages[] = {
    {"pg-sandbox", "start a throwaway PostgreSQL (unless --pg is given)"},
    {"app", "create the booking application database and start writers through the recorder"},
    {"plan", "map the SQLite schema to PostgreSQL and list every problem"},
    {"init", "create the outbox, state tables and the PostgreSQL schema"},
    {"snapshot", "copy every table at log position S with COPY"},
    {"stream", "apply every change after S exactly once, in commit order"},
    {"verify", "compare both sides at one position"},
    {"cutover", "fence SQLite, drain, flip the route; writers follow it to PostgreSQL"},
    {"fallback", "move writes back to SQLite; nothing written on PostgreSQL is lost"},
    {"verify", "compare again"},
    {"cutover", "move to PostgreSQL for good"},
    {"finish", "stop replication and remove sqlift's tables"},
};

int RunDemo(const DemoOptions& o) {
  if (o.json) {
    std::printf("{\"implemented\":false,\"stages\":[");
    for (size_t i = 0; i < std::size(kStages); ++i) {
      std::printf("%s{\"name\":\"%s\",\"what\":\"%s\"}", i ? "," : "", kStages[i].name,
                  kStages[i].what);
    }
    std::printf("]}\n");
    return kExitOk;
  }
  std::printf("sqlift demo: the stages are not all built yet; this is the plan it will run:\n\n");
  int n = 1;
  for (const Stage& s : kStages)
    std::printf("  %2d. %-10s %s\n", n++, s.name, s.what);
  std::printf(
      "\nBuilt so far: the throwaway PostgreSQL (`sqlift pg-sandbox`), capture (`sqlift init`,\n"
      "the recorder and libsqlift_capture.so, `sqlift capture`, `sqlift log`), and\n"
      "`sqlift bench capture`. See README.md, \"Capturing changes\", for a worked example.\n");
  return kExitOk;
}

}  // namespace

void AddDemoCommand(CLI::App& root, CommandTable& table, const GlobalOptions&) {
  static DemoOptions o;
  CLI::App* demo = root.add_subcommand(
      "demo", "Run a whole migration of a sample booking application, with a summary");
  demo->add_option("--pg", o.pg, "Use this PostgreSQL instead of starting a throwaway one");
  demo->add_flag("--json", o.json, "Print the summary as one JSON document");
  demo->add_flag("--keep", o.keep, "Leave the databases and the throwaway server behind");
  table.Set(demo, [] { return RunDemo(o); });
}

}  // namespace sqlift
