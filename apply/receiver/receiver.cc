// Receiver: listener, session registry, stats (see receiver.h). The protocol itself is in
// receiver_session.cc.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio and the rest
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "apply/receiver/receiver.h"
#include "apply/receiver/receiver_impl.h"

namespace sqlift::apply {

namespace {
constexpr size_t kMaxReasons = 64;
}

void Receiver::Impl::Record(const std::function<void(ReceiverStats&)>& mutate) {
  std::lock_guard lock(mu);
  mutate(stats);
  cv.notify_all();
}

void Receiver::Impl::RecordClose(const std::string& peer, const std::string& reason) {
  spdlog::warn("receiver: closed connection from {}: {}", peer, reason);
  Record([&](ReceiverStats& s) {
    ++s.closed;
    s.reasons.push_back(reason);
    if (s.reasons.size() > kMaxReasons) s.reasons.erase(s.reasons.begin());
  });
}

asio::awaitable<void> Receiver::Impl::AcceptLoop() {
  while (true) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: log and go on accepting; the listener stays up.
      spdlog::error("receiver: accept: {}", ec.message());
      continue;
    }
    Record([](ReceiverStats& s) { ++s.connections; });
    uint64_t id = next_session_id++;
    auto session = std::make_shared<ReceiverSession>(this, id, std::move(socket));
    sessions[id] = session;
    asio::co_spawn(io, ReceiverSession::Run(std::move(session)), asio::detached);
  }
}

void Receiver::Impl::CloseAll() {
  for (auto& [id, weak] : sessions) {
    if (auto session = weak.lock()) session->Close();
  }
}

Receiver::Receiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Receiver>> Receiver::Start(ReceiverOptions options, BatchSink* sink) {
  auto impl = std::make_unique<Impl>(std::move(options), sink);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl->options.listen_host, ec);
  if (ec) {
    return Status::InvalidArgument(
        fmt::format("listen address {}: {}", impl->options.listen_host, ec.message()));
  }
  tcp::endpoint endpoint(address, impl->options.listen_port);
  auto& acc = impl->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable(fmt::format("listen on {}:{}: {}", impl->options.listen_host,
                                           impl->options.listen_port, ec.message()));
  }
  uint16_t port = acc.local_endpoint().port();
  Impl* raw = impl.get();
  asio::co_spawn(raw->io, raw->AcceptLoop(), asio::detached);
  raw->thread = std::thread([raw] { raw->io.run(); });
  std::unique_ptr<Receiver> receiver(new Receiver(std::move(impl)));
  receiver->port_ = port;
  spdlog::info("receiver: listening on {}:{}", raw->options.listen_host, port);
  return receiver;
}

Receiver::~Receiver() {
  Stop();
}

void Receiver::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->CloseAll();
  });
  // run() returns once the accept loop and every session have ended; a session waiting for
  // the sink keeps the io_context alive (work guard in OnPool) until its Apply returns.
  impl->thread.join();
  impl->pool.join();
}

void Receiver::DropConnections() {
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl] { impl->CloseAll(); });
}

ReceiverStats Receiver::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

bool Receiver::WaitFor(const std::function<bool(const ReceiverStats&)>& pred,
                       std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return pred(impl_->stats); });
}

}  // namespace sqlift::apply
