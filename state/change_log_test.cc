// The ChangeLog contract (state/change_log.h), run against every implementation: the in-memory
// fake and RocksDB must accept, refuse and return exactly the same things.
#include "state/change_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "state/keys.h"
#include "state/state_test_util.h"

namespace sqlift::state {
namespace {

using testing::RecordValue;
using Entries = std::vector<std::pair<uint64_t, std::string>>;

struct Impl {
  std::string name;
  std::function<std::unique_ptr<ChangeLog>(const std::string& dir)> open;
};

// gtest prints the parameter in test names; without this it dumps the object's bytes.
void PrintTo(const Impl& impl, std::ostream* os) {
  *os << impl.name;
}

std::vector<LogRecord> Records(uint64_t first, uint64_t last) {
  std::vector<LogRecord> out;
  for (uint64_t s = first; s <= last; ++s)
    out.push_back({s, RecordValue(s)});
  return out;
}

Entries Expected(uint64_t first, uint64_t last) {
  Entries out;
  for (uint64_t s = first; s <= last; ++s)
    out.emplace_back(s, RecordValue(s));
  return out;
}

class ChangeLogContractTest : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    log_ = GetParam().open(dir_.path());
    ASSERT_NE(log_, nullptr);
  }

  Entries ScanAll(uint64_t first = 0, uint64_t last = UINT64_MAX) {
    Entries out;
    Status s = log_->Scan(first, last, [&](uint64_t seq, std::string_view value) {
      out.emplace_back(seq, std::string(value));
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  uint64_t Logged() {
    Result<uint64_t> r = log_->GetPosition(kMetaLoggedSeq);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : UINT64_MAX;
  }

  LogStats Stats() {
    Result<LogStats> r = log_->Stats();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LogStats{};
  }

  // Stats() must agree with what a full scan finds (the RocksDB log keeps counters).
  void ExpectStatsMatchScan() {
    Entries all = ScanAll();
    LogStats st = Stats();
    EXPECT_EQ(st.count, all.size());
    EXPECT_EQ(st.first_seq, all.empty() ? 0 : all.front().first);
    EXPECT_EQ(st.last_seq, all.empty() ? 0 : all.back().first);
    uint64_t bytes = 0;
    for (const auto& [seq, value] : all)
      bytes += value.size();
    EXPECT_EQ(st.bytes, bytes);
  }

  testing::TempDir dir_;
  std::unique_ptr<ChangeLog> log_;
};

TEST_P(ChangeLogContractTest, EmptyLog) {
  EXPECT_EQ(Logged(), 0u);
  LogStats st = Stats();
  EXPECT_EQ(st.first_seq, 0u);
  EXPECT_EQ(st.last_seq, 0u);
  EXPECT_EQ(st.count, 0u);
  EXPECT_EQ(st.bytes, 0u);
  EXPECT_TRUE(ScanAll().empty());
  ASSERT_TRUE(log_->Append({}).ok());  // an empty batch does nothing
  EXPECT_EQ(Logged(), 0u);
}

TEST_P(ChangeLogContractTest, AppendStoresValuesAndMovesLoggedSeq) {
  ASSERT_TRUE(log_->Append(Records(1, 1)).ok());
  ASSERT_TRUE(log_->Append(Records(2, 5)).ok());
  EXPECT_EQ(Logged(), 5u);
  EXPECT_EQ(ScanAll(), Expected(1, 5));
  LogStats st = Stats();
  EXPECT_EQ(st.first_seq, 1u);
  EXPECT_EQ(st.last_seq, 5u);
  EXPECT_EQ(st.count, 5u);
  uint64_t bytes = 0;
  for (uint64_t s = 1; s <= 5; ++s)
    bytes += RecordValue(s).size();
  EXPECT_EQ(st.bytes, bytes);
}

TEST_P(ChangeLogContractTest, GapIsRefusedAndNothingWritten) {
  ASSERT_TRUE(log_->Append(Records(1, 3)).ok());
  Status s = log_->Append(Records(6, 7));
  ASSERT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.ToString().find("expected seq 4, got 6"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("append seqs 6..7 to log"), std::string::npos) << s.ToString();
  EXPECT_EQ(Logged(), 3u);
  EXPECT_EQ(ScanAll(), Expected(1, 3));
}

TEST_P(ChangeLogContractTest, FreshLogStartsAtSeqOne) {
  EXPECT_EQ(log_->Append(Records(2, 2)).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(log_->Append({{0, "zero"}}).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(ScanAll().empty());
  EXPECT_EQ(Logged(), 0u);
}

TEST_P(ChangeLogContractTest, NonContiguousBatchIsRefusedWhole) {
  ASSERT_TRUE(log_->Append(Records(1, 2)).ok());
  for (const std::vector<LogRecord>& bad :
       {std::vector<LogRecord>{{3, "a"}, {5, "b"}}, std::vector<LogRecord>{{3, "a"}, {3, "b"}},
        std::vector<LogRecord>{{4, "a"}, {3, "b"}}}) {
    Status s = log_->Append(bad);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  }
  EXPECT_EQ(Logged(), 2u);
  EXPECT_EQ(ScanAll(), Expected(1, 2));
}

TEST_P(ChangeLogContractTest, ReplayedDrainRewritesAndKeepsPosition) {
  ASSERT_TRUE(log_->Append(Records(1, 5)).ok());
  ASSERT_TRUE(log_->Append(Records(2, 4)).ok());  // same records again
  EXPECT_EQ(Logged(), 5u);
  EXPECT_EQ(ScanAll(), Expected(1, 5));
  ASSERT_TRUE(log_->Append({{3, "rewritten"}}).ok());  // last write wins
  Entries want = Expected(1, 5);
  want[2].second = "rewritten";
  EXPECT_EQ(ScanAll(), want);
  EXPECT_EQ(Logged(), 5u);
  ExpectStatsMatchScan();
}

TEST_P(ChangeLogContractTest, StraddlingBatchRewritesOldAndAppendsNew) {
  ASSERT_TRUE(log_->Append(Records(1, 5)).ok());
  ASSERT_TRUE(log_->Append(Records(4, 9)).ok());
  EXPECT_EQ(Logged(), 9u);
  EXPECT_EQ(ScanAll(), Expected(1, 9));
  EXPECT_EQ(Stats().count, 9u);
  ExpectStatsMatchScan();
}

TEST_P(ChangeLogContractTest, PositionsAreNamedAndIndependent) {
  EXPECT_EQ(*log_->GetPosition(kMetaAckedSeq), 0u);
  ASSERT_TRUE(log_->SetPosition(kMetaAckedSeq, 41).ok());
  ASSERT_TRUE(log_->SetPosition(kMetaSnapshotSeq, 7).ok());
  ASSERT_TRUE(log_->SetPosition(kMetaAckedSeq, 42).ok());
  EXPECT_EQ(*log_->GetPosition(kMetaAckedSeq), 42u);
  EXPECT_EQ(*log_->GetPosition(kMetaSnapshotSeq), 7u);
  ASSERT_TRUE(log_->SetPosition(kMetaSnapshotSeq, 3).ok());  // backwards is allowed
  EXPECT_EQ(*log_->GetPosition(kMetaSnapshotSeq), 3u);
  ASSERT_TRUE(log_->SetPosition("custom", UINT64_MAX).ok());
  EXPECT_EQ(*log_->GetPosition("custom"), UINT64_MAX);
  EXPECT_EQ(Logged(), 0u);
}

TEST_P(ChangeLogContractTest, LoggedSeqMovesOnlyByAppend) {
  ASSERT_TRUE(log_->Append(Records(1, 2)).ok());
  Status s = log_->SetPosition(kMetaLoggedSeq, 10);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(Logged(), 2u);
  EXPECT_EQ(log_->SetPosition("", 1).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(log_->GetPosition("").status().code(), Status::Code::kInvalidArgument);
}

TEST_P(ChangeLogContractTest, MetaValuesRoundTrip) {
  Result<std::string> missing = log_->GetMeta("shape/users");
  ASSERT_EQ(missing.status().code(), Status::Code::kNotFound) << missing.status().ToString();
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(log_->PutMeta("shape/users", binary).ok());
  ASSERT_TRUE(log_->PutMeta("empty", "").ok());
  EXPECT_EQ(*log_->GetMeta("shape/users"), binary);
  EXPECT_EQ(*log_->GetMeta("empty"), "");
  ASSERT_TRUE(log_->PutMeta("shape/users", "v2").ok());
  EXPECT_EQ(*log_->GetMeta("shape/users"), "v2");
  EXPECT_EQ(log_->PutMeta("", "x").code(), Status::Code::kInvalidArgument);
}

TEST_P(ChangeLogContractTest, MetaAndPositionsDoNotCollide) {
  ASSERT_TRUE(log_->PutMeta(kMetaAckedSeq, "not a number").ok());
  EXPECT_EQ(*log_->GetPosition(kMetaAckedSeq), 0u);
  ASSERT_TRUE(log_->SetPosition(kMetaAckedSeq, 9).ok());
  EXPECT_EQ(*log_->GetMeta(kMetaAckedSeq), "not a number");
  EXPECT_EQ(log_->GetMeta(kMetaLoggedSeq).status().code(), Status::Code::kNotFound);
}

TEST_P(ChangeLogContractTest, ScanBounds) {
  ASSERT_TRUE(log_->Append(Records(1, 10)).ok());
  EXPECT_EQ(ScanAll(3, 6), Expected(3, 6));
  EXPECT_EQ(ScanAll(10, 10), Expected(10, 10));
  EXPECT_EQ(ScanAll(8, 100), Expected(8, 10));
  EXPECT_TRUE(ScanAll(11, 20).empty());
  EXPECT_TRUE(ScanAll(6, 3).empty());
  EXPECT_EQ(ScanAll(0, UINT64_MAX), Expected(1, 10));
}

TEST_P(ChangeLogContractTest, ScanStopsAtCallbackError) {
  ASSERT_TRUE(log_->Append(Records(1, 10)).ok());
  std::vector<uint64_t> seen;
  Status s = log_->Scan(1, 10, [&](uint64_t seq, std::string_view) {
    seen.push_back(seq);
    return seq == 4 ? Status::Aborted("enough") : Status::OK();
  });
  EXPECT_EQ(s.code(), Status::Code::kAborted);
  EXPECT_EQ(s.message(), "enough");
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST_P(ChangeLogContractTest, ScanCallbackMayCallBackIn) {
  ASSERT_TRUE(log_->Append(Records(1, 3)).ok());
  uint64_t next = 4;
  Status s = log_->Scan(1, 3, [&](uint64_t seq, std::string_view) {
    EXPECT_EQ(*log_->GetPosition(kMetaLoggedSeq), next - 1);
    EXPECT_TRUE(log_->SetPosition(kMetaAckedSeq, seq).ok());
    const uint64_t n = next++;
    return log_->Append(Records(n, n));
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Logged(), 6u);
  EXPECT_EQ(*log_->GetPosition(kMetaAckedSeq), 3u);
  EXPECT_EQ(ScanAll(), Expected(1, 6));
}

TEST_P(ChangeLogContractTest, TrimBeforeDeletesOlderRecordsOnly) {
  ASSERT_TRUE(log_->Append(Records(1, 10)).ok());
  ASSERT_TRUE(log_->SetPosition(kMetaAckedSeq, 6).ok());
  ASSERT_TRUE(log_->TrimBefore(0).ok());
  ASSERT_TRUE(log_->TrimBefore(1).ok());
  EXPECT_EQ(ScanAll(), Expected(1, 10));
  ASSERT_TRUE(log_->TrimBefore(7).ok());
  EXPECT_EQ(ScanAll(), Expected(7, 10));
  EXPECT_EQ(ScanAll(1, 8), Expected(7, 8));
  LogStats st = Stats();
  EXPECT_EQ(st.first_seq, 7u);
  EXPECT_EQ(st.last_seq, 10u);
  EXPECT_EQ(st.count, 4u);
  EXPECT_EQ(Logged(), 10u);
  EXPECT_EQ(*log_->GetPosition(kMetaAckedSeq), 6u);
  ExpectStatsMatchScan();
}

TEST_P(ChangeLogContractTest, TrimEverythingThenAppendContinues) {
  ASSERT_TRUE(log_->Append(Records(1, 5)).ok());
  ASSERT_TRUE(log_->TrimBefore(100).ok());
  EXPECT_TRUE(ScanAll().empty());
  EXPECT_EQ(Stats().count, 0u);
  EXPECT_EQ(Logged(), 5u);
  EXPECT_EQ(log_->Append(Records(1, 1)).ok(), true);  // a replay may bring back a trimmed seq
  EXPECT_EQ(log_->Append(Records(7, 7)).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(log_->Append(Records(6, 7)).ok());
  Entries want = Expected(1, 1);
  for (auto& e : Expected(6, 7))
    want.push_back(e);
  EXPECT_EQ(ScanAll(), want);
  EXPECT_EQ(Logged(), 7u);
  ExpectStatsMatchScan();
  ASSERT_TRUE(log_->TrimBefore(7).ok());  // drops the brought-back seq 1 and seq 6
  EXPECT_EQ(ScanAll(), Expected(7, 7));
  ExpectStatsMatchScan();
}

// One appender, several readers: readers always see a prefix 1..k of correct records.
TEST_P(ChangeLogContractTest, ConcurrentAppendAndRead) {
  constexpr uint64_t kLast = 600;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t s = 1; s <= kLast; s += 6)
      EXPECT_TRUE(log_->Append(Records(s, s + 5)).ok());
    done = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t rounds = 0;
      while (!done || rounds < 1) {
        ++rounds;
        uint64_t logged = *log_->GetPosition(kMetaLoggedSeq);
        Entries got = ScanAll();
        ASSERT_GE(got.size(), logged);
        ASSERT_EQ(got, Expected(1, got.size()));
      }
    });
  }
  writer.join();
  for (std::thread& t : readers)
    t.join();
  EXPECT_EQ(Logged(), kLast);
  EXPECT_EQ(ScanAll(), Expected(1, kLast));
  ExpectStatsMatchScan();
}

std::unique_ptr<ChangeLog> OpenRocks(const std::string& dir) {
  Result<std::unique_ptr<ChangeLog>> r = OpenRocksChangeLog(dir);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    Impls, ChangeLogContractTest,
    ::testing::Values(Impl{"Mem", [](const std::string&) { return NewMemChangeLog(); }},
                      Impl{"Rocks", OpenRocks}),
    [](const ::testing::TestParamInfo<Impl>& info) { return info.param.name; });

}  // namespace
}  // namespace sqlift::state
