// The switches end to end, the failures: a cutover that cannot drain (no applier), that loses
// PostgreSQL in its drain, or is killed while fenced; a fallback without its reverse path or
// its applier, and with a PostgreSQL transaction in flight at the fence; PostgreSQL crashing
// under reverse replication. Each failed switch must leave the tenant where it was, writing,
// and in the end every acknowledged write is on the side that owns its tenant exactly once and
// both sides are equal. At the end, regression tests for the bugs these tests found. (Shares the
// binary and its PostgreSQL with switch_e2e_test.cc.)
#include <gtest/gtest.h>

#include <csignal>
#include <iostream>

#include "apply/pg_sink/pg_route.h"
#include "common/pg/pg_connection.h"
#include "tests/testutil/switch_fixture.h"

namespace sqlift::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(SwitchTest, FailedCutoverLeavesTenantOnSqlite) {
  auto s = Scenario("switch_failed", MigrationLayout::kCommerce);
  ASSERT_TRUE(s);
  Writers all;
  RouteWriter* acme = Start(*s, all, "acme", "acme-1");
  RouteWriter* globex = Start(*s, all, "globex", "globex-1");
  for (auto& w : all)
    ASSERT_TRUE(w && w->WaitAcked(kPhaseWrites, 20s)) << w->error().ToString();

  // (a) No applier: the drain cannot finish before the timeout. (--max-lag: past catch-up, so
  // the fence is set and has to be undone; --full-verify: no proof before the fence, whose held
  // verify would need the applier and fail before fencing.)
  s->KillApplier();
  auto timed_out = s->Cutover("acme", {"--timeout", "2s", "--max-lag", "1000000", "--full-verify"});
  ExpectUndone(timed_out, "cutover acme without an applier");
  ExpectRoute(*s, "acme", "sqlite", 0);
  ExpectWritesOn({acme}, WriteSide::kSqlite, kPhaseWrites);
  EXPECT_GT(timed_out->undo_seq, timed_out->fence_seq) << timed_out->out;
  ExpectNoSqliteWritesBetween({acme}, timed_out->fence_seq, timed_out->undo_seq, "undone");

  // (b) PostgreSQL crashes while the cutover waits in its drain (the applier held back again).
  ASSERT_TRUE(s->StartApplier().ok());
  ASSERT_TRUE(s->WaitForwardDrained(60s).ok());
  s->KillApplier();
  auto child = s->StartSwitch("cutover", "acme",
                              {"--timeout", "30s", "--max-lag", "1000000", "--full-verify"});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_TRUE(MigrationScenario::WaitFor(
      [&] {
        auto r = s->SqliteRoute("acme");
        return r.ok() && r->fenced;
      },
      20s))
      << "the cutover never fenced acme";
  ASSERT_TRUE(s->pg().Crash().ok());
  auto crashed = s->WaitSwitch(*child);
  ExpectUndone(crashed, "cutover acme with PostgreSQL crashed");
  ExpectRoute(*s, "acme", "sqlite", 0);
  ExpectWritesOn({acme, globex}, WriteSide::kSqlite, kPhaseWrites);
  ExpectNoSqliteWritesBetween({acme}, crashed->fence_seq, crashed->undo_seq, "undone");
  ASSERT_TRUE(s->pg().Restart().ok());

  // (c) The cutover itself is killed while fenced (the applier still down): nothing can undo
  // the fence, acme's writers wait; running cutover again finishes the move.
  auto killed = s->StartSwitch("cutover", "acme",
                               {"--timeout", "30s", "--max-lag", "1000000", "--full-verify"});
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  EXPECT_TRUE(MigrationScenario::WaitFor(
      [&] {
        auto r = s->SqliteRoute("acme");
        return r.ok() && r->fenced;
      },
      20s))
      << "the cutover never fenced acme";
  killed->process.Kill(SIGKILL);
  ASSERT_TRUE(killed->process.Wait().ok());
  ASSERT_TRUE(s->StartApplier().ok());
  ASSERT_TRUE(s->WaitForwardDrained(90s).ok());
  acme->ResetMaxGap();
  auto cut = s->Cutover("acme");
  ExpectSwitched(cut, "cutover acme after the failures");
  ExpectRoute(*s, "acme", "postgres", 1);
  ExpectWritesOn({acme}, WriteSide::kPostgres, kPhaseWrites);
  PrintPause("cutover acme after an interrupted one (its gap includes that fence)", *cut, {acme});
  ExpectNoSqliteWritesBetween({acme}, cut->fence_seq, UINT64_MAX, "cutover");

