// Internal to the receiver (receiver.cc, receiver_session.cc): the shared state of a
// Receiver and the session that serves one connection. Not a public header.
//
// Threads: the io_context runs on one thread, so the acceptor, every session coroutine and
// the session registry need no lock. The sink is called on `pool`; stats are shared with
// callers of Receiver::stats() under `mu`.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio
#include <google/protobuf/arena.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "apply/receiver/receiver.h"
#include "proto/transport/frame_stream.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift::apply {

namespace asio = boost::asio;
using asio::ip::tcp;

class ReceiverSession;

struct Receiver::Impl {
  Impl(ReceiverOptions opts, BatchSink* s)
      : options(std::move(opts)), sink(s), pool(options.apply_threads) {}

  // Adds one line to stats.reasons (and the log) and wakes WaitFor.
  void Record(const std::function<void(ReceiverStats&)>& mutate);
  void RecordClose(const std::string& peer, const std::string& reason);
  asio::awaitable<void> AcceptLoop();
  void CloseAll();  // io thread

  ReceiverOptions options;
  BatchSink* sink;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::thread_pool pool;
  std::thread thread;
  bool stopped = false;  // Stop() ran (caller's thread)

  // io thread only.
  std::map<uint64_t, std::weak_ptr<ReceiverSession>> sessions;
  std::map<std::string, uint64_t> active_sources;  // source -> session id
  uint64_t next_session_id = 1;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  ReceiverStats stats;
};

// One connection: handshake, then batches, until an error or a close. Owned by its own
// coroutine (shared_ptr); the registry holds a weak_ptr so CloseAll can reach the socket.
//
// While the sink loads a snapshot chunk that is not the last, the next frame is read and
// parsed meanwhile (read ahead), so that the connection and the sink work at the same time;
// frames are still handled one at a time, in order, and every write stays in the one loop.
class ReceiverSession : public std::enable_shared_from_this<ReceiverSession> {
 public:
  ReceiverSession(Receiver::Impl* impl, uint64_t id, tcp::socket socket);
  static asio::awaitable<void> Run(std::shared_ptr<ReceiverSession> self);
  void Close();  // io thread

 private:
  // One frame read, parsed into an arena of its own (a chunk's many values then cost a few
  // block allocations, freed together), and how the read ended.
  // A snapshot chunk's rows are left serialized in `body` (proto/wire/chunk_rows.h): the
  // sink reads them as it loads them. Held by pointer: `rows` view `body`.
  struct Received {
    std::unique_ptr<google::protobuf::Arena> arena;
    wire::Frame* frame = nullptr;  // on `arena`
    std::string body;
    std::vector<std::string_view> rows;  // into `body`
    Status status;
    bool done = false;  // the read has ended (read ahead)
  };
  // Reads and parses one frame into *r.
  asio::awaitable<void> Read(Received* r);
  static std::unique_ptr<Received> NewReceived();
  // The next frame: the one read ahead, once its read ends, or one read now.
  asio::awaitable<std::unique_ptr<Received>> NextFrame();
  // Starts reading the next frame while the current one is handled.
  void StartReadAhead();
  static asio::awaitable<void> ReadAhead(std::shared_ptr<ReceiverSession> self);

  asio::awaitable<Status> Serve();
  asio::awaitable<Status> Handshake();
  asio::awaitable<Status> CheckHello(const wire::Frame& frame);
  asio::awaitable<Status> HandleBatch(const wire::ChangeBatch& batch);
  asio::awaitable<Status> HandleChunk(const wire::SnapshotChunk& chunk,
                                      const std::vector<std::string_view>& rows);
  // Ack(applied_seq), with the snapshot chunk it answers when there is one.
  asio::awaitable<Status> SendAck(std::optional<uint64_t> chunk_no = std::nullopt);
  // The single failure path: sends Error{code} (best effort) and returns `why` for the log.
  asio::awaitable<Status> Fail(wire::Error::Code code, Status why, bool retryable = false);
  asio::awaitable<Result<uint64_t>> OnPool(std::function<Result<uint64_t>()> fn);

  Receiver::Impl* impl_;
  const uint64_t id_;
  proto::FrameSocket socket_;  // plain TCP, or TLS after the handshake's StartTls
  std::string peer_;
  std::string source_;  // set once the Hello is accepted and the source slot claimed
  uint64_t applied_ = 0;
  bool snapshot_allowed_ = false;    // the source had no position at the handshake
  uint64_t snapshot_next_ = 0;       // chunk_no expected next; > 0 while a snapshot loads
  std::unique_ptr<Received> ahead_;  // the frame being read ahead, if any
  asio::steady_timer ahead_done_;    // NextFrame waits on it; cancelled when ahead_ is done
};

}  // namespace sqlift::apply
