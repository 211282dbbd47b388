// DaemonShell: signals, HTTP endpoint, start retries and exit code (see daemon_shell.h).
#include <utility>  // before Asio: Boost 1.74's headers use std::exchange unincluded
// Asio and the rest
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <future>
#include <thread>

#include "common/base/exit_code.h"
#include "common/config/config.h"
#include "tools/daemon/daemon_shell.h"

namespace sqlift {

namespace asio = boost::asio;

void StopFlag::Request() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

bool StopFlag::requested() const {
  std::lock_guard lock(mu_);
  return requested_;
}

bool StopFlag::WaitFor(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return requested_; });
}

namespace {

const char* SignalName(int signo) {
  return signo == SIGTERM ? "SIGTERM" : signo == SIGINT ? "SIGINT" : "a signal";
}

}  // namespace

struct DaemonShell::Impl {
  explicit Impl(DaemonShellOptions options) : o(std::move(options)) {}

  void WaitSignal();
  void OnSignal(int signo);
  void StopWork();
  [[nodiscard]] Status StartWork(DaemonWork& work, bool* started);
  void SetWork(DaemonWork* w);
  void TryHttp(const std::string& listen);
  void StopHttp();
  void OnIo(const std::function<void()>& f);

  const DaemonShellOptions o;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  asio::signal_set signals{io, SIGINT, SIGTERM};
  StopFlag stop;
  int signals_seen = 0;  // io thread only

  std::mutex mu;
  DaemonWork* work = nullptr;  // guarded by mu: set from a successful Start until Shutdown
  bool work_stopped = false;   // guarded by mu

  // The HTTP endpoint: io thread only, but for the port.
  asio::steady_timer http_retry{io};
  std::map<std::string, HttpServer::Handler> routes;
  std::unique_ptr<HttpServer> http;
  std::atomic<uint16_t> http_port{0};

  std::thread thread;  // runs io; declared last: started once the rest exists
};

void DaemonShell::Impl::WaitSignal() {
  signals.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (!ec) OnSignal(signo);
  });
}

void DaemonShell::Impl::OnSignal(int signo) {
  if (++signals_seen > 1) {
    spdlog::warn("{}: {} again: stopping now", o.name, SignalName(signo));
    spdlog::default_logger()->flush();
    std::_Exit(128 + signo);
  }
  spdlog::info("{}: {} received, stopping", o.name, SignalName(signo));
  StopWork();
  WaitSignal();
}

void DaemonShell::Impl::StopWork() {
  std::lock_guard lock(mu);
  stop.Request();
  if (!work || work_stopped) return;
  work_stopped = true;
  work->Stop();
}

Status DaemonShell::Impl::StartWork(DaemonWork& w, bool* started) {
  std::chrono::milliseconds delay = o.first_backoff;
  while (!stop.requested()) {
    Status st = w.Start();
    if (st.ok()) return *started = true, Status::OK();
    if (!w.RetryStart(st)) return st;
    spdlog::warn("{}: {} (retrying in {} ms)", o.name, st.ToString(), delay.count());
    if (stop.WaitFor(delay)) break;
    delay = std::min(delay * 2, o.max_backoff);
  }
  return Status::OK();
}

// A stop requested before this is seen by the caller (stop.requested()) and does not call
// w->Stop(); one after it does. The mutex orders the two.
void DaemonShell::Impl::SetWork(DaemonWork* w) {
  std::lock_guard lock(mu);
  work = w;
}

void DaemonShell::Impl::TryHttp(const std::string& listen) {
  Result<Endpoint> ep = ParseEndpoint(listen);
  Result<std::unique_ptr<HttpServer>> started =
      ep.ok() ? HttpServer::Start(ep->host, ep->port, routes)
              : Result<std::unique_ptr<HttpServer>>(ep.status());
  if (started.ok()) {
    http = std::move(started).value();
    http_port = http->port();
    return;
  }
  spdlog::error("{}: no HTTP endpoint on {}: {} (trying again in {} s)", o.name, listen,
                started.status().ToString(),
                std::chrono::duration_cast<std::chrono::seconds>(o.http_retry).count());
  http_retry.expires_after(o.http_retry);
  http_retry.async_wait([this, listen](const boost::system::error_code& ec) {
    if (!ec) TryHttp(listen);
  });
}

void DaemonShell::Impl::StopHttp() {
  http_retry.cancel();
  if (http) http->Stop();
  http.reset();
  routes.clear();
  http_port = 0;
}

void DaemonShell::Impl::OnIo(const std::function<void()>& f) {
  std::promise<void> done;
  asio::post(io, [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

DaemonShell::DaemonShell(DaemonShellOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->WaitSignal();
  impl_->thread = std::thread([io = &impl_->io] { io->run(); });
}

DaemonShell::~DaemonShell() {
  impl_->OnIo([this] {
    impl_->StopHttp();
    boost::system::error_code ignored;
    impl_->signals.clear(ignored);  // the last signal_set: the default actions are back
  });
  impl_->guard.reset();
  impl_->io.stop();
  impl_->thread.join();
}

int DaemonShell::Run(DaemonWork& work, const std::string& http_listen) {
  bool started = false;
  Status st = impl_->StartWork(work, &started);
  if (started) {
    impl_->SetWork(&work);
    if (!http_listen.empty()) {
      impl_->OnIo([this, &work, &http_listen] {
        impl_->routes = work.Routes();
        impl_->TryHttp(http_listen);
      });
    }
    if (!impl_->stop.requested()) st = work.Run(impl_->stop);
    impl_->OnIo([this] { impl_->StopHttp(); });
    impl_->SetWork(nullptr);
    work.Shutdown();
  }
  if (st.ok()) return kExitOk;
  spdlog::error("{}: {}", impl_->o.name, st.ToString());
  return st.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailure;
}

void DaemonShell::RequestStop() {
  asio::post(impl_->io, [this] { impl_->StopWork(); });
}

const StopFlag& DaemonShell::stop() const {
  return impl_->stop;
}

uint16_t DaemonShell::http_port() const {
  return impl_->http_port.load();
}

}  // namespace sqlift
