// Runs a program to completion and captures what it printed, for scenario tests.
// Thread safety: each call is independent.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"

namespace sqlift::testing {

struct ProcessOutput {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs argv[0] with argv (no shell), waits for it, and returns its exit code and output.
// `input` is written to its standard input.
[[nodiscard]] Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv,
                                               const std::string& input = "");

}  // namespace sqlift::testing

namespace sqlift::testing {

// A child process started without waiting for it; killed with SIGKILL on destruction if
// still running. Its standard output goes to `stdout_path` (truncated) and its standard error
// is appended to `stderr_path` (so a daemon restarted many times keeps one log), or each is
// inherited when its path is empty. The same path for both: one log, appended to.
class ChildProcess {
 public:
  // env: extra "NAME=value" entries added to this process's environment.
  [[nodiscard]] static Result<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                                  const std::vector<std::string>& env = {},
                                                  const std::string& stdout_path = "",
                                                  const std::string& stderr_path = "");
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  void Kill(int signal);
  // Waits for the exit; returns the exit code, or 128 + signal.
  [[nodiscard]] Result<int> Wait();
  // Non-blocking: the exit code if it has exited.
  [[nodiscard]] std::optional<int> Poll();
  pid_t pid() const { return pid_; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace sqlift::testing
