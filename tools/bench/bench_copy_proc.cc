// Child processes for `bench copy`: posix_spawn (no shell, so no quoting of paths or SQL),
// a pidfd per child so that every wait has a deadline without polling, and wait4() for each
// child's peak RSS, which is how the benchmark measures `sqlift copy` honestly (its whole
// process, not an estimate from inside).
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tools/bench/bench_copy_internal.h"

extern char** environ;

namespace sqlift::bench_copy {
namespace {

using Clock = std::chrono::steady_clock;

// A file descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? "..." + s.substr(s.size() - 2000) : s;
}

// The caller's environment without PG* variables (a developer's PGDATABASE must not redirect
// a load), plus `extra`.
std::vector<std::string> Environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "PG", 2) != 0) env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Starts `s` with the given descriptors as its stdin (-1: inherit), stdout and stderr.
Result<pid_t> SpawnOne(const Spawn& s, int in, int out, int err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in >= 0) posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  std::vector<std::string> argv = s.argv, env = Environment(s.env);
  std::vector<char*> argp = Pointers(argv), envp = Pointers(env);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argp[0], &fa, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status::IOError(fmt::format("start {}: {}", s.argv[0], std::strerror(rc)));
  return pid;
}

// Waits for every child until `deadline`; kills them all when it passes. Each child's exit
// status and peak RSS are collected by wait4.
Status WaitAll(const std::vector<pid_t>& pids, const std::vector<std::string>& names,
               Clock::time_point deadline, int64_t* peak_rss_kb) {
  Status result;
  for (size_t i = 0; i < pids.size(); ++i) {
    // glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++; the system call is the same.
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pids[i], 0)));
    bool timed_out = false;
    if (pidfd.fd >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      struct pollfd p = {pidfd.fd, POLLIN, 0};
      timed_out = left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0;
    }
    if (timed_out) {
      for (pid_t pid : pids)
        kill(pid, SIGKILL);
      result = Status::Aborted(fmt::format("{} did not finish in time; killed", names[i]));
    }
    int status = 0;
    struct rusage ru {};
    while (wait4(pids[i], &status, 0, &ru) < 0 && errno == EINTR) {
    }
    *peak_rss_kb = std::max<int64_t>(*peak_rss_kb, ru.ru_maxrss);
    if (!result.ok()) continue;
    if (WIFSIGNALED(status)) {
      result = Status::IOError(fmt::format("{} killed by signal {}", names[i], WTERMSIG(status)));
    } else if (WEXITSTATUS(status) != 0) {
      result = Status::IOError(fmt::format("{} exited with {}", names[i], WEXITSTATUS(status)));
    }
  }
  return result;
}

Result<ChildRun> Run(const std::vector<const Spawn*>& children, const std::string& log,
                     std::chrono::seconds timeout) {
  Fd err(open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  Fd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (err.fd < 0 || null.fd < 0) return Status::IOError("open " + log + " or /dev/null");
  Fd pipe_r, pipe_w;
  if (children.size() == 2) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return Status::IOError("pipe2");
    pipe_r.fd = fds[0], pipe_w.fd = fds[1];
  }
  std::vector<pid_t> pids;
  std::vector<std::string> names;
  Clock::time_point start = Clock::now();
  for (size_t i = 0; i < children.size(); ++i) {
    bool producer = children.size() == 2 && i == 0, consumer = children.size() == 2 && i == 1;
    Result<pid_t> pid = SpawnOne(*children[i], consumer ? pipe_r.fd : null.fd,
                                 producer ? pipe_w.fd : null.fd, err.fd);
    if (!pid.ok()) {
      for (pid_t p : pids)
        kill(p, SIGKILL);
      int64_t ignored = 0;
      (void)WaitAll(pids, names, Clock::now(), &ignored);
      return pid.status();
    }
    pids.push_back(*pid);
    names.push_back(children[i]->argv[0]);
  }
  pipe_r.Close(), pipe_w.Close();  // only the children hold the pipe now: EOF reaches psql
  ChildRun run;
  Status st = WaitAll(pids, names, start + timeout, &run.peak_rss_kb);
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!st.ok()) return Status::FromCode(st.code(), st.message() + "; its output:\n" + Tail(log));
  return run;
}

}  // namespace

Result<ChildRun> RunPipeline(const Spawn& producer, const Spawn& consumer, const std::string& log,
                             std::chrono::seconds timeout) {
  return Run({&producer, &consumer}, log, timeout);
}

Result<ChildRun> RunChild(const Spawn& child, const std::string& log,
                          std::chrono::seconds timeout) {
  return Run({&child}, log, timeout);
}

}  // namespace sqlift::bench_copy
