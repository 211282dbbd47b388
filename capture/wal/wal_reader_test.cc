// WAL reader: committed transactions only, the valid log ending at the first bad frame,
// resuming from a position, and a restarted WAL reported as such. WALs built byte by byte
// (testing/wal_builder.h) and WALs written by SQLite itself.
#include "capture/wal/wal_reader.h"

#include <gtest/gtest.h>

#include "capture/wal/testing/wal_builder.h"

namespace sqlift::wal {
namespace {

using testing::WalBuilder;

// Three transactions: frames 0-1 (commit at 1), frame 2, frames 3-5.
WalBuilder ThreeTransactions(bool big_endian) {
  WalBuilder b(512, big_endian, 0x11223344, 0x55667788, 3);
  b.AddFrame(1, 0, 'a');
  b.AddFrame(2, 2, 'b');
  b.AddFrame(2, 2, 'c');
  b.AddFrame(3, 0, 'd');
  b.AddFrame(1, 0, 'e');
  b.AddFrame(4, 4, 'f');
  return b;
}

WalScan MustScan(RandomAccessFile& f, const std::optional<WalPosition>& from = std::nullopt,
                 size_t max = SIZE_MAX) {
  Result<WalScan> scan = ScanWal(f, from, max);
  EXPECT_TRUE(scan.ok()) << scan.status().ToString();
  return scan.ok() ? std::move(scan).value() : WalScan{};
}

TEST(WalReaderTest, YieldsCommittedTransactionsInBothByteOrders) {
  for (bool big_endian : {false, true}) {
    StringFile f(ThreeTransactions(big_endian).bytes());
    WalScan scan = MustScan(f);
    EXPECT_EQ(scan.continuity, WalContinuity::kStart);
    ASSERT_EQ(scan.transactions.size(), 3u) << scan.stop_reason;
    EXPECT_EQ(scan.transactions[0].frames.size(), 2u);
    EXPECT_EQ(scan.transactions[0].frames[1].page, std::string(512, 'b'));
    EXPECT_EQ(scan.transactions[1].frames[0].index, 2u);
    EXPECT_EQ(scan.transactions[2].frames[2].page_number, 4u);
    EXPECT_EQ(scan.transactions[2].db_size_pages, 4u);
    EXPECT_EQ(scan.stop, WalStop::kEndOfFile);
    EXPECT_EQ(scan.next.frames, 6u);
  }
}

TEST(WalReaderTest, UncommittedTailIsNotYieldedUntilItsCommitArrives) {
  WalBuilder b = ThreeTransactions(false);
  b.AddFrame(5, 0, 'g');
  StringFile f(b.bytes());
  WalScan first = MustScan(f);
  EXPECT_EQ(first.transactions.size(), 3u);
  EXPECT_EQ(first.stop, WalStop::kUncommitted);
  EXPECT_EQ(first.stop_frame, 6u);
  b.AddFrame(6, 6, 'h');
  f.bytes() = b.bytes();
  WalScan second = MustScan(f, first.next);
  EXPECT_EQ(second.continuity, WalContinuity::kContinues);
  ASSERT_EQ(second.transactions.size(), 1u);
  EXPECT_EQ(second.transactions[0].frames.front().index, 6u);
  EXPECT_EQ(second.transactions[0].frames.back().page_number, 6u);
}

TEST(WalReaderTest, LimitStopsOnATransactionBoundaryAndResumes) {
  StringFile f(ThreeTransactions(false).bytes());
  WalScan one = MustScan(f, std::nullopt, 1);
  ASSERT_EQ(one.transactions.size(), 1u);
  EXPECT_EQ(one.stop, WalStop::kLimit);
  WalScan rest = MustScan(f, one.next);
  EXPECT_EQ(rest.transactions.size(), 2u);
  EXPECT_EQ(rest.transactions[0].frames[0].index, 2u);
}

TEST(WalReaderTest, BadChecksumEndsTheLogEvenWhenLaterFramesAreValid) {
  WalBuilder b = ThreeTransactions(false);
  std::string bytes = b.bytes();
  bytes[b.FrameOffset(2) + 24 + 100] ^= 1;  // page data of frame 2
  StringFile f(bytes);
  WalScan scan = MustScan(f);
  EXPECT_EQ(scan.transactions.size(), 1u);
  EXPECT_EQ(scan.stop, WalStop::kBadChecksum);
  EXPECT_EQ(scan.stop_frame, 2u);
  EXPECT_NE(scan.stop_reason.find("frame 2"), std::string::npos) << scan.stop_reason;
}

TEST(WalReaderTest, FramesOfAnOlderGenerationEndTheLog) {
  WalBuilder old_wal = ThreeTransactions(false);
  WalBuilder fresh(512, false, 0x11223345, 0x01020304, 4);
  fresh.AddFrame(7, 7, 'x');
  std::string bytes = old_wal.bytes();
  bytes.replace(0, fresh.bytes().size(), fresh.bytes());
  StringFile f(bytes);
  WalScan scan = MustScan(f);
  ASSERT_EQ(scan.transactions.size(), 1u);
  EXPECT_EQ(scan.transactions[0].frames[0].page_number, 7u);
  EXPECT_EQ(scan.stop, WalStop::kSaltMismatch);
  EXPECT_EQ(scan.stop_frame, 1u);
}

TEST(WalReaderTest, TornFrameAndZeroPageEndTheLog) {
  WalBuilder b = ThreeTransactions(true);
  StringFile torn(b.bytes().substr(0, b.FrameOffset(5) + 100));
  WalScan scan = MustScan(torn);
  EXPECT_EQ(scan.transactions.size(), 2u);
  EXPECT_EQ(scan.stop, WalStop::kTornFrame);
  EXPECT_EQ(scan.stop_frame, 5u);

  WalBuilder z(1024, false, 1, 2);
  z.AddFrame(1, 1, 'a');
  z.AddFrame(0, 1, 'b');  // a correct checksum, but page 0
  StringFile zero(z.bytes());
  scan = MustScan(zero);
  EXPECT_EQ(scan.transactions.size(), 1u);
  EXPECT_EQ(scan.stop, WalStop::kZeroPageNumber);
}

TEST(WalReaderTest, RestartedWalIsReportedAndNothingIsRead) {
  StringFile f(ThreeTransactions(false).bytes());
  WalScan first = MustScan(f);
  WalBuilder fresh(512, false, 0x11223345, 0x01020304, 4);
  fresh.AddFrame(1, 1, 'y');
  f.bytes() = fresh.bytes();
  WalScan restarted = MustScan(f, first.next);
  EXPECT_EQ(restarted.continuity, WalContinuity::kRestarted);
  EXPECT_TRUE(restarted.transactions.empty());
  EXPECT_EQ(restarted.next.frames, 0u);
  WalScan after = MustScan(f, restarted.next);
  EXPECT_EQ(after.continuity, WalContinuity::kContinues);
  EXPECT_EQ(after.transactions.size(), 1u);
}

TEST(WalReaderTest, WalCutBelowThePositionIsARestart) {
  WalBuilder b = ThreeTransactions(false);
  StringFile f(b.bytes());
  WalScan first = MustScan(f);
  f.bytes().resize(b.FrameOffset(3));
  EXPECT_EQ(MustScan(f, first.next).continuity, WalContinuity::kRestarted);
}

TEST(WalReaderTest, NoValidHeaderReadsNothing) {
  StringFile empty("");
  EXPECT_EQ(MustScan(empty).continuity, WalContinuity::kNoLog);
  std::string bytes = ThreeTransactions(false).bytes();
  bytes[9] ^= 1;  // page size: header checksum and size both wrong
  StringFile bad(bytes);
  WalScan scan = MustScan(bad);
  EXPECT_EQ(scan.continuity, WalContinuity::kNoLog);
  EXPECT_TRUE(scan.transactions.empty());
}

TEST(WalReaderTest, ChecksumMatchesTheFormatsDefinition) {
  // Two words, little-endian: s0 = 1 + 0, s1 = 2 + 1.
  std::string le("\x01\0\0\0\x02\0\0\0", 8);
  EXPECT_EQ(WalChecksumBytes(le, false, {}), (WalChecksum{1, 3}));
  EXPECT_EQ(WalChecksumBytes(le, true, {}), (WalChecksum{0x01000000, 0x03000000}));
  // Carries across calls and wraps.
  EXPECT_EQ(WalChecksumBytes(le, false, {0xffffffff, 0}), (WalChecksum{0, 2}));
}

// The format's definition word by word, each word assembled from its bytes.
WalChecksum ReferenceChecksum(std::string_view b, bool big_endian, WalChecksum sum) {
  auto word = [&](size_t i) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const uint32_t byte = static_cast<uint8_t>(b[i + (big_endian ? k : 3 - k)]);
      v = v << 8 | byte;
    }
    return v;
  };
  for (size_t i = 0; i + 8 <= b.size(); i += 8) {
    sum.s0 += word(i) + sum.s1;
    sum.s1 += word(i + 4) + sum.s0;
  }
  return sum;
}

TEST(WalReaderTest, ChecksumOfWholePagesMatchesTheDefinitionInBothByteOrders) {
  std::string bytes(65536 + 24 + 1, '\0');
  uint32_t x = 0x9e3779b9;
  for (char& c : bytes) {
    x = x * 1664525 + 1013904223;
    c = static_cast<char>(x >> 24);
  }
  const std::string_view all(bytes);
  for (bool big_endian : {false, true}) {
    for (size_t size : {8u, 24u, 120u, 128u, 136u, 512u, 1000u, 4096u, 4099u, 4104u, 65536u}) {
      for (size_t at : {0u, 1u}) {  // an unaligned start too
        const std::string_view part = all.substr(at, size);
        const WalChecksum from{0x01020304, 0xfffffff0};
        EXPECT_EQ(WalChecksumBytes(part, big_endian, from),
                  ReferenceChecksum(part, big_endian, from))
            << size << " bytes at " << at << (big_endian ? ", big-endian" : ", little-endian");
      }
    }
  }
}

}  // namespace
}  // namespace sqlift::wal
