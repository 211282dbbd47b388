// The guard triggers on a connection without a recorder (design invariant 7 for every client):
// refusals of tenants on postgres and fenced ones, with their messages; rows that move between
// tenants; the whole-database route; sqlift's own tables never guarded; the reverse applier's
// pass; install/remove and idempotence; the per-row cost. Other processes and libraries:
// guard_clients_test.cc.
#include "capture/outbox/guard_triggers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "capture/outbox/testing/guard_fixture.h"

namespace sqlift {
namespace {

constexpr const char* kAcmeOnPostgres = "sqlift: tenant \"acme\" is on postgres (epoch 3)";

class GuardTriggersTest : public testing::GuardFixture {};

TEST_F(GuardTriggersTest, NothingIsRefusedWhileEveryRouteIsSqlite) {
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'x')"), "");
  EXPECT_EQ(Refusal("UPDATE orders SET v = 'y'"), "");
  EXPECT_EQ(Refusal("DELETE FROM orders WHERE id = 2"), "");
  EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('de', 'Germany')"), "");
  SetRoute("acme", "sqlite", 2);
  EXPECT_EQ(Refusal("UPDATE orders SET v = 'z' WHERE tenant_id = 'acme'"), "");
}

TEST_F(GuardTriggersTest, TenantOnPostgresIsRefusedOthersWrite) {
  SetRoute("acme", "postgres", 3);
  std::string before = Tables();
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'x')"), kAcmeOnPostgres);
  EXPECT_EQ(Refusal("UPDATE orders SET v = 'y' WHERE tenant_id = 'acme'"), kAcmeOnPostgres);
  EXPECT_EQ(Refusal("DELETE FROM orders WHERE tenant_id = 'acme'"), kAcmeOnPostgres);
  // A statement that touches both tenants is refused as a whole.
  EXPECT_EQ(Refusal("UPDATE orders SET v = 'y'"), kAcmeOnPostgres);
  EXPECT_EQ(Tables(), before);
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('globex', 2, 'x')"), "");
  EXPECT_EQ(Refusal("UPDATE orders SET v = 'h' WHERE tenant_id = 'globex'"), "");
  EXPECT_EQ(Refusal("DELETE FROM orders WHERE tenant_id = 'globex' AND id = 2"), "");
  EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('de', 'Germany')"), "");  // tenant '*'
  EXPECT_EQ(Rows("SELECT v FROM orders WHERE tenant_id = 'globex'"), "h\n");
}

TEST_F(GuardTriggersTest, RowsMovingBetweenTenantsCheckBoth) {
  SetRoute("acme", "postgres", 3);
  std::string before = Tables();
  EXPECT_EQ(Refusal("UPDATE orders SET tenant_id = 'acme', id = 7 WHERE tenant_id = 'globex'"),
            kAcmeOnPostgres);
  EXPECT_EQ(Refusal("UPDATE orders SET tenant_id = 'globex', id = 7 WHERE tenant_id = 'acme'"),
            kAcmeOnPostgres);
  EXPECT_EQ(Tables(), before);
  EXPECT_EQ(Refusal("UPDATE orders SET tenant_id = 'initech' WHERE tenant_id = 'globex'"), "");
}

TEST_F(GuardTriggersTest, FencedTenantGetsTheRetryableMessage) {
  SetRoute("acme", "sqlite", 4, /*fenced=*/true);
  const std::string fenced = "sqlift: tenant \"acme\" is being switched (epoch 4); retry shortly";
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'x')"), fenced);
  EXPECT_EQ(Refusal("DELETE FROM orders WHERE tenant_id = 'acme'"), fenced);
  SetRoute("acme", "postgres", 5, /*fenced=*/true);  // a fallback in flight
  EXPECT_EQ(Refusal("UPDATE orders SET v = 'y' WHERE tenant_id = 'acme'"),
            "sqlift: tenant \"acme\" is being switched (epoch 5); retry shortly");
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('globex', 2, 'x')"), "");
  // On sqlift's own connections a fenced tenant is a retry, like a busy database.
  EXPECT_EQ(db_->Exec("DELETE FROM orders WHERE tenant_id = 'acme'").code(),
            Status::Code::kUnavailable);
  auto stmt = db_->Prepare("INSERT INTO orders VALUES ('acme', 3, 'x')");
  ASSERT_TRUE(stmt.ok());
  EXPECT_EQ(stmt->Run().code(), Status::Code::kUnavailable);
  SetRoute("acme", "postgres", 6);
  EXPECT_EQ(db_->Exec("DELETE FROM orders WHERE tenant_id = 'acme'").code(),
            Status::Code::kFailedPrecondition);
}

