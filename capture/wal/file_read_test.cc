// Reading the database and WAL files. OpenPathForReading: the file at a path as it is at
// each read, though kept open between reads: truncated, grown, replaced by rename, deleted and
// created again, renamed away. PageStore: database-file pages cached until DropFileCache.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "capture/wal/page_store.h"
#include "capture/wal/random_access_file.h"
#include "capture/wal/testing/scratch_dir.h"

namespace sqlift::wal {
namespace {

class PathFileTest : public ::testing::Test {
 protected:
  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_.Path(name), std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string Read(uint64_t offset, size_t n) {
    Result<std::string> r = file_->ReadAt(offset, n);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "<error>";
  }

  testing::ScratchDir dir_;
  std::unique_ptr<RandomAccessFile> file_ = OpenPathForReading(dir_.Path("f"));
};

TEST_F(PathFileTest, AnAbsentFileReadsAsEmptyUntilItIsCreated) {
  EXPECT_EQ(Read(0, 4), "");
  Write("f", "abcdef");
  EXPECT_EQ(Read(0, 4), "abcd");
  EXPECT_EQ(Read(4, 4), "ef");
  EXPECT_EQ(Read(9, 4), "");
}

TEST_F(PathFileTest, TruncatedAndGrownInPlaceIsSeenAsItIsNow) {
  Write("f", "abcdef");
  EXPECT_EQ(Read(0, 6), "abcdef");
  Write("f", "xy");  // the same file, truncated
  EXPECT_EQ(Read(0, 6), "xy");
  std::ofstream(dir_.Path("f"), std::ios::binary | std::ios::app) << "z123";
  EXPECT_EQ(Read(0, 6), "xyz123");
}

TEST_F(PathFileTest, AFileRenamedOverThePathIsReadAtOnce) {
  Write("f", "old file bytes");
  EXPECT_EQ(Read(0, 3), "old");
  Write("g", "new file, longer than the old one");
  ASSERT_EQ(std::rename(dir_.Path("g").c_str(), dir_.Path("f").c_str()), 0);
  EXPECT_EQ(Read(0, 3), "new");  // no short read: the unlinked old file is noticed first
}

TEST_F(PathFileTest, ADeletedFileReadsAsEmptyThenAsTheNewFile) {
  Write("f", "first");
  EXPECT_EQ(Read(0, 5), "first");
  ASSERT_EQ(std::remove(dir_.Path("f").c_str()), 0);
  EXPECT_EQ(Read(0, 5), "");
  Write("f", "second");
  EXPECT_EQ(Read(0, 6), "second");
}

TEST_F(PathFileTest, AFileRenamedAwayIsLeftOnAShortRead) {
  Write("f", "kept");
  EXPECT_EQ(Read(0, 4), "kept");
  ASSERT_EQ(std::rename(dir_.Path("f").c_str(), dir_.Path("elsewhere").c_str()), 0);
  Write("f", "a new, longer file");
  EXPECT_EQ(Read(0, 10), "a new, lon");  // the old file is still linked, but 4 bytes long
  ASSERT_EQ(std::remove(dir_.Path("f").c_str()), 0);
  ASSERT_EQ(std::rename(dir_.Path("elsewhere").c_str(), dir_.Path("f").c_str()), 0);
  EXPECT_EQ(Read(0, 10), "kept");
}

TEST(PageStoreTest, DropFileCacheReadsFilePagesAgainAndKeepsAppliedFrames) {
  std::string bytes = std::string(512, 'a') + std::string(512, 'b') + std::string(512, 'c');
  bytes[28] = bytes[29] = bytes[30] = 0;  // header: the database is 3 pages long
  bytes[31] = 3;
  StringFile file(bytes);
  Result<PageStore> store = PageStore::ForDatabaseFile(file, 512);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_EQ(store->page_count(), 3u);
  WalTransaction txn;
  txn.frames.push_back({0, 3, std::string(512, 'w')});
  txn.db_size_pages = 3;
  store->Apply(txn);
  EXPECT_EQ(store->Get(2).value(), std::string(512, 'b'));
  file.bytes().replace(512, 1024, std::string(1024, 'x'));  // as a checkpoint would
  EXPECT_EQ(store->Get(2).value(), std::string(512, 'b'));  // cached
  store->DropFileCache();
  EXPECT_EQ(store->Get(2).value(), std::string(512, 'x'));
  EXPECT_EQ(store->Get(3).value(), std::string(512, 'w'));  // the frame, not the file
}

}  // namespace
}  // namespace sqlift::wal