  // (d) PostgreSQL crashes while acme writes there and reverse replication streams: the slot
  // may restart behind what SQLite holds, and nothing may come back twice (checked below).
  ASSERT_TRUE(s->pg().Crash().ok());
  ASSERT_TRUE(s->pg().Restart().ok());
  ExpectWritesOn({acme}, WriteSide::kPostgres, kPhaseWrites);
  StopAll(all);
  Drain(*s, /*reverse=*/true);
  std::cout << "[ writer   ] acme-1: " << acme->stats().uncertain << " commits of unknown outcome, "
            << acme->stats().pg_errors << " lost connections" << std::endl;
  EXPECT_EQ(s->CheckWrites(*acme, WriteSide::kPostgres, /*exact=*/true), "");
  EXPECT_EQ(s->CheckWrites(*globex, WriteSide::kSqlite, /*exact=*/true), "");
  EXPECT_EQ(globex->stats().refusals(), 0u);
  EXPECT_EQ(s->CompareAll(), "") << s->Logs();
}

TEST_F(SwitchTest, FailedFallbackLeavesTenantOnPostgres) {
  auto s = Scenario("switch_fallback_failed", MigrationLayout::kCommerce);
  ASSERT_TRUE(s);
  Writers all;
  RouteWriter* acme = Start(*s, all, "acme", "acme-1");
  RouteWriter* globex = Start(*s, all, "globex", "globex-1");
  // On PostgreSQL, acme-2 keeps each transaction open for 150 ms before its COMMIT, so every
  // fence finds one in flight: the fence must wait for it, and the drain bring it back.
  RouteWriter* slow = Start(*s, all, "acme", "acme-2", 150ms);
  for (auto& w : all)
    ASSERT_TRUE(w && w->WaitAcked(kPhaseWrites, 20s)) << w->error().ToString();
  ExpectSwitched(s->Cutover("acme"), "cutover acme");
  ExpectWritesOn({acme}, WriteSide::kPostgres, kPhaseWrites);

  // (a) The reverse path is down (`sqlift capture` killed): PostgreSQL's writes cannot be
  // brought back, so the fallback gives up and acme stays on PostgreSQL, writing.
  s->KillAgent();
  auto no_reverse = s->Fallback("acme", {"--timeout", "2s"});
  ASSERT_TRUE(no_reverse.ok());
  EXPECT_EQ(no_reverse->exit_code, 1) << no_reverse->out << no_reverse->err;
  ExpectRoute(*s, "acme", "postgres", 1);
  ExpectWritesOn({acme}, WriteSide::kPostgres, kPhaseWrites);
  ASSERT_TRUE(s->StartAgent().ok());

  // (b) The applier is down: PostgreSQL never learns of the fence; undone.
  s->KillApplier();
  auto no_applier = s->Fallback("acme", {"--timeout", "2s"});
  ExpectUndone(no_applier, "fallback acme without an applier");
  EXPECT_GT(no_applier->undo_seq, no_applier->fence_seq) << no_applier->out;
  ExpectRoute(*s, "acme", "postgres", 1);
  ExpectWritesOn({acme}, WriteSide::kPostgres, kPhaseWrites);
  ASSERT_TRUE(s->StartApplier().ok());
  ASSERT_TRUE(s->WaitForwardDrained(60s).ok());
  ExpectWritesOn({acme}, WriteSide::kPostgres, kPhaseWrites);

  acme->ResetMaxGap();
  auto back = s->Fallback("acme");
  ExpectSwitched(back, "fallback acme after the failures");
  ExpectRoute(*s, "acme", "sqlite", 2);
  ExpectWritesOn({acme}, WriteSide::kSqlite, kPhaseWrites);
  PrintPause("fallback acme after two failed ones", *back, {acme});
  StopAll(all);
  Drain(*s, /*reverse=*/false);
  EXPECT_EQ(s->CheckWrites(*acme, WriteSide::kSqlite, /*exact=*/true), "");
  EXPECT_GT(slow->acked_on(WriteSide::kPostgres), 10u);
  EXPECT_EQ(s->CheckWrites(*slow, WriteSide::kSqlite, /*exact=*/true), "");
  EXPECT_EQ(s->CheckWrites(*globex, WriteSide::kSqlite, /*exact=*/true), "");
  EXPECT_EQ(globex->stats().refusals(), 0u);
  EXPECT_EQ(s->CompareAll(), "") << s->Logs();
}

