// `sqlift check` against a real PostgreSQL: a non-superuser login holding exactly the
// privileges the README lists passes; each one taken away is named with the statement that
// gives it back, and running that statement makes the check pass again.
#include "tools/check/privilege_check.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "common/pg/pg_connection.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

// The README's "Managed PostgreSQL and least privilege" statements for database app, schema
// public, login sqlift; the publication is made by the superuser (only it may publish a schema).
constexpr char kGrants[] =
    "CREATE ROLE sqlift LOGIN REPLICATION;"
    "GRANT CREATE ON DATABASE app TO sqlift;"
    "GRANT CREATE ON SCHEMA public TO sqlift;"
    "GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text), "
    "pg_replication_origin_oid(text), pg_replication_origin_session_setup(text), "
    "pg_replication_origin_xact_reset(), pg_replication_origin_drop(text) TO sqlift;"
    "CREATE PUBLICATION sqlift_app FOR TABLES IN SCHEMA public;";

std::unique_ptr<PgConnection> Connect(const std::string& uri) {
  auto conn = PgConnection::Connect(uri, std::chrono::seconds(10));
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

// The finding whose name holds `what`.
const Finding* Named(const PrivilegeReport& r, const std::string& what) {
  for (const Finding& f : r.findings) {
    if (f.what.find(what) != std::string::npos) return &f;
  }
  return nullptr;
}

class PrivilegeCheckTest : public PgSuiteTest {
 protected:
  static void SetUpTestSuite() {
    PgSuiteTest::SetUpTestSuite();
    auto uri = pg_->CreateDatabase("app");
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    admin_uri_ = *uri;
    login_uri_ = *uri;
    login_uri_.replace(login_uri_.find("postgres@"), 9, "sqlift@");
    auto admin = Connect(admin_uri_);
    ASSERT_TRUE(admin->Exec(kGrants).ok());
    auto login = Connect(login_uri_);
    ASSERT_TRUE(
        login->Exec("CREATE TABLE public.orders (id bigint PRIMARY KEY, tenant text)").ok());
  }

  void SetUp() override {
    admin_ = Connect(admin_uri_);
    ASSERT_NE(admin_, nullptr);
  }

  PrivilegeReport Check(const std::string& uri) {
    auto conn = Connect(uri);
    CheckTarget target;
    target.replication_name = "sqlift_app";
    target.tables = {"orders", "not_created_yet"};
    auto report = CheckPrivileges(*conn, target);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : PrivilegeReport{};
  }

  inline static std::string admin_uri_;
  inline static std::string login_uri_;
  std::unique_ptr<PgConnection> admin_;
};

std::string Missing(const PrivilegeReport& r) {
  std::string out;
  for (const Finding& f : r.findings) {
    if (!f.ok) out += f.what + ": " + f.fix + "\n";
  }
  return out;
}

TEST_F(PrivilegeCheckTest, TheReadmeGrantsAreEnough) {
  PrivilegeReport r = Check(login_uri_);
  EXPECT_EQ(r.role, "sqlift");
  EXPECT_FALSE(r.superuser);
  EXPECT_EQ(r.missing(), 0u) << Missing(r);
  ASSERT_NE(Named(r, "table \"public\".\"orders\""), nullptr);
  EXPECT_EQ(Named(r, "not_created_yet"), nullptr);  // the applier creates it
  EXPECT_NE(CheckReportText(r).find("Everything sqlift needs is in place"), std::string::npos);
  EXPECT_EQ(CheckReportJson(r)["ok"], true);
}

struct Removal {
  const char* take;  // run as the superuser
  const char* what;  // the finding's name
  const char* fix;   // the statement check prints
};

TEST_F(PrivilegeCheckTest, EachPrivilegeTakenIsNamedWithItsFix) {
  const Removal removals[] = {
      {"REVOKE CREATE ON DATABASE app FROM sqlift", "CREATE on database \"app\"",
       "GRANT CREATE ON DATABASE \"app\" TO \"sqlift\";"},
      {"REVOKE CREATE ON SCHEMA public FROM sqlift", "CREATE on schema \"public\"",
       "GRANT CREATE ON SCHEMA \"public\" TO \"sqlift\";"},
      {"REVOKE USAGE ON SCHEMA public FROM PUBLIC", "USAGE on schema \"public\"",
       "GRANT USAGE ON SCHEMA \"public\" TO \"sqlift\";"},
      {"REVOKE EXECUTE ON FUNCTION pg_replication_origin_create(text) FROM sqlift",
       "pg_replication_origin_create(text)",
       "GRANT EXECUTE ON FUNCTION pg_catalog.pg_replication_origin_create(text) TO \"sqlift\";"},
      {"REVOKE EXECUTE ON FUNCTION pg_replication_origin_oid(text) FROM sqlift",
       "pg_replication_origin_oid(text)",
       "GRANT EXECUTE ON FUNCTION pg_catalog.pg_replication_origin_oid(text) TO \"sqlift\";"},
      {"REVOKE EXECUTE ON FUNCTION pg_replication_origin_session_setup(text) FROM sqlift",
       "pg_replication_origin_session_setup(text)",
       "GRANT EXECUTE ON FUNCTION pg_catalog.pg_replication_origin_session_setup(text) TO "
       "\"sqlift\";"},
      {"REVOKE EXECUTE ON FUNCTION pg_replication_origin_xact_reset() FROM sqlift",
       "pg_replication_origin_xact_reset()",
       "GRANT EXECUTE ON FUNCTION pg_catalog.pg_replication_origin_xact_reset() TO \"sqlift\";"},
      {"REVOKE EXECUTE ON FUNCTION pg_replication_origin_drop(text) FROM sqlift",
       "pg_replication_origin_drop(text)",
       "GRANT EXECUTE ON FUNCTION pg_catalog.pg_replication_origin_drop(text) TO \"sqlift\";"},
      {"ALTER ROLE sqlift NOREPLICATION", "REPLICATION attribute",
       "ALTER ROLE \"sqlift\" REPLICATION;"},
      {"DROP PUBLICATION sqlift_app", "publication \"sqlift_app\"",
       "CREATE PUBLICATION \"sqlift_app\" FOR TABLES IN SCHEMA \"public\";"},
      {"REVOKE INSERT, TRUNCATE ON public.orders FROM sqlift",
       "SELECT, INSERT, UPDATE, DELETE, TRUNCATE on table \"public\".\"orders\"",
       "GRANT INSERT, TRUNCATE ON TABLE \"public\".\"orders\" TO \"sqlift\";"},
      {"ALTER TABLE public.orders OWNER TO postgres", "ownership of table \"public\".\"orders\"",
       "ALTER TABLE \"public\".\"orders\" OWNER TO \"sqlift\";"},
      {"ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY;"
       "ALTER TABLE public.orders FORCE ROW LEVEL SECURITY",
       "row-level security",
       "CREATE POLICY \"sqlift_applier\" ON \"public\".\"orders\" FOR ALL TO \"sqlift\" USING "
       "(true) WITH CHECK (true);"},
  };
  for (const Removal& r : removals) {
    SCOPED_TRACE(r.take);
    ASSERT_TRUE(admin_->Exec(r.take).ok());
    PrivilegeReport taken = Check(login_uri_);
    const Finding* f = Named(taken, r.what);
    ASSERT_NE(f, nullptr) << Missing(taken);
    EXPECT_FALSE(f->ok);
    EXPECT_EQ(f->fix, r.fix);
    EXPECT_NE(CheckReportText(taken).find(r.fix), std::string::npos);
    EXPECT_EQ(CheckReportJson(taken)["ok"], false);
    ASSERT_TRUE(admin_->Exec(f->fix).ok()) << f->fix;
    PrivilegeReport given = Check(login_uri_);
    EXPECT_EQ(given.missing(), 0u) << Missing(given);
  }
}

TEST_F(PrivilegeCheckTest, TheSuperuserNeedsNoGrant) {
  PrivilegeReport r = Check(admin_uri_);
  EXPECT_TRUE(r.superuser);
  EXPECT_EQ(r.missing(), 0u) << Missing(r);
}

// A server not set up for logical decoding: each setting is named with its ALTER SYSTEM, and
// after those and a restart the check passes.
TEST(PrivilegeCheckServerTest, ServerSettingsForReverseReplication) {
  PgSandboxOptions o;
  o.settings = {{"wal_level", "replica"}, {"max_wal_senders", "0"}, {"max_replication_slots", "0"}};
  auto pg = PgSandbox::Start(o);
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  auto check = [&]() {
    auto conn = Connect((*pg)->uri());
    CheckTarget target;
    target.replication_name = "sqlift_app";
    target.every_table = true;
    auto r = CheckPrivileges(*conn, target);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : PrivilegeReport{};
  };
  PrivilegeReport before = check();
  EXPECT_EQ(before.missing(), 3u) << Missing(before);
  auto admin = Connect((*pg)->uri());
  for (const char* setting : {"wal_level", "max_replication_slots", "max_wal_senders"}) {
    const Finding* f = Named(before, std::string("server setting ") + setting);
    ASSERT_NE(f, nullptr) << setting;
    EXPECT_FALSE(f->ok);
    EXPECT_NE(f->fix.find("ALTER SYSTEM SET"), std::string::npos);
    ASSERT_TRUE(admin->Exec(f->fix).ok()) << f->fix;
  }
  admin.reset();
  ASSERT_TRUE((*pg)->Restart().ok());
  PrivilegeReport after = check();
  EXPECT_EQ(after.missing(), 0u) << Missing(after);
}

}  // namespace
}  // namespace sqlift
