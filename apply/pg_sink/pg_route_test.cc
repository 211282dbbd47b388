// Routes and fences against a throwaway PostgreSQL: ordinary sessions are refused with the
// documented SQLSTATE and message, the applier is not, ApplyRoute waits for in-flight writers,
// REPEATABLE READ writers cannot use a stale route, a non-superuser gets the same refusals,
// odd identifiers stay identifiers, DropFences undoes it all. Data is read back with SQL.
#include "apply/pg_sink/pg_route.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "apply/pg_sink/pg_route_testutil.h"

namespace sqlift {
namespace {

using std::chrono::seconds;

TEST_F(PgRouteTest, WithoutRouteOnlyTheApplierWrites) {
  const std::string refused = "write through SQLite until cutover";
  ExpectRefused(Write(*admin_, "INSERT INTO orders VALUES (1, 'acme', 'a')"), "SL002",
                {"tenant \"acme\" is routed to sqlite (no route yet, epoch 0)",
                 "write to table public.orders refused on PostgreSQL", refused});
  ExpectRefused(Write(*admin_, "INSERT INTO settings VALUES ('k', 'v')"), "SL002",
                {"tenant \"*\"", "public.settings"});
  Run(*applier_,
      "INSERT INTO orders VALUES (1, 'acme', 'a'), (2, 'globex', 'b');"
      "INSERT INTO settings VALUES ('k', 'v')");
  ExpectRefused(Write(*admin_, "UPDATE orders SET item = 'x' WHERE id = 1"), "SL002", {refused});
  ExpectRefused(Write(*admin_, "DELETE FROM orders WHERE id = 2"), "SL002", {"globex", refused});
  ExpectRefused(Write(*admin_, "TRUNCATE orders"), "SL002",
                {"TRUNCATE of table public.orders (every tenant's rows)", refused});
  ExpectRefused(Write(*admin_, "TRUNCATE settings"), "SL002", {"TRUNCATE of table"});
  EXPECT_EQ(Scalar("SELECT string_agg(id || tenant_id || item, ',' ORDER BY id) FROM orders"),
            "1acmea,2globexb");
  Run(*admin_, "SET session_replication_role = replica");  // does not skip the fence
  ExpectRefused(Write(*admin_, "DELETE FROM orders"), "SL002", {refused});
  Run(*admin_, "RESET session_replication_role");
  Run(*applier_, "UPDATE orders SET item = 'z' WHERE id = 1; DELETE FROM orders WHERE id = 2");
  EXPECT_EQ(Scalar("SELECT string_agg(id || item, ',') FROM orders"), "1z");
  Run(*applier_, "TRUNCATE orders, settings");
  EXPECT_EQ(Scalar("SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM settings)"), "0");
  // Inside a transaction the SET would not survive a rollback.
  Run(*admin_, "BEGIN");
  EXPECT_EQ(MarkApplierSession(*admin_).code(), Status::Code::kFailedPrecondition);
  Run(*admin_, "ROLLBACK");
}

TEST_F(PgRouteTest, TenantColumnFollowsEachTenantsRoute) {
  SetRoutes({Route("acme", kPg, 3), Route("globex", kLite, 2)});
  Run(*admin_, "INSERT INTO orders VALUES (1, 'acme', 'a'); UPDATE orders SET item = 'b';");
  ExpectRefused(Write(*admin_, "INSERT INTO orders VALUES (2, 'globex', 'g')"), "SL002",
                {"tenant \"globex\" is routed to sqlite (route epoch 2)"});
  Run(*applier_, "INSERT INTO orders VALUES (2, 'globex', 'g')");
  // Moving a row between tenants needs both routes.
  ExpectRefused(Write(*admin_, "UPDATE orders SET tenant_id = 'globex' WHERE id = 1"), "SL002",
                {"globex"});
  ExpectRefused(Write(*admin_, "UPDATE orders SET tenant_id = 'acme' WHERE id = 2"), "SL002",
                {"globex"});
  ExpectRefused(Write(*admin_, "INSERT INTO orders VALUES (3, NULL, 'n')"), "SL003",
                {"no tenant (column tenant_id is NULL)", "public.orders"});
  // A session's first write: nothing remembered from an earlier check may let these through.
  for (const std::optional<std::string>& tenant : Params{"", std::nullopt}) {
    auto fresh = Connect(uri_);
    ASSERT_TRUE(fresh);
    ExpectRefused(Write(*fresh, "INSERT INTO orders VALUES (4, $1, 'f')", {tenant}),
                  tenant ? "SL002" : "SL003", {tenant ? "tenant \"\"" : "no tenant"});
  }
  SetRoutes({Route("acme", kPg, 4, /*fenced=*/true)});
  ExpectRefused(Write(*admin_, "DELETE FROM orders WHERE id = 1"), "SL001",
                {"sqlift: tenant \"acme\" is being switched (route epoch 4): write to table "
                 "public.orders refused; retry shortly"});
  EXPECT_EQ(Scalar("SELECT string_agg(id || tenant_id || item, ',' ORDER BY id) FROM orders"),
            "1acmeb,2globexg");
  // The stored rows, and the older epoch that is refused.
  Run(*applier_, "BEGIN");
  Status stale = ApplyRoute(*applier_, Route("acme", kPg, 3));
  EXPECT_EQ(stale.code(), Status::Code::kFailedPrecondition) << stale.ToString();
  Run(*applier_, "ROLLBACK");
  EXPECT_EQ(ApplyRoute(*applier_, Route("acme", kPg, 5)).code(),  // not in a transaction
            Status::Code::kFailedPrecondition);
  auto routes = ReadRoutes(*admin_);
  ASSERT_TRUE(routes.ok()) << routes.status().ToString();
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].tenant, "acme");
  EXPECT_TRUE((*routes)[0].fenced);
  EXPECT_EQ((*routes)[0].epoch, 4u);
  EXPECT_EQ((*routes)[0].seq, 44u);
  EXPECT_EQ((*routes)[0].source, "app");
  EXPECT_EQ(LookupRoute(*routes, "globex").side, kLite);
  EXPECT_EQ(LookupRoute(*routes, "initech").epoch, 0u);  // no "*": sqlite, epoch 0
}

