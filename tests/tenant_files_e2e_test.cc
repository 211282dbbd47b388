// Database-per-tenant end to end: three SQLite files (tenants a, b and c, the booking
// schema, ids 1..N in each) replicated into one PostgreSQL database by three `sqlift apply` +
// `sqlift capture` pairs (tests/testutil/tenant_files_scenario.h), with writers on every file
// that follow their file's route (tools/demo/route_writer.h). One tenant moves to
// PostgreSQL and back while the others never pause; then every tenant moves and each source
// finishes. Everything is asserted on data: each file compared with PostgreSQL's rows of its
// tenant, each acknowledged write found exactly once on both sides, ids never colliding. Each
// switch's write pause is printed ([ pause ] lines). The product bugs found on the way have
// regression tests in tenant_files_bugs_e2e_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>

#include "apply/pg_sink/pg_route.h"
#include "common/pg/pg_connection.h"
#include "tests/testutil/tenant_files_fixture.h"

namespace sqlift::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(TenantFilesTest, ThreeFilesIntoOneSchema) {
  auto f = Files("tenantdb", kTenantFiles);
  ASSERT_TRUE(f);
  MigrationScenario &a = f->source("a"), &b = f->source("b"), &c = f->source("c");
  // After the snapshots every tenant's rows are in PostgreSQL, with the same ids side by side.
  for (const std::string& t : kTenantFiles)
    EXPECT_EQ(f->CompareTenant(t), "") << f->Logs();
  EXPECT_EQ(a.PgValue("SELECT string_agg(tenant_id || ':' || n, ',' ORDER BY tenant_id) FROM "
                      "(SELECT tenant_id, count(*) n FROM bookings WHERE id <= 120 "
                      "GROUP BY tenant_id) x"),
            "a:120,b:120,c:120");
  EXPECT_EQ(a.PgValue("SELECT count(*) FROM bookings"), std::to_string(200 + 160 + 120));
  EXPECT_EQ(a.PgValue("SELECT count(*) FROM users WHERE email = 'ann@example.com'"), "3");
  EXPECT_EQ(a.PgValue("SELECT attname FROM pg_index i JOIN pg_attribute t ON t.attrelid = "
                      "i.indrelid AND t.attnum = i.indkey[0] WHERE i.indisprimary AND "
                      "i.indrelid = 'public.bookings'::regclass"),
            "tenant_id");
  for (const std::string& t : kTenantFiles)
    ExpectPgRefuses(f->uri(), t);

  Writers all;
  RouteWriter* wa = Start(a, all, "a", "a-1");
  RouteWriter* wc = Start(c, all, "c", "c-1");
  std::vector<RouteWriter*> movers = {Start(b, all, "b", "b-1"), Start(b, all, "b", "b-2")};
  std::vector<RouteWriter*> others = {wa, wc};
  for (auto& w : all) {
    ASSERT_TRUE(w && w->WaitAcked(kPhaseWrites, 20s)) << (w ? w->error().ToString() : "");
  }

  // Cutover of b alone (no --tenant: the file's own tenant).
  const int64_t pg_max_before = f->MaxPgBookingId(), b_max_before = f->MaxSqliteBookingId("b");
  for (RouteWriter* w : movers)
    w->ResetMaxGap();
  auto cut = b.Cutover("");
  ExpectSwitched(cut, "cutover b");
  ExpectRoute(b, "b", "postgres", 1);
  ExpectWritesOn(movers, WriteSide::kPostgres, kPhaseWrites);
  PrintPause("cutover b", *cut, movers);
  ExpectNoSqliteWritesBetween(movers, cut->fence_seq, UINT64_MAX, "cutover b");
  // a and c went on writing on SQLite, never refused.
  ExpectWritesOn(others, WriteSide::kSqlite, kPhaseWrites);
  for (RouteWriter* w : others) {
    EXPECT_EQ(w->stats().refusals(), 0u) << w->options().writer;
    EXPECT_EQ(w->acked_on(WriteSide::kPostgres), 0u) << w->options().writer;
  }
  // PostgreSQL's identity, shared by the tenants, was set past every key it held: b's new ids
  // are above every id of b's file and every id PostgreSQL had before, none twice.
  std::vector<int64_t> b_pg = BookingIds(movers, WriteSide::kPostgres);
  ASSERT_FALSE(b_pg.empty());
  EXPECT_GT(*std::min_element(b_pg.begin(), b_pg.end()), std::max(pg_max_before, b_max_before));
  std::vector<int64_t> b_all = BookingIds(movers, WriteSide::kSqlite);
  b_all.insert(b_all.end(), b_pg.begin(), b_pg.end());
  EXPECT_EQ(Duplicates(b_all), "");

