// The database, schema and function probes of `sqlift check` (privilege_probes.h).
#include "tools/check/privilege_probes.h"

#include <fmt/format.h>

#include <cctype>

#include "common/pg/pg_identifier.h"

namespace sqlift::privcheck {
namespace {

constexpr char kOwnerOrSuperuser[] = "its owner or a superuser";

// The replication-origin functions sqlift calls: the applier tags its commits with an origin
// (create, oid, session_setup, xact_reset); finish, and an applier started after finish, drop it.
struct OriginFunction {
  const char* signature;
  unsigned needed_by;
};
constexpr OriginFunction kOriginFunctions[] = {
    {"pg_replication_origin_create(text)", kForApply},
    {"pg_replication_origin_oid(text)", kForApply},
    {"pg_replication_origin_session_setup(text)", kForApply},
    {"pg_replication_origin_xact_reset()", kForApply},
    {"pg_replication_origin_drop(text)", kForApply | kForSwitch},
};

// PRIV on KIND NAME (kind "database" or "schema"), held or missing with its GRANT.
Finding Privilege(bool held, const char* priv, std::string kind, const std::string& name,
                  const Login& login, unsigned need, const char* why) {
  const std::string what = fmt::format("{} on {} {}", priv, kind, name);
  if (held) return Held(what, need, why);
  for (char& c : kind)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return Missing(
      what, need,
      fmt::format("GRANT {} ON {} {} TO {};", priv, kind, name, QuoteIdentifier(login.role)),
      kOwnerOrSuperuser, why);
}

// sqlift's own schema, when it exists, must be the login's: another login ran the applier.
Status SqliftSchemaOwner(PgConnection& conn, const Login& login, std::vector<Finding>* out) {
  SQLIFT_ASSIGN_OR_RETURN(PgResult own,
                          conn.Query("SELECT pg_catalog.pg_get_userbyid(nspowner) FROM "
                                     "pg_catalog.pg_namespace WHERE nspname = 'sqlift'"));
  if (own.rows() == 0) return Status::OK();
  const std::string owner(own.get(0, 0));
  const std::string what = "ownership of schema \"sqlift\" (sqlift's positions, routes, fences)";
  const unsigned need = kForApply | kForVerify | kForSwitch;
  if (owner == login.role || login.superuser) {
    out->push_back(Held(what, need));
  } else {
    out->push_back(
        Missing(what, need,
                fmt::format("ALTER SCHEMA \"sqlift\" OWNER TO {};", QuoteIdentifier(login.role)),
                "a superuser",
                fmt::format("owned by {}: another login ran the applier", QuoteIdentifier(owner))));
  }
  return Status::OK();
}

}  // namespace

Finding Held(std::string what, unsigned needed_by, std::string note) {
  return Finding{std::move(what), needed_by, true, "", "", std::move(note)};
}

Finding Missing(std::string what, unsigned needed_by, std::string fix, std::string run_as,
                std::string note) {
  return Finding{std::move(what), needed_by,         false,
                 std::move(fix),  std::move(run_as), std::move(note)};
}

Result<Login> ReadLogin(PgConnection& conn) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT current_user, current_database(), rolsuper, rolreplication, "
                             "rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user"));
  if (r.rows() != 1) return Status::Internal("pg_roles has no row for current_user");
  Login l;
  l.role = std::string(r.get(0, 0));
  l.database = std::string(r.get(0, 1));
  l.superuser = r.get(0, 2) == "t";
  l.replication = r.get(0, 3) == "t";
  l.bypassrls = r.get(0, 4) == "t";
  return l;
}

Status CheckDatabase(PgConnection& conn, const Login& login, std::vector<Finding>* out) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT has_database_privilege(current_database(), 'CONNECT'), "
                             "has_database_privilege(current_database(), 'CREATE')"));
  const std::string db = QuoteIdentifier(login.database);
  out->push_back(Privilege(r.get(0, 0) == "t", "CONNECT", "database", db, login,
                           kForApply | kForVerify | kForSwitch, "every command connects"));
  out->push_back(Privilege(r.get(0, 1) == "t", "CREATE", "database", db, login, kForApply,
                           "the applier creates sqlift's schema (sqlift.*)"));
  return Status::OK();
}

Status CheckSchemas(PgConnection& conn, const Login& login, const std::string& schema,
                    std::vector<Finding>* out) {
  const std::string s = QuoteIdentifier(schema);
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT has_schema_privilege(oid, 'USAGE'), "
                             "has_schema_privilege(oid, 'CREATE') FROM pg_catalog.pg_namespace "
                             "WHERE nspname = $1",
                             {schema}));
  if (r.rows() == 0) {
    out->push_back(
        Missing(fmt::format("schema {} exists", s), kForApply | kForVerify,
                fmt::format("CREATE SCHEMA {} AUTHORIZATION {};", s, QuoteIdentifier(login.role)),
                "a superuser or a role with CREATE on the database"));
    return SqliftSchemaOwner(conn, login, out);
  }
  out->push_back(Privilege(r.get(0, 0) == "t", "USAGE", "schema", s, login,
                           kForApply | kForVerify | kForSwitch,
                           "every command reads the migrated tables"));
  out->push_back(Privilege(r.get(0, 1) == "t", "CREATE", "schema", s, login, kForApply,
                           "the applier creates the migrated tables"));
  return SqliftSchemaOwner(conn, login, out);
}

Status CheckOriginFunctions(PgConnection& conn, const Login& login, std::vector<Finding>* out) {
  for (const OriginFunction& f : kOriginFunctions) {
    const std::string name = std::string("pg_catalog.") + f.signature;
    SQLIFT_ASSIGN_OR_RETURN(PgResult r,
                            conn.Query("SELECT has_function_privilege($1, 'EXECUTE')", {name}));
    const std::string what = fmt::format("EXECUTE on function {}", name);
    out->push_back(r.get(0, 0) == "t"
                       ? Held(what, f.needed_by)
                       : Missing(what, f.needed_by,
                                 fmt::format("GRANT EXECUTE ON FUNCTION {} TO {};", name,
                                             QuoteIdentifier(login.role)),
                                 "a superuser",
                                 "the applier marks its own commits so the way back skips them"));
  }
  return Status::OK();
}

}  // namespace sqlift::privcheck
