// The whole migration with the applier's login ([target] pg) a plain role holding exactly
// what README "Managed PostgreSQL and least privilege" lists, as on a managed service with no
// superuser: `sqlift check` passes, then snapshot, stream, cutover with writers running,
// writes on PostgreSQL, fallback, verify; every acknowledged write is where it belongs, once.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/json/json.h"
#include "common/pg/pg_connection.h"
#include "tests/testutil/switch_fixture.h"

namespace sqlift::testing {
namespace {

using namespace std::chrono_literals;

// Run by a superuser (on a managed service: its administrator login) in database `db`.
std::string Grants(const std::string& db, const std::string& role, const std::string& pub) {
  const std::string functions =
      "pg_replication_origin_create(text), pg_replication_origin_oid(text), "
      "pg_replication_origin_session_setup(text), pg_replication_origin_xact_reset(), "
      "pg_replication_origin_drop(text)";
  return fmt::format(
      "CREATE ROLE {1} LOGIN REPLICATION; GRANT CREATE ON DATABASE {0} TO {1}; "
      "GRANT CREATE ON SCHEMA public TO {1}; GRANT EXECUTE ON FUNCTION {2} TO {1}; "
      "CREATE PUBLICATION {3} FOR TABLES IN SCHEMA public;",
      db, role, functions, pub);
}

// Points the scenario's [target] pg at the plain login.
Status UseLogin(MigrationScenario& s, const std::string& login_uri) {
  std::stringstream text;
  text << std::ifstream(s.config_path()).rdbuf();
  std::string cfg = text.str();
  const std::string from = "pg = \"" + s.uri() + "\"";
  const size_t at = cfg.find(from);
  if (at == std::string::npos) return Status::NotFound("no [target] pg in sqlift.toml");
  cfg.replace(at, from.size(), "pg = \"" + login_uri + "\"");
  std::ofstream(s.config_path(), std::ios::trunc) << cfg;
  return Status::OK();
}

// A commerce scenario whose [target] pg is `role`, holding only the README's grants.
Result<std::unique_ptr<MigrationScenario>> LeastPrivilegeScenario(PgSandbox& pg,
                                                                  const std::string& name,
                                                                  const std::string& role) {
  SQLIFT_ASSIGN_OR_RETURN(auto s, MigrationScenario::Create(pg, name, MigrationLayout::kCommerce,
                                                            /*write_before_snapshot=*/false));
  SQLIFT_ASSIGN_OR_RETURN(auto admin, PgConnection::Connect(s->uri(), 10s));
  SQLIFT_RETURN_IF_ERROR(admin->Exec(Grants(name, role, s->slot())));
  std::string login_uri = s->uri();
  login_uri.replace(login_uri.find("postgres@"), 9, role + "@");
  SQLIFT_RETURN_IF_ERROR(UseLogin(*s, login_uri));
  return s;
}

TEST_F(SwitchTest, NonSuperuserApplierMigratesAndFallsBack) {
  auto made = LeastPrivilegeScenario(*pg_, "least_priv", "sqlift_least");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  MigrationScenario& s = **made;
  // One grant short: `sqlift check` exits 3 naming it with its statement; given, it exits 0.
  {
    auto admin = PgConnection::Connect(s.uri(), 10s);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    ASSERT_TRUE((*admin)->Exec("REVOKE CREATE ON SCHEMA public FROM sqlift_least").ok());
    auto short_one = s.Sqlift({"check", "--json"});
    ASSERT_TRUE(short_one.ok());
    EXPECT_EQ(short_one->exit_code, 3) << short_one->out << short_one->err;
    auto doc = ParseJson(short_one->out);
    ASSERT_TRUE(doc.ok()) << short_one->out;
    EXPECT_EQ((*doc)["missing"], 1) << short_one->out;
    std::string fix;
    for (const Json& f : (*doc)["findings"]) {
      if (f["ok"] == false) fix = f["fix"].get<std::string>();
    }
    EXPECT_EQ(fix, "GRANT CREATE ON SCHEMA \"public\" TO \"sqlift_least\";");
    ASSERT_TRUE((*admin)->Exec(fix).ok()) << fix;
  }
  auto check = s.Sqlift({"check"});
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->exit_code, 0) << check->out << check->err;

  Status started = s.StartReplication(60s);
  ASSERT_TRUE(started.ok()) << started.ToString();
  EXPECT_EQ(s.PgValue("SELECT tableowner FROM pg_tables WHERE tablename = 'products'"),
            "sqlift_least");
  Writers all;
  RouteWriter* acme = Start(s, all, "acme", "acme-1");
  RouteWriter* globex = Start(s, all, "globex", "globex-1");
  ASSERT_TRUE(acme && globex);
  ASSERT_TRUE(acme->WaitAcked(kPhaseWrites, 20s)) << acme->error().ToString();

  auto cut = s.Cutover("acme");
  ExpectSwitched(cut, "cutover acme");
  ExpectRoute(s, "acme", "postgres", 1);
  ExpectWritesOn({acme}, WriteSide::kPostgres, kPhaseWrites);

  auto back = s.Fallback("acme");
  ExpectSwitched(back, "fallback acme");
  ExpectRoute(s, "acme", "sqlite", 2);
  // Every step ran clean, the close too (it left the publication it does not own).
  EXPECT_EQ(back->out.find("\"ok\":false"), std::string::npos) << back->out;
  ExpectWritesOn({acme}, WriteSide::kSqlite, kPhaseWrites);
  // No tenant is left on PostgreSQL: the slot went; the administrator's publication stays.
  EXPECT_EQ(
      s.PgValue("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"),
      "0");

