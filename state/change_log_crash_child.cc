// The child of state_crash_test (change_log_crash_test.cc): opens the RocksDB change log in a
// directory and then, in mode "append", appends records RecordValue(seq) in random batches
// forever, writing "<seq>\n" to stdout for every seq only after its Append returned OK, and
// "pos <n>\n" after a synced SetPosition(acked_seq, n). Mode "hold" opens the log and waits
// for a signal. The first line is always "open <logged_seq>". Exits 1 on any error.
//
//   state_crash_child append|hold DIR SEED
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "state/change_log.h"
#include "state/keys.h"
#include "state/state_test_util.h"

namespace {

using sqlift::Status;
using sqlift::state::LogRecord;

// One write(2) per call: lines of a batch reach the pipe together (well under PIPE_BUF).
void WriteAll(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) std::exit(1);  // the parent is gone
    done += static_cast<size_t>(n);
  }
}

int Fail(const Status& s) {
  std::fprintf(stderr, "state_crash_child: %s\n", s.ToString().c_str());
  return 1;
}

int AppendForever(sqlift::state::ChangeLog& log, uint64_t logged, uint64_t seed) {
  std::mt19937_64 rng(seed);
  uint64_t next = logged + 1;
  for (uint64_t batch = 1;; ++batch) {
    std::vector<LogRecord> records;
    for (uint64_t n = 1 + rng() % 8; n > 0; --n, ++next) {
      records.push_back({next, sqlift::state::testing::RecordValue(next)});
    }
    Status s = log.Append(records);
    if (!s.ok()) return Fail(s);
    std::string acks;
    for (const LogRecord& r : records)
      acks += std::to_string(r.seq) + "\n";
    if (batch % 4 == 0) {
      s = log.SetPosition(sqlift::state::kMetaAckedSeq, next - 1);
      if (!s.ok()) return Fail(s);
      acks += "pos " + std::to_string(next - 1) + "\n";
    }
    WriteAll(acks);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s append|hold DIR SEED\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  auto opened = sqlift::state::OpenRocksChangeLog(argv[2]);
  if (!opened.ok()) return Fail(opened.status());
  std::unique_ptr<sqlift::state::ChangeLog> log = std::move(opened).value();
  auto logged = log->GetPosition(sqlift::state::kMetaLoggedSeq);
  if (!logged.ok()) return Fail(logged.status());
  WriteAll("open " + std::to_string(*logged) + "\n");
  if (mode == "hold") {
    for (;;)
      pause();  // until the parent kills it
  }
  return AppendForever(*log, *logged, std::strtoull(argv[3], nullptr, 10));
}
