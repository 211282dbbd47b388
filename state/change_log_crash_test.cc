// Crash test of the RocksDB change log (design invariant 3, "durable before trim"): a child
// process (change_log_crash_child.cc) appends in a loop and acknowledges each synced seq on a
// pipe; the test kills it with SIGKILL after a random number of acknowledgements, reopens the
// log and checks that every acknowledged seq is there with its value, with no gap, and that
// appending goes on from logged_seq + 1. No sleeps: the kill point is chosen by counting acks.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "state/change_log.h"
#include "state/keys.h"
#include "state/state_test_util.h"

extern char** environ;

namespace sqlift::state {
namespace {

using testing::RecordValue;

// A running state_crash_child and the read end of its stdout.
class Child {
 public:
  Child(const std::string& mode, const std::string& dir, uint64_t seed) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2: " << errno;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::string seed_text = std::to_string(seed);
    std::vector<char*> argv = {const_cast<char*>(SQLIFT_STATE_CRASH_CHILD),
                               const_cast<char*>(mode.c_str()), const_cast<char*>(dir.c_str()),
                               seed_text.data(), nullptr};
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    if (rc != 0) ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << rc;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) KillAndWait();
    close(fd_);
  }

  // The next line the child wrote, without "\n"; false at end of output.
  bool ReadLine(std::string* line) {
    for (;;) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

  // SIGKILL, then the wait status.
  int KillAndWait() {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buf_;
};

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
      Child child("append", dir.path(), rng());
      ASSERT_TRUE(child.ReadLine(&line)) << "child died before opening the log";
      ASSERT_EQ(line, "open " + std::to_string(logged));
      while (acks.lines < target) {
        ASSERT_TRUE(child.ReadLine(&line)) << "child died after " << acks.lines << " acks";
        acks.Take(line);
      }
      int status = child.KillAndWait();
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
      while (child.ReadLine(&line))
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
  Child holder("hold", dir.path(), 0);
  std::string line;
  ASSERT_TRUE(holder.ReadLine(&line));
  ASSERT_EQ(line, "open 0");
  Result<std::unique_ptr<ChangeLog>> second = OpenRocksChangeLog(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
  EXPECT_NE(second.status().message().find("is in use by another process"), std::string::npos)
      << second.status().ToString();
  holder.KillAndWait();
  Result<std::unique_ptr<ChangeLog>> after = OpenRocksChangeLog(dir.path());
  EXPECT_TRUE(after.ok()) << after.status().ToString();
}

}  // namespace
}  // namespace sqlift::state
