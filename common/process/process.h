// Child processes, started once and the same way for the product (the PostgreSQL sandbox),
// the tests and the benchmarks: fork and exec of an argv (never a shell), optional extra
// environment, working directory and user (when root), each standard stream inherited,
// discarded, sent to a file or a caller's descriptor, or captured; a wait with an optional
// deadline that kills the child when it passes, reporting exit status or signal and the child's
// peak RSS (wait4).
//
// Ownership: a Child owns its process; destroying one that is still running kills (SIGKILL)
// and reaps it. Captured output is read while waiting, into the Child.
// Thread safety: a Child is used by one thread at a time; Run may be called from any thread,
// also in a process with several threads (the child makes only async-signal-safe calls
// between fork and exec).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/base/status.h"
#include "common/process/user.h"

namespace sqlift::process {

// Where one standard stream of a child goes (or, for stdin, comes from).
struct Stream {
  enum class Kind { kInherit, kNull, kCapture, kFile, kFd, kStdout };
  Kind kind = Kind::kInherit;
  std::string path{};   // kFile
  bool append = false;  // kFile: append instead of truncating
  int fd = -1;          // kFd: the caller's descriptor, still the caller's afterwards

  static Stream Inherit() { return {}; }
  static Stream Null() { return {Kind::kNull, "", false, -1}; }
  static Stream Capture() { return {Kind::kCapture, "", false, -1}; }  // stdout/stderr only
  static Stream File(std::string path, bool append = false) {
    return {Kind::kFile, std::move(path), append, -1};
  }
  static Stream Fd(int fd) { return {Kind::kFd, "", false, fd}; }
  static Stream SameAsStdout() { return {Kind::kStdout, "", false, -1}; }  // stderr only: 2>&1
};

struct Options {
  std::vector<std::string> argv{};     // argv[0]: a path, or a bare name looked up on $PATH
  std::vector<std::string> env{};      // "NAME=value", replacing or adding to the inherited ones
  bool drop_pg_env = false;            // leave out the caller's PG* variables
  std::optional<UserIdentity> user{};  // run as this user (needs root); sets HOME, USER, LOGNAME
  std::string cwd{};                   // empty: inherit
  std::optional<std::string> input{};  // written to stdin through a pipe (then `in` is ignored)
  Stream in = Stream::Inherit();       // kInherit, kNull or kFd
  Stream out = Stream::Inherit();
  Stream err = Stream::Inherit();
  bool own_process_group = false;  // then Kill and a deadline reach the child's whole tree
  size_t capture_limit = 0;        // keep only the last this many captured bytes (0: all)
};

// How a child ended.
struct Exit {
  int exit_code = -1;       // exit status, or 128 + signal number when a signal ended it
  int signal = 0;           // the signal that ended it; 0 when it exited
  bool timed_out = false;   // the deadline passed and it was killed
  int64_t peak_rss_kb = 0;  // largest resident set size (ru_maxrss of wait4)
};

// An ended child with what it printed to captured streams.
struct Output : Exit {
  std::string out{};  // stdout (with stderr too when err is SameAsStdout)
  std::string err{};
};

class Child {
 public:
  [[nodiscard]] static Result<Child> Spawn(Options options);
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  ~Child();

  // Sends `signal` (to the whole group with own_process_group); nothing once it is reaped.
  void Kill(int signal);
  // Feeds `input`, reads captured output, and reaps the child. With a deadline, a child still
  // running then is killed (SIGKILL) and reaped, and the result says timed_out.
  [[nodiscard]] Result<Exit> Wait(
      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);
  // Non-blocking: how it ended, once it has. Does not read captured output.
  std::optional<Exit> Poll();
  // The next line of captured stdout, without "\n", reading (blocking) as needed; false at the
  // end of the output. Lines read here are no longer in out().
  bool ReadOutLine(std::string* line);

  pid_t pid() const { return pid_; }
  const std::string& out() const { return out_text_; }  // captured stdout, so far
  const std::string& err() const { return err_text_; }  // captured stderr, so far

 private:
  Child() = default;
  void Release();
  void Pump(std::optional<std::chrono::steady_clock::time_point> deadline);
  bool AwaitExit(std::optional<std::chrono::steady_clock::time_point> deadline);
  Status Reap(int options);

  pid_t pid_ = -1;
  int pidfd_ = -1;  // waits with a deadline without polling; -1 when the kernel has none
  bool group_ = false;
  std::optional<Exit> exit_;
  int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;  // our ends of the pipes, -1 when closed
  std::string input_;
  size_t input_done_ = 0;
  size_t capture_limit_ = 0;
  std::string out_text_, err_text_;
};

// Spawns, waits (with `timeout` when given) and returns exit and captured output. A non-zero
// exit or a timeout is not an error here; they are in the result.
[[nodiscard]] Result<Output> Run(Options options,
                                 std::optional<std::chrono::milliseconds> timeout = std::nullopt);

// Run with stdout and stderr captured separately and `input` on stdin.
[[nodiscard]] Result<Output> RunCaptured(std::vector<std::string> argv, std::string input = "");

}  // namespace sqlift::process
