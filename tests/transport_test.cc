// Transport scenarios that must deliver every seq exactly once: Shipper -> Receiver ->
// MemBatchSink over loopback, through restarts, cut connections and back-pressure.
// Every wait is on a position or an event, with kWait as the upper bound; nothing sleeps.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "state/keys.h"
#include "tests/testutil/transport_fixture.h"

namespace sqlift::testing {
namespace {

bool AckedAt(const Shipper& shipper, uint64_t seq) {
  return shipper.WaitFor([seq](const ShipperStats& s) { return s.acked_seq == seq; }, kWait);
}

TEST_F(TransportTest, ShipsEverySeqExactlyOnceInOrder) {
  StartReceiver(ReceiverOpts());
  state::ChangeLog* log = NewLog(1000);
  StartShipper(ShipperOpts(), log);
  ASSERT_TRUE(AckedAt(*shipper_, 1000)) << shipper_->stats().last_error;
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(1, 1000));
  EXPECT_EQ(log->GetPosition(state::kMetaAckedSeq).value(), 1000u);
  ShipperStats s = shipper_->stats();
  EXPECT_EQ(s.shipped_seq, 1000u);
  EXPECT_EQ(s.unacked_bytes, 0u);
  EXPECT_GT(s.batches, 1u);
  EXPECT_LT(s.batches, 1000u);  // records were packed several to a batch
}

TEST_F(TransportTest, NoticesRecordsAppendedLater) {
  StartReceiver(ReceiverOpts());
  state::ChangeLog* log = NewLog(10);
  ShipperOptions opts = ShipperOpts();
  opts.poll_interval = std::chrono::seconds(60);  // only Notify() can wake it in time
  StartShipper(opts, log);
  ASSERT_TRUE(AckedAt(*shipper_, 10));
  state::ChangeLog* more = NewLog(20);
  std::vector<state::LogRecord> tail;
  ASSERT_TRUE(more->Scan(11, 20,
                         [&](uint64_t seq, std::string_view v) {
                           tail.push_back({seq, std::string(v)});
                           return Status::OK();
                         })
                  .ok());
  ASSERT_TRUE(log->Append(tail).ok());
  shipper_->Notify();
  ASSERT_TRUE(AckedAt(*shipper_, 20));
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(1, 20));
}

// The target restarts having committed less than it acked (a crash where Apply committed
// less): the shipper resumes from the receiver's stated applied_seq, not its own memory.
TEST_F(TransportTest, ResumesFromTheApplierStatedPosition) {
  StartReceiver(ReceiverOpts());
  state::ChangeLog* log = NewLog(1000);
  StartShipper(ShipperOpts(), log);
  ASSERT_TRUE(AckedAt(*shipper_, 1000));
  receiver_->Stop();
  sink_.RewindTo(kSource, 400);
  StartReceiver(ReceiverOpts());  // same port
  ASSERT_TRUE(shipper_->WaitFor(
      [](const ShipperStats& s) { return s.connects >= 2 && s.acked_seq == 1000; }, kWait))
      << shipper_->stats().last_error;
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(1, 1000));
  EXPECT_EQ(log->GetPosition(state::kMetaAckedSeq).value(), 1000u);
}

// The receiver cuts the connection at random points, several times; every seq still lands
// exactly once.
TEST_F(TransportTest, ConnectionCutMidStreamIsExactlyOnce) {
  StartReceiver(ReceiverOpts());
  std::mt19937 rng(42);
  std::set<uint64_t> cuts;
  while (cuts.size() < 6)
    cuts.insert(std::uniform_int_distribution<uint64_t>(20, 980)(rng));
  std::mutex mu;
  apply::Receiver* receiver = receiver_.get();
  sink_.OnApplied([&mu, &cuts, receiver](uint64_t applied) {
    std::lock_guard lock(mu);
    if (!cuts.empty() && applied >= *cuts.begin()) {
      cuts.erase(cuts.begin());
      receiver->DropConnections();  // between the commit and its Ack
    }
  });
  state::ChangeLog* log = NewLog(1000);
  ShipperOptions opts = ShipperOpts();
  opts.batch_bytes = 1024;  // many small batches, so cuts land mid-stream
  StartShipper(opts, log);
  ASSERT_TRUE(shipper_->WaitFor(
      [](const ShipperStats& s) { return s.acked_seq == 1000 && s.connects >= 4; }, kWait))
      << shipper_->stats().last_error;
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(1, 1000));
  sink_.OnApplied(nullptr);
}

// With a sink that blocks, the shipper stops reading the log once the window is full.
TEST_F(TransportTest, BackPressureBoundsUnackedBytes) {
  StartReceiver(ReceiverOpts());
  sink_.Hold();
  state::ChangeLog* log = NewLog(1000);
  ShipperOptions opts = ShipperOpts();
  opts.batch_bytes = 2048;
  opts.window_bytes = 8192;
  StartShipper(opts, log);
  ASSERT_TRUE(sink_.WaitForHeld(kWait));
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.window_waits > 0; }, kWait));
  ShipperStats held = shipper_->stats();
  EXPECT_EQ(held.acked_seq, 0u);
  EXPECT_GT(held.shipped_seq, 0u);
  EXPECT_LT(held.shipped_seq, 1000u);
  EXPECT_LE(held.unacked_bytes, opts.window_bytes);
  sink_.Release();
  ASSERT_TRUE(AckedAt(*shipper_, 1000));
  EXPECT_LE(shipper_->stats().max_unacked_bytes, opts.window_bytes);
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(1, 1000));
}

}  // namespace
}  // namespace sqlift::testing
