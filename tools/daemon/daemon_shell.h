// DaemonShell: what the two daemons (`sqlift capture`, `sqlift apply`) share around their work:
// SIGINT and SIGTERM through asio::signal_set, the HTTP endpoint, retry with back-off while the
// work cannot start yet, and the exit code.
//
// Make the shell first: from then on SIGINT and SIGTERM request a stop instead of ending the
// process, so a signal that comes while the daemon starts is neither lost nor fatal. Then
// Run(work), on the daemon's main thread:
//   1. work.Start() until it succeeds. A failure work.RetryStart() accepts is logged and tried
//      again after a back-off (first_backoff, doubling up to max_backoff), unless a stop is
//      requested meanwhile (then Run returns 0); any other failure is the result.
//   2. With `http_listen` (host:port) given, the HTTP endpoint serves work.Routes(). It is for
//   watching: a port
//      that cannot be bound is logged and tried again every http_retry, never a reason to stop.
//   3. work.Run(stop) on the calling thread until it returns.
//   4. The HTTP endpoint stops, then work.Shutdown().
// The first signal is logged and requests the stop: the StopFlag is set and, once Start()
// succeeded, work.Stop() is called (the daemon's own stop mechanism: an inotify wake, a sink
// interrupt). A second signal ends the process at once, as SIGKILL would (what the daemons
// write is crash-safe): std::_Exit(128 + signal).
//
// Ownership: owns its io_context and the one thread that runs it; work must outlive Run().
// Threads: signals are taken by the io_context's thread (asio's handler only writes to a pipe),
// never in a signal handler; the logging, work.Stop() and the HTTP endpoint's start and retries
// run on that thread. work.Stop() is never called during or before Start(). Run is called once,
// from one thread; RequestStop, stop and http_port from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/base/status.h"
#include "tools/daemon/http_server.h"

namespace sqlift {

// A stop request that can be waited on. Thread safety: any thread.
class StopFlag {
 public:
  void Request();
  bool requested() const;
  // Waits up to `timeout`; true once a stop is requested.
  bool WaitFor(std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool requested_ = false;
};

// One daemon's work, as the shell drives it (see above for when each is called).
class DaemonWork {
 public:
  virtual ~DaemonWork() = default;
  // Gets ready to run: opens, connects, starts threads. Called again after a failure that
  // RetryStart accepts, so it must resume where it stopped (or start over cleanly).
  [[nodiscard]] virtual Status Start() = 0;
  // Whether a failure of Start is worth another try after a back-off.
  virtual bool RetryStart(const Status& st) const { return st.Retryable(); }
  // What the HTTP endpoint serves; called once, after Start succeeded, on the shell's thread.
  // The handlers run on the server's thread and must stay valid until Shutdown.
  virtual std::map<std::string, HttpServer::Handler> Routes() { return {}; }
  // Does the work until `stop` is requested (or Stop() is called), or an error.
  [[nodiscard]] virtual Status Run(const StopFlag& stop) = 0;
  // Asks Run to return soon, through the daemon's own stop mechanism; on the shell's thread.
  // It may come just before Run starts: Run must then return at once.
  virtual void Stop() {}
  // Stops what Start started, after Run returned (or was skipped: a stop during Start).
  virtual void Shutdown() {}
};

struct DaemonShellOptions {
  std::string name;  // prefixes the shell's log lines ("capture", "apply")
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds http_retry{60000};
};

class DaemonShell {
 public:
  // Takes SIGINT and SIGTERM from here on, and starts the shell's thread.
  explicit DaemonShell(DaemonShellOptions options);
  ~DaemonShell();  // gives the signals back their default action
  DaemonShell(const DaemonShell&) = delete;
  DaemonShell& operator=(const DaemonShell&) = delete;

  // Steps 1 to 4 above (`http_listen` empty: no HTTP endpoint); kExitOk after a clean stop (or a
  // stop before the work started), otherwise the error is logged and the exit code is kExitUsage
  // for invalid input, else kExitFailure.
  int Run(DaemonWork& work, const std::string& http_listen = "");
  // What the first signal does.
  void RequestStop();
  const StopFlag& stop() const;
  // The HTTP endpoint's port once it is bound (port 0 in http_listen: the one chosen), else 0.
  uint16_t http_port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sqlift
