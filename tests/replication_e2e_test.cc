// Replication end to end: the real `sqlift capture` and `sqlift apply` processes replicate a SQLite
// database that writer processes keep writing, into a throwaway PostgreSQL: the snapshot at S
// taken while they write, then the stream from S + 1. Checked independently of sqlift's code
// (tests/testutil/table_compare.h) and with the audit trigger that counts applied UPDATEs
// (tests/testutil/replication_scenario.h): every table equal, no change applied twice.
// Then the same with the agent, the applier and PostgreSQL itself killed again and again, and
// with schema changes in the stream.
#include <gtest/gtest.h>

#include <csignal>
#include <random>
#include <thread>

#include "tests/testutil/replication_scenario.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

using testing::ReplicationScenario;

const std::vector<std::string> kTables = {"accounts", "bulk", "events", "user"};

class ReplicationTest : public PgSuiteTest {
 protected:
  std::unique_ptr<ReplicationScenario> Scenario(const std::string& name, int bulk_rows) {
    auto s = ReplicationScenario::Create(*pg_, name, bulk_rows);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Waits for every writer, then for the applier to reach the last committed seq.
  static void Drain(ReplicationScenario& s, std::vector<process::Child>& writers) {
    for (process::Child& w : writers) {
      Result<process::Exit> code = w.Wait();
      ASSERT_TRUE(code.ok() && code->exit_code == 0) << "writer failed";
    }
    writers.clear();
    Result<uint64_t> committed = s.CommittedSeq();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    ASSERT_TRUE(s.WaitApplied(*committed, std::chrono::seconds(120)))
        << "applied " << (s.AppliedSeq().ok() ? *s.AppliedSeq() : 0) << " of " << *committed << "\n"
        << s.Logs();
  }
};

TEST_F(ReplicationTest, SnapshotWhileWritingThenStreamEqualsSqlite) {
  auto s = Scenario("repl_basic", 60000);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->InstallAudit().ok());
  // Changes committed before the agent runs wait in the outbox: part of them end up at or
  // below S, inside the snapshot, the rest after it.
  auto seed = s->StartWriter(1, 1500, 11);
  ASSERT_TRUE(seed.ok());
  ASSERT_EQ(seed->Wait()->exit_code, 0);
  ASSERT_TRUE(s->StartApplier().ok());
  std::vector<process::Child> writers;
  for (int w = 2; w <= 3; ++w)
    writers.push_back(std::move(s->StartWriter(w, 2500, 100 + w)).value());
  ASSERT_TRUE(s->StartAgent().ok());  // the snapshot is read while both writers write
  Drain(*s, writers);

  Result<uint64_t> snapshot = s->SnapshotSeq(), applied = s->AppliedSeq();
  ASSERT_TRUE(snapshot.ok() && applied.ok());
  EXPECT_GT(*applied, *snapshot) << "nothing was streamed after the snapshot";
  EXPECT_EQ(s->CompareAll(kTables), "") << s->Logs();
  EXPECT_EQ(s->AuditProblems(), "");

  // `sqlift status` reads every position where it lives, and both daemons answer.
  auto status = s->RunStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 0) << status->out << status->err;
  for (std::string key : {"\"captured_seq\":", "\"applied_seq\":", "\"logged_seq\":"}) {
    EXPECT_NE(status->out.find(key + std::to_string(*applied) + ","), std::string::npos)
        << key << " " << status->out;
  }
  EXPECT_NE(status->out.find("\"lag_seqs\":0,"), std::string::npos) << status->out;
  EXPECT_NE(status->out.find("\"agent\":\"up\""), std::string::npos) << status->out;
  EXPECT_NE(status->out.find("\"applier\":\"up\""), std::string::npos) << status->out;
  for (auto [port, metric] :
       {std::pair{s->agent_http_port(), "sqlift_captured_seq{source=\"app\"} "},
        std::pair{s->applier_http_port(), "sqlift_applied_seq{source=\"app\"} "}}) {
    auto metrics =
        process::RunCaptured({"/usr/bin/python3", "-c",
                              "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("
                              "'http://127.0.0.1:" +
                                  std::to_string(port) + "/metrics', timeout=5).read().decode())"});
    ASSERT_TRUE(metrics.ok());
    EXPECT_NE(metrics->out.find(metric + std::to_string(*applied) + "\n"), std::string::npos)
        << metrics->out << metrics->err;
  }
  EXPECT_TRUE(s->StopDaemons().ok()) << s->Logs();
}

