// WalCaptureAgent started again after a stop: a WAL restarted meanwhile is a gap that is
// repaired, and so is a checkpoint that copied frames it had not read over pages whose
// earlier images only the database file held; a checkpoint that could still do so once it
// runs again must not change what it decodes. A checkpoint another process is running as the
// agent resumes is waited for.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "capture/agent/testing/wal_agent_fixture.h"
#include "capture/agent/wal_agent.h"
#include "common/sqlite/shm_lock.h"
#include "common/sqlite/testing/shm_lock_holder.h"

namespace sqlift {
namespace {

using testing_wal::WalAgentTest;

TEST_F(WalAgentTest, AWalGoneWhileStoppedIsAGapNotASilentSkip) {
  ASSERT_TRUE(OpenAgent().ok());
  Exec("INSERT INTO users VALUES (1, 'a', 1, NULL)");
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  agent_.reset();
  Exec("INSERT INTO users VALUES (2, 'b', 1, NULL)");
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");  // the WAL restarts with the row in the file only
  Exec("INSERT INTO users VALUES (3, 'c', 1, NULL)");
  Status st = OpenAgent();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("checkpointed and restarted while the agent was stopped"),
            std::string::npos)
      << st.ToString();
}

TEST_F(WalAgentTest, AGapIsRepairedAtTheWalsEndAndStreamingGoesOn) {
  ASSERT_TRUE(OpenAgent().ok());
  Exec("INSERT INTO users VALUES (1, 'a', 1, NULL)");
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  const uint64_t before = agent_->logged_seq();
  agent_.reset();
  Exec("INSERT INTO users VALUES (2, 'b', 1, NULL)");
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  Exec("INSERT INTO users VALUES (3, 'c', 1, NULL)");
  int64_t seen = -1;
  uint64_t asked_at = 0;
  // A stand-in for the comparison with PostgreSQL: it sees the snapshot and returns the rows
  // the log lacks, as INSERTs.
  auto repair = [&](SqliteDb& snapshot, uint64_t logged_seq) -> Result<GapRepair> {
    SQLIFT_ASSIGN_OR_RETURN(seen, snapshot.QueryInt64("SELECT count(*) FROM users"));
    asked_at = logged_seq;
    GapRepair r;
    wire::TableShape* shape = r.batch.add_tables();
    shape->set_name("users");
    for (const char* c : {"id", "name", "score", "photo"})
      shape->add_columns(c);
    shape->add_pk_columns(0);
    wire::Transaction* t = r.batch.add_transactions();
    t->set_kind(wire::Transaction::CHANGES);
    for (int64_t id : {2, 3}) {
      wire::RowChange* c = t->add_changes();
      c->set_op(wire::RowChange::INSERT);
      c->add_pk()->set_integer(id);
      c->add_new_values()->set_integer(id);
      c->add_new_values()->set_text(id == 2 ? "b" : "c");
      c->add_new_values()->set_real(1);
      c->add_new_values()->mutable_null();
    }
    r.rows = 2;
    r.summary = "2 inserted";
    return r;
  };
  Status st = OpenAgent(repair);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, -1);  // opening leaves the repair to the first drain, once shipping runs
  auto first = agent_->DrainAvailable();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(asked_at, before);
  Exec("INSERT INTO users VALUES (4, 'd', 1, NULL)");
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE((*model)["users"] == Actual()["users"]);
  auto repairs = log_->GetMeta(kMetaWalRepairs);
  ASSERT_TRUE(repairs.ok());
  EXPECT_EQ(repairs->substr(0, 4), "1 2 ");
}

// The agent restarts the WAL itself (restart_wal, at once): the rows it logged are then in
// the database file alone, and the next update of them is in the WAL after its position.
class WalAgentResumeTest : public WalAgentTest {
 protected:
  void LogUsersIntoTheFileAloneThenUpdateThem() {
    ASSERT_TRUE(OpenAgent(nullptr, [](CaptureAgentOptions& o) {
                  o.restart_wal = true;
                  o.pin_frames = 40;  // the users' rows make the WAL longer, the rest not
                }).ok());
    Exec("BEGIN");
    for (int i = 1; i <= 300; ++i)
      Exec(fmt::format("INSERT INTO users VALUES ({}, printf('%.200c', 'n'), 1, NULL)", i));
    Exec("COMMIT");
    // The first drain opens the agent's connection, the second lets the WAL restart, the
    // application's next commit restarts it and the third decodes that.
    for (int drains = 0; drains < 3; ++drains) {
      auto drained = agent_->DrainAvailable();
      ASSERT_TRUE(drained.ok()) << drained.status().ToString();
      if (drains < 2) Exec("INSERT INTO tags VALUES ('t' || random(), 'x')");
    }
    ASSERT_EQ(agent_->wal_restarts(), 1u);
    agent_.reset();
    Exec("UPDATE users SET score = score + 1");
  }
};

