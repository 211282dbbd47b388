// `sqlift plan`: reads a SQLite database (schema and every row) and prints the PostgreSQL
// schema it maps to and every problem found, each with its fix (docs/design.md, the life of a
// migration, stage plan). Exit 0 when nothing blocks the migration, 3 (kExitBlocked) when something
// does.
#include <spdlog/spdlog.h>
#include <strings.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>

#include "apply/translate/existing_schema.h"
#include "apply/translate/mapping_overrides.h"
#include "apply/translate/schema_translator.h"
#include "common/base/text.h"
#include "common/json/json.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_schema.h"
#include "tools/cli/change_format.h"
#include "tools/cli/command.h"
#include "tools/plan/data_profiler.h"
#include "tools/plan/plan_values.h"
#include "tools/plan/rls_policy.h"

namespace sqlift {

namespace {

// The schema plan and how the stored values will be read.
struct PlanReport {
  SchemaPlan plan;
  std::vector<ColumnReprs> values;
  std::optional<ExistingMatch> existing;  // [target] schema_mode = "existing"
};

struct PlanOptions {
  std::string sqlite;
  std::string pg;  // the existing target's URI; default: [target] pg
  std::string schema = "public";
  bool json = false;
  bool rls = false;
  std::string rls_setting = "app.current_tenant_id";
  std::string rls_applier;  // empty: the user of [target] pg
};

// Scans every row and adds a blocker per column holding values that do not fit, and the
// representations of time, boolean and decimal values (a warning where a column mixes them).
Status AddDataProblems(SqliteDb& db, const std::vector<TableSchema>& tables, PlanReport* report) {
  SchemaPlan* plan = &report->plan;
  // Schema column index → mapped type, per table (hidden columns have none).
  std::map<const TableSchema*, std::vector<const PgType*>> types;
  for (size_t i = 0; i < tables.size(); ++i) {
    std::vector<const PgType*>& v = types[&tables[i]];
    v.assign(tables[i].columns.size(), nullptr);
    for (const ColumnPlan& c : plan->tables[i].columns) {
      if (c.constant) continue;  // no SQLite column
      v[tables[i].ColumnIndex(c.source_name)] = &c.mapping.type;
    }
  }
  ValueCheck check = [&](const TableSchema& t, size_t col, const wire::Value& v) {
    const PgType* type = types.at(&t)[col];
    return type ? WhyValueDoesNotFit(v, *type) : std::nullopt;
  };
  ProfileOptions options;
  options.label = ReprLabel(
      [&](const TableSchema& t, size_t col) -> const PgType* { return types.at(&t)[col]; });
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
    if (f.count == 0) continue;  // only labelled values: reported below
    Problem p;
    p.severity = Problem::Severity::kBlocker;
    p.table = f.table;
    p.column = f.column;
    p.what = fmt::format("{} values do not fit the column's PostgreSQL type", f.count);
    p.fix =
        "correct those rows in SQLite, or map the column to a type that holds them "
        "([mapping] in the configuration, e.g. text)";
    p.count = f.count;
    p.examples = f.examples;
    plan->problems.push_back(std::move(p));
  }
  report->values = ReprReport(
      found,
      [&](const std::string& table, size_t col) -> const PgType* {
        for (const TableSchema& t : tables)
          if (t.name == table) return types.at(&t)[col];
        return nullptr;
      },
      &plan->problems);
  return Status::OK();
}

Json ExistingJson(const ExistingMatch& m) {
  Json columns = Json::array();
  for (const ColumnMatch& c : m.columns) {
    columns.push_back({{"table", c.table},
                       {"column", c.column},
                       {"target_table", c.target_table},
                       {"target_column", c.target_column},
                       {"from", c.from},
                       {"to", c.to},
                       {"conversion", c.conversion},
                       {"may_fail", c.may_fail}});
  }
  return {{"columns", std::move(columns)}, {"target_only", m.target_only}};
}

// The match with the existing target: each column, its conversion, what PostgreSQL fills.
void PrintExisting(const ExistingMatch& m) {
  std::printf("-- existing target schema: sqlite column → target column (conversion)\n");
  for (const ColumnMatch& c : m.columns) {
    std::printf("%s.%s → \"%s\".\"%s\" %s%s%s\n", c.table.c_str(), c.column.c_str(),
                c.target_table.c_str(), c.target_column.c_str(), c.to.c_str(),
                c.conversion.empty() ? "" : ": ", c.conversion.c_str());
  }
  for (const std::string& t : m.target_only)
    std::printf("-- filled by PostgreSQL: %s\n", t.c_str());
}

void PrintJson(const PlanReport& report) {
  const SchemaPlan& plan = report.plan;
  Json problems = Json::array();
  for (const Problem& p : plan.problems) {
    problems.push_back({{"severity", SeverityName(p.severity)},
                        {"table", p.table},
                        {"column", p.column},
                        {"what", p.what},
                        {"fix", p.fix},
                        {"count", p.count},
                        {"examples", p.examples}});
  }
  Json doc = {{"ddl", plan.ddl},
              {"existing", report.existing ? ExistingJson(*report.existing) : Json()},
              {"after_data", plan.after_data},
              {"values", ReprJson(report.values)},
              {"problems", std::move(problems)},
              {"blocked", plan.blocked()}};
  std::printf("%s\n", DumpJson(doc).c_str());
}

void PrintText(const PlanReport& report) {
  const SchemaPlan& plan = report.plan;
  if (report.existing) PrintExisting(*report.existing);
  for (const std::string& s : plan.ddl)
    std::printf("%s;\n\n", s.c_str());
  std::printf("-- after the data load:\n");
  for (const std::string& s : plan.after_data)
    std::printf("%s;\n", s.c_str());
  std::string values = ReprText(report.values);
  if (!values.empty()) std::printf("\n%s", values.c_str());
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

Result<PlanReport> Plan(const PlanOptions& o, const Config* cfg) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(o.sqlite, SqliteDb::Mode::kReadOnly));
  std::vector<std::string> excluded;
  if (cfg) excluded = cfg->source_exclude_tables;
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadTables(*db, excluded));
  TranslateOptions topt;
  topt.schema = o.schema;
  SQLIFT_ASSIGN_OR_RETURN(topt.overrides, Overrides(cfg, tables));
  PlanReport report;
  SQLIFT_ASSIGN_OR_RETURN(report.plan, TranslateSchema(tables, topt));
  if (ExistingSchemaMode(cfg)) {
    std::string pg = o.pg.empty() ? cfg->target_pg : o.pg;
    if (pg.empty()) {
      return Status::InvalidArgument(
          "[target] schema_mode = \"existing\" reads the target's schema: give --pg URI or "
          "[target] pg");
    }
    SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(pg, std::chrono::seconds(10)));
    SQLIFT_ASSIGN_OR_RETURN(report.existing,
                            ForTargetSchemaMode(cfg, *conn, o.schema, &report.plan));
  }
  SQLIFT_RETURN_IF_ERROR(AddDataProblems(*db, tables, &report));
  if (o.rls) {
    RlsOptions rls{o.schema, cfg ? cfg->source_tenant_column : "", o.rls_setting, o.rls_applier};
    if (rls.applier_role.empty() && cfg) rls.applier_role = ConninfoUser(cfg->target_pg);
    SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> policies, RlsStatements(report.plan, rls));
    report.plan.after_data.insert(report.plan.after_data.end(), policies.begin(), policies.end());
  }
  return report;
}

