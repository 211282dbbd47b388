#include "state/keys.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace sqlift::state {
namespace {

TEST(KeysTest, RoundTripAtLimits) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{1} << 63,
                     std::numeric_limits<uint64_t>::max()}) {
    std::string k = SeqKey(v);
    ASSERT_EQ(k.size(), kSeqKeyBytes);
    Result<uint64_t> back = GetFixed64BE(k);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, v);
  }
}

TEST(KeysTest, BigEndianLayout) {
  EXPECT_EQ(SeqKey(0x0102030405060708ULL), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(KeysTest, ByteOrderIsSeqOrder) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 10000; ++i) {
    uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64);
    EXPECT_EQ(a < b, SeqKey(a) < SeqKey(b)) << a << " vs " << b;
  }
}

TEST(KeysTest, WrongLengthIsCorruption) {
  Result<uint64_t> r = GetFixed64BE("abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_FALSE(GetFixed64BE(std::string(9, 'x')).ok());
}

}  // namespace
}  // namespace sqlift::state
