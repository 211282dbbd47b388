// CheckpointLockHeld against a lock another process (a forked child) takes on the -shm file as
// SQLite's unix VFS does: an exclusive lock on the checkpoint byte is seen, a shared one, a
// lock on another byte and this process's own checkpoint are not.
#include "common/sqlite/shm_lock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/testing/shm_lock_holder.h"

namespace sqlift {
namespace {

class ShmLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_shm_lock_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "a.db").string();
    auto db = SqliteDb::Open(path_, SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(
        db_->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t (a); INSERT INTO t VALUES (1)").ok());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(ShmLockTest, AnExclusiveLockOfAnotherProcessOnTheCheckpointByteIsSeen) {
  auto held = CheckpointLockHeld(path_);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_FALSE(*held);
  testing::ShmLockHolder child(path_, F_WRLCK, kCheckpointLockByte);
  ASSERT_TRUE(child.ok()) << "the child took no lock";
  held = CheckpointLockHeld(path_);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_TRUE(*held);
  child.Release();
  held = CheckpointLockHeld(path_);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_FALSE(*held);
  // This process's connection still reads: the probe dropped none of its locks.
  EXPECT_EQ(*db_->QueryInt64("SELECT count(*) FROM t"), 1);
}

TEST_F(ShmLockTest, ASharedLockOrAnotherByteIsNoCheckpoint) {
  for (const auto& [type, byte] : {std::pair<short, off_t>{F_RDLCK, kCheckpointLockByte},
                                   std::pair<short, off_t>{F_WRLCK, kCheckpointLockByte + 1},
                                   std::pair<short, off_t>{F_WRLCK, kCheckpointLockByte - 1}}) {
    testing::ShmLockHolder child(path_, type, byte);
    ASSERT_TRUE(child.ok()) << "the child took no lock";
    auto held = CheckpointLockHeld(path_);
    child.Release();
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    EXPECT_FALSE(*held) << "lock type " << type << " on byte " << byte;
  }
}

TEST_F(ShmLockTest, ThisProcesssOwnCheckpointIsNotReported) {
  // SQLite's own lock bytes as this process's connection takes them: a checkpoint of ours.
  ASSERT_TRUE(db_->Exec("PRAGMA wal_checkpoint").ok());
  auto held = CheckpointLockHeld(path_);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_FALSE(*held);
}

TEST_F(ShmLockTest, NoDescriptorOfThisProcessIsAnError) {
  db_.reset();  // the last connection: it may remove the -shm file, which is made again
  { std::ofstream(path_ + "-shm") << ""; }
  auto held = CheckpointLockHeld(path_);
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.status().code(), Status::Code::kFailedPrecondition) << held.status().ToString();
}

}  // namespace
}  // namespace sqlift