TEST_F(PgRouteTest, StarRoutesTheWholeDatabaseAndTenantsWithoutARow) {
  SetRoutes({Route("*", kPg, 1), Route("acme", kLite, 1)});
  Run(*admin_,
      "INSERT INTO settings VALUES ('k', 'v'); UPDATE settings SET v = 'w';"
      "INSERT INTO orders VALUES (1, 'initech', 'i')");
  ExpectRefused(Write(*admin_, "INSERT INTO orders VALUES (2, 'acme', 'a')"), "SL002", {"acme"});
  ExpectRefused(Write(*admin_, "TRUNCATE orders"), "SL002", {"acme", "every tenant"});
  auto routes = ReadRoutes(*admin_);
  ASSERT_TRUE(routes.ok());
  EXPECT_EQ(LookupRoute(*routes, "initech").tenant, "*");
  EXPECT_EQ(LookupRoute(*routes, "initech").side, kPg);
  SetRoutes({Route("*", kPg, 2, /*fenced=*/true)});
  ExpectRefused(Write(*admin_, "UPDATE orders SET item = 'j'"), "SL001",
                {"tenant \"initech\" is being switched (route \"*\", epoch 2)"});
  ExpectRefused(Write(*admin_, "DELETE FROM settings"), "SL001", {"tenant \"*\""});
  SetRoutes({Route("*", kPg, 2), Route("acme", kPg, 2)});
  Run(*admin_, "TRUNCATE orders; TRUNCATE settings");
  EXPECT_EQ(Scalar("SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM settings)"), "0");
}