  // The other tenants' rows stay SQLite's on PostgreSQL; b's rows take an ordinary session.
  ExpectPgRefuses(f->uri(), "a");
  ExpectPgRefuses(f->uri(), "c");
  auto own = PgTenantWrite(
      f->uri(),
      "UPDATE public.bookings SET notes = 'from postgres' WHERE tenant_id = $1 AND id = 2", "b");
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(*own, 1);
  // b's PostgreSQL writes arrive in b.db (those acknowledged before the drain's marker), and
  // in no other file.
  std::map<RouteWriter*, std::vector<AckedWrite>> on_pg;
  for (RouteWriter* w : movers) {
    for (const AckedWrite& x : w->acked()) {
      if (x.side == WriteSide::kPostgres) on_pg[w].push_back(x);
    }
  }
  Status rev = b.WaitReverseDrained(30s);
  ASSERT_TRUE(rev.ok()) << rev.ToString();
  for (RouteWriter* w : movers) {
    EXPECT_EQ(MissingInFile(b.sqlite_path(), w->options().writer, on_pg[w]), "")
        << w->options().writer;
  }
  EXPECT_EQ(b.SqliteValue("SELECT notes FROM bookings WHERE id = 2"), "from postgres");
  EXPECT_EQ(b.SqliteValue("SELECT count(*) FROM bookings WHERE customer_name NOT LIKE 'b-%'"), "0");
  for (MigrationScenario* s : {&a, &c}) {
    EXPECT_EQ(s->SqliteValue("SELECT count(*) FROM bookings WHERE customer_name LIKE 'b-%' "
                             "OR notes IS NOT NULL"),
              "0")
        << s->source();
  }

