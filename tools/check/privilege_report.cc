// CheckPrivileges, the target of a configuration, and the two reports (privilege_check.h).
#include <fmt/format.h>

#include <algorithm>

#include "apply/reverse/source_layout.h"
#include "apply/translate/schema_translator.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_schema.h"
#include "tools/check/privilege_check.h"
#include "tools/check/privilege_probes.h"

namespace sqlift {
namespace {

struct Section {
  CheckCommand command;
  const char* key;    // in --json
  const char* title;  // in the text
};
constexpr Section kSections[] = {
    {kForApply, "apply", "apply (the applier: DDL, snapshot load, change stream, fences)"},
    {kForVerify, "verify", "verify"},
    {kForSwitch, "switch", "cutover, fallback, finish (with reverse replication)"},
};

void AppendFinding(const Finding& f, std::string* out) {
  *out += fmt::format("  {:<8} {}", f.ok ? "ok" : "MISSING", f.what);
  if (!f.note.empty()) *out += fmt::format("  ({})", f.note);
  *out += "\n";
  if (!f.ok) *out += fmt::format("           as {}: {}\n", f.run_as, f.fix);
}

void AppendSection(const PrivilegeReport& r, const Section& s, std::string* out) {
  std::vector<const Finding*> mine;
  for (const Finding& f : r.findings) {
    if (f.needed_by & s.command) mine.push_back(&f);
  }
  std::stable_partition(mine.begin(), mine.end(), [](const Finding* f) { return !f->ok; });
  const auto missing = std::count_if(mine.begin(), mine.end(), [](auto* f) { return !f->ok; });
  *out += fmt::format("\n{}: {}\n", s.title,
                      missing ? fmt::format("{} missing", missing) : std::string("all fine"));
  for (const Finding* f : mine)
    AppendFinding(*f, out);
}

}  // namespace

size_t PrivilegeReport::missing() const {
  return std::count_if(findings.begin(), findings.end(), [](const Finding& f) { return !f.ok; });
}

Result<CheckTarget> CheckTargetFor(const Config& cfg, const std::string& schema) {
  CheckTarget t;
  t.schema = schema;
  t.replication_name = ReplicationNameFor(cfg);
  Result<std::unique_ptr<SqliteDb>> db =
      cfg.source_sqlite.empty()
          ? Result<std::unique_ptr<SqliteDb>>(Status::NotFound("no [source] sqlite"))
          : SqliteDb::Open(cfg.source_sqlite, SqliteDb::Mode::kReadOnly);
  Result<std::vector<TableSchema>> tables =
      db.ok() ? ReadTables(**db, cfg.source_exclude_tables) : db.status();
  if (!tables.ok()) {
    t.every_table = true;
    t.tables_note = "every table of the schema: " + tables.status().ToString();
    return t;
  }
  for (const TableSchema& table : *tables)
    t.tables.push_back(PgNameFor(table.name));
  t.tables_note = fmt::format("the {} tables of {}", t.tables.size(), cfg.source_sqlite);
  return t;
}

Result<PrivilegeReport> CheckPrivileges(PgConnection& conn, const CheckTarget& target) {
  SQLIFT_ASSIGN_OR_RETURN(privcheck::Login login, privcheck::ReadLogin(conn));
  PrivilegeReport r;
  r.role = login.role, r.database = login.database, r.schema = target.schema;
  r.superuser = login.superuser;
  r.tables_note = target.tables_note;
  SQLIFT_RETURN_IF_ERROR(privcheck::CheckDatabase(conn, login, &r.findings));
  SQLIFT_RETURN_IF_ERROR(privcheck::CheckSchemas(conn, login, target.schema, &r.findings));
  SQLIFT_RETURN_IF_ERROR(privcheck::CheckOriginFunctions(conn, login, &r.findings));
  SQLIFT_RETURN_IF_ERROR(privcheck::CheckReplication(conn, login, target, &r.findings));
  SQLIFT_RETURN_IF_ERROR(privcheck::CheckTables(conn, login, target, &r.findings));
  return r;
}

std::string CheckReportText(const PrivilegeReport& r) {
  std::string out = fmt::format("sqlift check: login \"{}\"{} on database \"{}\", schema \"{}\"\n",
                                r.role, r.superuser ? " (superuser)" : "", r.database, r.schema);
  if (!r.tables_note.empty()) out += "tables checked: " + r.tables_note + "\n";
  for (const Section& s : kSections)
    AppendSection(r, s, &out);
  const size_t missing = r.missing();
  out += missing ? fmt::format(
                       "\n{} missing: run each statement as the role named, then "
                       "`sqlift check` again.\n",
                       missing)
                 : std::string("\nEverything sqlift needs is in place.\n");
  return out;
}

Json CheckReportJson(const PrivilegeReport& r) {
  Json findings = Json::array();
  for (const Finding& f : r.findings) {
    Json needed = Json::array();
    for (const Section& s : kSections) {
      if (f.needed_by & s.command) needed.push_back(s.key);
    }
    findings.push_back({{"what", f.what},
                        {"ok", f.ok},
                        {"needed_by", needed},
                        {"fix", f.fix},
                        {"run_as", f.run_as},
                        {"note", f.note}});
  }
  return Json{{"role", r.role},           {"database", r.database},  {"schema", r.schema},
              {"superuser", r.superuser}, {"tables", r.tables_note}, {"ok", r.missing() == 0},
              {"missing", r.missing()},   {"findings", findings}};
}

}  // namespace sqlift
