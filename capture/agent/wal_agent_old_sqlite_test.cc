// WalCaptureAgent against WAL files that old SQLite versions write (testing/
// old_sqlite_fixture.h): for each old shell and file layout, a seeded random script the shell
// runs while the agent (this process's SQLite) captures, stopped and resumed once; the log,
// replayed strictly, must equal the tables as the system SQLite reads them. A WAL the old
// writer restarts, or checkpoints past the agent's position, while the agent is stopped is a
// gap; the nBackfillAttempted a newer SQLite's checkpoint leaves behind an old writer's
// restart is not. Replay a failure with the SQLIFT_WAL_SEED and SQLIFT_OLD_SQLITE the run
// prints. Under CI (CI=true) a missing shell fails; elsewhere the tests skip.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>

#include "capture/agent/testing/old_sqlite_fixture.h"
#include "capture/agent/wal_agent.h"
#include "capture/agent/wal_source.h"

namespace sqlift {
namespace {

using testing_wal::kLayouts;
using testing_wal::Layout;
using testing_wal::OldShells;
using testing_wal::OldSqliteTest;
using testing_wal::Table;
using testing_wal::Text;
using testing_wal::UnderCi;

class OldSqliteLayoutTest : public OldSqliteTest, public ::testing::WithParamInterface<Layout> {
 protected:
  void Workload(const std::string& shell) {
    const uint32_t seed = testing_wal::Seed();
    std::printf("%s, %s: seed %u (replay with SQLIFT_WAL_SEED=%u SQLIFT_OLD_SQLITE=%s)\n",
                shell.c_str(), GetParam().name, seed, seed,
                std::filesystem::path(shell).parent_path().filename().c_str());
    SCOPED_TRACE(fmt::format("{}, {}, seed {}", shell, GetParam().name, seed));
    std::mt19937 rng(seed);
    ASSERT_NO_FATAL_FAILURE(Create(shell, GetParam()));
    // The pin moves and the WAL restarts every few dozen frames: the old writer restarts it
    // many times, held off by the agent now and then.
    auto often = [](CaptureAgentOptions& o) {
      o.batch_rows = 64;
      o.pin_frames = 60;
      o.restart_hold_frames = 200;
    };
    ASSERT_TRUE(OpenAgent(nullptr, often).ok());
    Status run;
    std::thread runner([&] { run = agent_->Run(); });
    struct Joiner {  // a failed assertion returns with the agent running
      std::thread& t;
      std::unique_ptr<WalCaptureAgent>& agent;
      ~Joiner() {
        if (t.joinable()) {
          agent->Stop();
          t.join();
        }
      }
    } joiner{runner, agent_};
    auto script = [&](int chunk) {
      std::string sql;
      for (int i = 0; i < 60; ++i)
        sql += RandomTransaction(rng);
      switch (chunk) {
        case 0:
          sql += ManyRows(1);
          break;
        case 1:
          sql += "CREATE TABLE extra (k TEXT PRIMARY KEY, v INT);\n";
          extra_ = true;
          break;
        case 2:
          sql += "DELETE FROM bulk WHERE id % 5 != 0;\n";  // merges
          added_defaults_["users"]["note"] = Text("none");
          sql += "ALTER TABLE users ADD COLUMN note TEXT DEFAULT 'none';\n";
          break;
        case 3:
          sql += "VACUUM;\n";
          break;
        case 4:
          sql += "PRAGMA incremental_vacuum(10);\nPRAGMA wal_checkpoint;\n";
          break;
        case 5:
          sql += ManyRows(5000) + "UPDATE users SET note = 'n' || id WHERE id < 40;\n";
          break;
        default:
          break;
      }
      return sql;
    };
    for (int chunk = 0; chunk < 7; ++chunk) {
      ASSERT_NO_FATAL_FAILURE(Shell(script(chunk)));
      if (chunk == 3) {  // a restart of the agent, resumed at its position
        agent_->Stop();
        runner.join();
        ASSERT_TRUE(run.ok()) << run.ToString();
        Status reopened = OpenAgent(nullptr, often);
        ASSERT_TRUE(reopened.ok()) << reopened.ToString();
        runner = std::thread([&] { run = agent_->Run(); });
      }
    }
    agent_->Stop();
    runner.join();
    ASSERT_TRUE(run.ok()) << run.ToString();
    Status reopened =
        OpenAgent(nullptr, often);  // a stopped agent drains one batch; a new one the rest
    ASSERT_TRUE(reopened.ok()) << reopened.ToString();
    ASSERT_NO_FATAL_FAILURE(Drain());
    ASSERT_NO_FATAL_FAILURE(CheckReplay());
    // The layout asked for is the one the file has, and the log holds the workload.
    ASSERT_TRUE(app_->Exec("PRAGMA wal_checkpoint").ok());  // page 1 into the file
    std::ifstream file(path_, std::ios::binary);
    unsigned char header[100] = {};
    file.read(reinterpret_cast<char*>(header), sizeof header);
    const int format = header[47];
    if (std::string(GetParam().name) == "legacy_file_format" || version_ < 3007010) {
      EXPECT_EQ(format, 1) << "not the legacy file format";
    }
    EXPECT_GT(*app_->QueryInt64("SELECT count(*) FROM bulk"), 500);
    uint64_t changes = 0;
    ASSERT_TRUE(log_->Scan(1, UINT64_MAX,
                           [&](uint64_t, std::string_view v) {
                             wire::ChangeBatch b;
                             b.ParseFromArray(v.data(), static_cast<int>(v.size()));
                             for (const wire::Transaction& t : b.transactions())
                               changes += static_cast<uint64_t>(t.changes_size());
                             return Status::OK();
                           })
                    .ok());
    EXPECT_GT(changes, 1000u);
    std::printf(
        "  page size %d, encoding %d, auto_vacuum %lld, schema format %d: %llu row "
        "changes logged, %llu WAL restarts\n",
        page_size_, header[59], static_cast<long long>(*app_->QueryInt64("PRAGMA auto_vacuum")),
        format, static_cast<unsigned long long>(changes),
        static_cast<unsigned long long>(wal_restarts_ + agent_->wal_restarts()));
  }
};

TEST_P(OldSqliteLayoutTest, TheLogReplaysToWhatSqliteHolds) {
  REQUIRE_OLD_SHELLS();
  for (const std::string& shell : OldShells()) {
    StartOver(shell);  // a fresh directory, log and database for each version
    added_defaults_.clear();
    extra_ = false;
    wal_restarts_ = 0;
    ASSERT_NO_FATAL_FAILURE(Workload(shell));
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, OldSqliteLayoutTest, ::testing::ValuesIn(kLayouts),
                         [](const auto& info) { return std::string(info.param.name); });

// Stopped, the agent holds nothing: the old writer's automatic checkpoints copy every frame and
// its next write restarts the WAL. The reopened agent must say so, not decode on.
TEST_F(OldSqliteTest, AWalTheOldWriterRestartedWhileStoppedIsAGap) {
  REQUIRE_OLD_SHELLS();
  for (const std::string& shell : OldShells()) {
    SCOPED_TRACE(shell);
    StartOver(shell);
    ASSERT_NO_FATAL_FAILURE(Create(shell, kLayouts[0]));
    ASSERT_TRUE(OpenAgent().ok());
    ASSERT_NO_FATAL_FAILURE(Shell("INSERT INTO users (id, name) VALUES (1, 'a');"));
    ASSERT_NO_FATAL_FAILURE(Drain());
    agent_.reset();
    std::string writes = "PRAGMA wal_autocheckpoint=4;\n";
    for (int i = 2; i < 40; ++i)
      writes += fmt::format("INSERT INTO users (id, name) VALUES ({}, hex(zeroblob(300)));\n", i);
    ASSERT_NO_FATAL_FAILURE(Shell(writes));
    Status st = OpenAgent();
    ASSERT_FALSE(st.ok()) << "the agent decoded on over a restarted WAL";
    EXPECT_NE(st.message().find("checkpointed and restarted while the agent was stopped"),
              std::string::npos)
        << st.ToString();
  }
}

// Resumes an agent whose position the old writer's later frames passed, after `between`.
class OldSqliteResumeTest : public OldSqliteTest {
 protected:
  // A database whose users' pages are in the file alone, an agent started in a WAL generation
  // the old writer began, then stopped.
  void StartInAGenerationTheOldWriterBegan(const std::string& shell) {
    StartOver(shell);
    ASSERT_NO_FATAL_FAILURE(Create(shell, kLayouts[0]));
    // This process's SQLite (3.11 or later) writes and checkpoints: nBackfillAttempted is
    // set; the old writer's next write restarts the WAL (and, before 3.11, leaves it).
    for (int i = 1; i <= 40; ++i) {
      ASSERT_TRUE(app_->Exec(fmt::format("INSERT INTO users (id, name) VALUES ({}, "
                                         "hex(zeroblob(200)))",
                                         i))
                      .ok());
    }
    ASSERT_TRUE(app_->Exec("PRAGMA wal_checkpoint").ok());
    ASSERT_NO_FATAL_FAILURE(Shell("INSERT INTO tags VALUES ('t', 'x');"));
    ASSERT_TRUE(OpenAgent().ok());
    ASSERT_NO_FATAL_FAILURE(Drain());
    agent_.reset();
    // Past the nBackfillAttempted the checkpoint set, on pages only the file held.
    std::string sql;
    for (int i = 1; i <= 120; ++i)
      sql += fmt::format("UPDATE users SET score = {} WHERE id = {};\n", i, 1 + i % 40);
    ASSERT_NO_FATAL_FAILURE(Shell(sql));
  }
};

// Before 3.11, nBackfillAttempted outlives the WAL generation it was set in: not a checkpoint.
TEST_F(OldSqliteResumeTest, AStaleCheckpointCounterIsNoGap) {
  REQUIRE_OLD_SHELLS();
  for (const std::string& shell : OldShells()) {
    SCOPED_TRACE(shell);
    ASSERT_NO_FATAL_FAILURE(StartInAGenerationTheOldWriterBegan(shell));
    Status st = OpenAgent();
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto drained = agent_->DrainAvailable();
    ASSERT_TRUE(drained.ok()) << drained.status().ToString();
    EXPECT_EQ(drained->changes, 120u);
  }
}

// A checkpoint the old writer ran while the agent was stopped copied the updates over the
// images the agent needs: a gap.
TEST_F(OldSqliteResumeTest, ACheckpointTheOldWriterRanWhileStoppedIsAGap) {
  REQUIRE_OLD_SHELLS();
  for (const std::string& shell : OldShells()) {
    SCOPED_TRACE(shell);
    ASSERT_NO_FATAL_FAILURE(StartInAGenerationTheOldWriterBegan(shell));
    ASSERT_NO_FATAL_FAILURE(Shell("PRAGMA wal_checkpoint;"));
    Status st = OpenAgent();
    ASSERT_FALSE(st.ok()) << "the agent decoded over pages a checkpoint overwrote";
    EXPECT_NE(st.message().find("a checkpoint copied WAL frames the agent had not read"),
              std::string::npos)
        << st.ToString();
  }
}

// The stale nBackfillAttempted travels with the saved position; a position saved without one
// (by an agent before it) reads as it did.
TEST(WalPositionTextTest, TheStaleCheckpointCounterRoundTrips) {
  wal::WalPosition p;
  p.header = {0x377f0682, 3007000, 4096, 7, 11, 12, {13, 14}};
  p.frames = 99;
  p.checksum = {15, 16};
  p.stale_attempt = 260;
  auto back = DecodeWalPosition(EncodeWalPosition(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->frames, 99u);
  EXPECT_EQ(back->header.salt2, 12u);
  EXPECT_EQ(back->stale_attempt, 260u);
  p.stale_attempt = 0;
  const std::string text = EncodeWalPosition(p);
  EXPECT_EQ(std::count(text.begin(), text.end(), ' '), 11);  // as before: 11 numbers
  back = DecodeWalPosition(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->stale_attempt, 0u);
  EXPECT_FALSE(DecodeWalPosition(text + " 1 2").ok());
}

}  // namespace
}  // namespace sqlift
