// ReverseRunner's loop against fakes (reverse_runner_env.h): a stream of hand-made
// transactions and a sink that commits them in memory. Retryable failures are retried with
// back-off, a refusal stops with its reason, and no position is confirmed before the sink
// committed the transactions up to it.
#include "apply/reverse/reverse_runner.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "apply/reverse/reverse_runner_env.h"
#include "common/base/backoff.h"

namespace sqlift {
namespace {

using std::chrono::milliseconds;

// Both databases as the loop sees them; shared by the env, its sink and its source, and read
// by the test under the same mutex.
struct World {
  std::mutex mu;
  std::condition_variable cv;
  bool on_postgres = true;
  std::vector<pgchange::Lsn> txns;       // PostgreSQL's transactions (end LSNs), in order
  pgchange::Lsn committed = 0;           // SQLite's position
  std::vector<pgchange::Lsn> confirmed;  // every Confirm, in order
  std::vector<std::string> violations;   // confirms past what SQLite committed
  std::deque<Status> open_failures;      // OpenSource fails with these first
  std::deque<Status> apply_failures;     // ApplyBatch fails with these first
  int opens = 0, applies = 0;

  // Waits (bounded) until `done` holds; false when it did not. Woken by every change of the
  // world, and every few milliseconds for the runner's own stats, which do not notify.
  bool WaitUntil(const std::function<bool()>& done) {
    std::unique_lock lock(mu);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      cv.wait_for(lock, milliseconds(5));
    }
    return true;
  }
  void Changed() { cv.notify_all(); }
};

class FakeSink : public ReverseSink {
 public:
  explicit FakeSink(World& w) : w_(w) {}
  Result<pgchange::Lsn> Position() override {
    std::lock_guard lock(w_.mu);
    return w_.committed;
  }
  Result<ReverseApplyStats> ApplyBatch(std::span<const pgchange::Transaction> txns) override {
    std::lock_guard lock(w_.mu);
    ++w_.applies;
    w_.Changed();
    if (!w_.apply_failures.empty()) {
      Status st = w_.apply_failures.front();
      w_.apply_failures.pop_front();
      return st;
    }
    ReverseApplyStats s;
    for (const pgchange::Transaction& t : txns) {
      if (t.end_lsn <= w_.committed) continue;  // already applied: skipped, as the applier does
      w_.committed = t.end_lsn;
      s.rows += static_cast<int64_t>(t.changes.size()) + 1;
    }
    return s;
  }

 private:
  World& w_;
};

class FakeSource : public ReverseSource {
 public:
  FakeSource(World& w, pgchange::Lsn start) : w_(w), next_(start) {}
  // Waits up to `timeout` for a transaction after the last one handed out, as the real stream.
  Result<PgLogicalStream::Event> Next(milliseconds timeout) override {
    std::unique_lock lock(w_.mu);
    PgLogicalStream::Event ev;
    w_.cv.wait_for(lock, timeout, [&] { return !w_.txns.empty() && w_.txns.back() > next_; });
    for (pgchange::Lsn end : w_.txns) {
      if (end <= next_) continue;
      ev.kind = PgLogicalStream::Event::Kind::kTransaction;
      ev.txn.end_lsn = ev.txn.final_lsn = end;
      next_ = end;
      return ev;
    }
    return ev;  // kIdle without a position
  }
  Status Confirm(pgchange::Lsn lsn) override {
    std::lock_guard lock(w_.mu);
    if (lsn > w_.committed) {
      w_.violations.push_back(std::to_string(lsn) + " > " + std::to_string(w_.committed));
    }
    w_.confirmed.push_back(lsn);
    w_.Changed();
    return Status::OK();
  }

 private:
  World& w_;
  pgchange::Lsn next_;
};

class FakeEnv : public ReverseEnv {
 public:
  explicit FakeEnv(World& w) : w_(w) {}
  Result<bool> AnyOnPostgres() override {
    std::lock_guard lock(w_.mu);
    return w_.on_postgres;
  }
  Result<std::unique_ptr<ReverseSink>> OpenSink() override {
    return std::unique_ptr<ReverseSink>(new FakeSink(w_));
  }
  Result<std::unique_ptr<ReverseSource>> OpenSource(pgchange::Lsn start) override {
    std::lock_guard lock(w_.mu);
    ++w_.opens;
    w_.Changed();
    if (!w_.open_failures.empty()) {
      Status st = w_.open_failures.front();
      w_.open_failures.pop_front();
      return st;
    }
    return std::unique_ptr<ReverseSource>(new FakeSource(w_, start));
  }

