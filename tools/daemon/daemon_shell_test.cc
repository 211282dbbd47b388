// DaemonShell with a fake daemon: a signal stops it cleanly at any point, start failures are
// retried or not, and the HTTP endpoint answers while the work runs.
#include <utility>  // before Asio: Boost 1.74's headers use std::exchange unincluded
// Asio and the rest
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <future>
#include <iterator>
#include <string>

#include "common/base/exit_code.h"
#include "tools/daemon/daemon_shell.h"

namespace sqlift {
namespace {

using namespace std::chrono_literals;

// A daemon whose steps are the test's; Run waits for Stop() as a real daemon's loop would.
class FakeWork : public DaemonWork {
 public:
  std::function<Status(int attempt)> start = [](int) { return Status::OK(); };
  std::function<void(DaemonShell&)> in_run;
  std::map<std::string, HttpServer::Handler> routes;
  DaemonShell* shell = nullptr;

  std::atomic<int> starts{0}, runs{0}, stops{0}, shutdowns{0};
  Status run_result;

  Status Start() override { return start(++starts); }
  std::map<std::string, HttpServer::Handler> Routes() override { return routes; }
  Status Run(const StopFlag& stop) override {
    ++runs;
    if (in_run) in_run(*shell);
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopped_; });
    EXPECT_TRUE(stop.requested());
    return run_result;
  }
  void Stop() override {
    ++stops;
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  void Shutdown() override { ++shutdowns; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

DaemonShellOptions Fast() {
  DaemonShellOptions o;
  o.name = "test";
  o.first_backoff = 1ms;
  o.max_backoff = 4ms;
  return o;
}

TEST(DaemonShellTest, SigtermWhileRunningStopsTheWorkAndExitsZero) {
  DaemonShell shell(Fast());
  FakeWork work;
  work.shell = &shell;
  work.in_run = [](DaemonShell&) { ASSERT_EQ(kill(getpid(), SIGTERM), 0); };
  EXPECT_EQ(shell.Run(work), kExitOk);
  EXPECT_TRUE(shell.stop().requested());
  EXPECT_EQ(work.starts, 1);
  EXPECT_EQ(work.runs, 1);
  EXPECT_EQ(work.stops, 1);
  EXPECT_EQ(work.shutdowns, 1);
}

TEST(DaemonShellTest, SigintDuringStartSkipsTheWorkAndExitsZero) {
  DaemonShell shell(Fast());
  FakeWork work;
  work.start = [&shell](int) {
    EXPECT_EQ(raise(SIGINT), 0);
    EXPECT_TRUE(shell.stop().WaitFor(std::chrono::hours(1)));
    return Status::OK();
  };
  EXPECT_EQ(shell.Run(work), kExitOk);
  EXPECT_EQ(work.runs, 0);
  EXPECT_EQ(work.stops, 0);      // never called during Start
  EXPECT_EQ(work.shutdowns, 1);  // what Start started is stopped
}

TEST(DaemonShellTest, RetryableStartFailureIsRetriedWithBackOff) {
  DaemonShell shell(Fast());
  FakeWork work;
  work.shell = &shell;
  work.start = [](int attempt) {
    return attempt < 4 ? Status::Unavailable("PostgreSQL is not up yet") : Status::OK();
  };
  work.in_run = [](DaemonShell& s) { s.RequestStop(); };
  EXPECT_EQ(shell.Run(work), kExitOk);
  EXPECT_EQ(work.starts, 4);
  EXPECT_EQ(work.runs, 1);
  EXPECT_EQ(work.stops, 1);
}

TEST(DaemonShellTest, SigtermDuringBackOffEndsTheWait) {
  DaemonShellOptions o = Fast();
  o.first_backoff = std::chrono::hours(1);  // only the signal can end the wait
  DaemonShell shell(o);
  FakeWork work;
  work.start = [](int) {
    EXPECT_EQ(kill(getpid(), SIGTERM), 0);
    return Status::Unavailable("PostgreSQL is not up yet");
  };
  EXPECT_EQ(shell.Run(work), kExitOk);
  EXPECT_EQ(work.starts, 1);
  EXPECT_EQ(work.runs, 0);
  EXPECT_EQ(work.shutdowns, 0);
}

TEST(DaemonShellTest, NonRetryableStartFailureExitsWithItsCode) {
  DaemonShell shell(Fast());
  FakeWork failing;
  failing.start = [](int) { return Status::Internal("schema cannot be created"); };
  EXPECT_EQ(shell.Run(failing), kExitFailure);
  EXPECT_EQ(failing.starts, 1);
  EXPECT_EQ(failing.runs, 0);
  FakeWork invalid;
  invalid.start = [](int) { return Status::InvalidArgument("[source] id is missing"); };
  EXPECT_EQ(shell.Run(invalid), kExitUsage);
}

TEST(DaemonShellTest, FailureOfTheWorkIsTheExitCode) {
  DaemonShell shell(Fast());
  FakeWork work;
  work.shell = &shell;
  work.run_result = Status::Corruption("gap in the outbox");
  work.in_run = [](DaemonShell& s) { s.RequestStop(); };
  EXPECT_EQ(shell.Run(work), kExitFailure);
  EXPECT_EQ(work.shutdowns, 1);
}

uint16_t FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string Get(uint16_t port, const std::string& path) {
  boost::asio::ip::tcp::iostream s("127.0.0.1", std::to_string(port));
  s << "GET " << path << " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" << std::flush;
  return std::string(std::istreambuf_iterator<char>(s), {});
}

TEST(DaemonShellTest, HttpEndpointAnswersWhileTheWorkRuns) {
  DaemonShell shell(Fast());
  FakeWork work;
  work.shell = &shell;
  work.routes = {{"/status", [](const HttpQuery&) {
                    return HttpResponse{"application/json", "{\"state\":\"up\"}"};
                  }}};
  std::string answer;
  uint16_t port = FreePort();
  work.in_run = [&](DaemonShell& s) {
    EXPECT_EQ(s.http_port(), port);
    answer = Get(port, "/status");
    EXPECT_EQ(raise(SIGTERM), 0);
  };
  EXPECT_EQ(shell.Run(work, "127.0.0.1:" + std::to_string(port)), kExitOk);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("{\"state\":\"up\"}"), std::string::npos) << answer;
  EXPECT_EQ(shell.http_port(), 0);  // stopped with the work
}

TEST(DaemonShellTest, SecondSignalEndsTheProcessAtOnce) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_EXIT(
      {
        DaemonShell shell(Fast());
        FakeWork work;
        work.shell = &shell;
        work.in_run = [](DaemonShell& s) {
          raise(SIGTERM);
          (void)s.stop().WaitFor(std::chrono::hours(1));
          raise(SIGTERM);
          std::promise<void>().get_future().wait();  // a batch that never ends: only the exit
        };
        (void)shell.Run(work);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "");
}

}  // namespace
}  // namespace sqlift
