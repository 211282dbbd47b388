// `sqlift plan`: reads a SQLite database (schema and every row) and prints the PostgreSQL
// schema it maps to and every problem found, each with its fix (docs/design.md, the life of a migration, stage plan).
// Exit 0 when nothing blocks the migration, 3 (kExitBlocked) when something does.
#include <spdlog/spdlog.h>
#include <strings.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "apply/translate/schema_translator.h"
#include "tools/plan/data_profiler.h"
#include "common/sqlite/sqlite_schema.h"
#include "common/base/text.h"
#include "tools/cli/change_format.h"
#include "tools/cli/command.h"
#include "apply/translate/mapping_overrides.h"

namespace sqlift {

namespace {

struct PlanOptions {
  std::string sqlite;
  std::string schema = "public";
  bool json = false;
};

// Scans every row and adds a blocker per column holding values that do not fit.
Status AddDataProblems(SqliteDb& db, const std::vector<TableSchema>& tables, SchemaPlan* plan) {
  // Schema column index → mapped type, per table (hidden columns have none).
  std::map<const TableSchema*, std::vector<const PgType*>> types;
  for (size_t i = 0; i < tables.size(); ++i) {
    std::vector<const PgType*>& v = types[&tables[i]];
    v.assign(tables[i].columns.size(), nullptr);
    for (const ColumnPlan& c : plan->tables[i].columns) {
      v[tables[i].ColumnIndex(c.source_name)] = &c.mapping.type;
    }
  }
  ValueCheck check = [&](const TableSchema& t, size_t col, const wire::Value& v) {
    const PgType* type = types.at(&t)[col];
    return type ? WhyValueDoesNotFit(v, *type) : std::nullopt;
  };
  ProfileOptions options;
  if (isatty(STDERR_FILENO)) {
    options.progress = [](const std::string& table, int64_t done, int64_t total) {
      std::fprintf(stderr, "\rscanning %s: %lld/%lld rows\033[K%s", table.c_str(),
                   static_cast<long long>(done), static_cast<long long>(total),
                   done == total ? "\n" : "");
    };
  }
  SQLIFT_ASSIGN_OR_RETURN(std::vector<ColumnFindings> found,
                          ProfileData(db, tables, check, options));
  for (ColumnFindings& f : found) {
    Problem p;
    p.severity = Problem::Severity::kBlocker;
    p.table = f.table;
    p.column = f.column;
    p.what = fmt::format("{} values do not fit the column's PostgreSQL type", f.count);
    p.fix =
        "correct those rows in SQLite, or map the column to a type that holds them "
        "([mapping] in the configuration, e.g. text)";
    p.count = f.count;
    p.examples = std::move(f.examples);
    plan->problems.push_back(std::move(p));
  }
  return Status::OK();
}

// JSON string of any bytes: invalid UTF-8 is shown as \xNN text rather than failing.
std::string Json(const std::string& s) {
  if (IsValidUtf8(s)) return JsonString(s);
  std::string clean;
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0)
      clean += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i])), n = 1;
    else
      clean += s.substr(i, n);
    i += n;
  }
  return JsonString(clean);
}

void PrintJson(const SchemaPlan& plan) {
  auto list = [](const std::vector<std::string>& v) {
    std::vector<std::string> out;
    for (const std::string& s : v)
      out.push_back(Json(s));
    return fmt::format("[{}]", fmt::join(out, ","));
  };
  std::vector<std::string> problems;
  for (const Problem& p : plan.problems) {
    problems.push_back(fmt::format(
        R"({{"severity":"{}","table":{},"column":{},"what":{},"fix":{},"count":{},"examples":{}}})",
        SeverityName(p.severity), Json(p.table), Json(p.column), Json(p.what), Json(p.fix), p.count,
        list(p.examples)));
  }
  std::printf("{\"ddl\":%s,\"after_data\":%s,\"problems\":[%s],\"blocked\":%s}\n",
              list(plan.ddl).c_str(), list(plan.after_data).c_str(),
              fmt::format("{}", fmt::join(problems, ",")).c_str(),
              plan.blocked() ? "true" : "false");
}

void PrintText(const SchemaPlan& plan) {
  for (const std::string& s : plan.ddl)
    std::printf("%s;\n\n", s.c_str());
  std::printf("-- after the data load:\n");
  for (const std::string& s : plan.after_data)
    std::printf("%s;\n", s.c_str());
  int blockers = 0;
  for (const Problem& p : plan.problems) {
    blockers += p.severity == Problem::Severity::kBlocker;
    std::string where = p.table + (p.column.empty() ? "" : "." + p.column);
    std::printf("\n%s %s: %s\n  fix: %s\n", SeverityName(p.severity), where.c_str(), p.what.c_str(),
                p.fix.c_str());
    for (const std::string& e : p.examples)
      std::printf("  e.g. %s\n", e.c_str());
  }
  std::printf("\n%zu tables, %d blockers, %zu warnings: %s\n", plan.tables.size(), blockers,
              plan.problems.size() - blockers,
              blockers ? "the migration is blocked (exit 3)" : "nothing blocks the migration");
}

Result<SchemaPlan> Plan(const PlanOptions& o, const Config* cfg) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(o.sqlite, SqliteDb::Mode::kReadOnly));
  std::vector<std::string> excluded;
  if (cfg) excluded = cfg->source_exclude_tables;
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadTables(*db, excluded));
  TranslateOptions topt;
  topt.schema = o.schema;
  SQLIFT_ASSIGN_OR_RETURN(topt.overrides, Overrides(cfg, tables));
  SQLIFT_ASSIGN_OR_RETURN(SchemaPlan plan, TranslateSchema(tables, topt));
  SQLIFT_RETURN_IF_ERROR(AddDataProblems(*db, tables, &plan));
  return plan;
}

int RunPlan(PlanOptions o, const GlobalOptions& global) {
  const Config* cfg = global.config ? &*global.config : nullptr;
  if (o.sqlite.empty() && cfg) o.sqlite = cfg->source_sqlite;
  if (o.sqlite.empty()) {
    spdlog::error("plan: give --sqlite FILE, or --config with [source] sqlite");
    return kExitUsage;
  }
  Result<SchemaPlan> plan = Plan(o, cfg);
  if (!plan.ok()) {
    spdlog::error("plan {}: {}", o.sqlite, plan.status().ToString());
    return ExitCodeFor(plan.status());
  }
  o.json ? PrintJson(*plan) : PrintText(*plan);
  return plan->blocked() ? kExitBlocked : kExitOk;
}

}  // namespace

void AddPlanCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static PlanOptions o;  // lives as long as the CLI tree, which main() owns
  CLI::App* plan = root.add_subcommand(
      "plan",
      "Read a SQLite database and print the PostgreSQL schema it maps to, with every "
      "problem found (exit 3 when something blocks the migration)");
  plan->add_option("--sqlite", o.sqlite, "SQLite database file (default: [source] sqlite)");
  plan->add_option("--schema", o.schema, "Target PostgreSQL schema")->capture_default_str();
  plan->add_flag("--json", o.json, "Print one JSON document");
  table.Set(plan, [&global] { return RunPlan(o, global); });
}

}  // namespace sqlift
