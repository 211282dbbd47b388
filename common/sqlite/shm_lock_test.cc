// CheckpointLockHeld against a lock another process (a forked child) takes on the -shm file as
// SQLite's unix VFS does: an exclusive lock on the checkpoint byte is seen, a shared one, a
// lock on another byte and this process's own checkpoint are not.
#include "common/sqlite/shm_lock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/sqlite/sqlite_db.h"

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

  // A child that takes `type` on `byte` of the -shm file and holds it until the returned
  // pipe closes; returns the child's pid once the lock is taken.
  pid_t HoldInChild(short type, off_t byte, int* release) {
    int ready[2], hold[2];
    if (pipe(ready) != 0 || pipe(hold) != 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
      close(ready[0]);
      close(hold[1]);
      const int fd = open((path_ + "-shm").c_str(), O_RDWR);
      struct flock l {};
      l.l_type = type;
      l.l_whence = SEEK_SET;
      l.l_start = byte;
      l.l_len = 1;
      const char ok = (fd >= 0 && fcntl(fd, F_SETLK, &l) == 0) ? 'y' : 'n';
      if (write(ready[1], &ok, 1) != 1) _exit(2);
      char c;
      while (read(hold[0], &c, 1) > 0) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char ok = 'n';
    if (read(ready[0], &ok, 1) != 1 || ok != 'y') ADD_FAILURE() << "the child took no lock";
    close(ready[0]);
    *release = hold[1];
    return pid;
  }
  static void Release(pid_t pid, int release) {
    close(release);
    int status = 0;
    waitpid(pid, &status, 0);
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(ShmLockTest, AnExclusiveLockOfAnotherProcessOnTheCheckpointByteIsSeen) {
  auto held = CheckpointLockHeld(path_);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_FALSE(*held);
  int release = -1;
  const pid_t pid = HoldInChild(F_WRLCK, kCheckpointLockByte, &release);
  ASSERT_GT(pid, 0);
  held = CheckpointLockHeld(path_);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_TRUE(*held);
  Release(pid, release);
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
    int release = -1;
    const pid_t pid = HoldInChild(type, byte, &release);
    ASSERT_GT(pid, 0);
    auto held = CheckpointLockHeld(path_);
    Release(pid, release);
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
