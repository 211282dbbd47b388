// WAL reader against WALs that SQLite itself writes: every committed transaction, in order,
// incrementally; a checkpoint-and-restart reported as a restart; read failures surfaced; and
// random damage to a real WAL never yielding a transaction at or past the damage.
#include <gtest/gtest.h>

#include <random>

#include "capture/wal/testing/faulty_file.h"
#include "capture/wal/testing/scratch_dir.h"
#include "capture/wal/wal_reader.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift::wal {
namespace {

class SqliteWalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::Open(dir_.Path("t.db"), SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    Exec("PRAGMA page_size=1024; PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
    Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  }
  void Exec(const std::string& sql) { ASSERT_TRUE(db_->Exec(sql).ok()) << sql; }
  void Insert(int n) {
    for (int i = 0; i < n; ++i)
      Exec("INSERT INTO t(v) VALUES (randomblob(300))");
  }
  WalScan Scan(const std::optional<WalPosition>& from = std::nullopt) {
    auto file = OpenPathForReading(dir_.Path("t.db-wal"));
    Result<WalScan> scan = ScanWal(*file, from);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    return scan.ok() ? std::move(scan).value() : WalScan{};
  }
  std::string WalBytes() {
    auto file = OpenPathForReading(dir_.Path("t.db-wal"));
    return file->ReadAt(0, 1 << 24).value();
  }

  testing::ScratchDir dir_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(SqliteWalTest, EveryCommitIsOneTransactionAndResumingReadsOnlyNewOnes) {
  Insert(20);
  WalScan first = Scan();
  ASSERT_EQ(first.transactions.size(), 21u) << first.stop_reason;  // CREATE + 20 inserts
  EXPECT_EQ(first.stop, WalStop::kEndOfFile);
  EXPECT_EQ(first.next.header.page_size, 1024u);
  EXPECT_EQ(first.transactions.back().db_size_pages,
            static_cast<uint32_t>(db_->QueryInt64("PRAGMA page_count").value()));
  Insert(5);
  WalScan second = Scan(first.next);
  EXPECT_EQ(second.continuity, WalContinuity::kContinues);
  ASSERT_EQ(second.transactions.size(), 5u);
  EXPECT_EQ(second.transactions[0].frames[0].index, first.next.frames);
}

TEST_F(SqliteWalTest, CheckpointRestartIsReportedAsARestart) {
  Insert(3);
  WalScan first = Scan();
  Insert(2);  // read by no one before the restart: the gap the caller must repair
  Exec("PRAGMA wal_checkpoint(RESTART)");
  Insert(1);
  WalScan scan = Scan(first.next);
  EXPECT_EQ(scan.continuity, WalContinuity::kRestarted);
  EXPECT_TRUE(scan.transactions.empty());
  WalScan after = Scan(scan.next);
  EXPECT_EQ(after.transactions.size(), 1u) << after.stop_reason;
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  EXPECT_EQ(Scan(after.next).continuity, WalContinuity::kNoLog);
}

TEST_F(SqliteWalTest, ReadFailureIsAnErrorAndShortReadsYieldNothingPastThem) {
  Insert(4);
  std::string bytes = WalBytes();
  for (int n = 1; n <= 8; ++n) {
    testing::FaultyFile f(bytes);
    f.FailReadNumber(n);
    Result<WalScan> scan = ScanWal(f, std::nullopt);
    ASSERT_FALSE(scan.ok());
    EXPECT_TRUE(scan.status().Retryable());
  }
  WalScan whole = Scan();
  for (uint64_t visible = 0; visible < bytes.size(); visible += 997) {
    testing::FaultyFile f(bytes);
    f.VisibleBytes(visible);
    WalScan scan = ScanWal(f, std::nullopt).value();
    for (const WalTransaction& t : scan.transactions) {
      uint64_t end = 32 + t.end.frames * (24 + 1024);
      EXPECT_LE(end, visible);
    }
    ASSERT_LE(scan.transactions.size(), whole.transactions.size());
  }
}

// The frame index holding byte `offset` of the file (the header counts as frame 0).
uint64_t FrameOf(uint64_t offset, uint32_t page_size) {
  return offset < 32 ? 0 : (offset - 32) / (24 + page_size);
}

TEST_F(SqliteWalTest, RandomDamageNeverYieldsATransactionAtOrPastIt) {
  Insert(30);
  std::string bytes = WalBytes();
  WalScan whole = Scan();
  uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (int round = 0; round < 300; ++round) {
    std::string damaged = bytes;
    uint64_t first = damaged.size();
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      uint64_t at = rng() % damaged.size();
      damaged[at] = static_cast<char>(damaged[at] ^ (1 + rng() % 255));
      first = std::min(first, at);
    }
    if (rng() % 4 == 0) {
      uint64_t cut = rng() % damaged.size();
      damaged.resize(cut);
      first = std::min(first, cut);
    }
    StringFile f(damaged);
    WalScan scan = ScanWal(f, std::nullopt).value();
    ASSERT_LE(scan.transactions.size(), whole.transactions.size());
    for (size_t i = 0; i < scan.transactions.size(); ++i) {
      const WalTransaction& t = scan.transactions[i];
      ASSERT_LT(t.frames.back().index, FrameOf(first, 1024)) << "round " << round;
      ASSERT_EQ(t.end.frames, whole.transactions[i].end.frames);
      ASSERT_EQ(t.frames.back().page, whole.transactions[i].frames.back().page);
    }
  }
}

}  // namespace
}  // namespace sqlift::wal
