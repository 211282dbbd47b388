// The switches end to end: `sqlift cutover`, `fallback`, `verify` and `finish` run as processes
// against the real `sqlift capture` and `sqlift apply`, while writers in this process follow
// the route (tools/demo/route_writer.h) and record every write they got acknowledged.
// Everything is asserted on data, read with plain SQL and tests/testutil/table_compare.h:
// each acknowledged write present exactly once on the side that owns its tenant, every table
// equal on both sides, tenants not moved never paused, no SQLite commit inside a fence, a
// failed switch leaving everything as it was (switch_failures_e2e_test.cc). Each switch's write
// pause is printed ([ pause ] lines).
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "apply/pg_sink/pg_route.h"
#include "common/pg/pg_connection.h"
#include "tests/testutil/switch_fixture.h"

namespace sqlift::testing {
namespace {

using namespace std::chrono_literals;

const char kAcmeName[] = "SELECT name FROM products WHERE product_id = 'p-acme-1'";

TEST_F(SwitchTest, ThreeTenantsMovedOneAtATime) {
  auto s = Scenario("switch_tenants", MigrationLayout::kCommerce);
  ASSERT_TRUE(s);
  // Before its cutover, PostgreSQL refuses an ordinary session's write to an acme row.
  Status rogue = s->PgWrite("UPDATE products SET name = 'rogue' WHERE product_id = 'p-acme-1'");
  EXPECT_EQ(SqlStateOf(rogue), "SL002") << rogue.ToString();
  EXPECT_EQ(s->PgValue(kAcmeName), "Seed product 1");
  Writers all;
  std::map<std::string, std::vector<RouteWriter*>> by_tenant;
  for (const std::string& t : kCommerceTenants) {
    by_tenant[t].push_back(Start(*s, all, t, t + "-1"));
    if (t == "acme") by_tenant[t].push_back(Start(*s, all, t, t + "-2"));
  }
  for (auto& w : all) {
    ASSERT_TRUE(w && w->WaitAcked(kPhaseWrites, 20s)) << (w ? w->error().ToString() : "");
  }

  for (const std::string& tenant : kCommerceTenants) {
    std::map<RouteWriter*, WriterStats> before;
    for (auto& w : all)
      before[w.get()] = w->stats();
    for (RouteWriter* w : by_tenant[tenant])
      w->ResetMaxGap();
    auto cut = s->Cutover(tenant);
    ExpectSwitched(cut, "cutover " + tenant);
    EXPECT_EQ(cut->epoch_after, 1);
    ExpectRoute(*s, tenant, "postgres", 1);
    // The tenants not moved never paused: no refusal of any kind, and they kept writing.
    for (auto& w : all) {
      if (w->options().tenant == tenant) continue;
      WriterStats now = w->stats();
      EXPECT_EQ(now.refusals(), before[w.get()].refusals())
          << w->options().writer << " was refused while " << tenant << " moved";
      EXPECT_GT(now.acked(), before[w.get()].acked())
          << w->options().writer << " did not write while " << tenant << " moved";
    }
    ExpectWritesOn(by_tenant[tenant], WriteSide::kPostgres, kPhaseWrites);
    PrintPause("cutover " + tenant, *cut, by_tenant[tenant]);
    ExpectNoSqliteWritesBetween(by_tenant[tenant], cut->fence_seq, UINT64_MAX, "cutover " + tenant);
    if (tenant != "acme") continue;
    // SQLite refuses a transaction touching acme (here with a globex row), and nothing changes.
    Status refused = s->RecordedWrite(
        "UPDATE products SET name = 'rogue' WHERE product_id IN ('p-globex-1', 'p-acme-1')");
    EXPECT_EQ(refused.code(), Status::Code::kFailedPrecondition) << refused.ToString();
    EXPECT_NE(refused.ToString().find("\"acme\""), std::string::npos) << refused.ToString();
    EXPECT_NE(refused.ToString().find("epoch 1"), std::string::npos) << refused.ToString();
    EXPECT_EQ(s->SqliteValue(kAcmeName), "Seed product 1");
    EXPECT_EQ(s->SqliteValue("SELECT name FROM products WHERE product_id = 'p-globex-1'"),
              "Seed product 1");
    // PostgreSQL refuses moving an acme row to globex, still on SQLite (both routes must allow).
    Status moved =
        s->PgWrite("UPDATE products SET tenant_id = 'globex' WHERE product_id = 'p-acme-2'");
    EXPECT_EQ(SqlStateOf(moved), "SL002") << moved.ToString();
    // An ordinary session changes seed rows of acme on PostgreSQL now; reverse replication
    // carries these into SQLite (checked after the fallback and by the comparison at the end).
    for (const char* sql :
         {"UPDATE customers SET metadata = '{\"tier\": \"platinum\", \"visits\": 99}' "
          "WHERE customer_id = 'c-acme-2'",
          "UPDATE products SET price = 12.30, active = false, "
          "created_at = '2024-06-01 12:34:56+00' WHERE product_id = 'p-acme-3'",
          "DELETE FROM order_items WHERE order_id = 'o-acme-1' AND line_no = 2"}) {
      Status st = s->PgWrite(sql);
      EXPECT_TRUE(st.ok()) << sql << ": " << st.ToString();
    }
  }
  // Every tenant is on PostgreSQL, but not the whole database ("*": tenants to come, and
  // tables without a tenant): finish refuses.
  auto finish = s->Sqlift({"finish", "--json"});
  ASSERT_TRUE(finish.ok());
  EXPECT_EQ(finish->exit_code, 3) << finish->out << finish->err;

  // acme back to SQLite: every acme write acknowledged on PostgreSQL is in SQLite.
  for (RouteWriter* w : by_tenant["acme"])
    w->ResetMaxGap();
  auto back = s->Fallback("acme");
  ExpectSwitched(back, "fallback acme");
  ExpectRoute(*s, "acme", "sqlite", 2);
  ExpectWritesOn(by_tenant["acme"], WriteSide::kSqlite, kPhaseWrites);
  PrintPause("fallback acme", *back, by_tenant["acme"]);
  ExpectNoSqliteWritesBetween(by_tenant["acme"], back->fence_seq, back->flip_seq, "fallback acme");
  for (RouteWriter* w : by_tenant["acme"]) {
    EXPECT_GT(w->acked_on(WriteSide::kPostgres), 0u);
    EXPECT_EQ(s->CheckWrites(*w, WriteSide::kSqlite, /*exact=*/false), "") << w->options().writer;
  }
  EXPECT_EQ(s->SqliteValue("SELECT metadata FROM customers WHERE customer_id = 'c-acme-2'"),
            "{\"tier\": \"platinum\", \"visits\": 99}");
  EXPECT_EQ(s->SqliteValue("SELECT price || ' ' || active || ' ' || created_at FROM products "
                           "WHERE product_id = 'p-acme-3'"),
            "12.3 0 2024-06-01 12:34:56");
  EXPECT_EQ(s->SqliteValue("SELECT count(*) FROM order_items WHERE order_id = 'o-acme-1'"), "1");
  rogue = s->PgWrite("UPDATE products SET name = 'rogue' WHERE product_id = 'p-acme-1'");
  EXPECT_EQ(SqlStateOf(rogue), "SL002") << rogue.ToString();
  // The held verify compares what SQLite owns (acme now) while globex and initech are moved.
  auto verify = s->Sqlift({"verify", "--json"});
  ASSERT_TRUE(verify.ok());
  EXPECT_EQ(verify->exit_code, 0) << verify->out << verify->err;

  // ... and over again.
  for (RouteWriter* w : by_tenant["acme"])
    w->ResetMaxGap();
  auto again = s->Cutover("acme");
  ExpectSwitched(again, "cutover acme again");
  ExpectRoute(*s, "acme", "postgres", 3);
  ExpectWritesOn(by_tenant["acme"], WriteSide::kPostgres, kPhaseWrites);
  PrintPause("cutover acme again", *again, by_tenant["acme"]);
  ExpectNoSqliteWritesBetween(by_tenant["acme"], again->fence_seq, UINT64_MAX,
                              "cutover acme again");

  // The end: every tenant is on PostgreSQL. Rather than falling each back, reverse replication
  // is left running as an application would see it and waited for: the slot's confirmed
  // position passing a marker written after the last write (the reverse path confirms only
  // what SQLite holds). Fallback's own completeness is checked above for acme.
  StopAll(all);
  Drain(*s, /*reverse=*/true);
  for (auto& w : all) {
    EXPECT_EQ(s->CheckWrites(*w, WriteSide::kPostgres, /*exact=*/true), "") << w->options().writer;
    std::cout << "[ writer   ] " << w->options().writer << ": " << w->acked_on(WriteSide::kSqlite)
              << " on SQLite, " << w->acked_on(WriteSide::kPostgres) << " on PostgreSQL, "
              << w->stats().refusals() << " refusals" << std::endl;
  }
  EXPECT_EQ(s->CompareAll(), "") << s->Logs();

  // Then the whole database ("*": what no tenant route covers) and finish: PostgreSQL alone.
  ExpectSwitched(s->Cutover(""), "cutover of the whole database");
  ASSERT_TRUE(s->StopAgent().ok());
  finish = s->Sqlift({"finish", "--json"});
  ASSERT_TRUE(finish.ok());
  EXPECT_EQ(finish->exit_code, 0) << finish->out << finish->err;
  EXPECT_EQ(s->PgValue("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sqlift_fence%'"), "0");
  Status after =
      s->PgWrite("UPDATE products SET name = 'after finish' WHERE product_id = 'p-acme-1'");
  EXPECT_TRUE(after.ok()) << after.ToString();
  EXPECT_TRUE(s->StopApplier().ok());
}

// The ids (booking layout) of `writers`' writes acknowledged on `side` after their write
// number `from_n`; ids already in `seen` are added to `dup`: no id may be acknowledged twice.
struct Ids {
  int64_t max = 0, min = INT64_MAX;
  size_t count = 0;
};
Ids IdsOf(const std::vector<RouteWriter*>& writers, WriteSide side, int64_t from_n,
          std::set<int64_t>* seen, std::string* dup) {
  Ids ids;
  for (RouteWriter* w : writers) {
    for (const AckedWrite& a : w->acked()) {
      if (a.side != side || a.n <= from_n) continue;
      int64_t id = std::stoll(a.key);
      ids.max = std::max(ids.max, id), ids.min = std::min(ids.min, id), ++ids.count;
      if (!seen->insert(id).second) *dup += " " + a.key;
    }
  }
  return ids;
}

int64_t LastN(const std::vector<RouteWriter*>& writers) {
  int64_t n = 0;
  for (RouteWriter* w : writers) {
    auto acked = w->acked();
    if (!acked.empty()) n = std::max(n, acked.back().n);
  }
  return n;
}

TEST_F(SwitchTest, WholeDatabaseCutoverFallbackCutoverFinish) {
  auto s = Scenario("switch_whole", MigrationLayout::kWholeDatabase);
  ASSERT_TRUE(s);
  auto early = s->Sqlift({"finish", "--json"});  // the route is still on sqlite
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->exit_code, 3) << early->out << early->err;

