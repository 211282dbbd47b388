// Shipper: the stream of one connection after the handshake (see shipper.h).
//
// Two coroutines share the connection on the io thread: the writer (WriteLoop) is the only
// one that writes, so one write is in flight and the queue behind it is the single batch in
// `pending`; the reader (ReadAcks) reads Acks and frees the window. Either one ending closes
// the socket, which ends the other.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio and the rest
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

#include "capture/shipper/batch_packer.h"
#include "capture/shipper/shipper_impl.h"
#include "common/base/clock.h"
#include "proto/transport/frame_stream.h"
#include "state/keys.h"

namespace sqlift {

namespace {
using Clock = std::chrono::steady_clock;
}

asio::awaitable<Status> Shipper::Impl::Stream(uint64_t applied) {
  Result<uint64_t> logged = log->GetPosition(state::kMetaLoggedSeq);
  if (!logged.ok()) co_return logged.status().With("read logged seq");
  if (*logged < applied) {
    // Normal after a snapshot: S is the outbox's high-water mark when the snapshot was read,
    // and the agent may not have drained the seqs up to S into this log yet (or was restarted
    // before it did). They are in the snapshot; shipping resumes at applied + 1 once the log
    // gets there. (A state directory that belongs to another database is refused by the
    // capture agent itself, from the outbox's trimmed_seq.)
    spdlog::info(
        "shipper: the applier is at seq {}, ahead of this log ({}); shipping resumes "
        "at {} once the log reaches it",
        applied, *logged, applied + 1);
  }
  shipped = acked = applied;
  inflight.clear();
  unacked = 0;
  pending.reset();
  pending_chunk.reset();
  Update([&](ShipperStats& s) {
    s.shipped_seq = s.acked_seq = applied;
    s.unacked_bytes = 0;
  });
  if (snapshot_needed && options.snapshot) {
    Status begun = BeginSnapshot();
    if (!begun.ok()) co_return begun;
  } else if (snapshot_needed) {
    spdlog::warn(
        "shipper: the applier has no position and no snapshot source is set; "
        "streaming the log from seq 1");
  }
  auto reader_status = std::make_shared<Status>();
  reader_done = false;
  asio::co_spawn(io, ReadAcks(reader_status), asio::detached);
  Status st = co_await WriteLoop();
  if (snapshotting) EndSnapshot();
  boost::system::error_code ignored;
  socket.close(ignored);
  while (!reader_done)
    co_await WaitForWake(Clock::time_point::max());
  co_return st.ok() ? *reader_status : st;
}

asio::awaitable<Status> Shipper::Impl::WriteLoop() {
  auto next_heartbeat = Clock::now() + options.heartbeat_interval;
  while (true) {
    if (stopping) co_return Status::Aborted("shipper stopping");
    if (reader_done) co_return Status::OK();  // the reader's status says why
    if (!has_pending()) {
      Result<bool> got = FillPending();
      if (!got.ok()) co_return got.status();
    }
    if (has_pending() && (unacked == 0 || unacked + pending_bytes <= options.window_bytes)) {
      Status st = co_await SendPending();
      if (!st.ok()) co_return st;
      next_heartbeat = Clock::now() + options.heartbeat_interval;
      continue;
    }
    if (has_pending()) Update([](ShipperStats& s) { ++s.window_waits; });  // back-pressure
    if (Clock::now() >= next_heartbeat) {
      Status st = co_await SendHeartbeat();
      if (!st.ok()) co_return st;
      next_heartbeat = Clock::now() + options.heartbeat_interval;
      continue;
    }
    co_await WaitForWake(std::min(next_heartbeat, Clock::now() + options.poll_interval));
  }
}

Status Shipper::Impl::BeginSnapshot() {
  Result<uint64_t> s = options.snapshot->Begin([this] { asio::post(io, [this] { Wake(); }); });
  if (!s.ok()) return s.status().With("begin snapshot");
  snapshotting = true;
  last_chunk_sent = false;
  snapshot_seq = *s;
  spdlog::info("shipper: the applier has no position: sending a snapshot at seq {}", *s);
  Update([&](ShipperStats& st) {
    st.snapshotting = true;
    st.snapshot_seq = snapshot_seq;
  });
  return Status::OK();
}

void Shipper::Impl::EndSnapshot() {
  options.snapshot->End();
  snapshotting = false;
  inflight.clear();
  unacked = 0;
  Update([](ShipperStats& st) { st.snapshotting = false; });
}

Result<bool> Shipper::Impl::FillSnapshot() {
  if (last_chunk_sent) return false;  // waiting for the Ack of the last chunk
  EncodedChunk chunk;
  Result<bool> got = options.snapshot->TryNextFrame(options.max_frame_bytes, &chunk);
  if (!got.ok() || !*got) return got;
  pending_bytes = chunk.frame.size();
  pending_chunk = std::move(chunk);
  return true;
}

Result<bool> Shipper::Impl::FillPending() {
  if (snapshotting) return FillSnapshot();
  BatchPacker packer(options.batch_bytes);
  uint64_t next = shipped + 1;
  bool full = false;
  Status st = log->Scan(
      next, std::numeric_limits<uint64_t>::max(),
      [&](uint64_t seq, std::string_view value) -> Status {
        if (seq != next) {
          return Status::FailedPrecondition(
              fmt::format("log holds seq {} where {} was expected (trimmed before it "
                          "was acked?)",
                          seq, next));
        }
        wire::ChangeBatch record;
        if (!record.ParseFromArray(value.data(), value.size())) {
          return Status::Corruption(fmt::format("log record of seq {} does not parse", seq));
        }
        record.set_first_seq(seq);
        record.set_last_seq(seq);
        if (!packer.Add(record, value.size())) {
          full = true;
          return Status::Aborted("batch full");  // ends the scan
        }
        ++next;
        return Status::OK();
      });
  if (!st.ok() && !full) return st.With("read log for shipping");
  if (packer.empty()) return false;
  pending.emplace();
  *pending->mutable_change_batch() = packer.Take();
  pending_bytes = pending->ByteSizeLong() + proto::kFrameHeaderBytes;
  return true;
}

asio::awaitable<Status> Shipper::Impl::SendPendingChunk() {
  // Counted in flight before the write: the Ack may be read before the write's completion.
  EncodedChunk chunk = std::move(*pending_chunk);
  pending_chunk.reset();
  inflight.emplace_back(chunk.chunk_no, pending_bytes);
  unacked += pending_bytes;
  if (chunk.last_chunk) last_chunk_sent = true, last_chunk_no = chunk.chunk_no;
  Update([&](ShipperStats& s) {
    ++s.snapshot_chunks;
    s.unacked_bytes = unacked;
    s.max_unacked_bytes = std::max<uint64_t>(s.max_unacked_bytes, unacked);
  });
  Status st = co_await proto::WriteEncodedFrame(socket, chunk.frame, options.write_timeout);
  if (!st.ok()) co_return st.With(fmt::format("send snapshot chunk {}", chunk.chunk_no));
  co_return Status::OK();
}

asio::awaitable<Status> Shipper::Impl::SendPending() {
  if (pending_chunk) co_return co_await SendPendingChunk();
  // Counted in flight before the write: the Ack may be read before the write's completion.
  uint64_t last = pending->change_batch().last_seq();
  shipped = last;
  inflight.emplace_back(last, pending_bytes);
  unacked += pending_bytes;
  Update([&](ShipperStats& s) {
    s.shipped_seq = last;
    s.unacked_bytes = unacked;
    s.max_unacked_bytes = std::max<uint64_t>(s.max_unacked_bytes, unacked);
    ++s.batches;
  });
  wire::Frame frame = std::move(*pending);
  pending.reset();
  Status st =
      co_await proto::WriteFrame(socket, frame, options.max_frame_bytes, options.write_timeout);
  if (!st.ok()) co_return st.With(fmt::format("send batch ending at seq {}", last));
  co_return Status::OK();
}

asio::awaitable<Status> Shipper::Impl::SendHeartbeat() {
  Result<uint64_t> logged = log->GetPosition(state::kMetaLoggedSeq);
  if (!logged.ok()) co_return logged.status().With("read logged seq");
  wire::Frame frame;
  auto* hb = frame.mutable_heartbeat();
  hb->set_captured_seq(*logged);  // the shipper sees the log, not the outbox
  hb->set_logged_seq(*logged);
  hb->set_shipped_seq(shipped);
  hb->set_sent_at_us(NowMicros());
  Status st =
      co_await proto::WriteFrame(socket, frame, options.max_frame_bytes, options.write_timeout);
  if (!st.ok()) co_return st.With("send Heartbeat");
  Update([](ShipperStats& s) { ++s.heartbeats; });
  co_return Status::OK();
}

asio::awaitable<void> Shipper::Impl::ReadAcks(std::shared_ptr<Status> result) {
  while (true) {
    wire::Frame frame;
    Status st =
        co_await proto::ReadFrame(socket, options.max_frame_bytes, options.read_timeout, &frame);
    // A damaged stream is the connection's fault, not the data's: reconnect.
    if (st.code() == Status::Code::kCorruption) st = Status::Unavailable(st.ToString());
    if (st.ok()) {
      if (frame.has_ack()) {
        st = OnAck(frame.ack());
      } else if (frame.has_error()) {
        st = FromWireError(frame.error());
      } else {
        st = Status::Unavailable("applier sent a frame other than Ack or Error");
      }
    }
    if (!st.ok()) {
      *result = st.With("read Acks");
      break;
    }
  }
  boost::system::error_code ignored;
  socket.close(ignored);
  reader_done = true;
  Wake();
}

Status Shipper::Impl::OnSnapshotAck(const wire::Ack& ack) {
  if (!ack.has_snapshot_chunk_no()) return Status::OK();  // a heartbeat's answer
  const uint64_t no = ack.snapshot_chunk_no();
  while (!inflight.empty() && inflight.front().first <= no) {
    unacked -= inflight.front().second;
    inflight.pop_front();
  }
  Update([&](ShipperStats& s) { s.unacked_bytes = unacked; });
  Wake();
  if (!last_chunk_sent || no != last_chunk_no) return Status::OK();
  // The applier committed the snapshot: stream from S + 1.
  if (ack.applied_seq() != snapshot_seq) {
    return Status::Unavailable(fmt::format("applier committed the snapshot at seq {}, not {}",
                                           ack.applied_seq(), snapshot_seq));
  }
  EndSnapshot();
  shipped = acked = snapshot_seq;
  Status st = log->SetPosition(state::kMetaAckedSeq, snapshot_seq);
  if (!st.ok()) return st.With("record acked seq");
  spdlog::info("shipper: snapshot at seq {} committed by the applier; streaming from {}",
               snapshot_seq, snapshot_seq + 1);
  Update([&](ShipperStats& s) {
    ++s.snapshots;
    s.shipped_seq = s.acked_seq = snapshot_seq;
  });
  return Status::OK();
}

Status Shipper::Impl::OnAck(const wire::Ack& ack) {
  if (snapshotting) return OnSnapshotAck(ack);
  const uint64_t applied_seq = ack.applied_seq();
  if (applied_seq > shipped) {
    return Status::Unavailable(
        fmt::format("applier acked seq {} beyond shipped seq {}", applied_seq, shipped));
  }
  if (applied_seq <= acked) return Status::OK();  // a heartbeat's answer
  while (!inflight.empty() && inflight.front().first <= applied_seq) {
    unacked -= inflight.front().second;
    inflight.pop_front();
  }
  acked = applied_seq;
  Status st = log->SetPosition(state::kMetaAckedSeq, applied_seq);
  if (!st.ok()) return st.With("record acked seq");
  Update([&](ShipperStats& s) {
    s.acked_seq = applied_seq;
    s.unacked_bytes = unacked;
  });
  Wake();
  return Status::OK();
}

asio::awaitable<void> Shipper::Impl::WaitForWake(Clock::time_point until) {
  if (!woken) {
    wake.expires_at(until);
    boost::system::error_code ec;
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  woken = false;
}

}  // namespace sqlift