// Regression: a schema change in a database with AUTOINCREMENT tables stopped replication. The
// applier's compiler rebuilt the schema in an in-memory SQLite and read it back with the
// sqlite_sequence table SQLite made for the AUTOINCREMENT tables, whose CREATE statement no one
// may run (now left out: tools/sqlite_schema_compiler.cc). The same happened without any schema
// change after a snapshot at seq 0 (the agent logs every table's DDL with the first seq).
TEST_F(SwitchTest, SchemaChangeInADatabaseWithAutoincrementTables) {
  auto s = MigrationScenario::Create(*pg_, "switch_autoinc", MigrationLayout::kWholeDatabase,
                                     /*write_before_snapshot=*/true);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->StartReplication(60s).ok());
  ASSERT_TRUE((*s)->RecordedWrite("ALTER TABLE rooms ADD COLUMN floor INTEGER").ok());
  ASSERT_TRUE((*s)->RecordedWrite("INSERT INTO writer_counters VALUES ('booker-9', 0)").ok());
  Status drained = (*s)->WaitForwardDrained(20s);
  EXPECT_TRUE(drained.ok()) << drained.ToString();
}

// Regression: two operators switching different tenants at the same time. Every cutover ran
// the route schema's CREATE OR REPLACE FUNCTION statements, and the first verifies raced in
// CREATE TABLE IF NOT EXISTS sqlift.verify_runs; one of two switches failed. Now the route
// schema is the applier's alone and sqlift's schema statements take turns (WithSchemaLock).
TEST_F(SwitchTest, DifferentTenantsSwitchedAtTheSameTime) {
  auto s = Scenario("switch_together", MigrationLayout::kCommerce);
  ASSERT_TRUE(s);
  for (int round = 0; round < 10; ++round) {
    const std::string command = round % 2 ? "fallback" : "cutover";
    auto acme = s->StartSwitch(command, "acme", {});
    auto globex = s->StartSwitch(command, "globex", {});
    ASSERT_TRUE(acme.ok() && globex.ok());
    ExpectSwitched(s->WaitSwitch(*acme), command + " acme");
    ExpectSwitched(s->WaitSwitch(*globex), command + " globex");
    if (HasFailure()) break;
  }
}

