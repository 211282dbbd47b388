// Internal to the shipper (shipper.cc: lifecycle, connect, handshake, back-off;
// shipper_stream.cc: the writer and Ack reader of one connection). Not a public header.
//
// Threads: everything below runs on the io thread except `mu`/`cv`/`stats`/`status`, which
// callers of Shipper::stats() share, and Notify(), which only posts to the io thread.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "capture/shipper/shipper.h"
#include "common/base/backoff.h"
#include "proto/transport/frame_stream.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

namespace asio = boost::asio;
using asio::ip::tcp;

// An Error frame from the applier as a status; retryable ones mean "reconnect later".
Status FromWireError(const wire::Error& error);

struct Shipper::Impl {
  Impl(ShipperOptions opts, state::ChangeLog* l) : options(std::move(opts)), log(l) {}

  // shipper.cc
  asio::awaitable<void> RunLoop();
  asio::awaitable<Status> Connect();
  asio::awaitable<Result<uint64_t>> Handshake();
  asio::awaitable<void> WaitBeforeReconnect(Backoff& backoff);
  void Update(const std::function<void(ShipperStats&)>& mutate);
  void Wake();  // io thread: wakes the writer

  // shipper_stream.cc: one connection after the handshake, from `applied` on.
  asio::awaitable<Status> Stream(uint64_t applied);
  asio::awaitable<Status> WriteLoop();
  asio::awaitable<void> ReadAcks(std::shared_ptr<Status> result);
  Status OnAck(const wire::Ack& ack);
  Status OnSnapshotAck(const wire::Ack& ack);
  Status BeginSnapshot();
  void EndSnapshot();
  Result<bool> FillSnapshot();  // the next snapshot chunk into `pending_chunk`
  Result<bool> FillPending();   // reads the next packed batch from the log into `pending`
  asio::awaitable<Status> SendPending();
  asio::awaitable<Status> SendPendingChunk();
  asio::awaitable<Status> SendHeartbeat();
  asio::awaitable<void> WaitForWake(std::chrono::steady_clock::time_point until);

  ShipperOptions options;
  state::ChangeLog* log;
  asio::io_context io{1};
  proto::FrameSocket socket{io};
  asio::steady_timer wake{io};             // the writer waits on it; cancelled to wake it
  asio::steady_timer reconnect_timer{io};  // between connection attempts
  std::thread thread;
  bool started = false;  // caller's thread (Start/Stop)
  bool stopped = false;

  // io thread only.
  bool stopping = false;
  bool woken = false;  // a wake-up arrived while the writer was not waiting
  bool reader_done = true;
  uint64_t shipped = 0;
  uint64_t acked = 0;
  // (last_seq, frame bytes), oldest first; while snapshotting, (chunk_no, frame bytes).
  std::deque<std::pair<uint64_t, size_t>> inflight;
  size_t unacked = 0;
  // What the writer sends next once the window has room: a batch read from the log, or a
  // snapshot chunk encoded by the snapshot source. pending_bytes: its frame's size.
  std::optional<wire::Frame> pending;
  std::optional<EncodedChunk> pending_chunk;
  size_t pending_bytes = 0;
  bool has_pending() const { return pending || pending_chunk; }
  bool snapshot_needed = false;  // from the last HelloReply
  bool snapshotting = false;     // shipping a snapshot on this connection
  bool last_chunk_sent = false;
  uint64_t last_chunk_no = 0;
  uint64_t snapshot_seq = 0;  // S of the snapshot being shipped

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  ShipperStats stats;
  Status status;
};

}  // namespace sqlift
