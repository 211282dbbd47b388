// The WAL barrier against a real database in WAL mode, the test playing the capture agent (it
// computes the WAL's end with the WAL reader and writes the progress file for it): the seq of
// the progress that accounts for the WAL's end, writers held out only while it runs, an agent
// catching up while the barrier waits, a progress file past the end, a clear timeout, a
// restarted and an empty WAL, the lock released on every path; and the snapshot reader opened
// through it.
#include "capture/snapshot/wal_barrier.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "capture/outbox/outbox.h"
#include "capture/snapshot/snapshot_reader.h"
#include "capture/wal/testing/scratch_dir.h"
#include "capture/wal/wal_progress.h"
#include "capture/wal/wal_reader.h"
#include "common/base/clock.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_schema.h"

namespace sqlift {
namespace {

using wal::WalPosition;

class WalBarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = SqliteDb::Open(db_path_, SqliteDb::Mode::kReadWriteCreate).value();
    Exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
    Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    reader_ = SqliteDb::Open(db_path_, SqliteDb::Mode::kReadOnly).value();
  }
  void Exec(const std::string& sql) { ASSERT_TRUE(writer_->Exec(sql).ok()) << sql; }
  void Insert(int n) {
    for (int i = 0; i < n; ++i)
      Exec("INSERT INTO t(v) VALUES (randomblob(100))");
  }

  // What the agent computes: the position just after the WAL's last commit frame.
  WalPosition WalEnd() {
    auto file = wal::OpenPathForReading(db_path_ + "-wal");
    Result<wal::WalScan> scan = wal::ScanWal(*file, std::nullopt);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    EXPECT_EQ(scan->continuity, wal::WalContinuity::kStart);
    return scan->next;
  }
  // The agent's progress: the WAL decoded up to `end` and logged up to `seq`.
  void Publish(const WalPosition& end, uint64_t seq) {
    wal::WalProgress p{end.header.salt1, end.header.salt2, end.frames, seq, 1};
    ASSERT_TRUE(wal::WriteWalProgress(progress_, p).ok());
  }

  // The caller's snapshot: BEGIN and a first read on reader_, which sees `seen_` rows.
  Status BeginRead() {
    SQLIFT_RETURN_IF_ERROR(reader_->Exec("BEGIN"));
    SQLIFT_ASSIGN_OR_RETURN(seen_, reader_->QueryInt64("SELECT count(*) FROM t"));
    return Status::OK();
  }
  Result<uint64_t> Barrier(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return RunWalBarrier({db_path_, progress_, timeout}, [this] { return BeginRead(); });
  }
  // Whether another connection can commit now, without waiting for the lock.
  bool CanWrite() {
    auto db = SqliteDb::Open(db_path_, SqliteDb::Mode::kReadWrite, std::chrono::milliseconds(0));
    return db.ok() && (*db)->Exec("INSERT INTO t(v) VALUES ('other')").ok();
  }
  int64_t Rows(SqliteDb& db) { return db.QueryInt64("SELECT count(*) FROM t").value(); }

  wal::testing::ScratchDir dir_;
  const std::string db_path_ = dir_.Path("app.db");
  const std::string progress_ = dir_.Path("wal-progress");
  std::unique_ptr<SqliteDb> writer_, reader_;
  int64_t seen_ = -1;
};

TEST_F(WalBarrierTest, NamesTheLoggedSeqOfTheWalEnd) {
  Insert(3);
  Publish(WalEnd(), 42);
  Result<uint64_t> seq = Barrier();
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 42u);
  EXPECT_EQ(seen_, 3);
  // The lock is gone; the caller's snapshot stays where the barrier named it.
  EXPECT_TRUE(CanWrite());
  EXPECT_EQ(Rows(*reader_), 3);
  ASSERT_TRUE(reader_->Exec("ROLLBACK").ok());
  EXPECT_EQ(Rows(*reader_), 4);
}