  StopAll(all);
  Drain(s, /*reverse=*/false);
  EXPECT_GT(acme->acked_on(WriteSide::kPostgres), 0u);
  for (RouteWriter* w : {acme, globex}) {
    EXPECT_EQ(s.CheckWrites(*w, WriteSide::kSqlite, /*exact=*/true), "") << w->options().writer;
  }
  EXPECT_EQ(s.CompareAll(), "") << s.Logs();
  auto verify = s.Sqlift({"verify", "--json"});
  ASSERT_TRUE(verify.ok());
  EXPECT_EQ(verify->exit_code, 0) << verify->out << verify->err;
}

}  // namespace
}  // namespace sqlift::testing

namespace sqlift::testing {
namespace {

// The statements `plan --rls` prints after the data load.
std::vector<std::string> RlsStatements(MigrationScenario& s) {
  auto plan = s.Sqlift({"plan", "--rls", "--json"});
  EXPECT_TRUE(plan.ok() && plan->exit_code == 0) << (plan.ok() ? plan->err : "");
  auto doc = plan.ok() ? ParseJson(plan->out) : Result<Json>(Status::Internal("no plan"));
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  std::vector<std::string> out;
  if (!doc.ok()) return out;
  for (const Json& stmt : (*doc)["after_data"]) {
    const std::string sql = stmt.get<std::string>();
    if (sql.find("ROW LEVEL SECURITY") != std::string::npos ||
        sql.find("CREATE POLICY") != std::string::npos) {
      out.push_back(sql);
    }
  }
  return out;
}

// Row-level security forced on every tenant table after the snapshot: the plain applier login
// keeps streaming, a cutover and a fallback run, verify and check pass, and an application
// session sees only the rows of the tenant its setting names.
TEST_F(SwitchTest, ForcedRowLevelSecurityLeavesSqliftWhole) {
  auto made = LeastPrivilegeScenario(*pg_, "rls_tenants", "sqlift_rls");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  MigrationScenario& s = **made;
  Status started = s.StartReplication(60s);
  ASSERT_TRUE(started.ok()) << started.ToString();
  std::vector<std::string> rls = RlsStatements(s);
  ASSERT_EQ(rls.size(), 6u * 4u);  // every table carries tenant_id, writer_counters too
  {
    std::string login_uri = s.uri();
    login_uri.replace(login_uri.find("postgres@"), 9, "sqlift_rls@");
    auto owner = PgConnection::Connect(login_uri, 10s);
    ASSERT_TRUE(owner.ok()) << owner.status().ToString();
    for (const std::string& sql : rls)
      ASSERT_TRUE((*owner)->Exec(sql).ok()) << sql;
  }
  Writers all;
  RouteWriter* acme = Start(s, all, "acme", "acme-1");
  RouteWriter* globex = Start(s, all, "globex", "globex-1");
  ASSERT_TRUE(acme && globex);
  ExpectWritesOn({acme, globex}, WriteSide::kSqlite, kPhaseWrites);
  ExpectSwitched(s.Cutover("acme"), "cutover acme");
  ExpectWritesOn({acme}, WriteSide::kPostgres, kPhaseWrites);
  ExpectSwitched(s.Fallback("acme"), "fallback acme");
  ExpectWritesOn({acme}, WriteSide::kSqlite, kPhaseWrites);
  StopAll(all);
  Drain(s, /*reverse=*/false);
  for (RouteWriter* w : {acme, globex}) {
    EXPECT_EQ(s.CheckWrites(*w, WriteSide::kSqlite, /*exact=*/true), "") << w->options().writer;
  }
  EXPECT_EQ(s.CompareAll(), "") << s.Logs();
  auto verify = s.Sqlift({"verify", "--json"});
  ASSERT_TRUE(verify.ok());
  EXPECT_EQ(verify->exit_code, 0) << verify->out << verify->err;
  auto check = s.Sqlift({"check"});
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->exit_code, 0) << check->out << check->err;

  // An application login, neither owner nor superuser: its setting decides what it sees.
  {
    auto admin = PgConnection::Connect(s.uri(), 10s);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    Status made_app = (*admin)->Exec(
        "CREATE ROLE rls_app LOGIN; GRANT USAGE ON SCHEMA public TO rls_app; "
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO rls_app");
    ASSERT_TRUE(made_app.ok()) << made_app.ToString();
  }
  const std::string acme_orders = s.PgValue("SELECT count(*) FROM orders WHERE tenant_id = 'acme'");
  ASSERT_NE(acme_orders, "0");
  std::string app_uri = s.uri();
  app_uri.replace(app_uri.find("postgres@"), 9, "rls_app@");
  auto app = PgConnection::Connect(app_uri, 10s);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  auto value = [&](const std::string& sql) {
    auto r = (*app)->Query(sql);
    return r.ok() && r->rows() == 1 ? std::string(r->get(0, 0)) : r.status().ToString();
  };
  EXPECT_EQ(value("SELECT count(*) FROM orders"), "0");  // no setting: no tenant
  ASSERT_TRUE((*app)->Exec("SET app.current_tenant_id = 'acme'").ok());
  EXPECT_EQ(value("SELECT count(*) FROM orders"), acme_orders);
  EXPECT_EQ(value("SELECT count(*) FROM customers WHERE tenant_id <> 'acme'"), "0");
  EXPECT_EQ(value("SELECT count(DISTINCT tenant_id) FROM products"), "1");
}

}  // namespace
}  // namespace sqlift::testing
