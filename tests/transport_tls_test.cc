// The transport over TLS: with the applier's certificate trusted, every seq is shipped as over
// plain TCP; an agent that does not trust the certificate (or expects another name) never
// completes a handshake, and a client speaking plain frames to a TLS applier is closed before
// anything reaches the sink. Certificates are made for each run with the openssl command.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/process/process.h"
#include "proto/transport/frame_stream.h"
#include "tests/testutil/transport_fixture.h"

namespace sqlift::testing {
namespace {

namespace fs = std::filesystem;

class TransportTlsTest : public TransportTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("sqlift_tls_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    for (const char* name : {"applier", "stranger"}) {
      std::string base = (dir_ / name).string();
      Result<process::Output> r = process::RunCaptured(
          {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
           base + ".key", "-out", base + ".crt", "-days", "2", "-subj", "/CN=applier.test",
           "-addext", "subjectAltName=DNS:applier.test"});
      ASSERT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.status().ToString());
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string File(const std::string& name) { return (dir_ / name).string(); }

  void StartTlsReceiver() {
    apply::ReceiverOptions o = ReceiverOpts();
    auto tls = proto::MakeServerTls({File("applier.crt"), File("applier.key"), ""});
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    o.tls = *tls;
    StartReceiver(o);
  }
  ShipperOptions TlsShipperOpts(const std::string& ca, const std::string& name) {
    ShipperOptions o = ShipperOpts();
    auto tls = proto::MakeClientTls({"", "", File(ca)});
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    if (tls.ok()) o.tls = *tls;
    o.tls_server_name = name;
    return o;
  }

  inline static fs::path dir_;
};

TEST_F(TransportTlsTest, ShipsEverySeqOverTls) {
  StartTlsReceiver();
  state::ChangeLog* log = NewLog(300);
  StartShipper(TlsShipperOpts("applier.crt", "applier.test"), log);
  ASSERT_TRUE(shipper_->WaitFor([](const ShipperStats& s) { return s.acked_seq == 300; }, kWait))
      << shipper_->stats().last_error;
  EXPECT_EQ(sink_.applied_seqs(kSource), Seqs(1, 300));
}

TEST_F(TransportTlsTest, UntrustedCertificateOrWrongNameNeverConnects) {
  StartTlsReceiver();
  state::ChangeLog* log = NewLog(10);
  for (auto [ca, name] :
       {std::pair{"stranger.crt", "applier.test"}, std::pair{"applier.crt", "other.test"}}) {
    StartShipper(TlsShipperOpts(ca, name), log);
    ASSERT_TRUE(shipper_->WaitFor(
        [](const ShipperStats& s) {
          return s.last_error.find("TLS handshake") != std::string::npos;
        },
        kWait))
        << shipper_->stats().last_error;
    shipper_->Stop();
    EXPECT_EQ(shipper_->stats().connects, 0u);
  }
  EXPECT_EQ(sink_.calls(), 0u);
}

TEST_F(TransportTlsTest, PlainFramesToATlsApplierAreRefused) {
  StartTlsReceiver();
  RawClient client(port_);
  wire::Frame hello;
  hello.mutable_hello()->set_protocol_version(proto::kProtocolVersion);
  hello.mutable_hello()->set_source_id(kSource);
  hello.mutable_hello()->set_token(kToken);
  client.SendFrame(hello);
  EXPECT_TRUE(client.ReadEof());
  ASSERT_TRUE(
      receiver_->WaitFor([](const apply::ReceiverStats& s) { return s.refused >= 1; }, kWait));
  EXPECT_EQ(receiver_->stats().sessions, 0u);
  EXPECT_EQ(sink_.calls(), 0u);
}

}  // namespace
}  // namespace sqlift::testing