  // Fallback of b: every write acknowledged on PostgreSQL for b is in b.db.
  const int64_t before_fallback = LastN(movers);
  for (RouteWriter* w : movers)
    w->ResetMaxGap();
  auto back = b.Fallback("");
  ExpectSwitched(back, "fallback b");
  ExpectRoute(b, "b", "sqlite", 2);
  ExpectWritesOn(movers, WriteSide::kSqlite, kPhaseWrites);
  PrintPause("fallback b", *back, movers);
  ExpectNoSqliteWritesBetween(movers, back->fence_seq, back->flip_seq, "fallback b");
  for (RouteWriter* w : movers) {
    EXPECT_GT(w->acked_on(WriteSide::kPostgres), 0u) << w->options().writer;
    EXPECT_EQ(b.CheckWrites(*w, WriteSide::kSqlite, false), "") << w->options().writer;
  }
  // b.db's AUTOINCREMENT goes on past the ids PostgreSQL generated.
  b_pg = BookingIds(movers, WriteSide::kPostgres);
  std::vector<int64_t> b_again = BookingIds(movers, WriteSide::kSqlite, before_fallback);
  ASSERT_FALSE(b_again.empty());
  EXPECT_GT(*std::min_element(b_again.begin(), b_again.end()),
            *std::max_element(b_pg.begin(), b_pg.end()));
  ExpectPgRefuses(f->uri(), "b");
  // Each file's verify compares its own tenant's rows only: a difference planted in b's
  // booking 3 on PostgreSQL (past the fence) is found by b's, not by a's (whose booking 3 is
  // another row); then it is undone.
  auto conn = PgConnection::Connect(f->uri(), 10s);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE(MarkApplierSession(**conn).ok());  // past the fence, as the applier
  auto plant = [&](const std::optional<std::string>& notes) {
    auto r = (*conn)->Query(
        "UPDATE public.bookings SET notes = $1 WHERE tenant_id = 'b' AND id = 3", {notes});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->affected_rows(), 1);
  };
  plant("planted");
  auto found = b.Sqlift({"verify", "--json"});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->exit_code, 3) << found->out << found->err;
  EXPECT_NE(found->out.find("\"bookings\""), std::string::npos) << found->out;
  auto clean = a.Sqlift({"verify", "--json"});
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->exit_code, 0) << clean->out << clean->err;
  plant(std::nullopt);
  for (const std::string& t : kTenantFiles) {
    auto verify = f->source(t).Sqlift({"verify"});
    ASSERT_TRUE(verify.ok());
    EXPECT_EQ(verify->exit_code, 0) << t << "\n" << verify->out << verify->err;
  }
  for (RouteWriter* w : others)
    EXPECT_EQ(w->stats().refusals(), 0u) << w->options().writer;

  StopAll(all);
  Status fwd = f->WaitForwardDrained(60s);
  ASSERT_TRUE(fwd.ok()) << fwd.ToString();
  for (const std::string& t : kTenantFiles)
    EXPECT_EQ(f->CompareTenant(t), "") << f->Logs();
  for (auto& w : all) {
    MigrationScenario& s = f->source(w->options().tenant);
    EXPECT_EQ(s.CheckWrites(*w, WriteSide::kSqlite, true), "") << w->options().writer;
    EXPECT_EQ(s.CheckWrites(*w, WriteSide::kPostgres, true), "") << w->options().writer;
  }
  PrintWriters(all);
  for (const std::string& t : kTenantFiles) {
    EXPECT_TRUE(f->source(t).StopAgent().ok()) << t;
    EXPECT_TRUE(f->source(t).StopApplier().ok()) << t;
  }
}

