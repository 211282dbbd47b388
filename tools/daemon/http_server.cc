// HttpServer: accept loop and one coroutine per request (see http_server.h). Modelled on the
// Boost.Beast coroutine examples (http_server_awaitable), cut down to GET and Connection:
// close.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio and the rest
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "tools/daemon/http_server.h"

namespace sqlift {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 &&
               HexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

HttpQuery ParseQuery(std::string_view q) {
  HttpQuery out;
  while (!q.empty()) {
    std::string_view part = q.substr(0, q.find('&'));
    q.remove_prefix(std::min(q.size(), part.size() + 1));
    size_t eq = part.find('=');
    out[PercentDecode(part.substr(0, eq))] =
        eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1));
  }
  return out;
}

std::string Paths(const std::map<std::string, HttpServer::Handler>& routes) {
  std::string out;
  for (const auto& r : routes)
    out += (out.empty() ? "" : ", ") + r.first;
  return out;
}

}  // namespace

struct HttpServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::map<std::string, Handler> routes;
  std::thread thread;
  uint16_t port = 0;

  asio::awaitable<void> Accept();
  asio::awaitable<void> Serve(tcp::socket socket);
  http::response<http::string_body> Answer(const http::request<http::string_body>& req);
};

http::response<http::string_body> HttpServer::Impl::Answer(
    const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(false);
  res.set(http::field::server, "sqlift");
  std::string target(req.target());
  size_t q = target.find('?');
  HttpQuery query = q == std::string::npos ? HttpQuery{} : ParseQuery(target.substr(q + 1));
  target = target.substr(0, q);
  auto it = routes.find(target);
  if (it == routes.end()) {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain");
    res.body() = "not found; try " + Paths(routes) + "\n";
  } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
  } else {
    HttpResponse r = it->second(query);
    res.result(static_cast<http::status>(r.status));
    res.set(http::field::content_type, r.content_type);
    res.body() = std::move(r.body);
  }
  res.prepare_payload();
  return res;
}

asio::awaitable<void> HttpServer::Impl::Serve(tcp::socket socket) {
  // The deadline closes the socket, which ends a read or write in progress (slow clients).
  asio::steady_timer deadline(io, std::chrono::seconds(5));
  deadline.async_wait([&socket](const boost::system::error_code& ec) {
    if (!ec) socket.close();
  });
  boost::beast::flat_buffer buffer(64 << 10);
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 << 10);
  parser.body_limit(64 << 10);
  boost::system::error_code ec;
  co_await http::async_read(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    http::response<http::string_body> res = Answer(parser.get());
    co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
  }
  deadline.cancel();
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

asio::awaitable<void> HttpServer::Impl::Accept() {
  while (acceptor.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor.is_open()) break;
      continue;
    }
    asio::co_spawn(io, Serve(std::move(socket)), asio::detached);
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, uint16_t port,
                                                      std::map<std::string, Handler> routes) {
  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(routes);
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(host, ec), port);
  if (ec) return Status::InvalidArgument(fmt::format("http listen {}: {}", host, ec.message()));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable(fmt::format("http listen {}:{}: {}", host, port, ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  asio::co_spawn(raw->io, raw->Accept(), asio::detached);
  raw->thread = std::thread([raw] { raw->io.run(); });
  spdlog::info("http: serving {} on {}:{}", Paths(raw->routes), host, raw->port);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
  });
  impl_->io.stop();
  impl_->thread.join();
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

void PrometheusText::Add(const std::string& type, const std::string& name, const std::string& help,
                         double value, const std::string& labels) {
  if (text_.find("# TYPE " + name + " ") == std::string::npos) {
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  text_ += fmt::format("{}{}{} {}\n", name, labels.empty() ? "" : "{",
                       labels.empty() ? "" : labels + "}", value);
}

void PrometheusText::Gauge(const std::string& name, const std::string& help, double value,
                           const std::string& labels) {
  Add("gauge", name, help, value, labels);
}

void PrometheusText::Counter(const std::string& name, const std::string& help, double value,
                             const std::string& labels) {
  Add("counter", name, help, value, labels);
}

}  // namespace sqlift
