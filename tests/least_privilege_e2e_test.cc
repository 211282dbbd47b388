// The whole migration with the applier's login ([target] pg) a plain role holding exactly
// what README "Managed PostgreSQL and least privilege" lists, as on a managed service with no
// superuser: `sqlift check` passes, then snapshot, stream, cutover with writers running,
// writes on PostgreSQL, fallback, verify; every acknowledged write is where it belongs, once.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/pg/pg_connection.h"
#include "tests/testutil/switch_fixture.h"

namespace sqlift::testing {
namespace {

using namespace std::chrono_literals;

// Run by a superuser (on a managed service: its administrator login) in database `db`.
std::string Grants(const std::string& db, const std::string& publication) {
  return "CREATE ROLE sqlift_least LOGIN REPLICATION;"
         "GRANT CREATE ON DATABASE " +
         db +
         " TO sqlift_least;"
         "GRANT CREATE ON SCHEMA public TO sqlift_least;"
         "GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text), "
         "pg_replication_origin_oid(text), pg_replication_origin_session_setup(text), "
         "pg_replication_origin_xact_reset(), pg_replication_origin_drop(text) TO sqlift_least;"
         "CREATE PUBLICATION " +
         publication + " FOR TABLES IN SCHEMA public;";
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

TEST_F(SwitchTest, NonSuperuserApplierMigratesAndFallsBack) {
  auto made = MigrationScenario::Create(*pg_, "least_priv", MigrationLayout::kCommerce,
                                        /*write_before_snapshot=*/false);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  MigrationScenario& s = **made;
  {
    auto admin = PgConnection::Connect(s.uri(), 10s);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    Status granted = (*admin)->Exec(Grants("least_priv", s.slot()));
    ASSERT_TRUE(granted.ok()) << granted.ToString();
  }
  std::string login_uri = s.uri();
  login_uri.replace(login_uri.find("postgres@"), 9, "sqlift_least@");
  ASSERT_TRUE(UseLogin(s, login_uri).ok());

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
      s.PgValue("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + s.slot() + "'"),
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
