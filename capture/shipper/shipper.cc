// Shipper: lifecycle, connection, handshake and back-off (see shipper.h). The stream of one
// connection is in shipper_stream.cc.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio and the rest
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "capture/shipper/shipper.h"
#include "capture/shipper/shipper_impl.h"
#include "proto/transport/frame_stream.h"
#include "state/keys.h"

namespace sqlift {
namespace {

// The first wait before the applier has ever been reached (see RunLoop).
constexpr std::chrono::milliseconds kFirstBackoff{10};

}  // namespace

Shipper::Shipper(ShipperOptions options, state::ChangeLog* log)
    : impl_(std::make_unique<Impl>(std::move(options), log)) {}

Shipper::~Shipper() {
  Stop();
}

void Shipper::Start() {
  if (impl_->started) return;
  impl_->started = true;
  Impl* impl = impl_.get();
  asio::co_spawn(impl->io, impl->RunLoop(), asio::detached);
  impl->thread = std::thread([impl] { impl->io.run(); });
}

void Shipper::Stop() {
  Impl* impl = impl_.get();
  if (!impl->started || impl->stopped) return;
  impl->stopped = true;
  asio::post(impl->io, [impl] {
    impl->stopping = true;
    boost::system::error_code ignored;
    impl->socket.close(ignored);
    impl->reconnect_timer.cancel();
    impl->Wake();
  });
  impl->thread.join();
}

void Shipper::Notify() {
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl] { impl->Wake(); });
}

ShipperStats Shipper::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

Status Shipper::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->status;
}

bool Shipper::WaitFor(const std::function<bool(const ShipperStats&)>& pred,
                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return pred(impl_->stats); });
}

void Shipper::Impl::Update(const std::function<void(ShipperStats&)>& mutate) {
  std::lock_guard lock(mu);
  mutate(stats);
  cv.notify_all();
}

void Shipper::Impl::Wake() {
  woken = true;
  wake.cancel();
}

asio::awaitable<void> Shipper::Impl::RunLoop() {
  // Jittered, so that many agents cut off together do not return together. Until the applier
  // has accepted this shipper once, the waits start at kFirstBackoff: the capture and apply
  // daemons are usually started together, and the applier may not listen yet.
  Backoff backoff(std::min(options.backoff_min, kFirstBackoff), options.backoff_max);
  backoff.WithJitter(std::random_device{}());
  bool accepted_once = false;
  while (!stopping) {
    Status st = co_await Connect();
    if (st.ok()) {
      Result<uint64_t> applied = co_await Handshake();
      if (applied.ok()) {
        if (!accepted_once) {
          accepted_once = true;
          backoff = Backoff(options.backoff_min, options.backoff_max);
          backoff.WithJitter(std::random_device{}());
        }
        backoff.Reset();  // a connection that got this far resets the back-off
        Update([](ShipperStats& s) { ++s.connects; });
        st = co_await Stream(*applied);
      } else {
        st = applied.status();
      }
    }
    boost::system::error_code ignored;
    socket.close(ignored);
    if (stopping) break;
    spdlog::warn("shipper: connection to {}:{} ended: {}", options.host, options.port,
                 st.ToString());
    Update([&](ShipperStats& s) { s.last_error = st.ToString(); });
    if (!st.Retryable()) {
      spdlog::error("shipper: stopped: {}", st.ToString());
      std::lock_guard lock(mu);
      status = st;
      break;
    }
    co_await WaitBeforeReconnect(backoff);
  }
  Update([](ShipperStats& s) { s.stopped = true; });
}

asio::awaitable<Status> Shipper::Impl::Connect() {
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = co_await resolver.async_resolve(options.host, std::to_string(options.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Status::Unavailable(fmt::format("resolve {}: {}", options.host, ec.message()));
  // The connect deadline closes the socket, which ends async_connect with an error.
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer deadline(io);
  deadline.expires_after(options.connect_timeout);
  deadline.async_wait([this, expired](const boost::system::error_code& wait_ec) {
    if (wait_ec) return;
    *expired = true;
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  socket.Reset(io);
  co_await asio::async_connect(socket.tcp(), endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
  if (ec || *expired || stopping) {
    co_return Status::Unavailable(fmt::format("connect to {}:{}: {}", options.host, options.port,
                                              *expired ? "deadline passed" : ec.message()));
  }
  socket.tcp().set_option(tcp::no_delay(true), ec);
  if (options.tls) {
    const std::string& name =
        options.tls_server_name.empty() ? options.host : options.tls_server_name;
    co_return co_await socket.StartTls(*options.tls, /*server=*/false, name,
                                       options.connect_timeout);
  }
  co_return Status::OK();
}

// An Error frame from the applier, as a status: retryable ones reconnect after a back-off,
// the others (wrong token, unknown source, unsupported version) stop the shipper.
Status FromWireError(const wire::Error& error) {
  std::string msg =
      fmt::format("applier refused: {}: {}", wire::Error::Code_Name(error.code()), error.message());
  return error.retryable() ? Status::Unavailable(msg) : Status::FailedPrecondition(msg);
}

asio::awaitable<Result<uint64_t>> Shipper::Impl::Handshake() {
  wire::Frame hello;
  hello.mutable_hello()->set_protocol_version(proto::kProtocolVersion);
  hello.mutable_hello()->set_source_id(options.source_id);
  hello.mutable_hello()->set_token(options.token);
  Status st =
      co_await proto::WriteFrame(socket, hello, options.max_frame_bytes, options.write_timeout);
  if (!st.ok()) co_return st.With("send Hello");
  wire::Frame reply;
  st = co_await proto::ReadFrame(socket, options.max_frame_bytes, options.read_timeout, &reply);
  if (st.code() == Status::Code::kCorruption) co_return Status::Unavailable(st.ToString());
  if (!st.ok()) co_return st.With("read HelloReply");
  if (reply.has_error()) co_return FromWireError(reply.error());
  if (!reply.has_hello_reply() || !reply.hello_reply().accepted()) {
    co_return Status::Unavailable("applier answered Hello with something else");
  }
  // The applier owns the applied position; ours follows it, in either direction.
  uint64_t applied = reply.hello_reply().applied_seq();
  snapshot_needed = !reply.hello_reply().has_position();
  st = log->SetPosition(state::kMetaAckedSeq, applied);
  if (!st.ok()) co_return st.With("record acked seq");
  // Published before `connects` moves, so a watcher never sees the new connection with the
  // old connection's positions.
  Update([applied](ShipperStats& s) {
    s.shipped_seq = s.acked_seq = applied;
    s.unacked_bytes = 0;
  });
  co_return applied;
}

asio::awaitable<void> Shipper::Impl::WaitBeforeReconnect(Backoff& backoff) {
  reconnect_timer.expires_after(backoff.Next());
  boost::system::error_code ec;
  co_await reconnect_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace sqlift
