// The reverse applier's tenant rules (design invariant 7): rows of tenants routed to postgres
// are applied, a row of a tenant routed to sqlite fails the whole transaction with nothing
// written; the route lookup ('*' fallback); tenant columns in and out of the key; the whole
// database; database-per-tenant sources (constant tenant).
#include <gtest/gtest.h>

#include "apply/reverse/pg_text_value.h"
#include "apply/reverse/reverse_applier.h"
#include "apply/reverse/testing/reverse_fixture.h"
#include "capture/outbox/guard_triggers.h"

namespace sqlift {
namespace {

TEST(LookupRouteTest, OwnRowThenWholeDatabaseThenSqlite) {
  std::vector<RouteRow> rows;
  EXPECT_EQ(LookupRoute(rows, "acme").side, "sqlite");
  EXPECT_EQ(LookupRoute(rows, "acme").epoch, 0);
  EXPECT_FALSE(LookupRoute(rows, "acme").fenced);
  rows.push_back({"*", "postgres", 7, false, 0});
  EXPECT_EQ(LookupRoute(rows, "acme").side, "postgres");
  EXPECT_EQ(LookupRoute(rows, "acme").epoch, 7);
  rows.push_back({"acme", "sqlite", 9, true, 0});
  EXPECT_EQ(LookupRoute(rows, "acme").side, "sqlite");
  EXPECT_EQ(LookupRoute(rows, "acme").epoch, 9);
  EXPECT_TRUE(LookupRoute(rows, "acme").fenced);
  EXPECT_EQ(LookupRoute(rows, "globex").epoch, 7);
}

class ReverseTenantTest : public testing::ReverseFixture {
 protected:
  void SetUp() override {
    ReverseFixture::SetUp();
    Exec(
        "CREATE TABLE orders (tenant TEXT, id INTEGER, v TEXT, PRIMARY KEY (tenant, id));"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant TEXT, body TEXT);"
        "CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT)");
    SetRoute("acme", "postgres", 2);
    SetRoute("globex", "postgres", 4, /*fenced=*/true);
    SetRoute("initech", "sqlite", 5);
    orders_ = Rel(16400, "orders",
                  {{"tenant", pgoid::kText, -1, true},
                   {"id", pgoid::kInt8, -1, true},
                   {"v", pgoid::kText, -1, false}});
    notes_ = Rel(16401, "notes",
                 {{"id", pgoid::kInt8, -1, true},
                  {"tenant", pgoid::kText, -1, false},
                  {"body", pgoid::kText, -1, false}});
    countries_ = Rel(16402, "countries",
                     {{"code", pgoid::kText, -1, true}, {"name", pgoid::kText, -1, false}});
    ReverseApplierOptions options;
    options.tenant_column = "tenant";
    for (const char* t : {"orders", "notes", "countries"})
      options.tables[t] = {t, {}, {}, false, {}};
    applier_ = OpenApplier(options);
    ASSERT_NE(applier_, nullptr);
  }
  pgchange::Lsn Position() { return std::move(applier_->Position()).value(); }
  // Applies `txn`, expecting a refusal whose message contains `says`; checks nothing changed.
  void ExpectRefused(const pgchange::Transaction& txn, const std::string& says) {
    std::string before = Snapshot();
    pgchange::Lsn position = Position();
    auto stats = applier_->Apply(txn);
    ASSERT_FALSE(stats.ok()) << says;
    EXPECT_EQ(stats.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(stats.status().message().find(says), std::string::npos) << stats.status().ToString();
    EXPECT_EQ(Snapshot(), before);
    EXPECT_EQ(Position(), position);
  }
  std::string Snapshot() {
    return Rows("SELECT * FROM orders ORDER BY 1, 2") + Rows("SELECT * FROM notes ORDER BY 1") +
           Rows("SELECT * FROM countries ORDER BY 1");
  }

  RelPtr orders_, notes_, countries_;
  std::unique_ptr<ReverseApplier> applier_;
};

TEST_F(ReverseTenantTest, TenantsRoutedToPostgresAreAppliedFencedOrNot) {
  auto stats = applier_->Apply(Txn(100, {Insert(orders_, {T("acme"), T("1"), T("a")}),
                                         Insert(orders_, {T("globex"), T("1"), T("g")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows, 2);
  EXPECT_EQ(Rows("SELECT tenant, id, v FROM orders ORDER BY 1"), "acme|1|a\nglobex|1|g\n");
  EXPECT_EQ(Position(), 100u);
}

TEST_F(ReverseTenantTest, ARowOfATenantRoutedToSqliteFailsTheWholeTransaction) {
  ExpectRefused(Txn(200, {Insert(orders_, {T("acme"), T("1"), T("a")}),
                          Insert(orders_, {T("initech"), T("1"), T("i")})}),
                "reverse replication: PostgreSQL transaction xid 200 at LSN 0/C0 changed "
                "public.orders key (tenant, id)=(initech, 1) of tenant initech, which is routed "
                "to sqlite (epoch 5): refused");
  EXPECT_EQ(Count("orders"), 0);
  // A tenant with no route of its own and no '*' row is on sqlite, epoch 0.
  ExpectRefused(Txn(300, {Insert(orders_, {T("hooli"), T("1"), T("h")})}),
                "of tenant hooli, which is routed to sqlite (epoch 0): refused");
}

TEST_F(ReverseTenantTest, WholeDatabaseRouteCoversTenantsWithoutTheirOwn) {
  SetRoute("*", "postgres", 8);
  auto stats = applier_->Apply(Txn(100, {Insert(orders_, {T("hooli"), T("1"), T("h")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  // initech's own row still says sqlite.
  ExpectRefused(Txn(200, {Insert(orders_, {T("initech"), T("1"), T("i")})}),
                "of tenant initech, which is routed to sqlite (epoch 5)");
}

TEST_F(ReverseTenantTest, UpdateThatMovesARowChecksBothTenants) {
  ASSERT_TRUE(applier_->Apply(Txn(100, {Insert(orders_, {T("acme"), T("1"), T("a")})})).ok());
  ExpectRefused(Txn(200, {Update(orders_, {T("acme"), T("1"), pgchange::Datum{}},
                                 {T("initech"), T("1"), T("a")})}),
                "of tenant initech, which is routed to sqlite");
  auto moved = applier_->Apply(
      Txn(300, {Update(orders_, {T("acme"), T("1"), N()}, {T("globex"), T("1"), T("a")})}));
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(Rows("SELECT tenant, id FROM orders"), "globex|1\n");
}

// With sqlift's guard triggers installed (what `sqlift init` does), the applier's own
// transactions write tenants on postgres, fenced or not, while the same writes from a plain
// connection are refused; the marker that lets it through is never committed.
TEST_F(ReverseTenantTest, GuardTriggersPassTheApplierAndRefuseOthers) {
  ASSERT_TRUE(
      InstallGuards(*db_, {"orders", "notes", "countries"}, TenantScheme{"tenant", ""}).ok());
  auto stats = applier_->Apply(Txn(100, {Insert(orders_, {T("acme"), T("1"), T("a")}),
                                         Insert(orders_, {T("globex"), T("1"), T("g")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  stats = applier_->Apply(Txn(200, {Update(orders_, {}, {T("acme"), T("1"), T("b")}),
                                    Delete(orders_, {T("globex"), T("1"), N()})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(Rows("SELECT tenant, id, v FROM orders"), "acme|1|b\n");
  EXPECT_EQ(Position(), 200u);
  EXPECT_EQ(Rows("SELECT count(*) FROM _sqlift_state WHERE key = 'reverse_writer'"), "0\n");
  auto refusal = [&](const std::string& sql) {
    Status st = db_->Exec(sql);
    return st.ok() ? std::string() : std::string(sqlite3_errmsg(db_->handle()));
  };
  EXPECT_EQ(refusal("UPDATE orders SET v = 'c' WHERE tenant = 'acme'"),
            "sqlift: tenant \"acme\" is on postgres (epoch 2)");
  EXPECT_EQ(refusal("INSERT INTO orders VALUES ('globex', 2, 'g')"),
            "sqlift: tenant \"globex\" is being switched (epoch 4); retry shortly");
  EXPECT_EQ(Rows("SELECT tenant, id, v FROM orders"), "acme|1|b\n");
  EXPECT_EQ(refusal("INSERT INTO orders VALUES ('initech', 2, 'i')"), "");
}

TEST_F(ReverseTenantTest, TenantOutsideTheKeyIsReadFromTheSqliteRow) {
  Exec("INSERT INTO notes VALUES (1, 'initech', 'i'), (2, 'acme', 'a')");
  // PostgreSQL sends no old tenant: the SQLite row says the note is initech's.
  ExpectRefused(Txn(100, {Update(notes_, {}, {T("1"), T("acme"), T("stolen")})}),
                "public.notes key (id)=(1) of tenant initech, which is routed to sqlite");
  ExpectRefused(Txn(100, {Delete(notes_, {T("1"), N(), N()})}), "of tenant initech");
  auto ok = applier_->Apply(
      Txn(100, {Update(notes_, {}, {T("2"), T("acme"), T("b")}), Delete(notes_, {T("2"), N(), N()}),
                Delete(notes_, {T("99"), N(), N()})}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(Rows("SELECT id, tenant FROM notes"), "1|initech\n");
}

TEST_F(ReverseTenantTest, TableWithoutTheTenantColumnFollowsTheWholeDatabase) {
  ExpectRefused(Txn(100, {Insert(countries_, {T("FR"), T("France")})}),
                "public.countries key (code)=(FR) of tenant *, which is routed to sqlite");
  SetRoute("*", "postgres", 9);
  auto stats = applier_->Apply(Txn(100, {Insert(countries_, {T("FR"), T("France")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(Count("countries"), 1);
}

TEST_F(ReverseTenantTest, NullTenantIsRefused) {
  ExpectRefused(Txn(100, {Insert(notes_, {T("5"), N(), T("x")})}),
                "public.notes key (id)=(5) has a NULL tenant column tenant");
}

TEST_F(ReverseTenantTest, WholeDatabaseModeUsesTenantStar) {
  ReverseApplierOptions options;  // no tenant column
  options.tables["orders"] = {"orders", {}, {}, false, {}};
  auto whole = OpenApplier(options);
  ASSERT_NE(whole, nullptr);
  auto refused = whole->Apply(Txn(100, {Insert(orders_, {T("acme"), T("1"), T("a")})}));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("of tenant *, which is routed to sqlite (epoch 0)"),
            std::string::npos)
      << refused.status().ToString();
  SetRoute("*", "postgres", 1);
  auto stats = whole->Apply(Txn(100, {Insert(orders_, {T("initech"), T("1"), T("a")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();  // tenant values do not matter here
  EXPECT_EQ(Count("orders"), 1);
}

// Database-per-tenant: this file is tenant acme; PostgreSQL holds every source's rows with a
// tenant column the SQLite tables do not have.
class ConstantTenantTest : public testing::ReverseFixture {
 protected:
  void SetUp() override {
    ReverseFixture::SetUp();
    Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)");
    SetRoute("*", "postgres", 3);
    items_ = Rel(16400, "items",
                 {{"tenant", pgoid::kText, -1, true},
                  {"id", pgoid::kInt8, -1, true},
                  {"v", pgoid::kText, -1, false}});
    ReverseApplierOptions options;
    options.tenant_column = "tenant";
    options.constant_tenant = "acme";
    options.tables["items"] = {"items", {}, {}, false, {}};
    applier_ = OpenApplier(options);
    ASSERT_NE(applier_, nullptr);
  }
  RelPtr items_;
  std::unique_ptr<ReverseApplier> applier_;
};

TEST_F(ConstantTenantTest, OtherSourcesRowsAreSkippedAndTheColumnIsNotWritten) {
  auto stats = applier_->Apply(Txn(100, {Insert(items_, {T("acme"), T("1"), T("a1")}),
                                         Insert(items_, {T("globex"), T("1"), T("g1")}),
                                         Insert(items_, {T("acme"), T("2"), T("a2")}),
                                         Update(items_, {}, {T("globex"), T("1"), T("g2")}),
                                         Delete(items_, {T("globex"), T("1"), N()}),
                                         Update(items_, {}, {T("acme"), T("2"), T("a3")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows, 3);
  EXPECT_EQ(stats->rows_other_tenants, 3);
  EXPECT_EQ(Rows("SELECT id, v FROM items ORDER BY id"), "1|a1\n2|a3\n");
  EXPECT_EQ(Rows("SELECT group_concat(name) FROM pragma_table_info('items')"), "id,v\n");
}

TEST_F(ConstantTenantTest, ThisSourcesRouteIsStillChecked) {
  SetRoute("acme", "sqlite", 6);
  auto stats = applier_->Apply(Txn(100, {Insert(items_, {T("globex"), T("1"), T("g")}),
                                         Insert(items_, {T("acme"), T("1"), T("a")})}));
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("of tenant acme, which is routed to sqlite (epoch 6)"),
            std::string::npos)
      << stats.status().ToString();
  EXPECT_EQ(Count("items"), 0);
}

TEST_F(ConstantTenantTest, ARowMovingBetweenSourcesIsRefused) {
  ASSERT_TRUE(applier_->Apply(Txn(100, {Insert(items_, {T("acme"), T("1"), T("a")})})).ok());
  auto stats = applier_->Apply(
      Txn(200, {Update(items_, {T("acme"), T("1"), N()}, {T("globex"), T("1"), T("a")})}));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(stats.status().message().find("between tenants acme and globex"), std::string::npos)
      << stats.status().ToString();
  EXPECT_EQ(Rows("SELECT id, v FROM items"), "1|a\n");
}

TEST_F(ConstantTenantTest, TenantOutsideTheReplicaIdentityCannotAttributeDeletes) {
  auto loose = Rel(16401, "items",
                   {{"tenant", pgoid::kText, -1, false},
                    {"id", pgoid::kInt8, -1, true},
                    {"v", pgoid::kText, -1, false}});
  auto stats = applier_->Apply(Txn(100, {Delete(loose, {N(), T("1"), N()})}));
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("not part of PostgreSQL's replica identity"),
            std::string::npos)
      << stats.status().ToString();
}

}  // namespace
}  // namespace sqlift