// Started again behind the WAL's end, the agent pins that end; a checkpoint up to it would
// overwrite the images at the position that decoding the update needs.
TEST_F(WalAgentResumeTest, ACheckpointAfterTheAgentStartedChangesNothingItDecodes) {
  LogUsersIntoTheFileAloneThenUpdateThem();
  ASSERT_TRUE(OpenAgent().ok());
  Exec("PRAGMA wal_checkpoint(PASSIVE)");
  auto drained = agent_->DrainAvailable();
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)["users"].size(), 300u);
  EXPECT_TRUE((*model)["users"] == Actual()["users"]) << "the update was decoded wrongly";
}

// Checkpointed while the agent was stopped: those images are gone, and the agent says so.
TEST_F(WalAgentResumeTest, ACheckpointPastTheStoppedAgentsPositionIsAGap) {
  LogUsersIntoTheFileAloneThenUpdateThem();
  Exec("PRAGMA wal_checkpoint(PASSIVE)");
  Status st = OpenAgent();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("a checkpoint copied WAL frames the agent had not read"),
            std::string::npos)
      << st.ToString();
}

// A checkpoint past the position that rewrote only pages the WAL holds up to it loses
// nothing: no gap.
TEST_F(WalAgentResumeTest, ACheckpointOfPagesTheWalHeldIsNoGap) {
  LogUsersIntoTheFileAloneThenUpdateThem();
  ASSERT_TRUE(OpenAgent().ok());
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  agent_.reset();
  Exec("UPDATE users SET score = score + 1");
  Exec("PRAGMA wal_checkpoint(PASSIVE)");
  ASSERT_TRUE(OpenAgent().ok());
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE((*model)["users"] == Actual()["users"]);
}

// A checkpoint is all a writer before SQLite 3.11 shows of a copy under way: its lock. The
// lock here ends only when the agent waits on it, so the agent cannot have read the counters
// while it was held.
TEST_F(WalAgentTest, AResumingAgentWaitsForACheckpointAnotherProcessRuns) {
  ASSERT_TRUE(OpenAgent().ok());
  Exec("INSERT INTO users VALUES (1, 'a', 1, NULL)");
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  agent_.reset();
  Exec("INSERT INTO users VALUES (2, 'b', 1, NULL)");
  testing::ShmLockHolder checkpoint(path_, F_WRLCK, kCheckpointLockByte);
  ASSERT_TRUE(checkpoint.ok()) << "the child took no lock";
  int waits = 0;
  Status st = OpenAgent(nullptr, [&](CaptureAgentOptions& o) {
    o.on_checkpoint_wait = [&] {
      ++waits;
      checkpoint.Release();
    };
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_GE(waits, 1);
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)["users"].size(), 2u);
}

TEST_F(WalAgentTest, ACheckpointThatDoesNotEndStopsAResumingAgentNamingTheLock) {
  ASSERT_TRUE(OpenAgent().ok());
  Exec("INSERT INTO users VALUES (1, 'a', 1, NULL)");
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  agent_.reset();
  testing::ShmLockHolder checkpoint(path_, F_WRLCK, kCheckpointLockByte);
  ASSERT_TRUE(checkpoint.ok()) << "the child took no lock";
  Status st = OpenAgent(
      nullptr, [](CaptureAgentOptions& o) { o.checkpoint_wait = std::chrono::milliseconds(0); });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("held the checkpoint lock"), std::string::npos) << st.ToString();
  checkpoint.Release();
  EXPECT_TRUE(OpenAgent().ok());  // the checkpoint over, the agent resumes
}

}  // namespace
}  // namespace sqlift
