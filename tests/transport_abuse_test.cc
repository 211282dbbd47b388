// Transport scenarios with hostile or wrong peers: each is refused or cut with a logged
// reason, the sink is never touched by it, and the receiver goes on serving a real shipper.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "proto/wire/frame_codec.h"
#include "tests/testutil/transport_fixture.h"

namespace sqlift::testing {
namespace {

wire::Frame Hello(uint32_t version, const std::string& source, const std::string& token) {
  wire::Frame frame;
  frame.mutable_hello()->set_protocol_version(version);
  frame.mutable_hello()->set_source_id(source);
  frame.mutable_hello()->set_token(token);
  return frame;
}

// Sends `bytes`, expects an Error frame with `code`, then the close.
void ExpectRefused(uint16_t port, const std::string& bytes, wire::Error::Code code) {
  RawClient client(port);
  client.Send(bytes);
  Result<wire::Frame> reply = client.ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->has_error());
  EXPECT_EQ(reply->error().code(), code);
  EXPECT_TRUE(client.ReadEof());
}

std::string Encoded(const wire::Frame& frame) {
  std::string out;
  EXPECT_TRUE(proto::EncodeFrame(frame, proto::kDefaultMaxFrameBytes, &out).ok());
  return out;
}

TEST_F(TransportTest, WrongTokenIsRefusedAndStopsTheShipper) {
  StartReceiver(ReceiverOpts());
  state::ChangeLog* log = NewLog(10);
  ShipperOptions opts = ShipperOpts();
  opts.token = "not-the-token";
  StartShipper(opts, log);
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.stopped; }, kWait));
  EXPECT_NE(shipper_->status().ToString().find("UNAUTHENTICATED"), std::string::npos)
      << shipper_->status().ToString();
  ASSERT_TRUE(
      receiver_->WaitFor([](const apply::ReceiverStats& s) { return s.closed >= 1; }, kWait));
  EXPECT_TRUE(ReceiverLogged("wrong token for source \"app\""));
  EXPECT_EQ(receiver_->stats().refused, 1u);
  EXPECT_EQ(sink_.calls(), 0u);
  ExpectServes(20);
}

TEST_F(TransportTest, WrongVersionAndUnknownSourceAreRefused) {
  StartReceiver(ReceiverOpts());
  ExpectRefused(port_, Encoded(Hello(proto::kProtocolVersion + 1, kSource, kToken)),
                wire::Error::UNSUPPORTED_VERSION);
  ExpectRefused(port_, Encoded(Hello(proto::kProtocolVersion, "intruder", kToken)),
                wire::Error::UNAUTHENTICATED);
  ExpectRefused(port_, Encoded(Hello(proto::kProtocolVersion, kSource, "")),
                wire::Error::UNAUTHENTICATED);
  // A well-formed frame that is not a Hello, first.
  wire::Frame ack;
  ack.mutable_ack()->set_applied_seq(5);
  ExpectRefused(port_, Encoded(ack), wire::Error::PROTOCOL_VIOLATION);
  ASSERT_TRUE(
      receiver_->WaitFor([](const apply::ReceiverStats& s) { return s.closed >= 4; }, kWait));
  EXPECT_TRUE(
      ReceiverLogged(fmt::format("protocol version {} refused", proto::kProtocolVersion + 1)));
  EXPECT_TRUE(ReceiverLogged("unknown source \"intruder\""));
  EXPECT_TRUE(ReceiverLogged("expected Hello, got Ack"));
  EXPECT_EQ(sink_.calls(), 0u);
  ExpectServes(20);
}

TEST_F(TransportTest, GarbageAndOversizedFramesAreRefused) {
  StartReceiver(ReceiverOpts());  // 1 MiB maximum
  // "GET " read as a length is 1.2 GB.
  ExpectRefused(port_, "GET / HTTP/1.1\r\n\r\n", wire::Error::MALFORMED_FRAME);
  ExpectRefused(port_, std::string("\x80\x00\x00\x00", 4), wire::Error::MALFORMED_FRAME);
  ExpectRefused(port_, std::string("\x00\x10\x00\x01", 4), wire::Error::MALFORMED_FRAME);
  ExpectRefused(port_, std::string("\x00\x00\x00\x05\xff\xff\xff\xff\xff", 9),
                wire::Error::MALFORMED_FRAME);
  ExpectRefused(port_, std::string("\x00\x00\x00\x00", 4), wire::Error::MALFORMED_FRAME);
  ASSERT_TRUE(
      receiver_->WaitFor([](const apply::ReceiverStats& s) { return s.closed >= 5; }, kWait));
  EXPECT_TRUE(ReceiverLogged("frame claims 2147483648 bytes"));
  EXPECT_TRUE(ReceiverLogged("frame claims 1048577 bytes"));
  EXPECT_EQ(sink_.calls(), 0u);
  ExpectServes(20);
}

// A peer sends 2 bytes of a header and stalls: closed after the handshake deadline while a
// real shipper is served meanwhile.
TEST_F(TransportTest, SlowLorisIsClosedWhileOthersAreServed) {
  StartReceiver(ReceiverOpts());  // 300 ms handshake deadline
  RawClient loris(port_);
  loris.Send(std::string("\x00\x00", 2));
  state::ChangeLog* log = NewLog(1000);
  StartShipper(ShipperOpts(), log);
  EXPECT_TRUE(loris.ReadEof());  // the receiver closed it
  ASSERT_TRUE(receiver_->WaitFor(
      [](const apply::ReceiverStats& s) {
        for (const auto& r : s.reasons) {
          if (r.find("deadline of 300 ms passed") != std::string::npos) return true;
        }
        return false;
      },
      kWait));
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.acked_seq == 1000; }, kWait));
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(1, 1000));
}

// A second connection for a source that has a live session is refused, retryably.
TEST_F(TransportTest, SecondSessionForASourceIsRefused) {
  StartReceiver(ReceiverOpts());
  RawClient first(port_);
  first.SendFrame(Hello(proto::kProtocolVersion, kSource, kToken));
  Result<wire::Frame> reply = first.ReadFrame();
  ASSERT_TRUE(reply.ok() && reply->has_hello_reply());
  EXPECT_FALSE(reply->hello_reply().has_position());
  RawClient second(port_);
  second.SendFrame(Hello(proto::kProtocolVersion, kSource, kToken));
  Result<wire::Frame> refused = second.ReadFrame();
  ASSERT_TRUE(refused.ok() && refused->has_error());
  EXPECT_EQ(refused->error().code(), wire::Error::UNAVAILABLE);
  EXPECT_TRUE(refused->error().retryable());
}

}  // namespace
}  // namespace sqlift::testing
