// Database-per-tenant: regression tests for the product bugs tenant_files_e2e_test.cc
// found (each comment says what went wrong before the fix).
#include <gtest/gtest.h>

#include <optional>

#include "common/pg/pg_connection.h"
#include "tests/testutil/tenant_files_fixture.h"

namespace sqlift::testing {
namespace {

using namespace std::chrono_literals;

// Regression: the identity of a table is shared by every tenant, and a cutover sets
// it to the largest key + 1 (setval(..., max + 1, false), tools/cutover_run.cc SetSequences),
// also when that is below where the sequence stands: ids that another tenant's transactions on
// PostgreSQL have taken but not committed yet are handed out again, and the second insert
// fails with a duplicate key (writers of a tenant already moved hit it at random while the
// next tenant moves: EveryTenantMovedThenEachSourceFinished did, at its first run).
TEST_F(TenantFilesTest, CutoverDoesNotSetTheSharedIdentityBack) {
  auto f = Files("tenantdb_ids", {"a", "b"});
  ASSERT_TRUE(f);
  ExpectSwitched(f->source("a").Cutover(""), "cutover a");
  // b's slot made beforehand: creating it would wait for the transaction held below (see
  // CutoverTimeoutCoversTheSlot).
  auto admin = PgConnection::Connect(f->uri(), 10s);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  auto slot = (*admin)->Query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
                              {f->source("b").slot()});
  ASSERT_TRUE(slot.ok()) << slot.status().ToString();
  // A transaction of tenant a on PostgreSQL holds an id, not committed yet, while b moves
  // (b's cutover does not wait for writers of other tenants).
  auto held = PgConnection::Connect(f->uri(), 10s);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  ASSERT_TRUE((*held)->Exec("BEGIN").ok());
  auto first = (*held)->Query(kInsertBooking, {"a"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const int64_t held_id = std::stoll(std::string(first->get(0, 0)));
  ExpectSwitched(f->source("b").Cutover(""), "cutover b");
  ASSERT_TRUE((*held)->Exec("COMMIT").ok());
  auto next = PgConnection::Connect(f->uri(), 10s);
  ASSERT_TRUE(next.ok());
  auto second = (*next)->Query(kInsertBooking, {"a"});
  ASSERT_TRUE(second.ok()) << "the id after " << held_id << ": " << second.status().ToString();
  EXPECT_GT(std::stoll(std::string(second->get(0, 0))), held_id);
}

// Regression: a cutover's --timeout does not bound its "reverse" step. Creating the
// source's logical slot waits for every transaction with an xid that runs in the database, any
// tenant's (database-per-tenant: the tenants already moved write there); one left open holds
// the cutover for as long as it stays open, past the timeout (the fence is not set yet, so
// only the cutover itself hangs).
TEST_F(TenantFilesTest, CutoverTimeoutCoversTheSlot) {
  auto f = Files("tenantdb_slot", {"a", "b"});
  ASSERT_TRUE(f);
  ExpectSwitched(f->source("a").Cutover(""), "cutover a");
  auto held = PgConnection::Connect(f->uri(), 10s);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  ASSERT_TRUE((*held)->Exec("BEGIN").ok());
  ASSERT_TRUE((*held)->Query(kInsertBooking, {"a"}).ok());
  auto running = f->source("b").StartSwitch("cutover", "", {"--timeout", "3s"});
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  std::optional<process::Exit> code;
  const bool ended =
      MigrationScenario::WaitFor([&] { return (code = running->process.Poll()).has_value(); }, 15s);
  ASSERT_TRUE((*held)->Exec("COMMIT").ok());
  if (!ended) (void)running->process.Wait();
  EXPECT_TRUE(ended) << "cutover --timeout 3s still ran after 15 s";
}

// Regression: `sqlift finish` of one database-per-tenant source drops every fence
// trigger on PostgreSQL (DropFences), which the other sources sharing the tables rely on: a
// tenant still on SQLite then takes ordinary sessions' writes on PostgreSQL, which no reverse
// path carries to its file.
TEST_F(TenantFilesTest, FinishOfOneFileKeepsTheOthersFenced) {
  auto f = Files("tenantdb_fences", {"a", "b"});
  ASSERT_TRUE(f);
  MigrationScenario& a = f->source("a");
  ExpectSwitched(a.Cutover(""), "cutover a");
  ASSERT_TRUE(a.StopAgent().ok());
  auto finish = a.Sqlift({"finish", "--json"});
  ASSERT_TRUE(finish.ok());
  ASSERT_EQ(finish->exit_code, 0) << finish->out << finish->err;
  ExpectPgRefuses(f->uri(), "b");  // b writes on SQLite
  EXPECT_NE(a.PgValue("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sqlift_fence%'"), "0");
}

// Regression: the first snapshots of several database-per-tenant sources into the
// same new tables, at the same time, race to create them (pg_snapshot_loader.cc CreateTables:
// to_regclass, then CREATE TABLE, unlocked); the loser's applier refuses the snapshot
// (APPLY_FAILED, 23505 on pg_type) and its agent's shipper stops for good.
TEST_F(TenantFilesTest, FirstSnapshotsAtOnce) {
  auto f = Files("tenantdb_once", kTenantFiles, TenantFilesScenario::Start::kAllAtOnce, 20s);
  ASSERT_TRUE(f);
  for (const std::string& t : kTenantFiles)
    EXPECT_EQ(f->CompareTenant(t), "");
}

// Regression: `sqlift finish` drops the slot and the publication but not the forward
// applier's replication origin (sqlift_<source>, tools/finish_run.cc DropReplication). Each
// origin keeps one of PostgreSQL's replication states (there are max_replication_slots of
// them) for good: once that many sources have applied into a cluster, every connection of the
// next source's applier fails with "[53400] could not find free replication state slot for
// replication origin" (this suite hit it on a cluster with the default 10). Database-per-tenant,
// one source per tenant, meets the limit first.
TEST_F(TenantFilesTest, FinishDropsTheReplicationOrigin) {
  auto f = Files("tenantdb_origin", {"a"});
  ASSERT_TRUE(f);
  MigrationScenario& a = f->source("a");
  ExpectSwitched(a.Cutover(""), "cutover a");
  ASSERT_TRUE(a.StopAgent().ok());
  auto finish = a.Sqlift({"finish", "--json"});
  ASSERT_TRUE(finish.ok());
  ASSERT_EQ(finish->exit_code, 0) << finish->out << finish->err;
  EXPECT_TRUE(a.StopApplier().ok());
  auto conn = PgConnection::Connect(f->uri(), 10s);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto origins =
      (*conn)->Query("SELECT count(*) FROM pg_replication_origin WHERE roname = $1", {a.slot()});
  ASSERT_TRUE(origins.ok()) << origins.status().ToString();
  EXPECT_EQ(std::string(origins->get(0, 0)), "0") << "origin " << a.slot() << " left after finish";
}

}  // namespace
}  // namespace sqlift::testing
