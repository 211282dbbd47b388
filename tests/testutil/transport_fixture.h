// Helpers for the transport tests: a log of N one-row records, a receiver and shipper wired
// to each other over loopback, and a raw blocking client for sending hostile bytes.
//
// Thread safety: test-thread helpers; the receiver and shipper run their own threads.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "apply/receiver/batch_sink.h"
#include "apply/receiver/receiver.h"
#include "capture/shipper/shipper.h"
#include "state/change_log.h"

namespace sqlift::testing {

inline constexpr char kSource[] = "app";
inline constexpr char kToken[] = "s3cret-token";
inline constexpr auto kWait = std::chrono::seconds(30);  // upper bound of any wait

// A log holding seqs 1..n, each one INSERT into table "t" (as the capture agent writes them).
std::unique_ptr<state::ChangeLog> MakeLog(uint64_t n);
// Seqs first..last as a vector (the expected content of the sink).
std::vector<uint64_t> Seqs(uint64_t first, uint64_t last);

class TransportTest : public ::testing::Test {
 protected:
  void TearDown() override;

  apply::ReceiverOptions ReceiverOpts() const;  // short deadlines, 1 MiB frame maximum
  void StartReceiver(apply::ReceiverOptions options);
  ShipperOptions ShipperOpts() const;  // to receiver_'s port, right source and token
  void StartShipper(ShipperOptions options, state::ChangeLog* log);
  // MakeLog(n), owned by the fixture: it outlives shipper_, which TearDown stops (a log local
  // to a test body would be gone while the shipper's thread still reads it).
  state::ChangeLog* NewLog(uint64_t n);
  // Whether some close reason recorded by the receiver contains `text`.
  bool ReceiverLogged(const std::string& text) const;
  // Ships a fresh log of n records with a new shipper and waits until all are acked.
  void ExpectServes(uint64_t n);

  apply::MemBatchSink sink_;
  std::unique_ptr<apply::Receiver> receiver_;
  std::vector<std::unique_ptr<state::ChangeLog>> logs_;  // declared before shipper_: outlives it
  std::unique_ptr<Shipper> shipper_;
  uint16_t port_ = 0;
};

// A blocking loopback client with a 10 s receive timeout, for raw bytes.
class RawClient {
 public:
  explicit RawClient(uint16_t port);
  void Send(std::string_view bytes);
  void SendFrame(const wire::Frame& frame);
  // Reads one frame; NotFound at a clean end of stream.
  Result<wire::Frame> ReadFrame();
  // True when the peer closed the connection (a read returns end of stream).
  bool ReadEof();

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
};

}  // namespace sqlift::testing
