// Crash test of the RocksDB change log (design invariant 3, "durable before trim"): a child
// process (change_log_crash_child.cc) appends in a loop and acknowledges each synced seq on a
// pipe; the test kills it with SIGKILL after a random number of acknowledgements, reopens the
// log and checks that every acknowledged seq is there with its value, with no gap, and that
// appending goes on from logged_seq + 1. No sleeps: the kill point is chosen by counting acks.
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "common/process/process.h"
#include "state/change_log.h"
#include "state/keys.h"
#include "state/state_test_util.h"

namespace sqlift::state {
namespace {

using testing::RecordValue;

// Starts state_crash_child with its stdout captured, to be read line by line.
Result<process::Child> StartChild(const std::string& mode, const std::string& dir, uint64_t seed) {
  return process::Child::Spawn({.argv = {SQLIFT_STATE_CRASH_CHILD, mode, dir, std::to_string(seed)},
                                .out = process::Stream::Capture()});
}

// What the child acknowledged: the last synced seq and the last synced acked_seq position.
struct Acks {
  uint64_t seq = 0;
  uint64_t pos = 0;
  uint64_t lines = 0;

  void Take(const std::string& line) {
    if (line.rfind("pos ", 0) == 0) {
      pos = std::stoull(line.substr(4));
    } else {
      uint64_t s = std::stoull(line);
      EXPECT_EQ(s, seq + 1) << "acks out of order";
      seq = s;
      ++lines;
    }
  }
};

// Checks the reopened log against everything acknowledged; returns logged_seq.
uint64_t VerifyAfterCrash(ChangeLog& log, const Acks& acks) {
  const uint64_t logged = *log.GetPosition(kMetaLoggedSeq);
  EXPECT_GE(logged, acks.seq);
  EXPECT_GE(*log.GetPosition(kMetaAckedSeq), acks.pos);
  LogStats st = *log.Stats();
  EXPECT_EQ(st.first_seq, logged == 0 ? 0 : 1);
  EXPECT_EQ(st.last_seq, logged);
  EXPECT_EQ(st.count, logged) << "a gap in the log";
  uint64_t bytes = 0;
  for (uint64_t seq = 1; seq <= logged; ++seq)
    bytes += RecordValue(seq).size();
  EXPECT_EQ(st.bytes, bytes);
  uint64_t want = 1;
  Status s = log.Scan(1, UINT64_MAX, [&](uint64_t seq, std::string_view value) {
    if (seq != want || value != RecordValue(seq)) {
      return Status::Corruption("seq " + std::to_string(seq) + " wrong, expected " +
                                std::to_string(want));
    }
    ++want;
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(want, logged + 1);
  return logged;
}

TEST(ChangeLogCrashTest, KillDuringAppendsLosesNothingAcknowledged) {
  constexpr int kKills = 20;
  const uint64_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  uint64_t logged = 0, acked_pos = 0, unacked_kills = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    const uint64_t target = rng() % 300;  // acks to see before the kill; 0 = right after open
    Acks acks{logged, acked_pos};
    std::string line;
    {
      Result<process::Child> child = StartChild("append", dir.path(), rng());
      ASSERT_TRUE(child.ok()) << child.status().ToString();
      ASSERT_TRUE(child->ReadOutLine(&line)) << "child died before opening the log";
      ASSERT_EQ(line, "open " + std::to_string(logged));
      while (acks.lines < target) {
        ASSERT_TRUE(child->ReadOutLine(&line)) << "child died after " << acks.lines << " acks";
        acks.Take(line);
      }
      child->Kill(SIGKILL);
      Result<process::Exit> exit = child->Wait();
      ASSERT_TRUE(exit.ok() && exit->signal == SIGKILL) << (exit.ok() ? exit->exit_code : -1);
      while (child->ReadOutLine(&line))
        acks.Take(line);  // acked before it died, read after
    }
    Result<std::unique_ptr<ChangeLog>> log = OpenRocksChangeLog(dir.path());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    logged = VerifyAfterCrash(**log, acks);
    if (logged > acks.seq) ++unacked_kills;
    ASSERT_TRUE((*log)->Append({{logged + 1, RecordValue(logged + 1)}}).ok());
    ASSERT_EQ(*(*log)->GetPosition(kMetaLoggedSeq), ++logged);
    acked_pos = acks.pos;
  }
  std::cout << "crash test: " << kKills << " kills, " << logged << " records, " << unacked_kills
            << " kills between a synced write and its ack, seed " << seed << "\n";
}

TEST(ChangeLogCrashTest, SecondProcessIsRefused) {
  testing::TempDir dir;
  Result<process::Child> holder = StartChild("hold", dir.path(), 0);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  std::string line;
  ASSERT_TRUE(holder->ReadOutLine(&line));
  ASSERT_EQ(line, "open 0");
  Result<std::unique_ptr<ChangeLog>> second = OpenRocksChangeLog(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
  EXPECT_NE(second.status().message().find("is in use by another process"), std::string::npos)
      << second.status().ToString();
  holder->Kill(SIGKILL);
  ASSERT_TRUE(holder->Wait().ok());
  Result<std::unique_ptr<ChangeLog>> after = OpenRocksChangeLog(dir.path());
  EXPECT_TRUE(after.ok()) << after.status().ToString();
}

}  // namespace
}  // namespace sqlift::state