TEST_F(WalBarrierTest, WritersWaitOnlyWhileTheBarrierRuns) {
  Insert(1);
  Publish(WalEnd(), 7);
  bool could_write_inside = true;
  Result<uint64_t> seq = RunWalBarrier({db_path_, progress_}, [&] {
    could_write_inside = CanWrite();
    return BeginRead();
  });
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_FALSE(could_write_inside);
  EXPECT_TRUE(CanWrite());
}

TEST_F(WalBarrierTest, TheAgentCatchesUpWhileTheBarrierWaits) {
  Insert(2);
  Publish(WalEnd(), 5);
  Insert(3);  // committed, not yet logged: the progress above is behind the WAL's end
  // The stand-in agent logs the rest once it sees the barrier hold the write lock.
  std::thread agent([this] {
    auto db = SqliteDb::Open(db_path_, SqliteDb::Mode::kReadWrite, std::chrono::milliseconds(0));
    ASSERT_TRUE(db.ok());
    while ((*db)->Exec("BEGIN IMMEDIATE").ok()) {
      (void)(*db)->Exec("ROLLBACK");
      std::this_thread::yield();
    }
    Publish(WalEnd(), 8);
  });
  Result<uint64_t> seq = RunWalBarrier({db_path_, progress_}, [&] { return BeginRead(); });
  agent.join();
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 8u);
  EXPECT_EQ(seen_, 5);
}

TEST_F(WalBarrierTest, AProgressPastTheWalEndIsAnInternalError) {
  Insert(2);
  WalPosition end = WalEnd();
  WalPosition past = end;
  past.frames += 3;
  Publish(past, 9);
  Result<uint64_t> seq = Barrier();
  EXPECT_EQ(seq.status().code(), Status::Code::kInternal) << seq.status().ToString();
  const std::string msg = seq.status().ToString();
  EXPECT_NE(msg.find("frame " + std::to_string(past.frames)), std::string::npos) << msg;
  EXPECT_NE(msg.find("frame " + std::to_string(end.frames)), std::string::npos) << msg;
  EXPECT_TRUE(CanWrite());
}

TEST_F(WalBarrierTest, TimesOutClearlyWhenNoAgentLogs) {
  Insert(1);
  WalPosition end = WalEnd();
  // No agent has ever published: the barrier waits for one without holding writers, and says
  // so; the caller's read was never begun.
  Result<uint64_t> seq = Barrier(std::chrono::milliseconds(20));
  EXPECT_EQ(seq.status().code(), Status::Code::kUnavailable);
  std::string msg = seq.status().ToString();
  EXPECT_NE(msg.find("has published no WAL progress"), std::string::npos) << msg;
  EXPECT_NE(msg.find("within 20 ms: is `sqlift capture` running (capture mode wal)?"),
            std::string::npos)
      << msg;
  EXPECT_TRUE(CanWrite());
  // An agent left behind in the same generation: a timeout under the lock, naming where the
  // agent stands and where the WAL ends (CanWrite moved it).
  end = WalEnd();
  WalPosition behind = end;
  behind.frames -= 1;
  Publish(behind, 3);
  seq = Barrier(std::chrono::milliseconds(20));
  EXPECT_EQ(seq.status().code(), Status::Code::kUnavailable);
  msg = seq.status().ToString();
  EXPECT_NE(msg.find(fmt::format("has not logged the WAL up to frame {} of generation {}/{} "
                                 "within 20 ms: is `sqlift capture` running (capture mode wal)?",
                                 end.frames, end.header.salt1, end.header.salt2)),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find(fmt::format("shows frame {}", behind.frames)), std::string::npos) << msg;
  EXPECT_TRUE(CanWrite());
}

TEST_F(WalBarrierTest, ARestartedWalCountsInItsNewGenerationOnly) {
  Insert(5);
  WalPosition old_end = WalEnd();
  Publish(old_end, 5);
  Exec("PRAGMA wal_checkpoint(RESTART)");
  Insert(1);  // restarts the WAL: a new header, the old generation's later frames left behind
  WalPosition end = WalEnd();
  ASSERT_NE(end.header.salt1, old_end.header.salt1);
  ASSERT_LT(end.frames, old_end.frames);
  // The old generation's progress, past the new end in frames, is an agent not caught up yet.
  Result<uint64_t> seq = Barrier(std::chrono::milliseconds(20));
  EXPECT_EQ(seq.status().code(), Status::Code::kUnavailable) << seq.status().ToString();
  Publish(end, 6);
  seq = Barrier();
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 6u);
  EXPECT_EQ(seen_, 6);
}

