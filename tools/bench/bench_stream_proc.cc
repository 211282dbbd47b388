// Child processes for `sqlift bench stream` (tools/bench_stream.h): the `sqlift init`, `apply`
// and `capture` runs. posix_spawn, no shell, so paths need no quoting; output appended to a log
// file that failure messages quote.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tools/bench/bench_stream.h"

extern char** environ;

namespace sqlift::bench_stream {
namespace {

int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Result<std::unique_ptr<Child>> Child::Spawn(const std::vector<std::string>& argv,
                                            const std::string& log) {
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(fmt::format("open {}: {}", log, std::strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));  // posix_spawn does not write them
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fd);
  if (rc != 0) return Status::IOError(fmt::format("spawn {}: {}", argv[0], std::strerror(rc)));
  return std::unique_ptr<Child>(new Child(pid));
}

Child::~Child() {
  if (done_) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
}

bool Child::Exited() {
  if (done_) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  done_ = true;
  code_ = ExitCode(status);
  return true;
}

int Child::Stop(std::chrono::seconds grace) {
  if (Exited()) return code_;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (!Exited()) {
    if (std::chrono::steady_clock::now() > deadline) kill(pid_, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // waitpid has no timeout
  }
  return code_;
}

Status RunToEnd(const std::vector<std::string>& argv, const std::string& log,
                std::chrono::seconds timeout) {
  SQLIFT_ASSIGN_OR_RETURN(auto child, Child::Spawn(argv, log));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!child->Exited()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Aborted(
          fmt::format("{} {}: timed out after {} s", argv[0], argv.back(), timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int code = child->Stop(std::chrono::seconds(0));
  if (code == 0) return Status::OK();
  return Status::Internal(
      fmt::format("{} {} exited with {}: {}", argv[0], argv.back(), code, Tail(log, 2000)));
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  return s.size() > bytes ? "..." + s.substr(s.size() - bytes) : s;
}

}  // namespace sqlift::bench_stream