// A cutover's fence is (sqlite, fenced), a fallback's (postgres, fenced): either way every write
// the route covers hears "being switched", never "on postgres", which would send it away.
TEST_F(GuardTriggersTest, FencedRouteSaysBeingSwitchedWhateverItsSide) {
  const std::string before = Tables();
  for (const char* side : {"sqlite", "postgres"}) {
    SetRoute("acme", side, 4, /*fenced=*/true);
    SetRoute("*", side, 4, /*fenced=*/true);
    const std::string acme = "sqlift: tenant \"acme\" is being switched (epoch 4); retry shortly";
    const std::string whole =
        "sqlift: the whole database is being switched (epoch 4); retry shortly";
    EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'x')"), acme) << side;
    EXPECT_EQ(Refusal("UPDATE orders SET v = 'y' WHERE tenant_id = 'acme'"), acme) << side;
    EXPECT_EQ(Refusal("DELETE FROM orders WHERE tenant_id = 'acme'"), acme) << side;
    EXPECT_EQ(Refusal("UPDATE orders SET tenant_id = 'globex' WHERE tenant_id = 'acme'"), acme)
        << side;
    EXPECT_EQ(Refusal("DELETE FROM orders WHERE tenant_id = 'globex'"), whole) << side;
    EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('de', 'Germany')"), whole) << side;
    EXPECT_EQ(Refusal("UPDATE countries SET name = 'x'"), whole) << side;
    // sqlift's own connections read it as a retry, whichever side the route names.
    EXPECT_EQ(db_->Exec("DELETE FROM countries").code(), Status::Code::kUnavailable) << side;
  }
  EXPECT_EQ(Tables(), before);
}

TEST_F(GuardTriggersTest, WholeDatabaseRouteCoversTablesAndTenantsWithoutARoute) {
  SetRoute("initech", "sqlite", 1);
  SetRoute("*", "postgres", 6);
  const std::string whole = "sqlift: the whole database is on postgres (epoch 6)";
  std::string before = Tables();
  EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('de', 'Germany')"), whole);
  EXPECT_EQ(Refusal("UPDATE countries SET name = 'x'"), whole);
  EXPECT_EQ(Refusal("DELETE FROM countries"), whole);
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('globex', 2, 'x')"), whole);
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES (NULL, 2, 'x')"), whole);  // NULL tenant: '*'
  EXPECT_EQ(Tables(), before);
  // A tenant with a route of its own follows it.
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('initech', 2, 'x')"), "");
}

TEST_F(GuardTriggersTest, SqliftsOwnTablesAreNeverGuarded) {
  SetRoute("*", "postgres", 6);
  EXPECT_EQ(Rows("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name LIKE "
                 "'\\_sqlift\\_%' ESCAPE '\\' AND name <> '_sqlift_guard_messages'"),
            "0\n");
  EXPECT_EQ(Refusal("INSERT INTO _sqlift_state (key, value) VALUES ('k', 1)"), "");
  EXPECT_EQ(Refusal("INSERT INTO _sqlift_outbox (committed_at, kind, payload) VALUES (0, 1, x'')"),
            "");
  EXPECT_EQ(Refusal("UPDATE _sqlift_route SET epoch = 7 WHERE tenant = '*'"), "");
}

TEST_F(GuardTriggersTest, ReverseApplierPassLetsItsOwnTransactionWrite) {
  SetRoute("acme", "postgres", 3);
  Exec("BEGIN IMMEDIATE");
  ASSERT_TRUE(OpenGuardPass(*db_).ok());
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'from postgres')"), "");
  EXPECT_EQ(Refusal("UPDATE orders SET v = 'b' WHERE tenant_id = 'acme' AND id = 1"), "");
  ASSERT_TRUE(CloseGuardPass(*db_).ok());
  Exec("COMMIT");
  EXPECT_EQ(Rows("SELECT id, v FROM orders WHERE tenant_id = 'acme' ORDER BY id"),
            "1|b\n2|from postgres\n");
  EXPECT_EQ(Rows("SELECT count(*) FROM _sqlift_state WHERE key = 'reverse_writer'"), "0\n");
  EXPECT_EQ(Refusal("DELETE FROM orders WHERE tenant_id = 'acme'"), kAcmeOnPostgres);
}

TEST_F(GuardTriggersTest, StaleMessagesStillRefuseWithAGenericMessage) {
  // A route written without RefreshGuardMessages (by hand): refused all the same.
  Exec("INSERT INTO _sqlift_route VALUES ('acme', 'postgres', 9, 0, 0)");
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'x')"),
            "sqlift: a tenant this write touches is on postgres");
  Exec("UPDATE _sqlift_route SET fenced = 1");
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'x')"),
            "sqlift: a tenant this write touches is being switched; retry shortly");
  ASSERT_TRUE(RefreshGuardMessages(*db_).ok());
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'x')"),
            "sqlift: tenant \"acme\" is being switched (epoch 9); retry shortly");
}

