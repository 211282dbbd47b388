// Tests of FrameDecoder: arbitrary splits, truncation, limits, and random input.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>

#include "proto/wire/frame_codec.h"
#include "proto/wire/frame_test_util.h"

// Outside sanitizers, record the largest single allocation, to show that a header's claim
// is never allocated. (Sanitizers bring their own operator new.)
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SQLIFT_NO_ALLOCATION_TRACKING
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SQLIFT_NO_ALLOCATION_TRACKING
#endif

namespace {
std::atomic<size_t> g_largest_allocation{0};
#ifdef SQLIFT_NO_ALLOCATION_TRACKING
constexpr bool kTrackingAllocations = false;
#else
constexpr bool kTrackingAllocations = true;
#endif
}  // namespace

#ifndef SQLIFT_NO_ALLOCATION_TRACKING
// GCC 12 inlines these replacements into gtest's `new TestClass` and then reports malloc/free
// as mismatched with new/delete, which they are not once replaced (a known false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
  size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
  while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#endif

namespace sqlift::proto {
namespace {

using namespace std::string_literals;
using testing::DecodeStream;
using testing::Encode;
using testing::Serialized;

// Feeds everything, then takes every frame.
Status FeedAndDrain(FrameDecoder& decoder, std::string_view bytes, std::vector<wire::Frame>* out) {
  SQLIFT_RETURN_IF_ERROR(decoder.Feed(bytes));
  wire::Frame frame;
  while (true) {
    SQLIFT_ASSIGN_OR_RETURN(bool got, decoder.Next(&frame));
    if (!got) return Status::OK();
    out->push_back(frame);
  }
}

std::string ThreeFrameStream() {
  return Encode(testing::SampleHello()) + Encode(testing::SampleChangeBatch()) +
         Encode(testing::SampleAck());
}

TEST(proto_FrameDecoder, ManyFramesFedOneByteAtATime) {
  std::string stream;
  for (uint64_t seq = 0; seq < 2000; ++seq) {
    stream += Encode(seq % 100 == 0 ? testing::SampleChangeBatch() : testing::SampleHeartbeat(seq));
  }
  testing::Decoded got = DecodeStream(stream, 1);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.frames.size(), 2000u);
  for (uint64_t seq = 0; seq < 2000; ++seq) {
    if (seq % 100 == 0) {
      EXPECT_EQ(got.frames[seq].change_batch().last_seq(), 42u);
    } else {
      EXPECT_EQ(got.frames[seq].heartbeat().shipped_seq(), seq);
    }
  }
}

TEST(proto_FrameDecoder, SameFramesWhereverTheStreamIsSplit) {
  const std::string stream = ThreeFrameStream();
  const std::vector<std::string> want =
      Serialized({testing::SampleHello(), testing::SampleChangeBatch(), testing::SampleAck()});
  for (size_t i = 0; i <= stream.size(); ++i) {
    // Every single split, and a second split up to 16 bytes later (header cut in three).
    for (size_t j = i; j <= std::min(i + 16, stream.size()); ++j) {
      FrameDecoder decoder(kDefaultMaxFrameBytes);
      std::vector<wire::Frame> got;
      ASSERT_TRUE(FeedAndDrain(decoder, stream.substr(0, i), &got).ok());
      ASSERT_TRUE(FeedAndDrain(decoder, stream.substr(i, j - i), &got).ok());
      ASSERT_TRUE(FeedAndDrain(decoder, stream.substr(j), &got).ok());
      ASSERT_TRUE(decoder.Finish().ok());
      ASSERT_EQ(Serialized(got), want) << "split at " << i << " and " << j;
      ASSERT_EQ(decoder.buffered_bytes(), 0u);
    }
  }
}

TEST(proto_FrameDecoder, FinishReportsTruncatedFrame) {
  const std::string hello = Encode(testing::SampleHello());
  const std::string batch = Encode(testing::SampleChangeBatch());
  FrameDecoder decoder(kDefaultMaxFrameBytes);
  std::vector<wire::Frame> got;
  ASSERT_TRUE(FeedAndDrain(decoder, hello + batch.substr(0, batch.size() - 3), &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(decoder.buffered_bytes(), batch.size() - 3);
  Status s = decoder.Finish();
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.message(), "truncated frame at stream offset " + std::to_string(hello.size()) +
                             ": have " + std::to_string(batch.size() - 3) + " of " +
                             std::to_string(batch.size()) + " bytes");

  FrameDecoder header_only(kDefaultMaxFrameBytes);
  ASSERT_TRUE(header_only.Feed(hello.substr(0, 2)).ok());
  EXPECT_EQ(header_only.Finish().message(),
            "truncated frame at stream offset 0: have 2 of 4 header bytes");
}

TEST(proto_FrameDecoder, FinishRefusesAFrameNotTaken) {
  FrameDecoder decoder(kDefaultMaxFrameBytes);
  EXPECT_TRUE(decoder.Finish().ok());  // empty stream
  ASSERT_TRUE(decoder.Feed(Encode(testing::SampleAck())).ok());
  EXPECT_EQ(decoder.Finish().code(), Status::Code::kFailedPrecondition);
}

TEST(proto_FrameDecoder, HeaderOverMaximumFailsAtOnceAndForever) {
  const std::string ack = Encode(testing::SampleAck());
  FrameDecoder decoder(1024);
  std::vector<wire::Frame> got;
  ASSERT_TRUE(FeedAndDrain(decoder, ack, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  const std::string bad = "\x00\x00\x04\x01"s;  // claims 1025
  for (size_t i = 0; i < 3; ++i)
    ASSERT_TRUE(decoder.Feed(bad.substr(i, 1)).ok());
  Status s = decoder.Feed(bad.substr(3) + std::string(1000, 'x'));
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.ToString(),
            "frame at stream offset " + std::to_string(ack.size()) +
                ": corruption: frame claims 1025 bytes, over the maximum of 1024 bytes");
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  // Permanent: whatever comes next.
  EXPECT_EQ(decoder.Feed(ack).ToString(), s.ToString());
  wire::Frame frame;
  Result<bool> next = decoder.Next(&frame);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().ToString(), s.ToString());
  EXPECT_EQ(decoder.Finish().ToString(), s.ToString());
}

TEST(proto_FrameDecoder, TwoGiBLengthPrefixIsRefusedWithoutAllocating) {
  FrameDecoder decoder(kDefaultMaxFrameBytes);
  g_largest_allocation = 0;
  Status s = decoder.Feed("\x80\x00\x00\x00"s + std::string(16, '\x01'));
  EXPECT_EQ(s.message(), "frame claims 2147483648 bytes, over the maximum of 67108864 bytes");
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_LT(g_largest_allocation.load(), size_t{1} << 16);
  if (kTrackingAllocations) {  // the instrument itself works
    std::string big(size_t{1} << 20, 'x');
    EXPECT_GE(g_largest_allocation.load(), big.size());
  }
}

TEST(proto_FrameDecoder, ClaimUnderMaximumGrowsOnlyWithBytesReceived) {
  FrameDecoder decoder(kDefaultMaxFrameBytes);
  g_largest_allocation = 0;
  ASSERT_TRUE(decoder.Feed("\x03\xc0\x00\x00"s + "0123456789").ok());  // claims 60 MiB
  wire::Frame frame;
  Result<bool> next = decoder.Next(&frame);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(*next);
  EXPECT_EQ(decoder.buffered_bytes(), 14u);
  EXPECT_LT(g_largest_allocation.load(), size_t{1} << 16);
  EXPECT_EQ(decoder.Finish().message(),
            "truncated frame at stream offset 0: have 14 of 62914564 bytes");
}

TEST(proto_FrameDecoder, ZeroLengthIsRefused) {
  FrameDecoder decoder(kDefaultMaxFrameBytes);
  Status s = decoder.Feed("\x00\x00\x00\x00"s);
  EXPECT_EQ(
      s.ToString(),
      "frame at stream offset 0: corruption: frame length is 0, but a frame always has a body");
}

TEST(proto_FrameDecoder, MalformedBodyFailsNextAndStaysFailed) {
  const std::string hello = Encode(testing::SampleHello());
  FrameDecoder decoder(kDefaultMaxFrameBytes);
  ASSERT_TRUE(decoder.Feed(hello + "\x00\x00\x00\x03\xff\xff\xff"s + hello).ok());
  wire::Frame frame;
  Result<bool> first = decoder.Next(&frame);
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ(frame.hello().source_id(), "app");
  Result<bool> second = decoder.Next(&frame);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().ToString(),
            "frame at stream offset " + std::to_string(hello.size()) +
                ": corruption: frame body of 3 bytes is not a valid sqlift.wire.Frame");
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_FALSE(decoder.Next(&frame).ok());
}

// Random buffers, some starting with a plausible header, fed in random pieces: the decoder
// returns frames or an error, never crashes, and agrees with itself fed all at once.
TEST(proto_FrameDecoder, RandomBytesGiveFramesOrErrors) {
  google::protobuf::LogSilencer quiet;  // protobuf logs every invalid UTF-8 string it meets
  std::mt19937 rng(20240601);
  int failed = 0, clean = 0, frames = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string buf(rng() % 300, '\0');
    for (char& c : buf)
      c = static_cast<char>(rng());
    if (round % 2 == 0 && buf.size() >= 4) {  // a small length, so that bodies get parsed
      buf[0] = buf[1] = buf[2] = 0;
      buf[3] = static_cast<char>(1 + rng() % 40);
    }
    testing::Decoded pieces = DecodeStream(buf, 1 + rng() % 17, 4096);
    testing::Decoded whole = DecodeStream(buf, buf.size() + 1, 4096);
    ASSERT_EQ(pieces.status.code(), whole.status.code()) << pieces.status.ToString();
    (pieces.status.ok() ? clean : failed)++;
    frames += static_cast<int>(pieces.frames.size());
  }
  EXPECT_GT(failed, 4000);  // random bytes are nearly always malformed...
  EXPECT_GT(frames, 0);     // ...but some do parse as frames
}

// Valid streams with one byte changed: decoded or refused, never a crash.
TEST(proto_FrameDecoder, MutatedStreamsGiveFramesOrErrors) {
  google::protobuf::LogSilencer quiet;
  const std::string stream = ThreeFrameStream();
  std::mt19937 rng(7);
  int decoded = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = stream;
    bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    testing::Decoded got = DecodeStream(bytes, 1 + rng() % 64);
    (got.status.ok() ? decoded : refused)++;
  }
  EXPECT_GT(decoded, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace sqlift::proto
