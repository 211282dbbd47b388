// The fence as a privilege boundary, against a throwaway PostgreSQL: an application login that
// may write the tables and sets every setting the fence functions read is still refused on
// every kind of write, the applier (its login's role) is let through; a fenced route says
// "being switched" whatever its side; foreign-key actions follow whose write caused them;
// RefreshFences replaces fences of an older sqlift and names those of another applier's role.
#include <gtest/gtest.h>

#include <string>

#include "apply/pg_sink/pg_route.h"
#include "apply/pg_sink/pg_route_testutil.h"

namespace sqlift {
namespace {

constexpr char kAppGrants[] =
    "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
    " ON public.orders, public.settings TO app;"
    "GRANT USAGE ON SCHEMA sqlift TO app";

// Every setting a session could use to pass as the applier or as already checked: the old
// marker, and sqlift.fence_allowed in its old form and as the token a fence function set for
// another tenant or in another transaction.
void ForgeEverything(PgConnection& app, const std::string& token) {
  for (const std::string& sql : {std::string("SET sqlift.writer = 'applier'"),
                                 std::string("SET sqlift.fence_allowed = 't:acme'"),
                                 "SET sqlift.fence_allowed = '" + token + "'"}) {
    Status st = app.Exec(sql);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.ToString();
  }
}

// INSERT, UPDATE and DELETE of tenant `tenant`'s rows, and COPY of one: refused for `app` with
// `sqlstate`.
void ExpectRowWritesRefused(PgConnection& app, const std::string& tenant, const char* sqlstate) {
  const std::string t = "'" + tenant + "'", named = "\"" + tenant + "\"";
  for (const std::string& sql : {"INSERT INTO orders VALUES (100, " + t + ", 'forged')",
                                 "UPDATE orders SET item = 'forged' WHERE tenant_id = " + t,
                                 "DELETE FROM orders WHERE tenant_id = " + t}) {
    ExpectRefused(PgRouteTest::Write(app, sql), sqlstate, {named});
  }
  ExpectRefused(PgRouteTest::Copy(app, "orders", "100\t" + tenant + "\tcopied\n"), sqlstate,
                {named});
}

TEST_F(PgRouteTest, ApplicationLoginCannotPassWhateverItSets) {
  SetRoutes({Route("initech", kPg, 1), Route("globex", kPg, 2, /*fenced=*/true)});
  Run(*applier_,
      "INSERT INTO orders VALUES (1, 'acme', 'a'), (2, 'globex', 'g'), (3, 'initech', 'i')");
  auto app = ConnectAs("app", kAppGrants);
  ASSERT_TRUE(app);
  ASSERT_EQ(Scalar("SELECT rolsuper::text FROM pg_roles WHERE rolname = 'app'"), "false");
  // A token the fence set for initech, in an earlier transaction of this session.
  Run(*app, "BEGIN; INSERT INTO orders VALUES (4, 'initech', 'ok')");
  auto token = app->Query("SELECT current_setting('sqlift.fence_allowed')");
  Run(*app, "COMMIT");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  ASSERT_EQ(token->get(0, 0).size(), 64u);
  // The applier's role is not the application's to take.
  EXPECT_EQ(SqlStateOf(Write(*app, "SET ROLE postgres")), "42501");
  EXPECT_EQ(SqlStateOf(Write(*app, "SELECT set_config('role', 'postgres', false)")), "42501");
  ASSERT_NO_FATAL_FAILURE(ForgeEverything(*app, std::string(token->get(0, 0))));
  ExpectRowWritesRefused(*app, "acme", "SL002");  // routed to sqlite: no route of its own
  ExpectRefused(Write(*app, "TRUNCATE settings"), "SL002", {"tenant \"*\""});
  ExpectRefused(Write(*app, "TRUNCATE orders"), "SL001", {"tenant \"globex\""});
  SetRoutes({Route("acme", kPg, 1), Route("*", kPg, 1, /*fenced=*/true)});
  ExpectRowWritesRefused(*app, "globex", "SL001");
  ExpectRefused(Copy(*app, "settings", "k\tcopied\n"), "SL001", {"tenant \"*\""});
  ExpectRefused(Write(*app, "TRUNCATE settings"), "SL001", {"tenant \"*\""});
  // Within a transaction allowed for initech, its token lets no other tenant through.
  Run(*app, "BEGIN; UPDATE orders SET item = 'i2' WHERE id = 3");
  ExpectRefused(Write(*app, "UPDATE orders SET item = 'g2' WHERE id = 2"), "SL001", {"globex"});
  Run(*app, "ROLLBACK");
  // The applier's session passes every kind of write, fenced or not.
  Run(*applier_, "UPDATE orders SET item = 'by applier' WHERE tenant_id IN ('acme', 'globex')");
  ASSERT_TRUE(Copy(*applier_, "orders", "6\tglobex\tcopied\n").ok());
  ASSERT_TRUE(Copy(*applier_, "settings", "k\tcopied\n").ok());
  EXPECT_EQ(Scalar("SELECT string_agg(id || tenant_id || item, ',' ORDER BY id) FROM orders"),
            "1acmeby applier,2globexby applier,3initechi,4initechok,6globexcopied");
  EXPECT_EQ(Scalar("SELECT string_agg(k || v, ',') FROM settings"), "kcopied");
  Run(*applier_, "DELETE FROM orders WHERE id = 6; TRUNCATE orders, settings");
  EXPECT_EQ(Scalar("SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM settings)"), "0");
}

// Between a cutover's fence and its flip reaching PostgreSQL the route is (sqlite, fenced);
// during a fallback (postgres, fenced). Both say "being switched", never "go elsewhere".
TEST_F(PgRouteTest, FencedRouteSaysBeingSwitchedWhateverItsSide) {
  Run(*applier_, "INSERT INTO orders VALUES (1, 'acme', 'a'); INSERT INTO settings VALUES ('k')");
  for (RouteSide side : {kLite, kPg}) {
    SetRoutes({Route("acme", side, 3, /*fenced=*/true), Route("*", side, 3, /*fenced=*/true)});
    const std::string switching = "is being switched (route epoch 3)";
    ExpectRefused(Write(*admin_, "INSERT INTO orders VALUES (2, 'acme', 'b')"), "SL001",
                  {switching, "retry shortly"});
    ExpectRefused(Write(*admin_, "UPDATE orders SET item = 'b'"), "SL001", {switching});
    ExpectRefused(Write(*admin_, "DELETE FROM orders"), "SL001", {switching});
    ExpectRefused(Write(*admin_, "TRUNCATE orders"), "SL001", {"being switched"});
    ExpectRefused(Write(*admin_, "DELETE FROM settings"), "SL001",
                  {"tenant \"*\" is being switched (route epoch 3)"});
  }
  SetRoutes({Route("acme", kLite, 4), Route("*", kLite, 4)});
  ExpectRefused(Write(*admin_, "DELETE FROM orders"), "SL002", {"routed to sqlite"});
  EXPECT_EQ(Scalar("SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM settings)"), "2");
}

// A foreign-key action runs as the table's owner; the fence follows the session's role, so a
// cascade the applier's delete causes is let through and one an application's causes is not.
TEST_F(PgRouteTest, ForeignKeyActionsFollowWhoseWriteCausedThem) {
  Run(*admin_,
      "CREATE TABLE public.lines (id bigint PRIMARY KEY, tenant_id text,"
      " order_id bigint REFERENCES public.orders ON DELETE CASCADE)");
  ASSERT_TRUE(InstallFence(*admin_, "public", "lines", "tenant_id").ok());
  Run(*applier_,
      "INSERT INTO orders VALUES (1, 'acme', 'a'), (2, 'acme', 'b');"
      "INSERT INTO lines VALUES (10, 'acme', 1), (20, 'globex', 2)");
  Run(*applier_, "DELETE FROM orders WHERE id = 1");  // routed to sqlite: only the applier
  SetRoutes({Route("acme", kPg, 1)});
  ExpectRefused(Write(*admin_, "DELETE FROM orders WHERE id = 2"), "SL002",
                {"tenant \"globex\"", "public.lines"});
  EXPECT_EQ(Scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM lines"), "20");
  EXPECT_EQ(Scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM orders"), "2");
}

// The triggers an older sqlift installed let through `SET sqlift.writer = 'applier'`; fences
// of a role that is gone let nobody through; those of another applier's role are named.
TEST_F(PgRouteTest, RefreshFencesReplacesOldFencesAndNamesOtherAppliers) {
  auto fence_by_hand = [&](const std::string& table, const std::string& when,
                           const std::string& args) {
    Run(*admin_,
        "DROP TRIGGER sqlift_fence ON " + table + "; DROP TRIGGER sqlift_fence_truncate" + " ON " +
            table + "; CREATE TRIGGER sqlift_fence BEFORE INSERT OR UPDATE OR" + " DELETE ON " +
            table + " FOR EACH ROW WHEN (" + when + ") EXECUTE FUNCTION sqlift.fence(" + args +
            "); CREATE TRIGGER" + " sqlift_fence_truncate BEFORE TRUNCATE ON " + table +
            " FOR EACH STATEMENT EXECUTE FUNCTION sqlift.fence_truncate(" + args + "); ALTER" +
            " TABLE " + table + " ENABLE ALWAYS TRIGGER sqlift_fence, ENABLE ALWAYS" +
            " TRIGGER sqlift_fence_truncate");
  };
  auto calling = [&](const std::string& table, const std::string& args) {
    return Scalar(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = $1::regclass AND tgenabled = 'A'"
        " AND pg_get_triggerdef(oid) LIKE '%(' || $2 || ')'",
        {table, args});
  };
  fence_by_hand("orders", "current_setting('sqlift.writer', true) IS DISTINCT FROM 'applier'",
                "'tenant_id'");
  Run(*admin_, "DO $$ BEGIN CREATE ROLE gone; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
  fence_by_hand("settings", "current_setting('role') IS DISTINCT FROM 'gone'", "'', 'gone'");
  Run(*admin_, "DROP ROLE gone");
  Run(*admin_, "SET sqlift.writer = 'applier'");
  ASSERT_TRUE(Write(*admin_, "INSERT INTO orders VALUES (1, 'acme', 'old fence')").ok());
  ASSERT_TRUE(RefreshFences(*admin_).ok());
  EXPECT_EQ(calling("orders", "'tenant_id', 'postgres'"), "2");
  EXPECT_EQ(calling("settings", "'', 'postgres'"), "2");
  ExpectRefused(Write(*admin_, "INSERT INTO orders VALUES (2, 'acme', 'b')"), "SL002", {"acme"});
  ExpectRefused(Write(*admin_, "TRUNCATE orders"), "SL002", {"TRUNCATE"});
  Run(*applier_, "INSERT INTO orders VALUES (2, 'acme', 'b'); INSERT INTO settings VALUES ('k')");
  // Another applier's login: named, left alone, until taken over on purpose.
  auto app = ConnectAs("app", "");
  ASSERT_TRUE(app);
  fence_by_hand("settings", "current_setting('role') IS DISTINCT FROM 'app'", "'', 'app'");
  Status other = RefreshFences(*admin_);
  EXPECT_EQ(other.code(), Status::Code::kFailedPrecondition) << other.ToString();
  for (const char* part : {"settings (role app)", "\"postgres\"", "refresh_fences(true)"})
    EXPECT_NE(other.message().find(part), std::string::npos) << part << ": " << other.ToString();
  EXPECT_EQ(calling("settings", "'', 'app'"), "2");
  Run(*admin_, "SELECT sqlift.refresh_fences(true)");
  EXPECT_TRUE(RefreshFences(*admin_).ok());
  EXPECT_EQ(calling("settings", "'', 'postgres'"), "2");
  EXPECT_EQ(Scalar("SELECT string_agg(id || item, ',' ORDER BY id) FROM orders"), "1old fence,2b");
}

}  // namespace
}  // namespace sqlift