  Writers all;
  std::vector<RouteWriter*> writers = {Start(*s, all, "*", "booker-1"),
                                       Start(*s, all, "*", "booker-2")};
  for (RouteWriter* w : writers) {
    ASSERT_TRUE(w && w->WaitAcked(kPhaseWrites, 20s)) << w->error().ToString();
  }

  std::set<int64_t> seen;
  std::string dup;
  auto cut = s->Cutover("");
  ExpectSwitched(cut, "cutover of the whole database");
  ExpectRoute(*s, "*", "postgres", 1);
  ExpectWritesOn(writers, WriteSide::kPostgres, kPhaseWrites);
  PrintPause("cutover of the whole database", *cut, writers);
  ExpectNoSqliteWritesBetween(writers, cut->fence_seq, UINT64_MAX, "cutover");
  // PostgreSQL's identity was set past every id SQLite generated: no collision (a collision
  // would have stopped a writer with a unique violation), every new id above SQLite's.
  Ids on_sqlite = IdsOf(writers, WriteSide::kSqlite, 0, &seen, &dup);
  Ids on_pg = IdsOf(writers, WriteSide::kPostgres, 0, &seen, &dup);
  EXPECT_GT(on_pg.min, on_sqlite.max);
  EXPECT_EQ(dup, "");

