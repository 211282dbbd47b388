#include "common/base/backoff.h"

#include <gtest/gtest.h>

namespace sqlift {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesUpToMaxAndResets) {
  Backoff b(milliseconds(100), milliseconds(500));
  EXPECT_EQ(b.Next(), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(200));
  EXPECT_EQ(b.Next(), milliseconds(400));
  EXPECT_EQ(b.Next(), milliseconds(500));
  EXPECT_EQ(b.Next(), milliseconds(500));
  b.Reset();
  EXPECT_EQ(b.Next(), milliseconds(100));
}

TEST(BackoffTest, OtherFactor) {
  Backoff b(milliseconds(10), milliseconds(1000), 3.0);
  EXPECT_EQ(b.Next(), milliseconds(10));
  EXPECT_EQ(b.Next(), milliseconds(30));
  EXPECT_EQ(b.Next(), milliseconds(90));
}

TEST(BackoffTest, NextUpToLowersTheFollowingWait) {
  Backoff b(milliseconds(100), milliseconds(5000));
  EXPECT_EQ(b.Next(), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(200));
  EXPECT_EQ(b.Next(), milliseconds(400));
  EXPECT_EQ(b.NextUpTo(milliseconds(500)), milliseconds(800));  // this wait is already set
  EXPECT_EQ(b.Next(), milliseconds(500));
  EXPECT_EQ(b.Next(), milliseconds(1000));
}

TEST(BackoffTest, JitterStaysInTheUpperHalfAndIsSeeded) {
  Backoff a(milliseconds(100), milliseconds(5000));
  Backoff b(milliseconds(100), milliseconds(5000));
  a.WithJitter(42);
  b.WithJitter(42);
  milliseconds full(100);
  for (int i = 0; i < 10; ++i) {
    milliseconds wait = a.Next();
    EXPECT_GE(wait, full / 2);
    EXPECT_LE(wait, full);
    EXPECT_EQ(wait, b.Next());
    full = std::min(full * 2, milliseconds(5000));
  }
}

}  // namespace
}  // namespace sqlift
