#include "tests/testutil/subprocess.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace sqlift::testing {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
  void CloseRead() { close(std::exchange(fd[0], -1)); }
  void CloseWrite() { close(std::exchange(fd[1], -1)); }
};

// Moves bytes between the child's three pipes until all are closed, without deadlocking
// when the child fills one pipe while we write another.
void Pump(Pipe& in, Pipe& out, Pipe& err, const std::string& input, ProcessOutput* result) {
  size_t written = 0;
  if (input.empty()) in.CloseWrite();
  char buf[65536];
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {in.fd[1], POLLOUT, 0}};
    if (poll(fds, 3, -1) < 0 && errno != EINTR) return;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? result->out : result->err).append(buf, n);
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out : err).CloseRead();
      }
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write(in.fd[1], input.data() + written, input.size() - written);
      if (n > 0) written += n;
      if (n < 0 || written == input.size()) in.CloseWrite();
    }
  }
}

}  // namespace

Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv, const std::string& input) {
  if (argv.empty()) return Status::InvalidArgument("RunProcess: empty argv");
  signal(SIGPIPE, SIG_IGN);  // a child that exits before reading its input must not kill us
  Pipe in, out, err;
  if (pipe2(in.fd, O_CLOEXEC) || pipe2(out.fd, O_CLOEXEC) || pipe2(err.fd, O_CLOEXEC)) {
    return Status::IOError(fmt::format("pipe: {}", std::strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Status::IOError(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    dup2(in.fd[0], 0);
    dup2(out.fd[1], 1);
    dup2(err.fd[1], 2);
    execv(args[0], args.data());
    _exit(127);
  }
  in.CloseRead();
  out.CloseWrite();
  err.CloseWrite();
  ProcessOutput result;
  Pump(in, out, err, input, &result);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return Status::IOError(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

}  // namespace sqlift::testing

namespace sqlift::testing {

Result<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& env,
                                         const std::string& stdout_path,
                                         const std::string& stderr_path) {
  if (argv.empty()) return Status::InvalidArgument("Spawn: empty argv");
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_copy;
  for (char** e = environ; *e; ++e)
    env_copy.emplace_back(*e);
  env_copy.insert(env_copy.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (std::string& e : env_copy)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  int out_fd = -1;
  const bool one_log = !stdout_path.empty() && stdout_path == stderr_path;
  if (!stdout_path.empty()) {
    out_fd = open(stdout_path.c_str(),
                  O_WRONLY | O_CREAT | (one_log ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);
    if (out_fd < 0)
      return Status::IOError(fmt::format("open {}: {}", stdout_path, std::strerror(errno)));
  }
  int err_fd = -1;
  if (!stderr_path.empty() && !one_log) {
    err_fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err_fd < 0) {
      if (out_fd >= 0) close(out_fd);
      return Status::IOError(fmt::format("open {}: {}", stderr_path, std::strerror(errno)));
    }
  }
  pid_t pid = fork();
  if (pid < 0) return Status::IOError(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    if (one_log) dup2(out_fd, 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), exit_code_(other.exit_code_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      (void)Wait();
    }
    pid_ = std::exchange(other.pid_, -1);
    exit_code_ = other.exit_code_;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) {
    kill(pid_, SIGKILL);
    (void)Wait();
  }
}

void ChildProcess::Kill(int signal) {
  if (pid_ > 0 && !exit_code_) kill(pid_, signal);
}

static int DecodeWaitStatus(int wstatus) {
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

Result<int> ChildProcess::Wait() {
  if (exit_code_) return *exit_code_;
  int wstatus = 0;
  while (waitpid(pid_, &wstatus, 0) < 0) {
    if (errno != EINTR) return Status::IOError(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  exit_code_ = DecodeWaitStatus(wstatus);
  return *exit_code_;
}

std::optional<int> ChildProcess::Poll() {
  if (exit_code_) return exit_code_;
  int wstatus = 0;
  if (waitpid(pid_, &wstatus, WNOHANG) == pid_) exit_code_ = DecodeWaitStatus(wstatus);
  return exit_code_;
}

}  // namespace sqlift::testing
