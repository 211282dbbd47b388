#include "common/base/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/base/result.h"

namespace sqlift {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ContextReadsOutermostFirst) {
  Status s = Status::IOError("No space left on device").With("append seq 8812 to log");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_EQ(s.ToString(), "append seq 8812 to log: IO error: No space left on device");
  Status outer = s.With("drain outbox");
  EXPECT_EQ(outer.ToString(),
            "drain outbox: append seq 8812 to log: IO error: No space left on device");
  EXPECT_EQ(outer.message(), "No space left on device");
}

TEST(StatusTest, FromCodeKeepsTheCodeAndNeverMakesOk) {
  Status s = Status::FromCode(Status::Code::kUnavailable, "busy");
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(s.message(), "busy");
  EXPECT_EQ(Status::FromCode(Status::Code::kOk, "x").code(), Status::Code::kInternal);
}

TEST(StatusTest, WithOnOkStaysOk) {
  EXPECT_TRUE(Status::OK().With("anything").ok());
}

TEST(StatusTest, RetryableClassification) {
  EXPECT_TRUE(Status::IOError("x").Retryable());
  EXPECT_TRUE(Status::Unavailable("x").Retryable());
  EXPECT_FALSE(Status::Corruption("x").Retryable());
  EXPECT_FALSE(Status::InvalidArgument("x").Retryable());
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  SQLIFT_ASSIGN_OR_RETURN(int h, Half(x));
  SQLIFT_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, ValueAndError) {
  Result<int> r = Quarter(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  Result<int> e = Quarter(6);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(e.status().message(), "odd: 3");
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultTest, OkStatusWithoutValueIsAnError) {
  Result<int> r = Status::OK();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInternal);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = Status::NotFound("table users");
  EXPECT_DEATH((void)r.value(), "not found: table users");
}

}  // namespace
}  // namespace sqlift
