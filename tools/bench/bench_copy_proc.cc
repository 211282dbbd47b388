// Child processes for `bench copy`, run through common/process: no shell (so no quoting of
// paths or SQL), a deadline on every wait, and each child's peak RSS from wait4, which is how
// the benchmark measures `sqlift copy` honestly (its whole process, not an estimate from
// inside).
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "common/process/files.h"
#include "common/process/process.h"
#include "tools/bench/bench_copy_internal.h"

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

// Starts `s` with the given descriptors as its stdin, stdout and stderr. The caller's
// environment less PG* (a developer's PGDATABASE must not redirect a load), plus s.env.
Result<process::Child> SpawnOne(const Spawn& s, int in, int out, int err) {
  return process::Child::Spawn({.argv = s.argv,
                                .env = s.env,
                                .drop_pg_env = true,
                                .in = process::Stream::Fd(in),
                                .out = process::Stream::Fd(out),
                                .err = process::Stream::Fd(err)});
}

// Waits for every child until `deadline`; kills them all when it passes. Each child's exit
// status and peak RSS come from wait4.
Status WaitAll(std::vector<process::Child>& children, const std::vector<std::string>& names,
               Clock::time_point deadline, int64_t* peak_rss_kb) {
  Status result;
  for (size_t i = 0; i < children.size(); ++i) {
    Result<process::Exit> exit = children[i].Wait(deadline);
    if (!exit.ok()) {
      if (result.ok()) result = exit.status();
      continue;
    }
    *peak_rss_kb = std::max<int64_t>(*peak_rss_kb, exit->peak_rss_kb);
    if (exit->timed_out) {
      for (process::Child& c : children)
        c.Kill(SIGKILL);
      result = Status::Aborted(fmt::format("{} did not finish in time; killed", names[i]));
    }
    if (!result.ok()) continue;
    if (exit->signal != 0) {
      result = Status::IOError(fmt::format("{} killed by signal {}", names[i], exit->signal));
    } else if (exit->exit_code != 0) {
      result = Status::IOError(fmt::format("{} exited with {}", names[i], exit->exit_code));
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
  std::vector<process::Child> running;  // a child left here on an early return is killed
  std::vector<std::string> names;
  Clock::time_point start = Clock::now();
  for (size_t i = 0; i < children.size(); ++i) {
    bool producer = children.size() == 2 && i == 0, consumer = children.size() == 2 && i == 1;
    SQLIFT_ASSIGN_OR_RETURN(process::Child child,
                            SpawnOne(*children[i], consumer ? pipe_r.fd : null.fd,
                                     producer ? pipe_w.fd : null.fd, err.fd));
    running.push_back(std::move(child));
    names.push_back(children[i]->argv[0]);
  }
  pipe_r.Close(), pipe_w.Close();  // only the children hold the pipe now: EOF reaches psql
  ChildRun run;
  Status st = WaitAll(running, names, start + timeout, &run.peak_rss_kb);
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!st.ok()) {
    return Status::FromCode(st.code(),
                            st.message() + "; its output:\n" + process::FileTail(log, 2000));
  }
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
