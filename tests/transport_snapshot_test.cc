// The snapshot inside replication over the wire: when the applier has no
// position the shipper sends the snapshot from its SnapshotSource, the receiver hands chunks to
// the sink, and streaming resumes at S + 1; a connection cut mid-snapshot discards it and a
// new one is sent; a snapshot is refused from a source that has a position.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "proto/wire/frame_codec.h"
#include "tests/testutil/transport_fixture.h"

namespace sqlift::testing {
namespace {

// A snapshot of `chunks` chunks of 10 rows of table "t" at seq `s`. While paused it stops
// handing out chunks after chunk `pause_after`.
class FakeSnapshotSource final : public SnapshotSource {
 public:
  FakeSnapshotSource(uint64_t s, uint64_t chunks) : s_(s), chunks_(chunks) {}

  Result<uint64_t> Begin(std::function<void()> ready) override {
    std::lock_guard lock(mu_);
    ++begins_;
    next_ = 0;
    ready_ = std::move(ready);
    ready_();
    return s_;
  }
  Result<bool> TryNext(wire::SnapshotChunk* chunk) override {
    std::lock_guard lock(mu_);
    if (paused_ && next_ > pause_after_) {
      waiting_ = true;
      cv_.notify_all();
      return false;
    }
    chunk->set_snapshot_seq(s_);
    chunk->set_chunk_no(next_);
    chunk->mutable_table()->set_name("t");
    chunk->mutable_table()->add_columns("id");
    chunk->mutable_table()->add_pk_columns(0);
    for (int i = 0; i < 10; ++i)
      chunk->add_rows()->add_values()->set_integer(static_cast<int64_t>(next_ * 10 + i));
    chunk->set_last_in_table(next_ + 1 == chunks_);
    chunk->set_last_chunk(next_ + 1 == chunks_);
    ++next_;
    return true;
  }
  void End() override {}

  void Pause(uint64_t after) {
    std::lock_guard lock(mu_);
    paused_ = true, pause_after_ = after, waiting_ = false;
  }
  bool WaitPaused() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return waiting_; });
  }
  void Resume() {
    std::function<void()> ready;
    {
      std::lock_guard lock(mu_);
      paused_ = false;
      ready = ready_;
    }
    if (ready) ready();
  }
  int begins() const {
    std::lock_guard lock(mu_);
    return begins_;
  }

 private:
  const uint64_t s_, chunks_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> ready_;
  uint64_t next_ = 0, pause_after_ = 0;
  bool paused_ = false, waiting_ = false;
  int begins_ = 0;
};

TEST_F(TransportTest, SnapshotThenStreamFromTheSnapshotSeq) {
  StartReceiver(ReceiverOpts());
  state::ChangeLog* log = NewLog(50);
  FakeSnapshotSource source(/*s=*/20, /*chunks=*/40);
  ShipperOptions opts = ShipperOpts();
  opts.snapshot = &source;
  StartShipper(opts, log);
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.acked_seq == 50; }, kWait))
      << shipper_->stats().last_error;
  EXPECT_EQ(sink_.snapshot_rows(kSource), (std::map<std::string, uint64_t>{{"t", 400}}));
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(21, 50));  // nothing at or below S streamed
  ShipperStats s = shipper_->stats();
  EXPECT_EQ(s.snapshots, 1u);
  EXPECT_EQ(s.snapshot_chunks, 40u);
  EXPECT_EQ(s.snapshot_seq, 20u);
  EXPECT_FALSE(s.snapshotting);
  EXPECT_EQ(receiver_->stats().snapshots, 1u);
}

TEST_F(TransportTest, CutMidSnapshotDiscardsItAndSendsANewOne) {
  StartReceiver(ReceiverOpts());
  state::ChangeLog* log = NewLog(30);
  FakeSnapshotSource source(/*s=*/10, /*chunks=*/20);
  source.Pause(/*after=*/5);
  ShipperOptions opts = ShipperOpts();
  opts.snapshot = &source;
  StartShipper(opts, log);
  ASSERT_TRUE(source.WaitPaused());
  ASSERT_TRUE(receiver_->WaitFor(
      [](const apply::ReceiverStats& s) { return s.snapshot_chunks >= 6; }, kWait));
  receiver_->DropConnections();
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.connects >= 2; }, kWait));
  source.Resume();
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.acked_seq == 30; }, kWait))
      << shipper_->stats().last_error;
  EXPECT_GE(source.begins(), 2);
  EXPECT_GE(sink_.snapshots_aborted(), 1u);
  EXPECT_EQ(sink_.snapshot_rows(kSource), (std::map<std::string, uint64_t>{{"t", 200}}));
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(11, 30));
}

// S is the outbox's high-water mark, which may be ahead of what the agent has logged yet. A
// reconnect right after such a snapshot (the agent restarted) must wait for the log to pass S,
// not give up (found by the chaos test).
TEST_F(TransportTest, SnapshotAheadOfTheLogSurvivesAReconnect) {
  StartReceiver(ReceiverOpts());
  state::ChangeLog* log = NewLog(10);
  FakeSnapshotSource source(/*s=*/20, /*chunks=*/3);
  ShipperOptions opts = ShipperOpts();
  opts.snapshot = &source;
  StartShipper(opts, log);
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.snapshots == 1; }, kWait));
  receiver_->DropConnections();  // the applier now states applied seq 20; the log ends at 10
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.connects >= 2; }, kWait));
  state::ChangeLog* more = NewLog(25);
  std::vector<state::LogRecord> tail;
  ASSERT_TRUE(more->Scan(11, 25,
                         [&](uint64_t seq, std::string_view v) {
                           tail.push_back({seq, std::string(v)});
                           return Status::OK();
                         })
                  .ok());
  ASSERT_TRUE(log->Append(tail).ok());
  shipper_->Notify();
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.acked_seq == 25; }, kWait))
      << shipper_->stats().last_error;
  EXPECT_TRUE(shipper_->status().ok()) << shipper_->status().ToString();
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(21, 25));
}

TEST_F(TransportTest, SnapshotFromASourceWithAPositionIsRefused) {
  StartReceiver(ReceiverOpts());
  ExpectServes(5);  // the source now has a position
  RawClient client(port_);
  wire::Frame hello;
  hello.mutable_hello()->set_protocol_version(proto::kProtocolVersion);
  hello.mutable_hello()->set_source_id(kSource);
  hello.mutable_hello()->set_token(kToken);
  client.SendFrame(hello);
  Result<wire::Frame> reply = client.ReadFrame();
  ASSERT_TRUE(reply.ok() && reply->has_hello_reply());
  EXPECT_TRUE(reply->hello_reply().has_position());
  EXPECT_FALSE(reply->hello_reply().snapshot_needed());
  wire::Frame chunk;
  chunk.mutable_snapshot_chunk()->set_snapshot_seq(1);
  chunk.mutable_snapshot_chunk()->set_last_chunk(true);
  client.SendFrame(chunk);
  Result<wire::Frame> error = client.ReadFrame();
  ASSERT_TRUE(error.ok() && error->has_error());
  EXPECT_EQ(error->error().code(), wire::Error::PROTOCOL_VIOLATION);
  EXPECT_TRUE(client.ReadEof());
  EXPECT_EQ(sink_.snapshot_rows(kSource).size(), 0u);  // the sink never saw it
}

}  // namespace
}  // namespace sqlift::testing
