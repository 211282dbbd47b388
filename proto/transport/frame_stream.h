// Frames over an Asio stream: the Asio side of the framing in frame_codec.h.
//
// ReadFrame reads the 4-byte header, checks it with ParseFrameHeader against the maximum
// BEFORE reading or allocating the body, then reads exactly N bytes and parses them. The whole
// frame must arrive within `timeout`: when the deadline passes the stream's socket is closed
// (not just cancelled, so a timer that fires between the header and the body read still ends
// the connection) and Aborted is returned. A peer that sends two bytes and stalls (slow loris)
// therefore costs one timer, never a stuck session.
//
// Errors: Aborted (deadline passed), Unavailable (peer closed, socket error), Corruption (a
// header of 0 or over the maximum, or a body that is not a Frame). Callers close the
// connection on any error; none of them leaves the stream at a frame boundary.
//
// Streams: implemented once as a template in frame_stream.cc and instantiated for
// tcp::socket; a TLS stream (ssl::stream<tcp::socket>) is one more instantiation there.
//
// Thread safety: one ReadFrame and one WriteFrame may be outstanding at a time per stream,
// both on the stream's (single-threaded) executor.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/result.h"
#include "common/base/status.h"
#include "proto/wire/frame_codec.h"

namespace sqlift::proto {

template <typename Stream>
boost::asio::awaitable<Status> ReadFrame(Stream& stream, size_t max_frame_bytes,
                                         std::chrono::milliseconds timeout, wire::Frame* out);

// Reads one frame as ReadFrame does, leaving its body unparsed in *body (for a reader that
// parses it its own way: proto/wire/chunk_rows.h).
template <typename Stream>
boost::asio::awaitable<Status> ReadFrameBody(Stream& stream, size_t max_frame_bytes,
                                             std::chrono::milliseconds timeout, std::string* body);

// Encodes `frame` (EncodeFrame) and writes it within `timeout` (the socket is closed when it
// passes). InvalidArgument when the frame has no body or is over max_frame_bytes.
template <typename Stream>
boost::asio::awaitable<Status> WriteFrame(Stream& stream, const wire::Frame& frame,
                                          size_t max_frame_bytes,
                                          std::chrono::milliseconds timeout);

// Writes a frame encoded beforehand (EncodeFrame's output: header and body) within `timeout`,
// as WriteFrame does once it has encoded its frame.
template <typename Stream>
boost::asio::awaitable<Status> WriteEncodedFrame(Stream& stream, std::string_view encoded,
                                                 std::chrono::milliseconds timeout);

// A TCP connection whose frames go in plain TCP or, after StartTls, through TLS (Asio SSL
// over OpenSSL): the one type the shipper and the receiver hold, so that their code is the
// same either way. Closing the TCP socket (deadlines, Stop) ends both.
//
// Thread safety: as its socket; one read and one write may be outstanding at once.
class FrameSocket {
 public:
  using Tcp = boost::asio::ip::tcp::socket;
  using Tls = boost::asio::ssl::stream<Tcp&>;

  explicit FrameSocket(Tcp socket) : socket_(std::move(socket)) {}
  explicit FrameSocket(boost::asio::io_context& io) : socket_(io) {}

  Tcp& tcp() { return socket_; }
  Tls* tls() { return tls_.get(); }
  // A fresh, unconnected socket (before a reconnect); TLS is off until StartTls.
  void Reset(boost::asio::io_context& io) {
    tls_.reset();
    socket_ = Tcp(io);
  }
  void close(boost::system::error_code& ec) { socket_.close(ec); }

  // The TLS handshake within `timeout`, as the server or as a client that checks the
  // certificate names `host`. Unavailable when it fails (a wrong certificate included).
  boost::asio::awaitable<Status> StartTls(boost::asio::ssl::context& ctx, bool server,
                                          const std::string& host,
                                          std::chrono::milliseconds timeout);

 private:
  Tcp socket_;
  std::unique_ptr<Tls> tls_;  // refers to socket_; destroyed before it
};

// TLS contexts from PEM files ([transport] tls_cert, tls_key, tls_ca). The server presents
// cert + key; the client trusts only `ca` and checks the server's name. IOError naming the
// file when one cannot be used.
struct TlsFiles {
  std::string cert, key, ca;
};
[[nodiscard]] Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTls(
    const TlsFiles& files);
[[nodiscard]] Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTls(
    const TlsFiles& files);

boost::asio::awaitable<Status> ReadFrame(FrameSocket& socket, size_t max_frame_bytes,
                                         std::chrono::milliseconds timeout, wire::Frame* out);
boost::asio::awaitable<Status> WriteFrame(FrameSocket& socket, const wire::Frame& frame,
                                          size_t max_frame_bytes,
                                          std::chrono::milliseconds timeout);
boost::asio::awaitable<Status> WriteEncodedFrame(FrameSocket& socket, std::string_view encoded,
                                                 std::chrono::milliseconds timeout);
boost::asio::awaitable<Status> ReadFrameBody(FrameSocket& socket, size_t max_frame_bytes,
                                             std::chrono::milliseconds timeout, std::string* body);

extern template boost::asio::awaitable<Status> ReadFrame(boost::asio::ip::tcp::socket&, size_t,
                                                         std::chrono::milliseconds, wire::Frame*);
extern template boost::asio::awaitable<Status> WriteFrame(boost::asio::ip::tcp::socket&,
                                                          const wire::Frame&, size_t,
                                                          std::chrono::milliseconds);

}  // namespace sqlift::proto
