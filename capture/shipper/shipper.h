// Shipper: the capture agent's sending side of the wire protocol (docs/design.md, the wire
// protocol).
//
// It connects to the applier (reconnecting with back-off: 100 ms doubling to 5 s, jittered;
// from 10 ms until the applier has accepted it once, as it may still be starting),
// sends Hello{version, source_id, token}, and reads HelloReply. It then streams the log from
// the applier's stated applied_seq + 1 (never from its own memory), packing several records
// into one ChangeBatch up to batch_bytes. At most window_bytes of shipped but unacked batches
// are in flight: when the window is full it stops reading the log (back-pressure). Each Ack
// sets state::kMetaAckedSeq in the log, which is what retention keys on. When there is nothing
// to send it sends a Heartbeat every heartbeat_interval (the applier answers with an Ack, so
// the read deadline on Acks also detects a dead applier).
//
// When the HelloReply says the applier has no position, the shipper first sends a snapshot
// from options.snapshot: SnapshotChunks under the same window (acked by chunk_no), and once the
// applier acks the last chunk with applied_seq = S, it streams the log from S + 1. A connection
// lost mid-snapshot ends that snapshot; the next connection starts a new one.
//
// Positions: shipped_seq (last seq written to the current connection) and acked_seq (last seq
// the applier acked). New records are noticed through Notify() (the capture agent calls it
// after each append) and by polling the log every poll_interval as the floor.
//
// A refusal that retrying cannot fix (wrong token, unknown source, unsupported version), or a
// log that no longer holds the seq the applier needs, stops the shipper: status() says why.
//
// Ownership: *log must outlive the Shipper. The Shipper owns its io_context thread.
// Thread safety: Start, Stop, Notify, stats, status and WaitFor may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "capture/snapshot/snapshot_source.h"
#include "common/base/status.h"
#include "state/change_log.h"

namespace boost::asio::ssl {
class context;
}

namespace sqlift {

struct ShipperOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string source_id;
  std::string token;
  size_t max_frame_bytes = 64 << 20;
  size_t batch_bytes = 1 << 20;   // log bytes packed into one ChangeBatch
  size_t window_bytes = 8 << 20;  // shipped but unacked frame bytes
  std::chrono::milliseconds heartbeat_interval{5000};
  std::chrono::milliseconds poll_interval{500};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{60000};  // for HelloReply and Acks; > heartbeat
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // Where the snapshot comes from when the applier holds no position (not owned; must outlive
  // the Shipper). Without one, the shipper streams the log from seq 1 instead (tests).
  SnapshotSource* snapshot = nullptr;
  // TLS (proto::MakeClientTls): the applier's certificate must chain to the CA and name
  // tls_server_name (default: host). Plain TCP when null.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string tls_server_name;
};

struct ShipperStats {
  uint64_t shipped_seq = 0;
  uint64_t acked_seq = 0;
  uint64_t unacked_bytes = 0;      // frame bytes shipped and not yet acked
  uint64_t max_unacked_bytes = 0;  // the most ever in flight
  uint64_t connects = 0;           // handshakes accepted
  uint64_t window_waits = 0;       // times it stopped reading the log for a full window
  uint64_t batches = 0;
  uint64_t heartbeats = 0;
  uint64_t snapshot_chunks = 0;  // SnapshotChunks shipped (every attempt counted)
  uint64_t snapshots = 0;        // snapshots the applier committed
  uint64_t snapshot_seq = 0;     // S of the last snapshot begun
  bool snapshotting = false;     // a snapshot is being shipped now
  bool stopped = false;          // the shipping loop has ended
  std::string last_error;        // why the last connection ended
};

class Shipper {
 public:
  Shipper(ShipperOptions options, state::ChangeLog* log);
  ~Shipper();  // Stop()
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  void Start();   // starts the io thread; once
  void Stop();    // closes the connection and joins; idempotent
  void Notify();  // new records are in the log

  ShipperStats stats() const;
  // OK while running or after Stop(); the reason when it stopped on its own.
  Status status() const;
  // Waits until `pred(stats())` holds; false on timeout. Woken by every position change.
  bool WaitFor(const std::function<bool(const ShipperStats&)>& pred,
               std::chrono::milliseconds timeout) const;

  struct Impl;  // shipper.cc, shipper_stream.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sqlift