// True once backend `app_name` waits for a sqlift route lock (polled, with a deadline).
bool WaitsOnRouteLock(PgConnection& observer, const std::string& app_name) {
  for (auto deadline = std::chrono::steady_clock::now() + seconds(30);
       std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    auto r = observer.Query(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid)"
        " WHERE s.application_name = $1 AND l.locktype = 'advisory' AND NOT l.granted"
        " AND l.classid = $2::integer::oid AND s.wait_event = 'advisory'",
        {app_name, std::to_string(kRouteLockClass)});
    if (!r.ok() || r->get(0, 0) == "1") return r.ok();
  }
  return false;
}

// B's ApplyRoute must wait for A, who is writing acme's rows. C, who starts writing while B
// waits, waits for B and then sees B's route: once B commits, every writer is fenced.
TEST_F(PgRouteTest, ApplyRouteWaitsForInFlightWriters) {
  SetRoutes({Route("acme", kPg, 1)});
  auto a = Connect(uri_ + "?application_name=route_a");
  auto b = Connect(uri_ + "?application_name=route_b");
  auto c = Connect(uri_ + "?application_name=route_c");
  ASSERT_TRUE(a && b && c);
  Run(*a, "BEGIN; INSERT INTO orders VALUES (1, 'acme', 'in flight')");
  std::atomic<bool> b_done{false};
  Status b_status, c_status;
  std::thread tb([&] {
    b_status = b->Exec("BEGIN");
    if (b_status.ok()) b_status = ApplyRoute(*b, Route("acme", kPg, 2, /*fenced=*/true));
    if (b_status.ok()) b_status = b->Exec("COMMIT");
    b_done = true;
  });
  const bool b_waited = WaitsOnRouteLock(*admin_, "route_b");
  std::thread tc([&] { c_status = Write(*c, "INSERT INTO orders VALUES (3, 'acme', 'c')"); });
  const bool c_waited = WaitsOnRouteLock(*admin_, "route_c");
  const bool b_done_while_a_open = b_done;
  const std::string fenced_while_waiting = Scalar("SELECT fenced::text FROM sqlift.route");
  Status a_commit = a->Exec("COMMIT");
  tb.join();
  tc.join();
  EXPECT_TRUE(b_waited) << "B never waited on the tenant's lock";
  EXPECT_TRUE(c_waited) << "C never waited on the tenant's lock";
  EXPECT_FALSE(b_done_while_a_open);
  EXPECT_EQ(fenced_while_waiting, "false");
  ASSERT_TRUE(a_commit.ok()) << a_commit.ToString();
  ASSERT_TRUE(b_status.ok()) << b_status.ToString();
  ExpectRefused(c_status, "SL001", {"tenant \"acme\" is being switched (route epoch 2)"});
  ExpectRefused(Write(*a, "INSERT INTO orders VALUES (2, 'acme', 'late')"), "SL001", {"acme"});
  EXPECT_EQ(Scalar("SELECT string_agg(item, ',') FROM orders"), "in flight");
}

