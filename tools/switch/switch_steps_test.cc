// The route write of a switch over a real SQLite database: in recorder mode the event's outbox
// seq; in wal capture mode a log seq that covers the route's transaction, named by the WAL
// barrier while the test plays the capture agent (one log seq per committed transaction of the
// WAL), and no route written at all when no agent keeps up.
#include "tools/switch/switch_steps.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "capture/outbox/outbox.h"
#include "capture/wal/testing/scratch_dir.h"
#include "capture/wal/wal_progress.h"
#include "capture/wal/wal_reader.h"

namespace sqlift::switching {
namespace {

class RouteWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.db = SqliteDb::Open(dir_.Path("app.db"), SqliteDb::Mode::kReadWriteCreate).value();
    ASSERT_TRUE(s_.db->Exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0").ok());
    ASSERT_TRUE(outbox::CreateTables(s_.db->handle()).ok());
  }
  void TearDown() override { StopAgent(); }

  // The committed transactions in the WAL, and the position after the last one.
  std::pair<uint64_t, wal::WalPosition> WalEnd() {
    auto file = wal::OpenPathForReading(dir_.Path("app.db-wal"));
    Result<wal::WalScan> scan = wal::ScanWal(*file, std::nullopt);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    return {scan->transactions.size(), scan->next};
  }
  // The capture agent, played: it republishes the WAL's end, one log seq per transaction,
  // until stopped.
  void StartAgent() {
    agent_ = std::thread([this] {
      while (!stop_) {
        auto [transactions, end] = WalEnd();
        wal::WalProgress p{end.header.salt1, end.header.salt2, end.frames, transactions, 1};
        ASSERT_TRUE(wal::WriteWalProgress(s_.wal_progress, p).ok());
        std::this_thread::yield();
      }
    });
  }
  void StopAgent() {
    stop_ = true;
    if (agent_.joinable()) agent_.join();
  }
  RouteRow Fence() {
    RouteRow row;
    row.tenant = "acme";
    row.epoch = 3;
    row.fenced = true;
    return row;
  }
  size_t Routes() { return ReadRoutes(s_.db->handle()).value().size(); }

  wal::testing::ScratchDir dir_;
  Config cfg_;
  SwitchOptions o_;
  SwitchReport r_;
  Switch s_{cfg_, o_, r_};
  std::atomic<bool> stop_{false};
  std::thread agent_;
};

TEST_F(RouteWriteTest, RecorderModeReturnsTheEventsOutboxSeq) {
  EXPECT_EQ(WriteRouteAt(s_, Fence()).value(), 1u);
  EXPECT_EQ(WriteRouteAt(s_, Fence()).value(), 2u);
}

TEST_F(RouteWriteTest, WalModeReturnsTheLogSeqThatCoversTheRoute) {
  s_.wal_progress = dir_.Path("wal-progress");
  const uint64_t before = WalEnd().first;
  StartAgent();
  Result<uint64_t> seq = WriteRouteAt(s_, Fence());
  StopAgent();
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, before + 1);  // the route's own transaction, the only one since
  EXPECT_EQ(Routes(), 1u);
}

TEST_F(RouteWriteTest, WalModeWithoutAnAgentWritesNoRoute) {
  s_.wal_progress = dir_.Path("wal-progress");
  s_.wal_barrier_timeout = std::chrono::milliseconds(20);
  Result<uint64_t> seq = WriteRouteAt(s_, Fence());
  EXPECT_EQ(seq.status().code(), Status::Code::kUnavailable);
  const std::string msg = seq.status().ToString();
  EXPECT_NE(msg.find("before the route write"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is `sqlift capture` running (capture mode wal)?"), std::string::npos) << msg;
  EXPECT_EQ(Routes(), 0u);
}

}  // namespace
}  // namespace sqlift::switching
