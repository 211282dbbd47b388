// The WAL progress file: a round trip of every field (at their extremes), an absent file, and
// files that are not a progress line (truncated, another version, junk) refused as Corruption.
#include "capture/wal/wal_progress.h"

#include <gtest/gtest.h>

#include <fstream>

#include "capture/wal/testing/scratch_dir.h"

namespace sqlift::wal {
namespace {

class WalProgressTest : public ::testing::Test {
 protected:
  void WriteText(const std::string& text) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
  }
  Status::Code ReadCode() {
    Result<std::optional<WalProgress>> p = ReadWalProgress(path_);
    return p.status().code();
  }

  testing::ScratchDir dir_;
  std::string path_ = WalProgressPath(dir_.Path("state"));
};

TEST_F(WalProgressTest, PathIsInTheStateDirectory) {
  EXPECT_EQ(WalProgressPath("/var/lib/sqlift"), "/var/lib/sqlift/wal-progress");
}

TEST_F(WalProgressTest, RoundTripsEveryField) {
  std::filesystem::create_directories(dir_.Path("state"));
  WalProgress p{0xFFFFFFFFu, 7, 123456789012ull, UINT64_MAX, -5};
  ASSERT_TRUE(WriteWalProgress(path_, p).ok());
  Result<std::optional<WalProgress>> read = ReadWalProgress(path_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, p);
  // A rewrite replaces the line whole, and leaves no temporary file behind.
  WalProgress q{1, 2, 3, 4, 1700000000000000};
  ASSERT_TRUE(WriteWalProgress(path_, q).ok());
  EXPECT_EQ(ReadWalProgress(path_).value(), q);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  std::ifstream in(path_);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "sqlift-wal-progress 1 1 2 3 4 1700000000000000");
}

TEST_F(WalProgressTest, AnAbsentFileIsNoProgress) {
  Result<std::optional<WalProgress>> read = ReadWalProgress(path_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->has_value());
}

TEST_F(WalProgressTest, AnUnparsableFileIsCorruption) {
  std::filesystem::create_directories(dir_.Path("state"));
  for (const std::string& text :
       {std::string(""), std::string("sqlift-wal-progress 1 1 2 3 4 5"),  // no line end: torn
        std::string("sqlift-wal-progress 2 1 2 3 4 5\n"),                 // another version
        std::string("sqlift-wal-progress 1 1 2 3 4\n"),                   // a field missing
        std::string("sqlift-wal-progress 1 1 2 3 4 5 6\n"),               // one too many
        std::string("sqlift-wal-progress 1 4294967296 2 3 4 5\n"),        // salt past 32 bits
        std::string("sqlift-wal-progress 1 1 2 -3 4 5\n"),                // negative frames
        std::string("sqlift-wal-progress 1 1 2 3 x 5\n"),                 // not a number
        std::string("sqlift-wal-progress  1 1 2 3 4 5\n"),                // two spaces
        std::string("hello\n"), std::string(5000, 'x')}) {
    WriteText(text);
    EXPECT_EQ(ReadCode(), Status::Code::kCorruption) << text;
  }
  WriteText("sqlift-wal-progress 1 1 2 3 x 5\n");
  Result<std::optional<WalProgress>> read = ReadWalProgress(path_);
  EXPECT_NE(read.status().message().find(path_), std::string::npos) << read.status().ToString();
  EXPECT_NE(read.status().message().find("logged_seq"), std::string::npos);
}

TEST_F(WalProgressTest, AnUnwritableDirectoryIsAnError) {
  Status st = WriteWalProgress(dir_.Path("no/such/dir/wal-progress"), WalProgress{});
  EXPECT_EQ(st.code(), Status::Code::kIOError) << st.ToString();
}

}  // namespace
}  // namespace sqlift::wal
