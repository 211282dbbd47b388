// WalCaptureAgent against SQLite itself: a seeded random workload commits transactions through
// a plain connection (no recorder, no trigger), the agent drains the WAL now and then and is
// reopened (a restart) from time to time; the log, replayed strictly onto a model (an INSERT's
// key must be free, an UPDATE's and DELETE's old values must be there), must equal every table
// as SQLite reads it. Replay a failure with SQLIFT_WAL_SEED=<seed printed by the run>.
#include "capture/agent/wal_agent.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "capture/agent/route_writer.h"
#include "capture/agent/testing/wal_agent_fixture.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"
#include "capture/snapshot/wire_value.h"

namespace sqlift {

void testing_wal::WalAgentTest::RandomTransaction(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const int id = pick(60), code = pick(40), row_no = pick(8);
  const std::string blob_len = std::to_string(pick(4) == 0 ? 9000 : 10);
  const std::vector<std::string> statements = {
      fmt::format("INSERT OR REPLACE INTO users VALUES ({}, 'u{}', {}, randomblob({}))", id,
                  pick(100), pick(5) == 0 ? "3" : "2.5", blob_len),
      fmt::format("UPDATE users SET name = name || 'x', score = score + 1 WHERE id = {}", id),
      fmt::format("DELETE FROM users WHERE id BETWEEN {} AND {}", id, id + pick(3)),
      fmt::format("UPDATE users SET id = {} WHERE id = {} AND {} NOT IN (SELECT id FROM users)",
                  id + 100, id, id + 100),
      fmt::format("INSERT OR REPLACE INTO tags VALUES ('c{}', 'l{}')", code, pick(9)),
      fmt::format("UPDATE tags SET code = 'n{}' WHERE code = 'c{}' AND NOT EXISTS "
                  "(SELECT 1 FROM tags WHERE code = 'n{}')",
                  code, code, code),
      fmt::format("DELETE FROM tags WHERE code = 'c{}'", code),
      fmt::format("INSERT OR REPLACE INTO seats VALUES ({}, 's{}', 'h{}')", row_no, pick(6),
                  pick(50)),
      fmt::format("UPDATE seats SET holder = NULL WHERE row_no = {}", row_no),
      fmt::format("DELETE FROM seats WHERE seat = 's{}'", pick(6)),
      fmt::format("INSERT OR REPLACE INTO notes (slug, body, n, tail) VALUES ('{}{}', 'b{}', {}, "
                  "'t{}')",
                  pick(2) ? "S" : "s", code, pick(9), pick(100), pick(5)),
      fmt::format("UPDATE notes SET n = n + 1, tail = tail || 'x' WHERE slug = 's{}'", code),
      fmt::format("UPDATE notes SET slug = {}(slug) WHERE slug = 's{}'",
                  pick(2) ? "upper" : "lower", code),
      fmt::format("DELETE FROM notes WHERE slug = 'S{}'", code),
      fmt::format("INSERT OR REPLACE INTO calc (id, a, b, c) VALUES ({}, {}, 'b{}', {})", id,
                  pick(1000), pick(9), pick(3) ? "0.5" : "NULL"),
      fmt::format("UPDATE calc SET a = a + 1, c = 1.25 WHERE id = {}", id),
      fmt::format("DELETE FROM calc WHERE id = {}", id),
  };
  // Deferred, as most libraries begin: the agent commits nothing while it runs, so no
  // transaction of the application's fails with SQLITE_BUSY_SNAPSHOT for it.
  Exec("BEGIN");
  for (int n = 1 + pick(4); n > 0; --n)
    Exec(statements[static_cast<size_t>(pick(static_cast<int>(statements.size())))]);
  Exec("COMMIT");
}

void testing_wal::WalAgentTest::ReplayRandomWorkload() {
  const uint32_t seed = Seed();
  std::printf("wal_agent_test seed: %u (replay with SQLIFT_WAL_SEED=%u)\n", seed, seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  ASSERT_TRUE(OpenAgent().ok());
  for (int n = 1; n <= 1500; ++n) {
    RandomTransaction(rng);
    if (n == 400) Exec("CREATE TABLE extra (k TEXT PRIMARY KEY, v INT)");
    if (n > 400 && n % 3 == 0)
      Exec(fmt::format("INSERT OR REPLACE INTO extra VALUES ('k{}', {})", n % 17, n));
    if (n == 900) Exec("VACUUM");  // renumbers the rowids of `tags`, whose key is not the rowid
    if (n % 50 == 0) {
      auto drained = agent_->DrainAvailable();
      ASSERT_TRUE(drained.ok()) << "transaction " << n << ": " << drained.status().ToString();
    }
    if (n % 230 == 0) {
      Status st = OpenAgent();  // a restart, with the application's connection still open
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
  auto drained = agent_->DrainAvailable();
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::map<std::string, Table> actual = Actual();
  for (auto& [name, rows] : actual) {
    EXPECT_EQ((*model)[name].size(), rows.size()) << name;
    EXPECT_TRUE((*model)[name] == rows) << name << " differs from the replayed log";
  }
}

void testing_wal::WalAgentTest::ReplayAWriterThatNeverPauses() {
  ASSERT_TRUE(OpenAgent(nullptr, [](CaptureAgentOptions& o) { o.batch_rows = 512; }).ok());
  Status run;
  std::thread runner([&] { run = agent_->Run(); });
  std::mt19937 rng(7);
  uintmax_t wal_max = 0;
  for (int n = 1; n <= 3000; ++n) {
    RandomTransaction(rng);
    std::error_code ec;
    wal_max = std::max(wal_max, std::filesystem::file_size(path_ + "-wal", ec));
  }
  agent_->Stop();
  runner.join();
  ASSERT_TRUE(run.ok()) << run.ToString();
  const uint64_t restarts = agent_->wal_restarts();
  const double held_ms = agent_->writers_held_max_ms();
  // Restarts need the agent at the WAL's end between two commits; how often that happens
  // depends on the machine, so the count is reported, and the replay is what is asserted.
  std::printf("WAL restarts: %llu, the WAL at most %ju bytes, writers held at most %.2f ms\n",
              static_cast<unsigned long long>(restarts), wal_max, held_ms);
  // A stopped agent drains one batch at a time; a new one drains what is left.
  Status reopened = OpenAgent();
  ASSERT_TRUE(reopened.ok()) << reopened.ToString();
  auto drained = agent_->DrainAvailable();
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  for (auto& [name, rows] : Actual())
    EXPECT_TRUE((*model)[name] == rows) << name << " differs from the replayed log";
}

namespace {

using testing_wal::Seed;
using testing_wal::Table;
using testing_wal::WalAgentTest;

TEST_F(WalAgentTest, TheLogReplaysToWhatSqliteHolds) {
  ReplayRandomWorkload();
}

TEST_F(WalAgentTest, TheLogReplaysWithTheApplicationsCheckpointsAlone) {
  restart_wal_ = false;
  ReplayRandomWorkload();
}

// A writer that commits without a pause while the agent runs: the log still replays to
// SQLite's tables.
TEST_F(WalAgentTest, ARunningAgentLogsAWriterThatNeverPauses) {
  ReplayAWriterThatNeverPauses();
}

TEST_F(WalAgentTest, ARunningAgentLogsAWriterThatNeverPausesWithTheWalGrowing) {
  restart_wal_ = false;
  ReplayAWriterThatNeverPauses();
}

TEST_F(WalAgentTest, RoutesAreLoggedAndTheReverseAppliersWritesAreLoggedAsReverse) {
  ASSERT_TRUE(OpenAgent().ok());
  ASSERT_TRUE(CommitRoute(*app_, RouteRow{"*", "sqlite", 1, true, 0}).ok());
  Exec("BEGIN");
  ASSERT_TRUE(OpenGuardPass(*app_).ok());
  Exec("INSERT INTO users VALUES (1, 'from postgres', 1, NULL)");
  ASSERT_TRUE(CloseGuardPass(*app_).ok());
  Exec("COMMIT");
  Exec("INSERT INTO users VALUES (2, 'from the application', 1, NULL)");
  auto drained = agent_->DrainAvailable();
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  EXPECT_EQ(drained->route_events, 1u);
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)["users"].size(), 1u);  // the reverse applier's row is never applied
  EXPECT_EQ(reverse_keys_, 1);              // but its key is logged, for the switches' checks
  auto routes = log_->Routes();
  ASSERT_TRUE(routes.ok());
  ASSERT_EQ(routes->size(), 1u);
  EXPECT_EQ((*routes)[0].tenant, "*");
}

TEST_F(WalAgentTest, ATableWithoutPrimaryKeyStopsTheAgent) {
  ASSERT_TRUE(OpenAgent().ok());
  Exec("CREATE TABLE loose (a, b)");
  Exec("INSERT INTO loose VALUES (1, 2)");
  auto drained = agent_->DrainAvailable();
  ASSERT_FALSE(drained.ok());
  EXPECT_NE(drained.status().message().find("table loose has no primary key"), std::string::npos)
      << drained.status().ToString();
}

}  // namespace
}  // namespace sqlift
