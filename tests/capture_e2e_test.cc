// Capture end to end, with real processes and files: writer processes (C++ through the
// recorder, Python through the loadable extension) commit and roll back concurrently, the
// agent (`sqlift capture`) is killed with SIGKILL again and again, and at the end the log,
// replayed independently into an empty database, equals the application's database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/process/process.h"
#include "common/sqlite/sqlite_db.h"
#include "tests/testutil/log_replica.h"

namespace sqlift {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER, "
    "note BLOB);"
    "CREATE TABLE events (writer INTEGER, n INTEGER, payload TEXT, PRIMARY KEY (writer, n));";

class CaptureE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_capture_e2e_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_path_ = (dir_ / "app.db").string();
    state_ = (dir_ / "state").string();
    config_ = (dir_ / "sqlift.toml").string();
    std::ofstream(config_) << "[source]\nid = \"app\"\nsqlite = \"" << db_path_
                           << "\"\n[state]\ndir = \"" << state_
                           << "\"\n[capture]\nmode = \"recorder\"\nbatch_rows = 7\npoll_ms = 50\n";
    auto db = SqliteDb::Open(db_path_, SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(kSchema).ok());
    db.value().reset();
    auto init = Sqlift({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  process::Output Sqlift(std::vector<std::string> args) {
    args.insert(args.begin(), {SQLIFT_BINARY, "--config", config_});
    auto r = process::RunCaptured(args);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : process::Output{};
  }

  // Starts the writers: C++ writers 1..cpp, and one Python writer (id 9).
  std::vector<process::Child> StartWriters(int cpp, int transactions) {
    std::vector<process::Child> writers;
    for (int w = 1; w <= cpp; ++w) {
      auto p = process::Child::Spawn(
          {.argv = {SQLIFT_WORKLOAD_WRITER, db_path_, std::to_string(w),
                    std::to_string(transactions), std::to_string(100 + w)},
           .out = process::Stream::File((dir_ / ("writer" + std::to_string(w))).string())});
      EXPECT_TRUE(p.ok());
      writers.push_back(std::move(p).value());
    }
    auto py = process::Child::Spawn(
        {.argv = {"/usr/bin/python3", SQLIFT_PYTHON_WRITER, db_path_, SQLIFT_CAPTURE_EXTENSION, "9",
                  std::to_string(transactions), "7"},
         .out = process::Stream::File((dir_ / "writer9").string())});
    EXPECT_TRUE(py.ok());
    writers.push_back(std::move(py).value());
    return writers;
  }

  // Waits for every writer; returns the transactions they committed, in total.
  long JoinWriters(std::vector<process::Child>& writers) {
    long committed = 0;
    for (process::Child& w : writers) {
      Result<process::Exit> rc = w.Wait();
      EXPECT_TRUE(rc.ok() && rc->exit_code == 0)
          << "writer exited with " << (rc.ok() ? rc->exit_code : -1);
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().filename().string().rfind("writer", 0) != 0) continue;
      std::ifstream in(entry.path());
      std::string word;
      long n = 0;
      in >> word >> n;
      EXPECT_EQ(word, "committed") << entry.path();
      committed += n;
    }
    return committed;
  }

  // The log replayed into an empty database must equal the application's database.
  void ExpectLogEqualsDatabase(long committed) {
    auto replica = testing::LogReplica::Create((dir_ / "replica.db").string());
    ASSERT_TRUE(replica.ok());
    Status st = (*replica)->ReplayLog(state_);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ((*replica)->last_seq(), static_cast<uint64_t>(committed));
    EXPECT_EQ((*replica)->transactions().size(), static_cast<size_t>(committed));
    auto negative = (*replica)->db().QueryInt64("SELECT count(*) FROM events WHERE n < 0");
    ASSERT_TRUE(negative.ok());
    EXPECT_EQ(*negative, 0) << "a rolled-back transaction reached the log";
    auto app = SqliteDb::Open(db_path_, SqliteDb::Mode::kReadOnly);
    ASSERT_TRUE(app.ok());
    Result<std::string> diff = testing::DiffDatabases(**app, (*replica)->db());
    ASSERT_TRUE(diff.ok()) << diff.status().ToString();
    EXPECT_EQ(*diff, "");
    EXPECT_EQ(*(*app)->QueryInt64("SELECT count(*) FROM _sqlift_outbox"), 0);
    EXPECT_EQ(*(*app)->QueryInt64("SELECT count(*) FROM events"),
              *(*replica)->db().QueryInt64("SELECT count(*) FROM events"));
  }

  // The outbox position the agent has trimmed to (a durable position it moves).
  int64_t TrimmedSeq() {
    auto db = SqliteDb::Open(db_path_, SqliteDb::Mode::kReadOnly);
    if (!db.ok()) return -1;
    auto v = (*db)->QueryInt64(
        "SELECT coalesce((SELECT value FROM _sqlift_state "
        "WHERE key = 'trimmed_seq'), 0)");
    return v.ok() ? *v : -1;
  }

  std::filesystem::path dir_;
  std::string db_path_, state_, config_;
};

TEST_F(CaptureE2eTest, ConcurrentWriterProcessesAreLoggedExactlyInCommitOrder) {
  std::vector<process::Child> writers = StartWriters(3, 300);
  long committed = JoinWriters(writers);
  ASSERT_GT(committed, 800);
  auto once = Sqlift({"capture", "--once"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_NE(once.out.find("captured " + std::to_string(committed) + " transactions"),
            std::string::npos)
      << once.out;
  ExpectLogEqualsDatabase(committed);
}

TEST_F(CaptureE2eTest, AgentKilledAtRandomPointsLosesAndDuplicatesNothing) {
  std::vector<process::Child> writers = StartWriters(3, 400);
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  const char* points[] = {"before_log_append", "after_log_append", "mid_trim", "after_trim"};
  int kills = 0;
  for (int round = 0; round < 40; ++round) {
    if (round % 2 == 0) {
      // The agent kills itself at a chosen point of its k-th batch.
      std::string point = std::string(points[rng() % 4]) + ":" + std::to_string(1 + rng() % 4);
      auto p =
          process::Child::Spawn({.argv = {SQLIFT_BINARY, "--config", config_, "capture", "--once"},
                                 .env = {"SQLIFT_CRASH_POINT=" + point},
                                 .out = process::Stream::File((dir_ / "agent.out").string())});
      ASSERT_TRUE(p.ok());
      Result<process::Exit> rc = p->Wait();
      ASSERT_TRUE(rc.ok());
      ASSERT_TRUE(rc->exit_code == 0 || rc->exit_code == 128 + SIGKILL)
          << "agent exit " << rc->exit_code;
      if (rc->exit_code != 0) ++kills;
      continue;
    }
    // The test kills the running daemon once it has trimmed past where it started.
    int64_t start = TrimmedSeq();
    auto p = process::Child::Spawn({.argv = {SQLIFT_BINARY, "--config", config_, "capture"},
                                    .out = process::Stream::File((dir_ / "agent.out").string())});
    ASSERT_TRUE(p.ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (TrimmedSeq() <= start + static_cast<int64_t>(rng() % 3) &&
           std::chrono::steady_clock::now() < deadline && !p->Poll()) {
      std::this_thread::yield();
    }
    ASSERT_FALSE(p->Poll()) << "the daemon exited on its own";
    p->Kill(SIGKILL);
    ASSERT_EQ(p->Wait()->exit_code, 128 + SIGKILL);
    ++kills;
  }
  EXPECT_GE(kills, 30);
  long committed = JoinWriters(writers);
  auto once = Sqlift({"capture", "--once"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  ExpectLogEqualsDatabase(committed);
  auto stats = Sqlift({"log", "stats", "--state", state_});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find("logged_seq " + std::to_string(committed)), std::string::npos)
      << stats.out;
}

TEST_F(CaptureE2eTest, InitRefusesTablesWithoutPrimaryKeyUnlessExcluded) {
  {
    auto db = SqliteDb::Open(db_path_, SqliteDb::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        (*db)->Exec("CREATE TABLE audit (at TEXT, what TEXT); CREATE TABLE \"log x\" (v)").ok());
  }
  auto refused = Sqlift({"init"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("audit: add a PRIMARY KEY, or list it in [source] exclude_tables"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("log x:"), std::string::npos) << refused.err;
  std::string text;
  {
    std::ifstream in(config_);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t at = text.find("[state]");
  text.insert(at, "exclude_tables = [\"audit\", \"log x\"]\n");
  std::ofstream(config_) << text;
  auto accepted = Sqlift({"init"});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
  auto again = Sqlift({"init"});  // idempotent
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(CaptureE2eTest, DaemonFollowsCommitsAndStopsCleanlyOnSigterm) {
  auto p = process::Child::Spawn({.argv = {SQLIFT_BINARY, "--config", config_, "capture"},
                                  .out = process::Stream::File((dir_ / "agent.out").string())});
  ASSERT_TRUE(p.ok());
  std::vector<process::Child> writers = StartWriters(1, 50);
  long committed = JoinWriters(writers);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (TrimmedSeq() < committed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(TrimmedSeq(), committed) << "the daemon did not follow the commits";
  p->Kill(SIGTERM);
  Result<process::Exit> rc = p->Wait();
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(rc->exit_code, 0);
  ExpectLogEqualsDatabase(committed);
  auto dump = Sqlift({"log", "dump", "--state", state_, "--format", "jsonl"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  long lines = std::count(dump.out.begin(), dump.out.end(), '\n');
  EXPECT_GE(lines, committed + 2);  // every transaction's changes, and the two definitions
  EXPECT_NE(dump.out.find("\"ddl\":\"CREATE TABLE accounts"), std::string::npos);
}

}  // namespace
}  // namespace sqlift
