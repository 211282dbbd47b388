// HttpServer: the daemons' small HTTP endpoint (GET /status as JSON, GET /metrics in the
// Prometheus text format), with Boost.Beast, on its own thread.
//
// Each path maps to a function that renders the body when asked, so what it serves is always
// current. Anything but GET of a known path is answered 404/405; one request per connection
// (Connection: close), a 5 s deadline per request, at most 64 KiB of request header.
//
// Ownership: owns its io_context thread; handlers must stay valid until Stop().
// Thread safety: handlers run on the server's thread, so they must lock what they read.
// Start and Stop are called from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/base/result.h"

namespace sqlift {

struct HttpResponse {
  std::string content_type = "application/json";
  std::string body;
  int status = 200;  // 200, or 400/404 for a bad or unknown query
};

// The parameters of a request's query string ("tenant=acme&x=1"), percent-decoded.
using HttpQuery = std::map<std::string, std::string>;

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpQuery& query)>;

  // Binds host:port (port 0: any free port) and serves `routes` (path → handler).
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> Start(
      const std::string& host, uint16_t port, std::map<std::string, Handler> routes);
  ~HttpServer();  // Stop()
  void Stop();
  uint16_t port() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "name{labels} value\n" lines with their # HELP and # TYPE, for /metrics.
class PrometheusText {
 public:
  void Gauge(const std::string& name, const std::string& help, double value,
             const std::string& labels = "");
  void Counter(const std::string& name, const std::string& help, double value,
               const std::string& labels = "");
  const std::string& text() const { return text_; }

 private:
  void Add(const std::string& type, const std::string& name, const std::string& help, double value,
           const std::string& labels);
  std::string text_;
};

}  // namespace sqlift
