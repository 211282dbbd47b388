#include "common/process/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include "common/process/files.h"

extern char** environ;

namespace sqlift::process {
namespace {

using Clock = std::chrono::steady_clock;
using Deadline = std::optional<Clock::time_point>;

std::string ErrnoText(int err) {
  return std::strerror(err);
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Milliseconds left before `deadline` for poll(): -1 without one, 0 once it has passed.
int PollTimeout(Deadline deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

std::string_view EnvName(std::string_view kv) {
  return kv.substr(0, kv.find('='));
}

// The caller's environment with the options' changes: PG* dropped on request, the user's
// HOME/USER/LOGNAME, and `env` replacing variables of the same name.
std::vector<std::string> ChildEnvironment(const Options& o) {
  std::vector<std::string> env;
  auto replaced = [&](std::string_view name) {
    if (o.user && (name == "HOME" || name == "USER" || name == "LOGNAME")) return true;
    for (const std::string& e : o.env)
      if (EnvName(e) == name) return true;
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (o.drop_pg_env && kv.starts_with("PG")) continue;
    if (!replaced(EnvName(kv))) env.emplace_back(kv);
  }
  if (o.user) {
    env.push_back("HOME=" + o.user->home);
    env.push_back("USER=" + o.user->name);
    env.push_back("LOGNAME=" + o.user->name);
  }
  env.insert(env.end(), o.env.begin(), o.env.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Everything the child needs, prepared in the parent so the child only makes system calls.
struct Plan {
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;
  std::string exec_failed;
  int src[3] = {-1, -1, -1};  // the descriptor to become 0, 1, 2; -1: inherited
  bool err_to_out = false;
  std::vector<int> owned;            // opened here; closed in the parent after the fork
  int parent_end[3] = {-1, -1, -1};  // our pipe ends: stdin writer, stdout and stderr readers

  ~Plan() {
    for (int& fd : owned)
      CloseFd(fd);
    for (int& fd : parent_end)
      CloseFd(fd);
  }
};

Status OpenStream(const Stream& s, int index, Plan& plan) {
  switch (s.kind) {
    case Stream::Kind::kInherit:
      return Status::OK();
    case Stream::Kind::kFd:
      plan.src[index] = s.fd;
      return Status::OK();
    case Stream::Kind::kStdout:
      if (index != 2) return Status::InvalidArgument("only stderr can go where stdout goes");
      plan.err_to_out = true;
      return Status::OK();
    case Stream::Kind::kNull:
    case Stream::Kind::kFile: {
      bool null = s.kind == Stream::Kind::kNull;
      int flags = index == 0 ? O_RDONLY : O_WRONLY | O_CREAT | (s.append ? O_APPEND : O_TRUNC);
      const std::string& path = null ? std::string("/dev/null") : s.path;
      int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
      if (fd < 0) return Status::IOError(fmt::format("open {}: {}", path, ErrnoText(errno)));
      plan.owned.push_back(fd);
      plan.src[index] = fd;
      return Status::OK();
    }
    case Stream::Kind::kCapture:
      break;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IOError("pipe: " + ErrnoText(errno));
  plan.owned.push_back(index == 0 ? fds[0] : fds[1]);
  plan.src[index] = plan.owned.back();
  plan.parent_end[index] = index == 0 ? fds[1] : fds[0];
  return Status::OK();
}

Status Prepare(const Options& o, Plan& plan) {
  if (o.argv.empty()) return Status::InvalidArgument("process: empty argv");
  plan.args = o.argv;
  if (plan.args[0].find('/') == std::string::npos) {
    plan.args[0] = FindOnPath(o.argv[0]);
    if (plan.args[0].empty()) return Status::NotFound("start " + o.argv[0] + ": not on PATH");
  }
  plan.env = ChildEnvironment(o);
  plan.argv = CStrings(plan.args);
  plan.envp = CStrings(plan.env);
  plan.exec_failed = "exec " + plan.args[0] + " failed\n";
  SQLIFT_RETURN_IF_ERROR(OpenStream(o.input ? Stream::Capture() : o.in, 0, plan));
  SQLIFT_RETURN_IF_ERROR(OpenStream(o.out, 1, plan));
  return OpenStream(o.err, 2, plan);
}

// Async-signal-safe from here to exec: only system calls, on data the parent prepared.
[[noreturn]] void ChildMain(Plan& plan, const Options& o) {
  if (o.own_process_group) setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  for (int i = 0; i < 3; ++i) {  // move sources out of 0..2 first, so no dup2 clobbers one
    if (plan.src[i] >= 0 && plan.src[i] < 3) plan.src[i] = fcntl(plan.src[i], F_DUPFD, 3);
  }
  for (int i = 0; i < 3; ++i) {
    if (plan.src[i] >= 0 && dup2(plan.src[i], i) < 0) _exit(126);
  }
  if (plan.err_to_out && dup2(1, 2) < 0) _exit(126);
  close_range(3, ~0U, 0);
  if (o.user) BecomeUserInChild(*o.user);
  if (!o.cwd.empty() && chdir(o.cwd.c_str()) != 0) {
    ssize_t ignored = write(2, "chdir failed\n", 13);
    (void)ignored;
    _exit(126);
  }
  execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  ssize_t ignored = write(2, plan.exec_failed.data(), plan.exec_failed.size());
  (void)ignored;
  _exit(127);
}

// write() that reports EPIPE instead of raising SIGPIPE in this process.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  ssize_t n = write(fd, data, size);
  if (n < 0 && errno == EPIPE) {
    timespec zero{};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
    errno = EPIPE;
  }
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

Exit Decode(int wstatus, const rusage& ru) {
  Exit e;
  e.peak_rss_kb = ru.ru_maxrss;
  if (WIFEXITED(wstatus)) {
    e.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    e.signal = WTERMSIG(wstatus);
    e.exit_code = 128 + e.signal;
  }
  return e;
}

}  // namespace

Result<Child> Child::Spawn(Options options) {
  Plan plan;
  SQLIFT_RETURN_IF_ERROR(Prepare(options, plan));
  pid_t pid = fork();
  if (pid < 0) return Status::IOError("fork for " + plan.args[0] + ": " + ErrnoText(errno));
  if (pid == 0) ChildMain(plan, options);
  Child child;
  child.pid_ = pid;
  child.group_ = options.own_process_group;
  if (child.group_) setpgid(pid, pid);  // also here, so the group exists before any kill
  // glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++; the system call is the same.
  child.pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  child.in_fd_ = std::exchange(plan.parent_end[0], -1);
  child.out_fd_ = std::exchange(plan.parent_end[1], -1);
  child.err_fd_ = std::exchange(plan.parent_end[2], -1);
  child.input_ = options.input.value_or("");
  if (child.input_.empty()) CloseFd(child.in_fd_);
  if (child.in_fd_ >= 0) fcntl(child.in_fd_, F_SETFL, O_NONBLOCK);  // never block the pump
  child.capture_limit_ = options.capture_limit;
  return child;
}

Child::Child(Child&& other) noexcept {
  *this = std::move(other);
}

Child& Child::operator=(Child&& other) noexcept {
  if (this == &other) return *this;
  Release();
  pid_ = std::exchange(other.pid_, -1);
  pidfd_ = std::exchange(other.pidfd_, -1);
  group_ = other.group_;
  exit_ = std::exchange(other.exit_, std::nullopt);
  in_fd_ = std::exchange(other.in_fd_, -1);
  out_fd_ = std::exchange(other.out_fd_, -1);
  err_fd_ = std::exchange(other.err_fd_, -1);
  input_ = std::move(other.input_);
  input_done_ = other.input_done_;
  capture_limit_ = other.capture_limit_;
  out_text_ = std::move(other.out_text_);
  err_text_ = std::move(other.err_text_);
  return *this;
}

Child::~Child() {
  Release();
}

void Child::Release() {
  if (pid_ > 0 && !exit_) {
    Kill(SIGKILL);
    (void)Reap(0);
  }
  for (int* fd : {&in_fd_, &out_fd_, &err_fd_, &pidfd_})
    CloseFd(*fd);
  pid_ = -1;
}

void Child::Kill(int signal) {
  if (pid_ <= 0 || exit_) return;
  if (group_) kill(-pid_, signal);
  kill(pid_, signal);
}

// Moves input and captured output until every pipe is closed or the deadline passes.
void Child::Pump(Deadline deadline) {
  char buf[65536];
  while (out_fd_ >= 0 || err_fd_ >= 0 || in_fd_ >= 0) {
    pollfd fds[3] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}, {in_fd_, POLLOUT, 0}};
    int r = poll(fds, 3, PollTimeout(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;  // deadline passed (or poll failed): the caller kills the child
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        CloseFd(i == 0 ? out_fd_ : err_fd_);
        continue;
      }
      std::string& text = i == 0 ? out_text_ : err_text_;
      text.append(buf, static_cast<size_t>(n));
      if (capture_limit_ > 0 && text.size() > capture_limit_)
        text.erase(0, text.size() - capture_limit_);
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = WriteNoSigpipe(in_fd_, input_.data() + input_done_, input_.size() - input_done_);
      if (n > 0) input_done_ += static_cast<size_t>(n);
      if ((n < 0 && errno != EINTR && errno != EAGAIN) || input_done_ == input_.size())
        CloseFd(in_fd_);
    }
  }
}

// True once the child has exited (not yet reaped); false when the deadline passed first.
bool Child::AwaitExit(Deadline deadline) {
  if (!deadline) return true;  // the reap blocks
  while (true) {
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      int r = poll(&p, 1, PollTimeout(deadline));
      if (r < 0 && errno == EINTR) continue;
      return r != 0;
    }
    siginfo_t info{};
    if (waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == pid_)
      return true;
    if (Clock::now() >= *deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // no pidfd: poll the child
  }
}

Status Child::Reap(int options) {
  int wstatus = 0;
  rusage ru{};
  pid_t r;
  while ((r = wait4(pid_, &wstatus, options, &ru)) < 0 && errno == EINTR) {
  }
  if (r == 0) return Status::OK();  // WNOHANG: still running
  if (r < 0) return Status::IOError(fmt::format("wait for {}: {}", pid_, ErrnoText(errno)));
  exit_ = Decode(wstatus, ru);
  return Status::OK();
}

Result<Exit> Child::Wait(Deadline deadline) {
  if (pid_ <= 0) return Status::FailedPrecondition("process: no child to wait for");
  if (exit_) return *exit_;
  Pump(deadline);
  bool timed_out = !AwaitExit(deadline);
  if (timed_out) Kill(SIGKILL);
  SQLIFT_RETURN_IF_ERROR(Reap(0));
  for (int* fd : {&in_fd_, &out_fd_, &err_fd_})
    CloseFd(*fd);
  exit_->timed_out = timed_out;
  return *exit_;
}

std::optional<Exit> Child::Poll() {
  if (!exit_ && pid_ > 0) (void)Reap(WNOHANG);
  return exit_;
}

bool Child::ReadOutLine(std::string* line) {
  char buf[4096];
  while (true) {
    size_t nl = out_text_.find('\n');
    if (nl != std::string::npos) {
      *line = out_text_.substr(0, nl);
      out_text_.erase(0, nl + 1);
      return true;
    }
    if (out_fd_ < 0) return false;
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      CloseFd(out_fd_);
      return false;
    }
    out_text_.append(buf, static_cast<size_t>(n));
  }
}

Result<Output> Run(Options options, std::optional<std::chrono::milliseconds> timeout) {
  Deadline deadline;
  if (timeout) deadline = Clock::now() + *timeout;
  SQLIFT_ASSIGN_OR_RETURN(Child child, Child::Spawn(std::move(options)));
  SQLIFT_ASSIGN_OR_RETURN(Exit exit, child.Wait(deadline));
  Output output;
  static_cast<Exit&>(output) = exit;
  output.out = child.out();
  output.err = child.err();
  return output;
}

Result<Output> RunCaptured(std::vector<std::string> argv, std::string input) {
  Options o;
  o.argv = std::move(argv);
  o.input = std::move(input);
  o.out = Stream::Capture();
  o.err = Stream::Capture();
  return Run(std::move(o));
}

}  // namespace sqlift::process
