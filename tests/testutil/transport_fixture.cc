// Helpers for the transport tests (see transport_fixture.h).
#include "tests/testutil/transport_fixture.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "proto/wire/frame_codec.h"
#include "state/keys.h"

namespace sqlift::testing {

std::unique_ptr<state::ChangeLog> MakeLog(uint64_t n) {
  auto log = state::NewMemChangeLog();
  std::vector<state::LogRecord> records;
  for (uint64_t seq = 1; seq <= n; ++seq) {
    wire::ChangeBatch batch;
    batch.set_first_seq(seq);
    batch.set_last_seq(seq);
    auto* table = batch.add_tables();
    table->set_name("t");
    table->add_columns("id");
    table->add_columns("v");
    table->add_pk_columns(0);
    auto* txn = batch.add_transactions();
    txn->set_seq(seq);
    txn->set_kind(wire::Transaction::CHANGES);
    auto* change = txn->add_changes();
    change->set_op(wire::RowChange::INSERT);
    change->add_pk()->set_integer(static_cast<int64_t>(seq));
    change->add_new_values()->set_integer(static_cast<int64_t>(seq));
    change->add_new_values()->set_text(std::string(40, 'x'));
    records.push_back({seq, batch.SerializeAsString()});
  }
  EXPECT_TRUE(log->Append(records).ok());
  return log;
}

std::vector<uint64_t> Seqs(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s)
    out.push_back(s);
  return out;
}

state::ChangeLog* TransportTest::NewLog(uint64_t n) {
  logs_.push_back(MakeLog(n));
  return logs_.back().get();
}

void TransportTest::TearDown() {
  sink_.Release();
  if (shipper_) shipper_->Stop();
  if (receiver_) receiver_->Stop();
}

apply::ReceiverOptions TransportTest::ReceiverOpts() const {
  apply::ReceiverOptions o;
  o.source_tokens = {{kSource, kToken}};
  o.max_frame_bytes = 1 << 20;
  o.handshake_timeout = std::chrono::milliseconds(300);
  o.read_timeout = std::chrono::seconds(10);
  o.write_timeout = std::chrono::seconds(10);
  return o;
}

void TransportTest::StartReceiver(apply::ReceiverOptions options) {
  options.listen_port = port_;  // 0 the first time; the same port on a restart
  auto r = apply::Receiver::Start(std::move(options), &sink_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  receiver_ = std::move(r).value();
  port_ = receiver_->port();
}

ShipperOptions TransportTest::ShipperOpts() const {
  ShipperOptions o;
  o.port = port_;
  o.source_id = kSource;
  o.token = kToken;
  o.max_frame_bytes = 1 << 20;
  o.batch_bytes = 4096;
  o.window_bytes = 64 << 10;
  o.heartbeat_interval = std::chrono::seconds(1);
  o.read_timeout = std::chrono::seconds(10);
  o.backoff_min = std::chrono::milliseconds(10);
  o.backoff_max = std::chrono::milliseconds(200);
  return o;
}

void TransportTest::StartShipper(ShipperOptions options, state::ChangeLog* log) {
  shipper_ = std::make_unique<Shipper>(std::move(options), log);
  shipper_->Start();
}

bool TransportTest::ReceiverLogged(const std::string& text) const {
  for (const std::string& reason : receiver_->stats().reasons) {
    if (reason.find(text) != std::string::npos) return true;
  }
  return false;
}

void TransportTest::ExpectServes(uint64_t n) {
  auto log = MakeLog(n);
  Shipper shipper(ShipperOpts(), log.get());
  shipper.Start();
  EXPECT_TRUE(shipper.WaitFor([n](const ShipperStats& s) { return s.acked_seq == n; }, kWait))
      << shipper.stats().last_error;
  shipper.Stop();
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(1, n));
}

RawClient::RawClient(uint16_t port) {
  boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
  socket_.connect(ep);
  timeval tv{10, 0};
  setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void RawClient::Send(std::string_view bytes) {
  boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()));
}

void RawClient::SendFrame(const wire::Frame& frame) {
  std::string bytes;
  ASSERT_TRUE(proto::EncodeFrame(frame, proto::kDefaultMaxFrameBytes, &bytes).ok());
  Send(bytes);
}

Result<wire::Frame> RawClient::ReadFrame() {
  boost::system::error_code ec;
  unsigned char header[proto::kFrameHeaderBytes];
  boost::asio::read(socket_, boost::asio::buffer(header), ec);
  if (ec == boost::asio::error::eof) return Status::NotFound("end of stream");
  if (ec) return Status::IOError(ec.message());
  SQLIFT_ASSIGN_OR_RETURN(uint32_t n, proto::ParseFrameHeader(header, 1 << 20));
  std::string body(n, '\0');
  boost::asio::read(socket_, boost::asio::buffer(body), ec);
  if (ec) return Status::IOError(ec.message());
  wire::Frame frame;
  SQLIFT_RETURN_IF_ERROR(proto::ParseFrameBody(body, &frame));
  return frame;
}

bool RawClient::ReadEof() {
  boost::system::error_code ec;
  char c;
  boost::asio::read(socket_, boost::asio::buffer(&c, 1), ec);
  return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
}

}  // namespace sqlift::testing
