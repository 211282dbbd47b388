// Receiver: the applier's listening side of the wire protocol (docs/design.md, the wire protocol).
//
// It accepts TCP connections and runs one session per connection, a straight coroutine loop:
//   1. Hello within handshake_timeout. A wrong protocol version (UNSUPPORTED_VERSION), an
//      unknown source or a wrong token (UNAUTHENTICATED, compared in constant time) is
//      answered with an Error frame and the connection is closed, before anything else is read
//      and without touching the sink.
//   2. HelloReply{accepted, has_position, applied_seq} from the sink's position.
//   3. When the source had no position: SnapshotChunk frames, chunk_no 0, 1, ..., each handed to
//      the sink's LoadSnapshot and acked with Ack{applied_seq, snapshot_chunk_no}; the last one
//      commits the snapshot, and applied_seq becomes its snapshot_seq S. A session that ends
//      mid-snapshot makes the sink discard it (AbortSnapshot).
//   4. ChangeBatch frames, each continuing from applied_seq: a replay (seqs <= applied_seq) is
//      trimmed or skipped and acked, a gap is SEQ_GAP. Ack(applied_seq) is sent only after
//      the sink's Apply returned. Each Heartbeat is recorded and answered with an Ack.
// A malformed or oversized frame, a read deadline passing (slow loris), a protocol violation or
// a failed apply closes THAT connection with a logged reason; the others go on.
//
// One session per source: a second Hello for a source that has a live session is refused with
// a retryable UNAVAILABLE, so two sessions never apply the same source at once (the old one
// may still be inside a commit). A dead peer frees the slot when its read deadline passes.
//
// Ownership: *sink must outlive the Receiver. The Receiver owns its io_context thread and a
// small thread pool on which it calls the sink (a PostgreSQL commit must not stall the other
// connections' deadlines).
// Thread safety: Stop, DropConnections, port, stats and WaitFor may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "apply/receiver/batch_sink.h"
#include "common/base/result.h"

namespace boost::asio::ssl {
class context;
}

namespace sqlift::apply {

struct ReceiverOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // 0: a free port, see Receiver::port()
  // The sources this applier serves, each with its shared token.
  std::map<std::string, std::string> source_tokens;
  size_t max_frame_bytes = 64 << 20;
  std::chrono::milliseconds handshake_timeout{5000};  // connect to Hello received
  // Between frames after the handshake; must exceed the agent's heartbeat interval.
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{10000};
  size_t apply_threads = 1;
  // TLS (proto::MakeServerTls): every connection's first bytes are a TLS handshake; none
  // when null.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

struct ReceiverStats {
  uint64_t connections = 0;          // accepted TCP connections
  uint64_t sessions = 0;             // handshakes accepted
  uint64_t refused = 0;              // handshakes refused (version, source, token, busy)
  uint64_t closed = 0;               // connections ended, for any reason
  uint64_t batches = 0;              // ChangeBatch frames received
  uint64_t acks = 0;                 // Acks sent
  uint64_t heartbeats = 0;           // Heartbeats received
  uint64_t snapshot_chunks = 0;      // SnapshotChunk frames received
  uint64_t snapshots = 0;            // snapshots committed
  std::vector<std::string> reasons;  // why connections ended, oldest first (the last 64)
};

class Receiver {
 public:
  // Binds, listens and starts serving on its own thread.
  [[nodiscard]] static Result<std::unique_ptr<Receiver>> Start(ReceiverOptions options,
                                                               BatchSink* sink);
  ~Receiver();  // Stop()
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  uint16_t port() const { return port_; }
  // Closes the listener and every connection, waits for sessions to end (an Apply in progress
  // finishes; its Ack is not sent) and joins the threads. Idempotent.
  void Stop();
  // Closes every current connection (fault tests: the network cut from this side).
  void DropConnections();

  ReceiverStats stats() const;
  // Waits until `pred(stats())` holds; false on timeout. Woken by every recorded event.
  bool WaitFor(const std::function<bool(const ReceiverStats&)>& pred,
               std::chrono::milliseconds timeout) const;

  struct Impl;  // the io_context, acceptor and sessions (receiver.cc, receiver_session.cc)

 private:
  explicit Receiver(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace sqlift::apply