int RunPlan(PlanOptions o, const GlobalOptions& global) {
  const Config* cfg = global.config ? &*global.config : nullptr;
  if (o.sqlite.empty() && cfg) o.sqlite = cfg->source_sqlite;
  if (o.sqlite.empty()) {
    spdlog::error("plan: give --sqlite FILE, or --config with [source] sqlite");
    return kExitUsage;
  }
  Result<PlanReport> plan = Plan(o, cfg);
  if (!plan.ok()) {
    spdlog::error("plan {}: {}", o.sqlite, plan.status().ToString());
    return ExitCodeFor(plan.status());
  }
  o.json ? PrintJson(*plan) : PrintText(*plan);
  return plan->plan.blocked() ? kExitBlocked : kExitOk;
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
  plan->add_option("--pg", o.pg,
                   "PostgreSQL URI of an existing target schema (default: [target] pg; read "
                   "only with [target] schema_mode = \"existing\")");
  plan->add_flag("--json", o.json, "Print one JSON document");
  plan->add_flag("--rls", o.rls,
                 "Also print, after the data load, row-level security per table with [source] "
                 "tenant_column: a session sees and writes only the rows of the tenant its "
                 "setting names; the applier's login sees every row");
  plan->add_option("--rls-setting", o.rls_setting, "The setting naming a session's tenant")
      ->capture_default_str();
  plan->add_option("--rls-applier", o.rls_applier,
                   "The applier's login, let through every policy (default: the user of "
                   "[target] pg, else CURRENT_USER)");
  table.Set(plan, [&global] { return RunPlan(o, global); });
}

}  // namespace sqlift