TEST_F(WalBarrierTest, AnEmptyWalTakesAProgressWrittenUnderTheLock) {
  Insert(2);
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_EQ(std::filesystem::file_size(db_path_ + "-wal"), 0u);
  Result<uint64_t> none = Barrier(std::chrono::milliseconds(20));
  EXPECT_EQ(none.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(none.status().message().find("published no WAL progress"), std::string::npos)
      << none.status().ToString();
  // A progress from before the lock may be a stopped agent's: not enough with an empty WAL.
  wal::WalProgress earlier{11, 12, 77, 13, 1};  // the generation the checkpoint emptied
  ASSERT_TRUE(wal::WriteWalProgress(progress_, earlier).ok());
  Result<uint64_t> stale = Barrier(std::chrono::milliseconds(20));
  EXPECT_EQ(stale.status().code(), Status::Code::kUnavailable) << stale.status().ToString();
  // A running agent publishes after every drain, with nothing to decode too.
  std::atomic<bool> stop{false};
  std::thread agent([&] {
    while (!stop.load()) {
      earlier.written_at_us = NowMicros();
      ASSERT_TRUE(wal::WriteWalProgress(progress_, earlier).ok());
      std::this_thread::yield();
    }
  });
  Result<uint64_t> seq = Barrier();
  stop.store(true);
  agent.join();
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 13u);
  EXPECT_EQ(seen_, 2);
}

TEST_F(WalBarrierTest, AFailedReadReleasesTheLock) {
  Insert(1);
  Publish(WalEnd(), 1);
  Result<uint64_t> seq =
      RunWalBarrier({db_path_, progress_}, [] { return Status::Aborted("reader gone"); });
  EXPECT_EQ(seq.status().code(), Status::Code::kAborted);
  EXPECT_NE(seq.status().ToString().find("reader gone"), std::string::npos);
  EXPECT_TRUE(CanWrite());
}

TEST_F(WalBarrierTest, LoggedSeqNowReadsTheProgressFile) {
  EXPECT_EQ(LoggedSeqNow(progress_).status().code(), Status::Code::kUnavailable);
  Insert(1);
  Publish(WalEnd(), 31);
  EXPECT_EQ(LoggedSeqNow(progress_).value(), 31u);
}

TEST_F(WalBarrierTest, TheSnapshotReaderOpensThroughTheBarrier) {
  Insert(4);
  Publish(WalEnd(), 21);
  SnapshotOptions o;
  o.wal_progress_path = progress_;
  auto reader = SnapshotReader::Open(db_path_, o);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->snapshot_seq(), 21);
  Insert(1);  // after the barrier: not in the snapshot
  TableSchema t = ReadTableSchema(*writer_, "t").value();
  EXPECT_EQ((*reader)->CountRows(t).value(), 4);
  EXPECT_TRUE((*reader)->Close().ok());
}

TEST_F(WalBarrierTest, SnapshotOptionsFollowTheCaptureMode) {
  Result<SnapshotOptions> o = SnapshotOptionsFor(db_path_, "", "verify");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->wal_progress_path, "");  // never initialised: the outbox's high-water mark
  ASSERT_TRUE(outbox::CreateTables(writer_->handle()).ok());
  EXPECT_EQ(SnapshotOptionsFor(db_path_, "/s", "verify")->wal_progress_path, "");
  Exec("INSERT INTO _sqlift_state (key, value) VALUES ('capture_mode', 'wal')");
  o = SnapshotOptionsFor(db_path_, "", "verify");
  EXPECT_EQ(o.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(o.status().message().find("verify needs [state] dir"), std::string::npos)
      << o.status().ToString();
  EXPECT_EQ(SnapshotOptionsFor(db_path_, "/s", "verify")->wal_progress_path, "/s/wal-progress");
}

}  // namespace
}  // namespace sqlift