// A REPEATABLE READ writer whose snapshot predates the fence cannot use the old route, for a
// tenant with a row of its own and for one that followed "*" until the fence.
TEST_F(PgRouteTest, RepeatableReadWriterCannotUseAStaleRoute) {
  SetRoutes({Route("*", kPg, 1), Route("acme", kPg, 1)});
  auto a = Connect(uri_);
  ASSERT_TRUE(a);
  for (const char* tenant : {"acme", "initech"}) {
    Run(*a, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM orders");
    SetRoutes({Route(tenant, kPg, 2, /*fenced=*/true)});
    Status st = Write(*a, "INSERT INTO orders VALUES (1, $1, 'stale')", {tenant});
    EXPECT_EQ(SqlStateOf(st), "40001") << tenant << ": " << st.ToString();
    Run(*a, "ROLLBACK");
    Run(*a, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    ExpectRefused(Write(*a, "INSERT INTO orders VALUES (1, $1, 'new')", {tenant}), "SL001",
                  {tenant});
    Run(*a, "ROLLBACK");
  }
  Run(*a,
      "BEGIN ISOLATION LEVEL SERIALIZABLE; INSERT INTO orders VALUES (3, 'globex', 'ok');"
      "COMMIT");
  EXPECT_EQ(Scalar("SELECT string_agg(tenant_id, ',') FROM orders"), "globex");
}

// A transaction skips the check for the next rows of a tenant it was allowed to write (it
// holds the tenant's locks); a rolled-back savepoint gives back the locks and forgets that.
TEST_F(PgRouteTest, RolledBackSavepointForgetsTheCheck) {
  SetRoutes({Route("acme", kPg, 1)});
  auto a = Connect(uri_);
  ASSERT_TRUE(a);
  Run(*a, "BEGIN; SAVEPOINT s; INSERT INTO orders VALUES (1, 'acme', 'a'); ROLLBACK TO s");
  Run(*applier_, "BEGIN; SET LOCAL lock_timeout = '20s'");  // the lock is free: no wait
  Status st = ApplyRoute(*applier_, Route("acme", kPg, 2, /*fenced=*/true));
  ASSERT_TRUE(st.ok()) << st.ToString();
  Run(*applier_, "COMMIT");
  ExpectRefused(Write(*a, "INSERT INTO orders VALUES (2, 'acme', 'b')"), "SL001", {"acme"});
  Run(*a, "ROLLBACK");
  EXPECT_EQ(Scalar("SELECT count(*) FROM orders"), "0");
}

TEST_F(PgRouteTest, NonSuperuserGetsTheSameRefusals) {
  Run(*admin_,
      "DO $$ BEGIN CREATE ROLE app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
      "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON public.orders TO app");
  const std::string prefix = "postgresql://postgres@";
  ASSERT_EQ(uri_.rfind(prefix, 0), 0u) << uri_;
  auto app = Connect("postgresql://app@" + uri_.substr(prefix.size()));
  ASSERT_TRUE(app);
  ASSERT_EQ(Scalar("SELECT rolsuper::text FROM pg_roles WHERE rolname = 'app'"), "false");
  ExpectRefused(Write(*app, "INSERT INTO orders VALUES (1, 'acme', 'a')"), "SL002",
                {"tenant \"acme\" is routed to sqlite"});
  ExpectRefused(Write(*app, "TRUNCATE orders"), "SL002", {"TRUNCATE"});
  SetRoutes({Route("acme", kPg, 1), Route("globex", kPg, 1, /*fenced=*/true)});
  Run(*app, "INSERT INTO orders VALUES (1, 'acme', 'a')");
  Run(*app, "BEGIN ISOLATION LEVEL REPEATABLE READ; UPDATE orders SET item = 'b'; COMMIT");
  ExpectRefused(Write(*app, "INSERT INTO orders VALUES (2, 'globex', 'g')"), "SL001", {"globex"});
  // It cannot move a route itself.
  EXPECT_EQ(SqlStateOf(Write(*app, "UPDATE sqlift.route SET fenced = false")), "42501");
  EXPECT_EQ(Scalar("SELECT string_agg(id || item, ',') FROM orders"), "1b");
}

TEST_F(PgRouteTest, IdentifiersStayIdentifiers) {
  const std::string col = "\"; DROP TABLE x; --";
  Run(*admin_, "CREATE TABLE x (id int); CREATE TABLE public.\"user\" (id bigint PRIMARY KEY, " +
                   QuoteIdentifier(col) + " text)");
  ASSERT_TRUE(InstallFence(*admin_, "public", "user", col).ok());
  ASSERT_TRUE(InstallFence(*admin_, "public", "user", col).ok());  // replaces, not adds
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.\"user\"'::regclass"
                   " AND tgname LIKE 'sqlift_fence%' AND tgenabled = 'A'"),  // ENABLE ALWAYS
            "2");
  SetRoutes({Route("acme", kPg, 1)});
  const std::string insert = "INSERT INTO public.\"user\" VALUES ($1::bigint, $2)";
  EXPECT_TRUE(Write(*admin_, insert, {"1", "acme"}).ok());
  ExpectRefused(Write(*admin_, insert, {"2", "it's \"globex\""}), "SL002",
                {"tenant \"it's \"globex\"\"", "write to table public.\"user\" refused"});
  EXPECT_EQ(Scalar("SELECT count(*) FROM x"), "0");  // still there
  EXPECT_EQ(Scalar("SELECT count(*) FROM public.\"user\""), "1");
  EXPECT_EQ(InstallFence(*admin_, "public", "user", "nope").code(), Status::Code::kNotFound);
  EXPECT_EQ(InstallFence(*admin_, "public", "nope", "").code(), Status::Code::kNotFound);
}