TEST_F(GuardTriggersTest, InstallIsIdempotentAndFollowsColumnChanges) {
  SetRoute("acme", "postgres", 3);
  int64_t version = SchemaVersion();
  Install();
  ASSERT_TRUE(RefreshGuardMessages(*db_).ok());
  EXPECT_EQ(SchemaVersion(), version);  // nothing rewritten
  // countries gains the tenant column: its rows now follow their tenant, not '*'.
  Exec("ALTER TABLE countries ADD COLUMN tenant_id TEXT");
  Install();
  EXPECT_NE(Rows("SELECT sql FROM sqlite_schema WHERE name = '_sqlift_guard_insert_countries'")
                .find("NEW.\"tenant_id\""),
            std::string::npos);
  EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('de', 'Germany', 'acme')"), kAcmeOnPostgres);
  EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('it', 'Italy', 'globex')"), "");
  // A table no longer listed loses its guards.
  ASSERT_TRUE(InstallGuards(*db_, {"orders"}, scheme_).ok());
  EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('es', 'Spain', 'acme')"), "");
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('acme', 2, 'x')"), kAcmeOnPostgres);
}

TEST_F(GuardTriggersTest, RemoveDropsEveryGuard) {
  SetRoute("*", "postgres", 6);
  ASSERT_TRUE(RemoveGuards(*db_).ok());
  EXPECT_EQ(Rows("SELECT count(*) FROM sqlite_schema WHERE name LIKE '\\_sqlift\\_guard\\_%' "
                 "ESCAPE '\\'"),
            "0\n");
  auto installed = GuardsInstalled(*db_);
  ASSERT_TRUE(installed.ok());
  EXPECT_FALSE(*installed);
  EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('de', 'Germany')"), "");
  ASSERT_TRUE(RefreshGuardMessages(*db_).ok());  // no guards: creates nothing
  EXPECT_EQ(Rows("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"), "0\n");
  ASSERT_TRUE(RemoveGuards(*db_).ok());  // twice is fine
}

TEST_F(GuardTriggersTest, IntegerTenantsAndHostileNamesAreMatchedAsText) {
  Exec(
      "CREATE TABLE \"we'ird \"\"t\" (tenant_id INTEGER, id INTEGER, PRIMARY KEY (tenant_id, id))");
  ASSERT_TRUE(InstallGuards(*db_, {"orders", "countries", "we'ird \"t"}, scheme_).ok());
  SetRoute("42", "postgres", 2);
  SetRoute("o'brien", "postgres", 8);
  EXPECT_EQ(Refusal("INSERT INTO \"we'ird \"\"t\" VALUES (42, 1)"),
            "sqlift: tenant \"42\" is on postgres (epoch 2)");
  EXPECT_EQ(Refusal("INSERT INTO \"we'ird \"\"t\" VALUES (43, 1)"), "");
  EXPECT_EQ(Refusal("INSERT INTO orders VALUES ('o''brien', 1, 'x')"),
            "sqlift: tenant \"o'brien\" is on postgres (epoch 8)");
}

TEST_F(GuardTriggersTest, DatabasePerTenantSourceFollowsItsTenant) {
  scheme_ = TenantScheme{"tenant_id", "acme"};
  Install();
  SetRoute("acme", "postgres", 3);
  EXPECT_EQ(Refusal("INSERT INTO countries VALUES ('de', 'Germany')"), kAcmeOnPostgres);
  EXPECT_EQ(Refusal("UPDATE orders SET v = 'x' WHERE tenant_id = 'globex'"), kAcmeOnPostgres);
}

// Prints the per-row cost of the guards in the common case (every route sqlite); no assertion
// on time.
TEST_F(GuardTriggersTest, PerRowCostWhileRoutesSaySqlite) {
  for (int i = 0; i < 50; ++i)
    SetRoute("tenant" + std::to_string(i), i % 2 ? "sqlite" : "postgres", 1);
  SetRoute("*", "sqlite", 1);
  constexpr int kRows = 20000;
  auto run = [&](const std::string& table) {
    Exec("CREATE TABLE " + table +
         " (tenant_id TEXT, id INTEGER, v TEXT, PRIMARY KEY (tenant_id, id))");
    ASSERT_TRUE(InstallGuards(*db_, {"orders", "countries", "guarded"}, scheme_).ok());
    auto stmt =
        std::move(db_->Prepare("INSERT INTO " + table + " VALUES ('globex', ?1, 'v')")).value();
    auto start = std::chrono::steady_clock::now();
    Exec("BEGIN");
    for (int i = 0; i < kRows; ++i) {
      ASSERT_TRUE(stmt.BindInt64(1, i).ok());
      ASSERT_TRUE(stmt.Run().ok());
      ASSERT_TRUE(stmt.Reset().ok());
    }
    Exec("COMMIT");
    std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    std::printf("%s: %.3f us/row over %d rows\n", table.c_str(), took.count() / kRows, kRows);
    EXPECT_EQ(Rows("SELECT count(*) FROM " + table), std::to_string(kRows) + "\n");
  };
  run("plain");
  run("guarded");
}

}  // namespace
}  // namespace sqlift