  const int64_t before_fallback = LastN(writers);
  for (RouteWriter* w : writers)
    w->ResetMaxGap();
  auto back = s->Fallback("");
  ExpectSwitched(back, "fallback of the whole database");
  ExpectRoute(*s, "*", "sqlite", 2);
  ExpectWritesOn(writers, WriteSide::kSqlite, kPhaseWrites);
  PrintPause("fallback of the whole database", *back, writers);
  for (RouteWriter* w : writers) {
    EXPECT_EQ(s->CheckWrites(*w, WriteSide::kSqlite, /*exact=*/false), "") << w->options().writer;
  }
  // SQLite's AUTOINCREMENT continues past the ids PostgreSQL generated.
  Ids sqlite_again = IdsOf(writers, WriteSide::kSqlite, before_fallback, &seen, &dup);
  EXPECT_GT(sqlite_again.min, on_pg.max);
  EXPECT_EQ(dup, "");

  auto verify = s->Sqlift({"verify"});
  ASSERT_TRUE(verify.ok());
  EXPECT_EQ(verify->exit_code, 0) << verify->out << verify->err;

  const int64_t before_again = LastN(writers);
  for (RouteWriter* w : writers)
    w->ResetMaxGap();
  auto again = s->Cutover("");
  ExpectSwitched(again, "cutover of the whole database again");
  ExpectRoute(*s, "*", "postgres", 3);
  ExpectWritesOn(writers, WriteSide::kPostgres, kPhaseWrites);
  PrintPause("cutover of the whole database again", *again, writers);
  ExpectNoSqliteWritesBetween(writers, again->fence_seq, UINT64_MAX, "cutover again");
  StopAll(all);
  Ids pg_again = IdsOf(writers, WriteSide::kPostgres, before_again, &seen, &dup);
  EXPECT_GT(pg_again.min, sqlite_again.max);
  EXPECT_EQ(dup, "");
  Drain(*s, /*reverse=*/true);
  for (RouteWriter* w : writers) {
    EXPECT_EQ(s->CheckWrites(*w, WriteSide::kPostgres, /*exact=*/true), "") << w->options().writer;
  }
  EXPECT_EQ(s->CompareAll(), "") << s->Logs();