TEST_F(PgRouteTest, DropFencesRemovesEveryFenceAndIsIdempotent) {
  ASSERT_TRUE(DropFences(*admin_).ok());
  ASSERT_TRUE(DropFences(*admin_).ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sqlift_fence%'"), "0");
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_proc WHERE pronamespace = 'sqlift'::regnamespace"),
            "0");
  Run(*admin_, "INSERT INTO orders VALUES (1, 'acme', 'a'); TRUNCATE settings");
  EXPECT_EQ(Scalar("SELECT count(*) FROM orders"), "1");
  ASSERT_TRUE(EnsureRouteSchema(*admin_).ok());  // and fences can come back
  ASSERT_TRUE(InstallFence(*admin_, "public", "orders", "tenant_id").ok());
  ExpectRefused(Write(*admin_, "DELETE FROM orders"), "SL002", {"acme"});
  Run(*admin_, "CREATE DATABASE bare");
  auto bare = Connect(pg_->UriFor("bare"));
  ASSERT_TRUE(bare);
  EXPECT_TRUE(DropFences(*bare).ok());  // no schema sqlift at all
}

// Seconds to insert `rows` rows through a prepared statement, pipelined, in one transaction.
double InsertSeconds(PgConnection& c, const std::string& table, int rows) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.Exec("BEGIN").ok());
  Status st = c.Prepare("ins_" + table,
                        "INSERT INTO " + QuoteIdentifier(table) + " VALUES ($1, 'acme', $2)", 2);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(c.EnterPipeline().ok());
  for (int i = 0; i < rows; i += 1000) {
    for (int j = i; j < i + 1000 && j < rows; ++j)
      EXPECT_TRUE(c.SendPrepared("ins_" + table, {std::to_string(j), "item"}).ok());
    auto results = c.SyncPipeline();
    EXPECT_TRUE(results.ok());
    for (auto& r : *results)
      EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_TRUE(c.ExitPipeline().ok());
  EXPECT_TRUE(c.Exec("COMMIT").ok());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Prints, never asserts, what the fence costs: the applier (WHEN false) and an ordinary writer.
TEST_F(PgRouteTest, MeasureTriggerCost) {
  constexpr int kRows = 100000;
  SetRoutes({Route("acme", kPg, 1)});
  std::string ddl;
  for (const char* t : {"plain1", "plain2", "fenced1", "fenced2", "ordinary"})
    ddl += std::string("CREATE TABLE ") + t + " (id bigint PRIMARY KEY, tenant_id text, v text);";
  Run(*admin_, ddl);
  for (const char* t : {"fenced1", "fenced2", "ordinary"})
    ASSERT_TRUE(InstallFence(*admin_, "public", t, "tenant_id").ok());
  double plain = InsertSeconds(*applier_, "plain1", kRows);
  double fenced = InsertSeconds(*applier_, "fenced1", kRows);
  plain = std::min(plain, InsertSeconds(*applier_, "plain2", kRows));
  fenced = std::min(fenced, InsertSeconds(*applier_, "fenced2", kRows));
  double ordinary = InsertSeconds(*admin_, "ordinary", kRows);
  std::printf(
      "[fence cost] %d rows, one transaction, prepared + pipelined: no trigger %.3f s; "
      "applier with trigger %.3f s (%+.1f%%); ordinary session, route postgres %.3f s "
      "(%+.1f%%)\n",
      kRows, plain, fenced, 100 * (fenced / plain - 1), ordinary, 100 * (ordinary / plain - 1));
  EXPECT_EQ(Scalar("SELECT count(*) FROM ordinary"), std::to_string(kRows));
}

}  // namespace
}  // namespace sqlift
