// Frames over an Asio stream (see frame_stream.h).
#include "proto/transport/frame_stream.h"

#include <fmt/format.h>

#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <string>

namespace sqlift::proto {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Closes the stream's socket when `timeout` passes before the guard is destroyed.
// The timer's handler may run after the guard (and even the stream) are gone, so it shares
// only `state` with the guard and touches the stream only while the guard is alive; every
// handler runs on the stream's single-threaded executor, like the coroutine that owns the guard.
template <typename Stream>
class Deadline {
 public:
  Deadline(Stream& stream, std::chrono::milliseconds timeout)
      : state_(std::make_shared<State>()), timer_(stream.get_executor()) {
    timer_.expires_after(timeout);
    timer_.async_wait([state = state_, &stream](const error_code& ec) {
      if (ec || state->done) return;
      state->expired = true;
      error_code ignored;
      stream.lowest_layer().close(ignored);
    });
  }
  ~Deadline() {
    state_->done = true;
    timer_.cancel();
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  bool expired() const { return state_->expired; }

 private:
  struct State {
    bool done = false;
    bool expired = false;
  };
  std::shared_ptr<State> state_;
  asio::steady_timer timer_;
};

Status IoStatus(const error_code& ec, bool expired, std::chrono::milliseconds timeout,
                const char* what) {
  if (expired) {
    return Status::Aborted(fmt::format("{}: deadline of {} ms passed", what, timeout.count()));
  }
  if (ec == asio::error::eof) return Status::Unavailable(fmt::format("{}: peer closed", what));
  return Status::Unavailable(fmt::format("{}: {}", what, ec.message()));
}

}  // namespace

template <typename Stream>
asio::awaitable<Status> ReadFrame(Stream& stream, size_t max_frame_bytes,
                                  std::chrono::milliseconds timeout, wire::Frame* out) {
  std::string body;
  Status st = co_await ReadFrameBody(stream, max_frame_bytes, timeout, &body);
  if (!st.ok()) co_return st;
  co_return ParseFrameBody(body, out);
}

template <typename Stream>
asio::awaitable<Status> ReadFrameBody(Stream& stream, size_t max_frame_bytes,
                                      std::chrono::milliseconds timeout, std::string* body) {
  Deadline<Stream> deadline(stream, timeout);
  error_code ec;
  unsigned char header[kFrameHeaderBytes];
  co_await asio::async_read(stream, asio::buffer(header),
                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return IoStatus(ec, deadline.expired(), timeout, "read frame header");
  Result<uint32_t> length = ParseFrameHeader(header, max_frame_bytes);
  if (!length.ok()) co_return length.status();
  // Allocated only now that the length is known to be within the maximum.
  body->assign(*length, '\0');
  co_await asio::async_read(stream, asio::buffer(*body),
                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return IoStatus(ec, deadline.expired(), timeout, "read frame body");
  co_return Status::OK();
}

template <typename Stream>
asio::awaitable<Status> WriteEncodedFrame(Stream& stream, std::string_view encoded,
                                          std::chrono::milliseconds timeout) {
  Deadline<Stream> deadline(stream, timeout);
  error_code ec;
  co_await asio::async_write(stream, asio::buffer(encoded.data(), encoded.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return IoStatus(ec, deadline.expired(), timeout, "write frame");
  co_return Status::OK();
}

template <typename Stream>
asio::awaitable<Status> WriteFrame(Stream& stream, const wire::Frame& frame, size_t max_frame_bytes,
                                   std::chrono::milliseconds timeout) {
  std::string bytes;
  Status st = EncodeFrame(frame, max_frame_bytes, &bytes);
  if (!st.ok()) co_return st;
  co_return co_await WriteEncodedFrame(stream, bytes, timeout);
}

template asio::awaitable<Status> ReadFrame(asio::ip::tcp::socket&, size_t,
                                           std::chrono::milliseconds, wire::Frame*);
template asio::awaitable<Status> WriteFrame(asio::ip::tcp::socket&, const wire::Frame&, size_t,
                                            std::chrono::milliseconds);
template asio::awaitable<Status> ReadFrame(FrameSocket::Tls&, size_t, std::chrono::milliseconds,
                                           wire::Frame*);
template asio::awaitable<Status> WriteFrame(FrameSocket::Tls&, const wire::Frame&, size_t,
                                            std::chrono::milliseconds);

asio::awaitable<Status> ReadFrame(FrameSocket& socket, size_t max_frame_bytes,
                                  std::chrono::milliseconds timeout, wire::Frame* out) {
  if (socket.tls()) co_return co_await ReadFrame(*socket.tls(), max_frame_bytes, timeout, out);
  co_return co_await ReadFrame(socket.tcp(), max_frame_bytes, timeout, out);
}

asio::awaitable<Status> WriteFrame(FrameSocket& socket, const wire::Frame& frame,
                                   size_t max_frame_bytes, std::chrono::milliseconds timeout) {
  if (socket.tls()) {
    co_return co_await WriteFrame(*socket.tls(), frame, max_frame_bytes, timeout);
  }
  co_return co_await WriteFrame(socket.tcp(), frame, max_frame_bytes, timeout);
}

asio::awaitable<Status> ReadFrameBody(FrameSocket& socket, size_t max_frame_bytes,
                                      std::chrono::milliseconds timeout, std::string* body) {
  if (socket.tls()) {
    co_return co_await ReadFrameBody(*socket.tls(), max_frame_bytes, timeout, body);
  }
  co_return co_await ReadFrameBody(socket.tcp(), max_frame_bytes, timeout, body);
}

asio::awaitable<Status> WriteEncodedFrame(FrameSocket& socket, std::string_view encoded,
                                          std::chrono::milliseconds timeout) {
  if (socket.tls()) co_return co_await WriteEncodedFrame(*socket.tls(), encoded, timeout);
  co_return co_await WriteEncodedFrame(socket.tcp(), encoded, timeout);
}

asio::awaitable<Status> FrameSocket::StartTls(asio::ssl::context& ctx, bool server,
                                              const std::string& host,
                                              std::chrono::milliseconds timeout) {
  tls_ = std::make_unique<Tls>(socket_, ctx);
  if (!server) {
    tls_->set_verify_mode(asio::ssl::verify_peer);
    tls_->set_verify_callback(asio::ssl::host_name_verification(host));
    // SNI, so a server behind a TLS proxy can pick the certificate.
    SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
  }
  Deadline<Tls> deadline(*tls_, timeout);
  error_code ec;
  co_await tls_->async_handshake(
      server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client,
      asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return IoStatus(ec, deadline.expired(), timeout, "TLS handshake");
  co_return Status::OK();
}

namespace {

Status UseFile(std::string_view what, const std::string& path, const error_code& ec) {
  if (!ec) return Status::OK();
  return Status::IOError(fmt::format("TLS {} {}: {}", what, path, ec.message()));
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> MakeServerTls(const TlsFiles& files) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  error_code ec;
  ctx->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                       asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                   ec);
  ctx->use_certificate_chain_file(files.cert, ec);
  SQLIFT_RETURN_IF_ERROR(UseFile("certificate", files.cert, ec));
  ctx->use_private_key_file(files.key, asio::ssl::context::pem, ec);
  SQLIFT_RETURN_IF_ERROR(UseFile("key", files.key, ec));
  return ctx;
}

Result<std::shared_ptr<asio::ssl::context>> MakeClientTls(const TlsFiles& files) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  error_code ec;
  ctx->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                       asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                   ec);
  ctx->load_verify_file(files.ca, ec);
  SQLIFT_RETURN_IF_ERROR(UseFile("CA", files.ca, ec));
  return ctx;
}

}  // namespace sqlift::proto
