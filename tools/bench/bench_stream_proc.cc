// Child processes for `sqlift bench stream` and `sqlift bench snapshot` (tools/bench_stream.h):
// the `sqlift init`, `apply` and `capture` runs, through common/process (no shell, so paths
// need no quoting), with their output appended to a log file that failure messages quote; and
// a port for the applier to listen on.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/process/files.h"
#include "tools/bench/bench_stream.h"

namespace sqlift::bench_stream {

// A loopback port free right now (the applier binds it a moment later).
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

Result<process::Child> SpawnDaemon(const std::vector<std::string>& argv, const std::string& log) {
  return process::Child::Spawn({.argv = argv,
                                .in = process::Stream::Null(),
                                .out = process::Stream::File(log, /*append=*/true),
                                .err = process::Stream::SameAsStdout()});
}

int Stop(process::Child& child, std::chrono::seconds grace) {
  if (std::optional<process::Exit> exit = child.Poll()) return exit->exit_code;
  child.Kill(SIGTERM);
  Result<process::Exit> exit = child.Wait(std::chrono::steady_clock::now() + grace);
  return exit.ok() ? exit->exit_code : -1;
}

Status RunToEnd(const std::vector<std::string>& argv, const std::string& log,
                std::chrono::seconds timeout) {
  SQLIFT_ASSIGN_OR_RETURN(process::Child child, SpawnDaemon(argv, log));
  SQLIFT_ASSIGN_OR_RETURN(process::Exit exit,
                          child.Wait(std::chrono::steady_clock::now() + timeout));
  if (exit.timed_out) {
    return Status::Aborted(
        fmt::format("{} {}: timed out after {} s", argv[0], argv.back(), timeout.count()));
  }
  if (exit.exit_code == 0) return Status::OK();
  return Status::Internal(fmt::format("{} {} exited with {}: {}", argv[0], argv.back(),
                                      exit.exit_code, process::FileTail(log, 2000)));
}

}  // namespace sqlift::bench_stream
