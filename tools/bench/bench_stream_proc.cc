// Child processes for `sqlift bench stream` (tools/bench_stream.h): the `sqlift init`, `apply`
// and `capture` runs, through common/process (no shell, so paths need no quoting), with their
// output appended to a log file that failure messages quote.
#include <fmt/format.h>
#include <signal.h>

#include "common/process/files.h"
#include "tools/bench/bench_stream.h"

namespace sqlift::bench_stream {

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