// Regression: a whole-database switch fences the "*" route only, so a tenant with a route row of
// its own (acme, after a cutover and a fallback) keeps writing; the switch's verify compared it
// as if it were still, found its newest rows missing on PostgreSQL and undid the switch. Now
// only the tenants that follow "*" are compared (tools/switch_steps.cc, VerifyTenant).
TEST_F(SwitchTest, WholeDatabaseCutoverWhileATenantOfItsOwnWrites) {
  auto s = Scenario("switch_whole_tenants", MigrationLayout::kCommerce);
  ASSERT_TRUE(s);
  Writers all;
  RouteWriter* acme = Start(*s, all, "acme", "acme-1");
  ASSERT_TRUE(acme && acme->WaitAcked(kPhaseWrites, 20s));
  ExpectSwitched(s->Cutover("acme"), "cutover acme");
  ExpectSwitched(s->Fallback("acme"), "fallback acme");
  ExpectWritesOn({acme}, WriteSide::kSqlite, kPhaseWrites);
  for (int i = 0; i < 3; ++i) {
    ExpectSwitched(s->Cutover(""), "cutover of the whole database");
    ExpectSwitched(s->Fallback(""), "fallback of the whole database");
    if (HasFailure()) break;
  }
  StopAll(all);
}

// The check inside the fence is incremental: a row the log changed after the proof, then
// altered on PostgreSQL the way only the applier can write it, must fail the cutover, undo the
// fence and name the row (the check is as strict as the full one for every logged change).
// The cutover is held in its "reverse" step, after its proof and before its fence, by an open
// PostgreSQL transaction (creating a logical slot waits for every one); the row is written and
// corrupted meanwhile.
TEST_F(SwitchTest, ARowCorruptedAfterTheProofFailsTheCutoverByName) {
  auto s = Scenario("switch_corrupted", MigrationLayout::kCommerce);
  ASSERT_TRUE(s);
  // A write first: the proof must come after the log's first record (every table's DDL).
  ASSERT_TRUE(
      s->RecordedWrite("INSERT INTO writer_counters VALUES ('acme-early', 'acme', 1)").ok());
  ASSERT_TRUE(s->WaitForwardDrained(30s).ok());
  auto proof = s->Sqlift({"verify", "--tenant", "acme"});  // held: the proof at P
  ASSERT_TRUE(proof.ok());
  ASSERT_EQ(proof->exit_code, 0) << proof->out << proof->err;
  auto blocker = PgConnection::Connect(s->uri(), 10s);
  ASSERT_TRUE(blocker.ok());
  ASSERT_TRUE((*blocker)->Exec("BEGIN; SELECT txid_current()").ok());
  auto child = s->StartSwitch("cutover", "acme", {"--timeout", "60s"});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_TRUE(MigrationScenario::WaitFor(
      [&] {
        return s->PgValue(
                   "SELECT count(*) FROM pg_replication_slots "
                   "WHERE database = current_database()") == "1";
      },
      30s))
      << "the cutover never reached its reverse step";
  ASSERT_TRUE(s->RecordedWrite("INSERT INTO writer_counters VALUES ('acme-late', 'acme', 1)").ok());
  ASSERT_TRUE(s->WaitForwardDrained(30s).ok());
  auto conn = PgConnection::Connect(s->uri(), 10s);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(MarkApplierSession(**conn).ok());  // past the fence, as the applier
  auto hit = (*conn)->Query("UPDATE public.writer_counters SET n = 999 WHERE writer = 'acme-late'");
  ASSERT_TRUE(hit.ok() && hit->affected_rows() == 1) << hit.status().ToString();
  ASSERT_TRUE((*blocker)->Exec("COMMIT").ok());

  auto cut = s->WaitSwitch(*child);
  ExpectUndone(cut, "cutover acme over a row corrupted after its proof");
  ASSERT_TRUE(cut.ok());
  EXPECT_NE(cut->reason.find("incremental check"), std::string::npos) << cut->out;
  EXPECT_NE(cut->reason.find("writer_counters"), std::string::npos) << cut->out;
  EXPECT_NE(cut->reason.find("acme-late"), std::string::npos) << cut->out;
  ExpectRoute(*s, "acme", "sqlite", 0);

  // Once the row is right again, the same cutover goes through.
  ASSERT_TRUE(
      (*conn)->Exec("UPDATE public.writer_counters SET n = 1 WHERE writer = 'acme-late'").ok());
  ExpectSwitched(s->Cutover("acme"), "cutover acme after the repair");
}

}  // namespace
}  // namespace sqlift::testing
