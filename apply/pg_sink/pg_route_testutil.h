// PgRouteTest: what pg_route's tests share. Each test gets a fresh database of the suite's
// throwaway PostgreSQL with the route schema, the fenced tables public.orders (tenant column
// tenant_id) and public.settings (no tenant column), a superuser session that is an ordinary
// writer (admin_) and one marked as the applier (applier_). Roles made by ConnectAs are the
// cluster's, so they outlive the test's database.
//
// Thread safety: gtest's; a connection is used by one thread at a time.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apply/pg_sink/pg_route.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {

using Params = std::vector<std::optional<std::string>>;
constexpr RouteSide kPg = RouteSide::kPostgres;
constexpr RouteSide kLite = RouteSide::kSqlite;

inline PgRoute Route(std::string tenant, RouteSide side, uint64_t epoch, bool fenced = false) {
  PgRoute r;
  r.tenant = std::move(tenant);
  r.side = side;
  r.epoch = epoch;
  r.fenced = fenced;
  r.source = "app";
  r.seq = 40 + epoch;
  return r;
}

// The refusal `st` must be: that SQLSTATE, and every fragment in the message.
inline void ExpectRefused(const Status& st, const char* sqlstate,
                          std::initializer_list<std::string> fragments) {
  ASSERT_FALSE(st.ok()) << "write was allowed";
  EXPECT_EQ(SqlStateOf(st), sqlstate) << st.ToString();
  for (const std::string& f : fragments)
    EXPECT_NE(st.message().find(f), std::string::npos) << f << " not in: " << st.ToString();
}

class PgRouteTest : public PgSuiteTest {
 public:
  static void Run(PgConnection& c, const std::string& sql) {
    Status st = c.Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  static Status Write(PgConnection& c, const std::string& sql, const Params& p = {}) {
    return c.Query(sql, p).status();
  }
  // COPY ... FROM STDIN of `rows` (text format, one row per line).
  static Status Copy(PgConnection& c, const std::string& table, const std::string& rows) {
    SQLIFT_RETURN_IF_ERROR(c.Exec("COPY " + table + " FROM STDIN"));
    SQLIFT_RETURN_IF_ERROR(c.PutCopyData(rows));
    return c.PutCopyEnd();
  }

 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name)
      c = static_cast<char>(std::tolower(c));
    auto uri = pg_->CreateDatabase(name);
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
    admin_ = Connect(uri_);
    applier_ = Connect(uri_);
    ASSERT_TRUE(EnsureRouteSchema(*admin_).ok());
    ASSERT_TRUE(EnsureRouteSchema(*admin_).ok());  // idempotent
    ASSERT_TRUE(MarkApplierSession(*applier_).ok());
    Run(*admin_,
        "CREATE TABLE public.orders (id bigint PRIMARY KEY, tenant_id text, item text);"
        "CREATE TABLE public.settings (k text PRIMARY KEY, v text)");
    ASSERT_TRUE(InstallFence(*admin_, "public", "orders", "tenant_id").ok());
    ASSERT_TRUE(InstallFence(*admin_, "public", "settings", "").ok());
  }

  static std::unique_ptr<PgConnection> Connect(const std::string& uri) {
    auto c = PgConnection::Connect(uri, std::chrono::seconds(30));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  // A session of login `role` (made when missing: LOGIN, not a superuser), with `grants` run
  // first by the superuser (e.g. "GRANT ... ON public.orders TO app").
  std::unique_ptr<PgConnection> ConnectAs(const std::string& role, const std::string& grants) {
    Run(*admin_, "DO $$ BEGIN CREATE ROLE " + QuoteIdentifier(role) +
                     " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;" + grants);
    const std::string prefix = "postgresql://postgres@";
    EXPECT_EQ(uri_.rfind(prefix, 0), 0u) << uri_;
    return Connect("postgresql://" + role + "@" + uri_.substr(prefix.size()));
  }
  // Sets routes in one transaction, as the applier does when a route event arrives.
  void SetRoutes(std::initializer_list<PgRoute> routes) {
    Run(*applier_, "BEGIN");
    for (const PgRoute& r : routes) {
      Status st = ApplyRoute(*applier_, r);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
    Run(*applier_, "COMMIT");
  }
  std::string Scalar(const std::string& sql, const Params& p = {}) {
    auto r = admin_->Query(sql, p);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->rows() == 1 ? std::string(r->get(0, 0)) : "<none>";
  }

  std::string uri_;
  std::unique_ptr<PgConnection> admin_;    // superuser, an ordinary session
  std::unique_ptr<PgConnection> applier_;  // MarkApplierSession
};

}  // namespace sqlift