  auto busy = s->Sqlift({"finish", "--json"});  // `sqlift capture` still runs
  ASSERT_TRUE(busy.ok());
  EXPECT_EQ(busy->exit_code, 1) << busy->out << busy->err;
  EXPECT_NE(busy->out.find("capture"), std::string::npos) << busy->out;
  ASSERT_TRUE(s->StopAgent().ok());
  auto finish = s->Sqlift({"finish", "--json"});
  ASSERT_TRUE(finish.ok());
  EXPECT_EQ(finish->exit_code, 0) << finish->out << finish->err;

  EXPECT_EQ(s->PgValue("SELECT count(*) FROM pg_replication_slots"), "0");
  EXPECT_EQ(s->PgValue("SELECT count(*) FROM pg_publication"), "0");
  EXPECT_EQ(s->PgValue("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sqlift_fence%'"), "0");
  EXPECT_EQ(s->SqliteValue("SELECT count(*) FROM sqlite_master WHERE name IN "
                           "('_sqlift_outbox', '_sqlift_state', '_sqlift_route')"),
            "0");
  // PostgreSQL stands alone: an ordinary session writes, its identity going on past every id.
  EXPECT_GT(
      std::stoll(s->PgValue("INSERT INTO bookings (room_id, customer_name, start_time, end_time) "
                            "VALUES (1, 'after finish', '2026-01-01 10:00:00+00', "
                            "'2026-01-01 11:00:00+00') RETURNING id")),
      pg_again.max);
  EXPECT_TRUE(s->StopApplier().ok());
}

TEST_F(SwitchTest, VerifyFindsPlantedDifference) {
  auto s = Scenario("switch_verify", MigrationLayout::kCommerce);
  ASSERT_TRUE(s);
  auto clean = s->Sqlift({"verify", "--json"});
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->exit_code, 0) << clean->out << clean->err;

  auto conn = PgConnection::Connect(s->uri(), 10s);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(MarkApplierSession(**conn).ok());  // past the fence, as the applier
  auto set = [&](const std::string& name) {
    auto r = (*conn)->Query("UPDATE public.products SET name = $1 WHERE product_id = 'p-globex-7'",
                            {name});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->affected_rows(), 1);
  };
  set("planted");
  auto found = s->Sqlift({"verify", "--json"});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->exit_code, 3) << found->out << found->err;
  EXPECT_EQ(JsonField(found->out, "matched"), "false") << found->out;
  EXPECT_NE(found->out.find("\"products\""), std::string::npos) << found->out;
  EXPECT_NE(found->out.find("p-globex-7"), std::string::npos) << found->out;
  for (const char* other : {"\"customers\"", "\"orders\""}) {  // the others matched
    EXPECT_NE(found->out.find(other), std::string::npos) << found->out;
  }

  set("Seed product 7");
  auto fixed = s->Sqlift({"verify", "--json"});
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->exit_code, 0) << fixed->out << fixed->err;
}

}  // namespace
}  // namespace sqlift::testing