 private:
  World& w_;
};

std::unique_ptr<ReverseRunner> StartOver(World& w) {
  return ReverseRunner::Start(std::make_unique<FakeEnv>(w), milliseconds(10));
}

TEST(ReverseRunnerTest, AppliesThenConfirmsEveryTransaction) {
  World w;
  w.txns = {100, 200, 300};
  auto runner = StartOver(w);
  ASSERT_TRUE(w.WaitUntil([&] { return !w.confirmed.empty() && w.confirmed.back() == 300; }));
  runner->Stop();
  EXPECT_TRUE(w.violations.empty()) << w.violations.front();
  EXPECT_EQ(w.committed, 300u);
  ReverseStats s = runner->stats();
  EXPECT_EQ(s.applied_lsn, 300u);
  EXPECT_EQ(s.confirmed_lsn, 300u);
  EXPECT_EQ(s.transactions, 3u);
  EXPECT_FALSE(s.failed);
}

TEST(ReverseRunnerTest, ARetryableFailureIsRetriedWithBackOff) {
  World w;
  w.txns = {100};
  w.open_failures = {Status::Unavailable("connection lost"), Status::NotFound("no slot yet")};
  w.apply_failures = {Status::Unavailable("database is locked")};
  auto runner = StartOver(w);
  ASSERT_TRUE(w.WaitUntil([&] { return !w.confirmed.empty() && w.confirmed.back() == 100; }));
  runner->Stop();
  EXPECT_EQ(w.opens, 4);  // two failed opens, one stream lost to the busy database, one more
  EXPECT_EQ(w.applies, 2);
  EXPECT_TRUE(w.violations.empty()) << w.violations.front();
  ReverseStats s = runner->stats();
  EXPECT_FALSE(s.failed);
  EXPECT_EQ(s.transactions, 1u);
  EXPECT_NE(s.last_error.find("database is locked"), std::string::npos) << s.last_error;
}

TEST(ReverseRunnerTest, TheBackOffDoublesUpToItsCeiling) {
  const Status lost = Status::Unavailable("lost");
  const Status no_slot = Status::NotFound("no slot");
  EXPECT_EQ(RetryCeiling(lost), milliseconds(5000));
  EXPECT_EQ(RetryCeiling(no_slot), milliseconds(500));
  Backoff backoff{milliseconds(100), milliseconds(5000)};
  EXPECT_EQ(backoff.NextUpTo(RetryCeiling(lost)), milliseconds(100));
  EXPECT_EQ(backoff.NextUpTo(RetryCeiling(lost)), milliseconds(200));
  EXPECT_EQ(backoff.NextUpTo(RetryCeiling(lost)), milliseconds(400));
  EXPECT_EQ(backoff.NextUpTo(RetryCeiling(no_slot)), milliseconds(800));  // already set
  EXPECT_EQ(backoff.NextUpTo(RetryCeiling(no_slot)), milliseconds(500));
  for (int i = 0; i < 10; ++i)
    (void)backoff.NextUpTo(RetryCeiling(lost));
  EXPECT_EQ(backoff.NextUpTo(RetryCeiling(lost)), milliseconds(5000));
  EXPECT_FALSE(StopsReverse(lost));
  EXPECT_FALSE(StopsReverse(no_slot));
  EXPECT_FALSE(StopsReverse(Status::IOError("disk")));
  EXPECT_FALSE(StopsReverse(Status::Aborted("busy")));
  EXPECT_TRUE(StopsReverse(Status::FailedPrecondition("row of a tenant SQLite owns")));
  EXPECT_TRUE(StopsReverse(Status::Corruption("bad message")));
}

TEST(ReverseRunnerTest, ARefusalStopsWithTheReasonAndConfirmsNothingAfterIt) {
  World w;
  w.txns = {100};
  auto runner = StartOver(w);
  ASSERT_TRUE(w.WaitUntil([&] { return !w.confirmed.empty(); }));
  {
    std::lock_guard lock(w.mu);
    w.txns.push_back(200);
    w.apply_failures = {Status::FailedPrecondition("update of 7 finds no row: diverged")};
    w.Changed();
  }
  ASSERT_TRUE(w.WaitUntil([&] { return runner->stats().failed; }));
  ReverseStats s = runner->stats();
  EXPECT_NE(s.last_error.find("finds no row: diverged"), std::string::npos) << s.last_error;
  EXPECT_FALSE(s.streaming);
  EXPECT_EQ(s.confirmed_lsn, 100u);
  std::lock_guard lock(w.mu);
  EXPECT_EQ(w.confirmed.back(), 100u);  // the slot stays before the refused transaction
  EXPECT_EQ(w.committed, 100u);
  EXPECT_EQ(w.opens, 1);  // stopped, not retried
  EXPECT_TRUE(w.violations.empty());
}

TEST(ReverseRunnerTest, NoTenantOnPostgresClosesTheStream) {
  World w;
  w.txns = {100};
  auto runner = StartOver(w);
  ASSERT_TRUE(w.WaitUntil([&] { return runner->stats().streaming; }));
  {
    std::lock_guard lock(w.mu);
    w.on_postgres = false;
    w.Changed();
  }
  ASSERT_TRUE(w.WaitUntil([&] { return !runner->stats().streaming; }));
  EXPECT_FALSE(runner->stats().failed);
}

}  // namespace
}  // namespace sqlift
