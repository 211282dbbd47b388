// Writers that know nothing of sqlift, each with its own SQLite library (the sqlite3 shell,
// Python's sqlite3 module, Node with better-sqlite3's bundled SQLite), commit concurrently to
// one WAL database; the system SQLite then finds the file consistent and holding exactly the
// rows the clients say they committed. These clients are the writers that log-based capture
// (decoding the -wal file) must see without any change to them.
#include "tests/testutil/real_clients.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

namespace sqlift {
namespace {

using testing::ClientRuntime;

testing::ClientPaths Paths() {
  return {SQLIFT_PYTHON3, SQLIFT_SQLITE3_SHELL, SQLIFT_NODE, SQLIFT_CLIENTS_DIR};
}

class RealClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_real_clients_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_path_ = (dir_ / "app.db").string();
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string db_path_;
};

TEST_F(RealClientsTest, ThreeRuntimesCommitConcurrentlyToOneWalDatabase) {
  // CI installs node and better-sqlite3 (deploy/install-deps.sh): missing is a failure.
  Status ready = CheckRealClients(Paths());
  ASSERT_TRUE(ready.ok()) << ready.ToString();

  constexpr int kTransactions = 300;
  auto reports = testing::RunRealClients(Paths(), db_path_, dir_.string(),
                                         {{ClientRuntime::kPython, 11, kTransactions},
                                          {ClientRuntime::kShell, 12, kTransactions},
                                          {ClientRuntime::kNode, 13, kTransactions}});
  ASSERT_TRUE(reports.ok()) << reports.status().ToString();
  ASSERT_EQ(reports->size(), 3u);
  for (const testing::ClientReport& r : *reports) {
    EXPECT_EQ(r.transactions, kTransactions) << r.client;
    EXPECT_GE(r.row_changes, r.transactions) << r.client;
    EXPECT_GE(r.rollbacks, 0) << r.client;
    EXPECT_FALSE(r.sqlite_version.empty()) << r.client;
    RecordProperty(r.client + "_sqlite_version", r.sqlite_version);
    std::cout << r.client << ": SQLite " << r.sqlite_version << ", " << r.transactions
              << " transactions, " << r.rollbacks << " rolled back, " << r.row_changes
              << " row changes, " << r.busy_retries << " busy retries\n";
  }

  auto integrity = testing::QueryText(db_path_, "PRAGMA integrity_check");
  ASSERT_TRUE(integrity.ok()) << integrity.status().ToString();
  EXPECT_EQ(*integrity, "ok");
  auto mode = testing::QueryText(db_path_, "PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok()) << mode.status().ToString();
  EXPECT_EQ(*mode, "wal");

  auto got = testing::ReadCanonicalRows(db_path_);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto want = testing::ReadExpectedRows(*reports);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  EXPECT_FALSE(want->empty());
  EXPECT_EQ(testing::DescribeRowDifference(*got, *want), "");
}

}  // namespace
}  // namespace sqlift
