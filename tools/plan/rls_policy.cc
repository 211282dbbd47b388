#include "tools/plan/rls_policy.h"

#include <fmt/format.h>
#include <strings.h>

#include "common/pg/pg_identifier.h"

namespace sqlift {
namespace {

// The tenant column's comparison with the setting: text columns as they are (an index on
// them serves), any other type as its text form, so an unset or malformed setting matches no
// row instead of failing the query.
std::string TenantMatches(const ColumnPlan& c, const std::string& setting) {
  const bool text =
      c.mapping.type.kind == PgType::Kind::kText || c.mapping.type.kind == PgType::Kind::kVarchar;
  return fmt::format("{}{} = current_setting({}, true)", QuoteIdentifier(c.pg_name),
                     text ? "" : "::text", "'" + setting + "'");
}

const ColumnPlan* TenantColumn(const TablePlan& t, const std::string& name) {
  for (const ColumnPlan& c : t.columns) {
    if (strcasecmp(c.source_name.c_str(), name.c_str()) == 0) return &c;
  }
  return nullptr;
}

// A custom setting's name as PostgreSQL takes it: two or more dotted words of letters, digits
// and '_' (so it also needs no quoting inside the literal).
bool IsSettingName(const std::string& s) {
  bool dotted = false;
  char prev = '.';
  for (char c : s) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                      (c >= '0' && c <= '9' && prev != '.');
    if (!word && !(c == '.' && prev != '.')) return false;
    dotted = dotted || c == '.';
    prev = c;
  }
  return dotted && prev != '.';
}

}  // namespace

Result<std::vector<std::string>> RlsStatements(const SchemaPlan& plan, const RlsOptions& o) {
  if (!IsSettingName(o.setting)) {
    return Status::InvalidArgument("RLS setting \"" + o.setting +
                                   "\" is not a custom setting name such as app.current_tenant_id");
  }
  if (o.tenant_column.empty()) {
    return Status::InvalidArgument("--rls needs the tenant column ([source] tenant_column)");
  }
  std::vector<std::string> out;
  const std::string applier =
      o.applier_role.empty() ? std::string("CURRENT_USER") : QuoteIdentifier(o.applier_role);
  for (const TablePlan& t : plan.tables) {
    const ColumnPlan* c = TenantColumn(t, o.tenant_column);
    if (c == nullptr) continue;
    const std::string table = QuoteQualified(o.schema, t.pg_name);
    const std::string match = TenantMatches(*c, o.setting);
    out.push_back(fmt::format("ALTER TABLE {} ENABLE ROW LEVEL SECURITY", table));
    out.push_back(fmt::format("ALTER TABLE {} FORCE ROW LEVEL SECURITY", table));
    out.push_back(fmt::format("CREATE POLICY \"sqlift_tenant\" ON {} USING ({}) WITH CHECK ({})",
                              table, match, match));
    out.push_back(fmt::format(
        "CREATE POLICY \"sqlift_applier\" ON {} FOR ALL TO {} USING (true) WITH CHECK (true)",
        table, applier));
  }
  return out;
}

}  // namespace sqlift