TEST_F(TenantFilesTest, EveryTenantMovedThenEachSourceFinished) {
  auto f = Files("tenantdb_finish", kTenantFiles);
  ASSERT_TRUE(f);
  Writers all;
  std::map<std::string, std::vector<RouteWriter*>> by_tenant;  // every writer a tenant had
  std::map<std::string, RouteWriter*> writer;                  // the one writing now
  auto start = [&](const std::string& t) {
    RouteWriter* w = Start(f->source(t), all, t, t + "-" + std::to_string(by_tenant[t].size() + 1));
    by_tenant[t].push_back(w);
    writer[t] = w;
  };
  for (const std::string& t : kTenantFiles)
    start(t);
  for (auto& w : all) {
    ASSERT_TRUE(w && w->WaitAcked(kPhaseWrites, 20s)) << (w ? w->error().ToString() : "");
  }

  // One after another; the tenants still on SQLite never pause, and the writers of the
  // tenants already on PostgreSQL go on writing there with ids from the shared identity (each
  // cutover sets it past the largest key, never back: CutoverDoesNotSetTheSharedIdentityBack).
  std::vector<std::string> moved;
  for (const std::string& t : kTenantFiles) {
    std::map<std::string, WriterStats> before;  // the tenants on SQLite, not moving
    for (const std::string& o : kTenantFiles) {
      if (o != t && std::find(moved.begin(), moved.end(), o) == moved.end()) {
        before[o] = writer[o]->stats();
      }
    }
    writer[t]->ResetMaxGap();
    auto cut = f->source(t).Cutover("");
    ExpectSwitched(cut, "cutover " + t);
    ExpectRoute(f->source(t), t, "postgres", 1);
    for (const auto& [o, stats] : before) {
      EXPECT_EQ(writer[o]->stats().refusals(), stats.refusals())
          << o << " was refused while " << t << " moved";
      EXPECT_GT(writer[o]->stats().acked(), stats.acked())
          << o << " did not write while " << t << " moved";
    }
    moved.push_back(t);
    ExpectWritesOn({writer[t]}, WriteSide::kPostgres, kPhaseWrites);
    PrintPause("cutover " + t, *cut, {writer[t]});
    ExpectNoSqliteWritesBetween({writer[t]}, cut->fence_seq, UINT64_MAX, "cutover " + t);
  }
  std::vector<int64_t> ids;
  for (auto& w : all) {
    std::vector<int64_t> pg = BookingIds({w.get()}, WriteSide::kPostgres);
    ids.insert(ids.end(), pg.begin(), pg.end());
  }
  EXPECT_EQ(Duplicates(ids), "") << "PostgreSQL's shared identity gave an id twice";

  // Each source finishes in turn: its writer stopped, both paths drained, its agent stopped.
  // The sources not finished yet go on replicating both ways.
  std::vector<std::string> left = kTenantFiles;
  for (const std::string& t : kTenantFiles) {
    MigrationScenario& s = f->source(t);
    ASSERT_TRUE(writer[t]->Stop().ok()) << writer[t]->error().ToString();
    Drain(s, /*reverse=*/true);
    EXPECT_EQ(f->CompareTenant(t), "") << f->Logs();
    for (RouteWriter* w : by_tenant[t]) {
      EXPECT_EQ(s.CheckWrites(*w, WriteSide::kSqlite, true), "") << w->options().writer;
      EXPECT_EQ(s.CheckWrites(*w, WriteSide::kPostgres, true), "") << w->options().writer;
    }
    ASSERT_TRUE(s.StopAgent().ok()) << t;
    auto finish = s.Sqlift({"finish", "--json"});
    ASSERT_TRUE(finish.ok());
    EXPECT_EQ(finish->exit_code, 0) << t << "\n" << finish->out << finish->err;
    EXPECT_TRUE(s.StopApplier().ok()) << t;
    left.erase(std::find(left.begin(), left.end(), t));
    const std::string slots = s.PgValue(
        "SELECT coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '-') "
        "FROM pg_replication_slots");
    std::cout << "[ finish   ] " << t << ": slots left " << slots << ", fence triggers left "
              << s.PgValue("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sqlift_fence%'")
              << std::endl;
    EXPECT_EQ(slots.find(s.slot()), std::string::npos) << slots;
    EXPECT_EQ(s.SqliteValue("SELECT count(*) FROM sqlite_master WHERE name IN "
                            "('_sqlift_outbox', '_sqlift_state', '_sqlift_route')"),
              "0");
    EXPECT_EQ(f->CompareTenant(t), "") << "after finish";
    for (const std::string& r : left) {
      ExpectWritesOn({writer[r]}, WriteSide::kPostgres, kPhaseWrites / 2);
      const std::vector<AckedWrite> so_far = writer[r]->acked();  // before the drain's marker
      Status rev = f->source(r).WaitReverseDrained(30s);
      EXPECT_TRUE(rev.ok()) << r << " after finish of " << t << ": " << rev.ToString();
      EXPECT_EQ(MissingInFile(f->source(r).sqlite_path(), writer[r]->options().writer, so_far), "")
          << r << " after finish of " << t;
    }
  }
  PrintWriters(all);
  MigrationScenario& a = f->source("a");
  EXPECT_EQ(a.PgValue("SELECT count(*) FROM pg_replication_slots"), "0");
  EXPECT_EQ(a.PgValue("SELECT count(*) FROM pg_publication"), "0");
  EXPECT_EQ(a.PgValue("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sqlift_fence%'"), "0");
  // PostgreSQL stands alone: an ordinary session writes, the identity past every id.
  auto id = PgTenantWrite(f->uri(), kInsertBooking, "a");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, 1);
  EXPECT_EQ(a.PgValue("SELECT count(*) FROM bookings WHERE customer_name = 'ordinary' AND id > "
                      "(SELECT max(id) FROM bookings WHERE customer_name <> 'ordinary')"),
            "1");
}

}  // namespace
}  // namespace sqlift::testing
