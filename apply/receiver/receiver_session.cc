// ReceiverSession: the applier's side of one connection (protocol in receiver.h).
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio and the rest
#include <fmt/format.h>
#include <google/protobuf/arena.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "apply/receiver/receiver_impl.h"
#include "proto/transport/frame_stream.h"
#include "proto/wire/chunk_rows.h"

namespace sqlift::apply {

namespace {

using Code = wire::Error::Code;

// Compares in time that depends only on the lengths, so a wrong token's first matching bytes
// cannot be found by timing.
bool TokenEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? a[i] : 0;
    unsigned char y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

const char* BodyName(const wire::Frame& frame) {
  switch (frame.body_case()) {
    case wire::Frame::kChangeBatch:
      return "ChangeBatch";
    case wire::Frame::kSnapshotChunk:
      return "SnapshotChunk";
    case wire::Frame::kAck:
      return "Ack";
    case wire::Frame::kHeartbeat:
      return "Heartbeat";
    case wire::Frame::kHello:
      return "Hello";
    case wire::Frame::kHelloReply:
      return "HelloReply";
    case wire::Frame::kError:
      return "Error";
    default:
      return "nothing";
  }
}

// Blocks from 64 KiB up to 1 MiB: a chunk of a few MiB takes a handful.
google::protobuf::ArenaOptions FrameArenaOptions() {
  google::protobuf::ArenaOptions o;
  o.start_block_size = size_t{64} << 10;
  o.max_block_size = size_t{1} << 20;
  return o;
}

}  // namespace

ReceiverSession::ReceiverSession(Receiver::Impl* impl, uint64_t id, tcp::socket socket)
    : impl_(impl), id_(id), socket_(std::move(socket)), ahead_done_(impl->io) {
  boost::system::error_code ec;
  auto remote = socket_.tcp().remote_endpoint(ec);
  peer_ = ec ? std::string("unknown peer")
             : fmt::format("{}:{}", remote.address().to_string(), remote.port());
}

void ReceiverSession::Close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<void> ReceiverSession::Run(std::shared_ptr<ReceiverSession> self) {
  Status st = co_await self->Serve();
  self->Close();
  Receiver::Impl* impl = self->impl_;
  if (self->snapshot_next_ > 0) {  // ended mid-snapshot: nothing of it may stay behind
    // Only trivially copyable captures in a lambda passed inside co_await: GCC 12 destroys
    // such a temporary twice, which a captured std::string would turn into a double free.
    ReceiverSession* session = self.get();
    (void)co_await self->OnPool([impl, session]() -> Result<uint64_t> {
      impl->sink->AbortSnapshot(session->source_);
      return uint64_t{0};
    });
  }
  if (!self->source_.empty()) impl->active_sources.erase(self->source_);
  impl->sessions.erase(self->id_);
  std::string who = self->source_.empty()
                        ? self->peer_
                        : fmt::format("{} (source {})", self->peer_, self->source_);
  impl->RecordClose(who, st.ToString());
}

asio::awaitable<Status> ReceiverSession::Serve() {
  Status st = co_await Handshake();
  if (!st.ok()) co_return st;
  while (true) {
    std::unique_ptr<Received> received = co_await NextFrame();
    const wire::Frame& frame = *received->frame;
    st = received->status;
    if (st.code() == Status::Code::kCorruption)
      co_return co_await Fail(wire::Error::MALFORMED_FRAME, st);
    if (!st.ok()) co_return st;
    if (frame.has_change_batch()) {
      impl_->Record([](ReceiverStats& s) { ++s.batches; });
      st = co_await HandleBatch(frame.change_batch());
    } else if (frame.has_snapshot_chunk()) {
      impl_->Record([](ReceiverStats& s) { ++s.snapshot_chunks; });
      st = co_await HandleChunk(frame.snapshot_chunk(), received->rows);
    } else if (frame.has_heartbeat()) {
      impl_->Record([](ReceiverStats& s) { ++s.heartbeats; });
      st = co_await SendAck();
    } else {
      st = co_await Fail(wire::Error::PROTOCOL_VIOLATION,
                         Status::InvalidArgument(fmt::format("unexpected {}", BodyName(frame))));
    }
    if (!st.ok()) co_return st;
  }
}

std::unique_ptr<ReceiverSession::Received> ReceiverSession::NewReceived() {
  auto r = std::make_unique<Received>();
  r->arena = std::make_unique<google::protobuf::Arena>(FrameArenaOptions());
  r->frame = google::protobuf::Arena::CreateMessage<wire::Frame>(r->arena.get());
  return r;
}

asio::awaitable<std::unique_ptr<ReceiverSession::Received>> ReceiverSession::NextFrame() {
  if (ahead_) {
    while (!ahead_->done) {
      ahead_done_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ignored;
      co_await ahead_done_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    co_return std::move(ahead_);
  }
  std::unique_ptr<Received> r = NewReceived();
  co_await Read(r.get());
  co_return r;
}

asio::awaitable<void> ReceiverSession::Read(Received* r) {
  const ReceiverOptions& opt = impl_->options;
  r->status =
      co_await proto::ReadFrameBody(socket_, opt.max_frame_bytes, opt.read_timeout, &r->body);
  if (r->status.ok()) r->status = proto::ParseFrameBodyRowsApart(r->body, r->frame, &r->rows);
  r->done = true;
}

void ReceiverSession::StartReadAhead() {
  ahead_ = NewReceived();
  asio::co_spawn(impl_->io, ReadAhead(shared_from_this()), asio::detached);
}

// The session (and ahead_, which only NextFrame takes, once done) lives until the read ends;
// closing the socket ends it.
asio::awaitable<void> ReceiverSession::ReadAhead(std::shared_ptr<ReceiverSession> self) {
  co_await self->Read(self->ahead_.get());
  self->ahead_done_.cancel();
}

asio::awaitable<Status> ReceiverSession::Handshake() {
  const ReceiverOptions& opt = impl_->options;
  if (opt.tls) {  // TLS first: not one frame is read in the clear
    Status tls = co_await socket_.StartTls(*opt.tls, /*server=*/true, "", opt.handshake_timeout);
    if (!tls.ok()) {
      impl_->Record([](ReceiverStats& s) { ++s.refused; });
      co_return tls;
    }
  }
  wire::Frame frame;
  Status st =
      co_await proto::ReadFrame(socket_, opt.max_frame_bytes, opt.handshake_timeout, &frame);
  if (st.code() == Status::Code::kCorruption) {
    co_return co_await Fail(wire::Error::MALFORMED_FRAME, st.With("handshake"));
  }
  if (!st.ok()) co_return st.With("handshake");
  st = co_await CheckHello(frame);
  if (!st.ok()) {
    impl_->Record([](ReceiverStats& s) { ++s.refused; });
    co_return st;
  }
  Result<uint64_t> applied = co_await OnPool([this] { return impl_->sink->AppliedSeq(source_); });
  bool has_position = applied.ok();
  if (!applied.ok() && applied.status().code() != Status::Code::kNotFound) {
    co_return co_await Fail(wire::Error::UNAVAILABLE, applied.status().With("read position"),
                            applied.status().Retryable());
  }
  applied_ = has_position ? *applied : 0;
  snapshot_allowed_ = !has_position;
  wire::Frame reply;
  auto* r = reply.mutable_hello_reply();
  r->set_accepted(true);
  r->set_has_position(has_position);
  r->set_applied_seq(applied_);
  r->set_snapshot_needed(!has_position);
  r->set_protocol_version(proto::kProtocolVersion);
  st = co_await proto::WriteFrame(socket_, reply, opt.max_frame_bytes, opt.write_timeout);
  if (!st.ok()) co_return st.With("send HelloReply");
  impl_->Record([](ReceiverStats& s) { ++s.sessions; });
  co_return Status::OK();
}

asio::awaitable<Status> ReceiverSession::CheckHello(const wire::Frame& frame) {
  if (!frame.has_hello()) {
    co_return co_await Fail(
        wire::Error::PROTOCOL_VIOLATION,
        Status::InvalidArgument(fmt::format("expected Hello, got {}", BodyName(frame))));
  }
  const wire::Hello& hello = frame.hello();
  if (hello.protocol_version() != proto::kProtocolVersion) {
    co_return co_await Fail(
        wire::Error::UNSUPPORTED_VERSION,
        Status::InvalidArgument(fmt::format("protocol version {} refused, this applier speaks {}",
                                            hello.protocol_version(), proto::kProtocolVersion)));
  }
  auto it = impl_->options.source_tokens.find(hello.source_id());
  if (it == impl_->options.source_tokens.end()) {
    co_return co_await Fail(
        wire::Error::UNAUTHENTICATED,
        Status::InvalidArgument(fmt::format("unknown source \"{}\"", hello.source_id())));
  }
  if (!TokenEquals(hello.token(), it->second)) {
    co_return co_await Fail(
        wire::Error::UNAUTHENTICATED,
        Status::InvalidArgument(fmt::format("wrong token for source \"{}\"", hello.source_id())));
  }
  if (impl_->active_sources.count(hello.source_id())) {
    co_return co_await Fail(
        wire::Error::UNAVAILABLE,
        Status::Unavailable(fmt::format("source \"{}\" already has a session", hello.source_id())),
        /*retryable=*/true);
  }
  source_ = hello.source_id();
  impl_->active_sources[source_] = id_;
  co_return Status::OK();
}

asio::awaitable<Status> ReceiverSession::HandleBatch(const wire::ChangeBatch& batch) {
  if (snapshot_next_ > 0) {
    co_return co_await Fail(
        wire::Error::PROTOCOL_VIOLATION,
        Status::InvalidArgument("ChangeBatch before the snapshot's last chunk"));
  }
  snapshot_allowed_ = false;  // a source that streams has its position
  if (batch.first_seq() == 0 || batch.last_seq() < batch.first_seq()) {
    co_return co_await Fail(wire::Error::PROTOCOL_VIOLATION,
                            Status::InvalidArgument(fmt::format(
                                "bad seq range {}..{}", batch.first_seq(), batch.last_seq())));
  }
  if (batch.last_seq() <= applied_) co_return co_await SendAck();  // a replay: already applied
  if (batch.first_seq() > applied_ + 1) {
    co_return co_await Fail(
        wire::Error::SEQ_GAP,
        Status::FailedPrecondition(fmt::format("batch {}..{} does not follow applied seq {}",
                                               batch.first_seq(), batch.last_seq(), applied_)));
  }
  wire::ChangeBatch trimmed;
  const wire::ChangeBatch* todo = &batch;
  if (batch.first_seq() <= applied_) {  // partly a replay: keep only what follows applied_
    trimmed = batch;
    trimmed.set_first_seq(applied_ + 1);
    auto* txns = trimmed.mutable_transactions();
    txns->erase(std::remove_if(txns->begin(), txns->end(),
                               [this](const wire::Transaction& t) { return t.seq() <= applied_; }),
                txns->end());
    todo = &trimmed;
  }
  Result<uint64_t> applied =
      co_await OnPool([this, todo] { return impl_->sink->Apply(source_, *todo); });
  if (!applied.ok()) {
    co_return co_await Fail(wire::Error::APPLY_FAILED, applied.status().With("apply"),
                            applied.status().Retryable());
  }
  if (*applied != todo->last_seq()) {
    co_return co_await Fail(wire::Error::INTERNAL,
                            Status::Internal(fmt::format("sink applied up to {}, expected {}",
                                                         *applied, todo->last_seq())));
  }
  applied_ = *applied;
  co_return co_await SendAck();
}

asio::awaitable<Status> ReceiverSession::HandleChunk(const wire::SnapshotChunk& chunk,
                                                     const std::vector<std::string_view>& rows) {
  if (!snapshot_allowed_) {
    co_return co_await Fail(
        wire::Error::PROTOCOL_VIOLATION,
        Status::InvalidArgument(
            fmt::format("SnapshotChunk for source {}, which has a position (applied seq {})",
                        source_, applied_)));
  }
  if (chunk.chunk_no() != snapshot_next_) {
    co_return co_await Fail(
        wire::Error::PROTOCOL_VIOLATION,
        Status::InvalidArgument(fmt::format("snapshot chunk {} where {} was expected",
                                            chunk.chunk_no(), snapshot_next_)));
  }
  ++snapshot_next_;
  // The shipper sends the next chunk without waiting for this one's Ack: read it meanwhile.
  // After the last chunk nothing is read until its Ack: the commit may take long, and the
  // shipper sends nothing but heartbeats until then.
  if (!chunk.last_chunk()) StartReadAhead();
  Result<uint64_t> applied = co_await OnPool(
      [this, &chunk, &rows] { return impl_->sink->LoadSnapshotRows(source_, chunk, rows); });
  if (!applied.ok()) {
    co_return co_await Fail(wire::Error::APPLY_FAILED, applied.status().With("load snapshot"),
                            applied.status().Retryable());
  }
  if (chunk.last_chunk()) {
    snapshot_next_ = 0;
    snapshot_allowed_ = false;
    applied_ = *applied;
    impl_->Record([](ReceiverStats& s) { ++s.snapshots; });
  }
  co_return co_await SendAck(chunk.chunk_no());
}

asio::awaitable<Status> ReceiverSession::SendAck(std::optional<uint64_t> chunk_no) {
  wire::Frame frame;
  frame.mutable_ack()->set_applied_seq(applied_);
  if (chunk_no) frame.mutable_ack()->set_snapshot_chunk_no(*chunk_no);
  const ReceiverOptions& opt = impl_->options;
  Status st = co_await proto::WriteFrame(socket_, frame, opt.max_frame_bytes, opt.write_timeout);
  if (!st.ok()) co_return st.With(fmt::format("send Ack {}", applied_));
  impl_->Record([](ReceiverStats& s) { ++s.acks; });
  co_return Status::OK();
}

asio::awaitable<Status> ReceiverSession::Fail(wire::Error::Code code, Status why, bool retryable) {
  wire::Frame frame;
  auto* error = frame.mutable_error();
  error->set_code(code);
  error->set_retryable(retryable);
  // Refusals name no detail to the peer (which source exists, which check failed); the
  // applier's log has it.
  error->set_message(code == wire::Error::UNAUTHENTICATED ? "unauthenticated" : why.ToString());
  const ReceiverOptions& opt = impl_->options;
  // Best effort: the peer may be gone or not reading; the reason is logged either way.
  Status ignored =
      co_await proto::WriteFrame(socket_, frame, opt.max_frame_bytes,
                                 std::min(opt.write_timeout, std::chrono::milliseconds(1000)));
  (void)ignored;
  co_return why.With(wire::Error::Code_Name(code));
}

asio::awaitable<Result<uint64_t>> ReceiverSession::OnPool(std::function<Result<uint64_t>()> fn) {
  // Runs `fn` on the apply pool and resumes this coroutine on the io thread. The work guard
  // keeps io.run() from returning while the sink is busy (Stop waits for it).
  auto initiate = [this, fn = std::move(fn)](auto handler) mutable {
    asio::post(impl_->pool, [fn = std::move(fn), handler = std::move(handler),
                             work = asio::make_work_guard(impl_->io)]() mutable {
      Result<uint64_t> result = fn();
      auto ex = asio::get_associated_executor(handler);
      asio::dispatch(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
        handler(std::move(result));
      });
    });
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<uint64_t>)>(
      std::move(initiate), asio::use_awaitable);
}

}  // namespace sqlift::apply
