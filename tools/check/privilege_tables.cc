// The table probes of `sqlift check`: for each migrated table that already exists in
// PostgreSQL, the privileges the applier and verify use, the ownership the fences and schema
// changes need, and row-level security that would hide rows from the login (a row it cannot
// see is a row verify misses and the applier cannot update: never acceptable).
#include <fmt/format.h>

#include <optional>

#include "common/pg/pg_identifier.h"
#include "tools/check/privilege_probes.h"

namespace sqlift::privcheck {
namespace {

constexpr const char* kTablePrivileges[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"};

// Columns: name, owner, the five privileges (2..6), relrowsecurity, relforcerowsecurity, an open
// permissive policy for the login (FOR ALL TO it USING (true) WITH CHECK (true)), a restrictive
// policy that applies to it.
constexpr char kTablesSql[] = R"sql(
SELECT c.relname, pg_catalog.pg_get_userbyid(c.relowner),
       has_table_privilege(c.oid, 'SELECT'), has_table_privilege(c.oid, 'INSERT'),
       has_table_privilege(c.oid, 'UPDATE'), has_table_privilege(c.oid, 'DELETE'),
       has_table_privilege(c.oid, 'TRUNCATE'), c.relrowsecurity, c.relforcerowsecurity,
       EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid AND p.polpermissive
                  AND p.polcmd = '*' AND r.oid = ANY (p.polroles)
                  AND pg_catalog.pg_get_expr(p.polqual, c.oid) = 'true'
                  AND COALESCE(pg_catalog.pg_get_expr(p.polwithcheck, c.oid), 'true') = 'true'),
       EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid
                  AND NOT p.polpermissive AND (r.oid = ANY (p.polroles) OR 0::oid = ANY (p.polroles)))
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) r
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
   AND ($2::text[] IS NULL OR c.relname = ANY ($2::text[]))
 ORDER BY c.relname)sql";

// A text[] literal of `names`: {"a","b"} with " and \ escaped.
std::string ArrayLiteral(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const std::string& n : names) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : n) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Finding Privileges(const PgResult& r, int row, const std::string& table, const Login& login) {
  std::string missing;
  bool select_missing = false;
  for (int i = 0; i < 5; ++i) {
    if (r.get(row, 2 + i) == "t") continue;
    select_missing = select_missing || i == 0;
    missing += (missing.empty() ? "" : ", ") + std::string(kTablePrivileges[i]);
  }
  const unsigned need =
      kForApply | kForSwitch | (select_missing || missing.empty() ? unsigned{kForVerify} : 0u);
  const std::string what = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE on table " + table;
  if (missing.empty()) return Held(what, need);
  return Missing(
      what, need,
      fmt::format("GRANT {} ON TABLE {} TO {};", missing, table, QuoteIdentifier(login.role)),
      "the table's owner or a superuser", "missing: " + missing);
}

Finding Ownership(const std::string& owner, const std::string& table, const Login& login) {
  const std::string what = "ownership of table " + table;
  const char* why = "the applier installs the fences (triggers) and adds columns and indexes";
  if (owner == login.role || login.superuser) return Held(what, kForApply, why);
  return Missing(what, kForApply,
                 fmt::format("ALTER TABLE {} OWNER TO {};", table, QuoteIdentifier(login.role)),
                 "a superuser (or the owner, as a member of the new owner)",
                 fmt::format("owned by {}; {}", QuoteIdentifier(owner), why));
}

// Only for a table with row-level security enabled.
Finding RowSecurity(const PgResult& r, int row, const std::string& table, const Login& login) {
  const bool owner = r.get(row, 1) == login.role;
  const bool forced = r.get(row, 8) == "t";
  const bool open_policy = r.get(row, 9) == "t";
  const bool restrictive = r.get(row, 10) == "t";
  const std::string what = "every row of table " + table + " visible under row-level security";
  const unsigned need = kForApply | kForVerify | kForSwitch;
  const std::string role = QuoteIdentifier(login.role);
  if (login.superuser || login.bypassrls) return Held(what, need, "the login bypasses RLS");
  if (owner && !forced) return Held(what, need, "the owner is not subject to RLS (not forced)");
  if (open_policy && !restrictive)
    return Held(what, need,
                "a policy for the login lets it through; a snapshot load (COPY) into it would need "
                "BYPASSRLS: enable RLS after the snapshot");
  if (restrictive) {
    return Missing(what, need, fmt::format("ALTER ROLE {} BYPASSRLS;", role), "a superuser",
                   "a restrictive policy applies to the login");
  }
  return Missing(
      what, need,
      fmt::format("CREATE POLICY \"sqlift_applier\" ON {} FOR ALL TO {} USING (true) WITH CHECK "
                  "(true);",
                  table, role),
      "the table's owner or a superuser",
      fmt::format("RLS would hide rows from the applier and verify; or, as a superuser, ALTER "
                  "ROLE {} BYPASSRLS;",
                  role));
}

}  // namespace

Status CheckTables(PgConnection& conn, const Login& login, const CheckTarget& target,
                   std::vector<Finding>* out) {
  std::optional<std::string> names;
  if (!target.every_table) names = ArrayLiteral(target.tables);
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn.Query(kTablesSql, {target.schema, names}));
  for (int row = 0; row < r.rows(); ++row) {
    const std::string table = QuoteQualified(target.schema, r.get(row, 0));
    out->push_back(Privileges(r, row, table, login));
    out->push_back(Ownership(std::string(r.get(row, 1)), table, login));
    if (r.get(row, 7) == "t") out->push_back(RowSecurity(r, row, table, login));
  }
  return Status::OK();
}

}  // namespace sqlift::privcheck
