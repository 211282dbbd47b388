// HttpServer on loopback with a real Asio client: routes, content types, query strings,
// unknown paths, clients that stall or send garbage, and a prompt Stop.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// Asio and the rest
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <sstream>
#include <string>

#include "tools/daemon/http_server.h"

namespace sqlift {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

// A client connection to the server on 127.0.0.1.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void Send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Reads one response (the server closes after it).
  http::response<http::string_body> Read() {
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket_, buffer, res);
    return res;
  }
  // Reads until the server closes; what it sent.
  std::string ReadToEnd() {
    std::string out;
    boost::system::error_code ec;
    asio::read(socket_, asio::dynamic_buffer(out), ec);
    return out;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
};

http::response<http::string_body> Get(uint16_t port, const std::string& target,
                                      http::verb verb = http::verb::get) {
  Client c(port);
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  std::ostringstream out;
  out << req;
  c.Send(out.str());
  return c.Read();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server =
        HttpServer::Start("127.0.0.1", 0,
                          {{"/status",
                            [](const HttpQuery&) {
                              return HttpResponse{"application/json", "{\"ok\":true}\n"};
                            }},
                           {"/metrics",
                            [](const HttpQuery&) {
                              return HttpResponse{"text/plain", "m 1\n"};
                            }},
                           {"/echo", [this](const HttpQuery& q) {
                              std::lock_guard lock(mu_);
                              last_query_ = q;
                              return HttpResponse{"text/plain", "echo", q.count("bad") ? 400 : 200};
                            }}});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_NE(server_->port(), 0);
  }

  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  HttpQuery last_query_;
};

TEST_F(HttpServerTest, ServesARegisteredRouteWithItsContentType) {
  auto res = Get(server_->port(), "/status");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(std::string(res[http::field::content_type]), "application/json");
  EXPECT_EQ(res.body(), "{\"ok\":true}\n");
  EXPECT_FALSE(res.keep_alive());
  auto metrics = Get(server_->port(), "/metrics");
  EXPECT_EQ(std::string(metrics[http::field::content_type]), "text/plain");
  EXPECT_EQ(metrics.body(), "m 1\n");
}

TEST_F(HttpServerTest, PassesTheDecodedQueryAndTheHandlersStatus) {
  auto res = Get(server_->port(), "/echo?tenant=a%20b+c&flag&x=%2F");
  EXPECT_EQ(res.result(), http::status::ok);
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(last_query_, (HttpQuery{{"tenant", "a b c"}, {"flag", ""}, {"x", "/"}}));
  }
  EXPECT_EQ(Get(server_->port(), "/echo?bad=1").result(), http::status::bad_request);
}

TEST_F(HttpServerTest, AnUnknownPathIs404AndAnotherMethod405) {
  auto res = Get(server_->port(), "/nope");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_NE(res.body().find("/status"), std::string::npos) << res.body();
  auto post = Get(server_->port(), "/status", http::verb::post);
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(std::string(post[http::field::allow]), "GET, HEAD");
}

TEST_F(HttpServerTest, AStalledOrGarbageClientDoesNotBlockOthers) {
  Client stalled(server_->port());
  stalled.Send("GET /sta");  // and nothing more
  Client garbage(server_->port());
  garbage.Send("\x01\x02 not http at all\r\n\r\n");
  EXPECT_EQ(garbage.ReadToEnd().find("200"), std::string::npos);  // closed, not answered
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Get(server_->port(), "/status").body(), "{\"ok\":true}\n");
}

TEST_F(HttpServerTest, StopsWhileAClientStalls) {
  Client stalled(server_->port());
  stalled.Send("GET /status HTTP/1.1\r\nHost: x\r\n");  // the header never ends
  server_->Stop();
  server_->Stop();  // idempotent
  server_.reset();
  EXPECT_EQ(stalled.ReadToEnd(), "");  // closed with the server, never answered
}

TEST(HttpServerStartTest, ABadAddressIsRefused) {
  auto server = HttpServer::Start("not an address", 0, {});
  EXPECT_EQ(server.status().code(), Status::Code::kInvalidArgument);
}

TEST(PrometheusTextTest, HelpAndTypeOncePerNameThenOneLinePerSample) {
  PrometheusText m;
  m.Gauge("sqlift_lag", "Lag", 3, "source=\"a\"");
  m.Gauge("sqlift_lag", "Lag", 4, "source=\"b\"");
  m.Counter("sqlift_total", "Total", 7);
  EXPECT_EQ(m.text(),
            "# HELP sqlift_lag Lag\n# TYPE sqlift_lag gauge\nsqlift_lag{source=\"a\"} 3\n"
            "sqlift_lag{source=\"b\"} 4\n# HELP sqlift_total Total\n# TYPE sqlift_total "
            "counter\nsqlift_total 7\n");
}

}  // namespace
}  // namespace sqlift