// Kills the agent, the applier or PostgreSQL (immediate shutdown) at random moments while
// writers write, restarting each; at the end both sides are equal and the audit shows no
// change applied twice.
TEST_F(ReplicationTest, KillsOfAgentApplierAndPostgresLoseAndRepeatNothing) {
  auto s = Scenario("repl_kills", 20000);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->InstallAudit().ok());
  ASSERT_TRUE(s->StartApplier().ok());
  ASSERT_TRUE(s->StartAgent().ok());
  std::vector<process::Child> writers;
  for (int w = 1; w <= 2; ++w)
    writers.push_back(std::move(s->StartWriter(w, 6000, 200 + w)).value());
  std::mt19937 rng(20261122);
  // First the applier dies right after its 3rd commit, before the Ack: the agent must resume
  // from the applier's position, not resend what it committed.
  s->KillApplier();
  ASSERT_TRUE(s->StartApplier({"SQLIFT_CRASH_POINT=after_apply_commit:3"}).ok());
  Result<int> crashed = s->WaitApplierExit();
  ASSERT_TRUE(crashed.ok());
  EXPECT_EQ(*crashed, 128 + SIGKILL);
  ASSERT_TRUE(s->StartApplier().ok());
  const int rounds = 15;
  int kills[3] = {0, 0, 0};
  for (int round = 0; round < rounds; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 400));  // a random moment
    const int victim = static_cast<int>(rng() % 3);
    ++kills[victim];
    if (victim == 0) {
      s->KillAgent();
      ASSERT_TRUE(s->StartAgent().ok());
    } else if (victim == 1) {
      s->KillApplier();
      ASSERT_TRUE(s->StartApplier().ok());
    } else {
      ASSERT_TRUE(pg_->Crash().ok());
      ASSERT_TRUE(pg_->Restart().ok());
    }
  }
  Drain(*s, writers);
  EXPECT_EQ(s->CompareAll(kTables), "") << s->Logs();
  EXPECT_EQ(s->AuditProblems(), "");
  EXPECT_TRUE(s->StopDaemons().ok()) << s->Logs();
  RecordProperty("agent_kills", kills[0]);
  RecordProperty("applier_kills", kills[1]);
  RecordProperty("postgres_kills", kills[2]);
}

TEST_F(ReplicationTest, AdditiveSchemaChangesApplyOthersStopTheStream) {
  auto s = Scenario("repl_ddl", 100);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->StartApplier().ok());
  ASSERT_TRUE(s->StartAgent().ok());
  auto out = s->Shell(R"(
BEGIN; INSERT INTO accounts VALUES (1, 'before', 100, NULL); SELECT sqlift_flush(); COMMIT;
ALTER TABLE accounts ADD COLUMN tag TEXT NOT NULL DEFAULT 'none';
CREATE TABLE later (id INTEGER PRIMARY KEY, v TEXT, n REAL DEFAULT 1.5);
BEGIN; INSERT INTO later (id, v) VALUES (1, 'a'), (2, 'b');
  INSERT INTO accounts (id, owner, balance) VALUES (2, 'after', 7);
  UPDATE accounts SET tag = 't' WHERE id = 1; SELECT sqlift_flush(); COMMIT;
BEGIN; UPDATE "user" SET """; DROP TABLE x; --" = 'x''); DROP TABLE bulk; --' WHERE id = 1;
  INSERT INTO "user" VALUES (3, '$1', 0.5, '2025-01-01 00:00:00', 1); SELECT sqlift_flush(); COMMIT;
)");
  ASSERT_TRUE(out.ok() && out->exit_code == 0) << (out.ok() ? out->err : out.status().ToString());
  Result<uint64_t> committed = s->CommittedSeq();
  ASSERT_TRUE(committed.ok());
  ASSERT_TRUE(s->WaitApplied(*committed, std::chrono::seconds(60))) << s->Logs();
  EXPECT_EQ(s->CompareAll({"accounts", "later", "user", "bulk"}), "") << s->Logs();

  // Dropping a column is not additive: the stream stops there, with the reason logged.
  out = s->Shell(R"(
ALTER TABLE later DROP COLUMN v;
BEGIN; INSERT INTO later VALUES (3, 2.5); SELECT sqlift_flush(); COMMIT;
)");
  ASSERT_TRUE(out.ok() && out->exit_code == 0) << (out.ok() ? out->err : out.status().ToString());
  const uint64_t stopped_at = *committed;
  bool logged = false;
  for (int i = 0; i < 600 && !logged; ++i) {  // up to 30 s for the refusal to be logged
    logged = s->ApplierLog().find("not additive") != std::string::npos;
    if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(logged) << s->Logs();
  EXPECT_NE(s->ApplierLog().find("a column was dropped"), std::string::npos);
  EXPECT_EQ(*s->AppliedSeq(), stopped_at);  // nothing after the refused change was applied
}

}  // namespace
}  // namespace sqlift
