// FaultInjectionChangeLog: failures come exactly when asked, stick until Heal(), and a failed
// write either reaches the base log (FailNextSync) or does not (FailWritesAfter).
#include "state/fault_injection_change_log.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "state/change_log.h"
#include "state/keys.h"

namespace sqlift::state {
namespace {

std::vector<LogRecord> One(uint64_t seq) {
  return {{seq, "v" + std::to_string(seq)}};
}

std::vector<uint64_t> Seqs(ChangeLog& log) {
  std::vector<uint64_t> out;
  EXPECT_TRUE(log.Scan(0, UINT64_MAX,
                       [&](uint64_t seq, std::string_view value) {
                         EXPECT_EQ(value, "v" + std::to_string(seq));
                         out.push_back(seq);
                         return Status::OK();
                       })
                  .ok());
  return out;
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChangeLog> base_ = NewMemChangeLog();
  FaultInjectionChangeLog log_{base_.get()};
};

TEST_F(FaultInjectionTest, PassesThroughAndCounts) {
  ASSERT_TRUE(log_.Append(One(1)).ok());
  ASSERT_TRUE(log_.Append({{2, "v2"}, {3, "v3"}}).ok());
  ASSERT_TRUE(log_.SetPosition(kMetaAckedSeq, 2).ok());
  ASSERT_TRUE(log_.PutMeta("k", "x").ok());
  EXPECT_EQ(log_.Append(One(9)).code(), Status::Code::kInvalidArgument);  // base's error
  EXPECT_EQ(Seqs(*base_), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(*base_->GetPosition(kMetaAckedSeq), 2u);
  EXPECT_EQ(*log_.GetMeta("k"), "x");
  FaultInjectionChangeLog::Counts c = log_.counts();
  EXPECT_EQ(c.writes, 5u);
  EXPECT_EQ(c.failed_writes, 1u);
  EXPECT_EQ(c.appends, 2u);
  EXPECT_EQ(c.records_appended, 3u);
  EXPECT_EQ(c.reads, 1u);
  ASSERT_TRUE(log_.Append(One(4)).ok());  // a refused argument does not make the log sticky
}

TEST_F(FaultInjectionTest, FailWritesAfterFailsTheNextOneAndEveryLater) {
  log_.FailWritesAfter(2);
  ASSERT_TRUE(log_.Append(One(1)).ok());
  ASSERT_TRUE(log_.SetPosition(kMetaAckedSeq, 1).ok());
  Status s = log_.Append(One(2));
  ASSERT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_EQ(s.ToString(),
            "append seq 2 to log: IO error: injected write failure (FailWritesAfter)");
  for (Status later : {log_.Append(One(2)), log_.SetPosition(kMetaAckedSeq, 2),
                       log_.PutMeta("k", "v"), log_.TrimBefore(1)}) {
    EXPECT_EQ(later.code(), Status::Code::kIOError);
    EXPECT_NE(later.message().find("refusing writes until reopened"), std::string::npos)
        << later.ToString();
  }
  // Nothing after the failure reached the base; reads still work.
  EXPECT_EQ(Seqs(log_), (std::vector<uint64_t>{1}));
  EXPECT_EQ(*log_.GetPosition(kMetaLoggedSeq), 1u);
  EXPECT_EQ(*log_.GetPosition(kMetaAckedSeq), 1u);
  EXPECT_EQ(log_.GetMeta("k").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(log_.counts().failed_writes, 5u);

  log_.Heal();
  ASSERT_TRUE(log_.Append(One(2)).ok());
  EXPECT_EQ(Seqs(*base_), (std::vector<uint64_t>{1, 2}));
}

TEST_F(FaultInjectionTest, FailWritesAfterZeroFailsTheVeryNextWrite) {
  log_.FailWritesAfter(0);
  EXPECT_EQ(log_.PutMeta("k", "v").code(), Status::Code::kIOError);
  EXPECT_EQ(base_->GetMeta("k").status().code(), Status::Code::kNotFound);
}

TEST_F(FaultInjectionTest, FailNextSyncAppliesTheWriteButReportsFailure) {
  ASSERT_TRUE(log_.Append(One(1)).ok());
  log_.FailNextSync();
  Status s = log_.Append(One(2));
  ASSERT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find("injected sync failure"), std::string::npos);
  EXPECT_EQ(Seqs(*base_), (std::vector<uint64_t>{1, 2}));  // the data is there anyway
  EXPECT_EQ(*base_->GetPosition(kMetaLoggedSeq), 2u);
  EXPECT_EQ(log_.Append(One(3)).code(), Status::Code::kIOError);
  EXPECT_EQ(Seqs(*base_), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(log_.counts().appends, 1u);  // only the first one was acknowledged

  // After "reopening" the caller replays from what it last had acknowledged (seq 1).
  log_.Heal();
  ASSERT_TRUE(log_.Append({{2, "v2"}, {3, "v3"}}).ok());
  EXPECT_EQ(Seqs(log_), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(*log_.GetPosition(kMetaLoggedSeq), 3u);
}

TEST_F(FaultInjectionTest, FailNextSyncWaitsForAWriteTheBaseAccepts) {
  log_.FailNextSync();
  EXPECT_EQ(log_.Append(One(5)).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(log_.Append(One(1)).code(), Status::Code::kIOError);
  EXPECT_EQ(Seqs(*base_), (std::vector<uint64_t>{1}));
}

TEST(FaultInjectionOwnershipTest, OwnsItsBaseWhenGivenOne) {
  FaultInjectionChangeLog log(NewMemChangeLog());
  ASSERT_TRUE(log.Append(One(1)).ok());
  log.FailWritesAfter(1);
  ASSERT_TRUE(log.Append(One(2)).ok());
  EXPECT_EQ(log.Append(One(3)).code(), Status::Code::kIOError);
  EXPECT_EQ(Seqs(log), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(log.Stats()->count, 2u);
}

}  // namespace
}  // namespace sqlift::state
