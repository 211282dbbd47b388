// `plan --rls`: the statements per table with the tenant column, text and non-text columns,
// the applier's policy, and the settings refused.
#include "tools/plan/rls_policy.h"

#include <gtest/gtest.h>

namespace sqlift {
namespace {

ColumnPlan Column(const std::string& name, PgType::Kind kind) {
  ColumnPlan c;
  c.source_name = name;
  c.pg_name = name;
  c.mapping.type = PgType::Of(kind);
  return c;
}

SchemaPlan Plan() {
  SchemaPlan plan;
  TablePlan orders{"Orders",
                   "Orders",
                   {Column("id", PgType::Kind::kBigint), Column("tenant_id", PgType::Kind::kText)},
                   "",
                   {},
                   false};
  TablePlan shared{"settings", "settings", {Column("key", PgType::Kind::kText)}, "", {}, false};
  TablePlan numbered{"accounts", "accounts", {Column("TENANT_ID", PgType::Kind::kBigint)},
                     "",         {},         false};
  plan.tables = {orders, shared, numbered};
  return plan;
}

TEST(RlsPolicyTest, EachTenantTableGetsForcedRlsATenantPolicyAndTheApplierPolicy) {
  RlsOptions o;
  o.tenant_column = "tenant_id";
  o.applier_role = "sqlift";
  auto got = RlsStatements(Plan(), o);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const std::vector<std::string> want = {
      "ALTER TABLE \"public\".\"Orders\" ENABLE ROW LEVEL SECURITY",
      "ALTER TABLE \"public\".\"Orders\" FORCE ROW LEVEL SECURITY",
      "CREATE POLICY \"sqlift_tenant\" ON \"public\".\"Orders\" USING (\"tenant_id\" = "
      "current_setting('app.current_tenant_id', true)) WITH CHECK (\"tenant_id\" = "
      "current_setting('app.current_tenant_id', true))",
      "CREATE POLICY \"sqlift_applier\" ON \"public\".\"Orders\" FOR ALL TO \"sqlift\" USING "
      "(true) WITH CHECK (true)",
      "ALTER TABLE \"public\".\"accounts\" ENABLE ROW LEVEL SECURITY",
      "ALTER TABLE \"public\".\"accounts\" FORCE ROW LEVEL SECURITY",
      "CREATE POLICY \"sqlift_tenant\" ON \"public\".\"accounts\" USING (\"TENANT_ID\"::text = "
      "current_setting('app.current_tenant_id', true)) WITH CHECK (\"TENANT_ID\"::text = "
      "current_setting('app.current_tenant_id', true))",
      "CREATE POLICY \"sqlift_applier\" ON \"public\".\"accounts\" FOR ALL TO \"sqlift\" USING "
      "(true) WITH CHECK (true)",
  };
  EXPECT_EQ(*got, want);
}

TEST(RlsPolicyTest, NoApplierRoleIsCurrentUser) {
  RlsOptions o;
  o.tenant_column = "tenant_id";
  o.setting = "my_app.tenant";
  auto got = RlsStatements(Plan(), o);
  ASSERT_TRUE(got.ok());
  EXPECT_NE((*got)[2].find("current_setting('my_app.tenant', true)"), std::string::npos);
  EXPECT_NE((*got)[3].find("TO CURRENT_USER"), std::string::npos);
}

TEST(RlsPolicyTest, BadSettingOrNoTenantColumnIsAUsageError) {
  RlsOptions o;
  o.tenant_column = "tenant_id";
  for (const char* bad : {"tenant", "app.", ".x", "app.x'); DROP TABLE t; --", "a..b", "1a.b"}) {
    o.setting = bad;
    EXPECT_EQ(RlsStatements(Plan(), o).status().code(), Status::Code::kInvalidArgument) << bad;
  }
  o.setting = "app.current_tenant_id";
  o.tenant_column = "";
  EXPECT_EQ(RlsStatements(Plan(), o).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sqlift
