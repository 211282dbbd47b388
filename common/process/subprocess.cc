#include "common/process/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>

extern char** environ;

namespace sqlift::subprocess {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxOutput = 64 * 1024;

std::string ErrnoText(int err) {
  return std::error_code(err, std::system_category()).message();
}

Result<UserIdentity> FromPasswd(const passwd& pw) {
  UserIdentity user{pw.pw_name, pw.pw_dir, pw.pw_uid, pw.pw_gid, {}};
  int count = 32;
  for (int attempt = 0; attempt < 4; ++attempt) {
    user.groups.resize(count);
    int n = count;
    if (getgrouplist(pw.pw_name, pw.pw_gid, user.groups.data(), &n) >= 0) {
      user.groups.resize(n);
      return user;
    }
    count = n > count ? n : count * 4;
  }
  return Status::Internal("too many supplementary groups for user " + user.name);
}

std::vector<std::string> ChildEnvironment(const std::optional<UserIdentity>& user) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("PG")) continue;
    if (user && (kv.starts_with("HOME=") || kv.starts_with("USER=") || kv.starts_with("LOGNAME=")))
      continue;
    env.emplace_back(kv);
  }
  if (user) {
    env.push_back("HOME=" + user->home);
    env.push_back("USER=" + user->name);
    env.push_back("LOGNAME=" + user->name);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Async-signal-safe: writes a fixed message and leaves the child.
[[noreturn]] void ChildFail(const char* what, int code) {
  ssize_t ignored = write(2, what, std::strlen(what));
  (void)ignored;
  _exit(code);
}

// Async-signal-safe: only system calls, on data prepared by the parent.
void ChildBecome(const UserIdentity& user) {
  if (setgroups(user.groups.size(), user.groups.data()) != 0) ChildFail("setgroups failed\n", 126);
  if (setgid(user.gid) != 0) ChildFail("setgid failed\n", 126);
  if (setuid(user.uid) != 0) ChildFail("setuid failed\n", 126);
}

[[noreturn]] void ChildMain(int out_fd, const ProcessOptions& options, char* const argv[],
                            char* const envp[]) {
  setpgid(0, 0);  // own process group, so a timeout can kill the whole tree
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) {
    _exit(126);
  }
  close_range(3, ~0U, 0);
  if (options.user) ChildBecome(*options.user);
  if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) ChildFail("chdir failed\n", 126);
  execve(argv[0], argv, envp);
  ChildFail("exec failed\n", 127);
}

void KeepTail(std::string& out) {
  if (out.size() > kMaxOutput) out.erase(0, out.size() - kMaxOutput);
}

// Reads until end of file; false when the deadline passed first.
bool ReadAll(int fd, Clock::time_point deadline, std::string& out) {
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;  // timeout: the deadline check above ends the loop
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out.append(buf, static_cast<size_t>(n));
    KeepTail(out);
  }
}

// Waits for `pid` to exit; false when the deadline passed first.
bool WaitExit(pid_t pid, Clock::time_point deadline, int& wstatus) {
  while (true) {
    pid_t r = waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // nothing to wait for; treat as gone
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // poll the child with a deadline
  }
}

void KillGroup(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  int ignored;
  while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
  }
}

int ExitCode(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

}  // namespace

Result<UserIdentity> LookupUser(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  int err = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (err != 0) return Status::IOError("look up user " + name + ": " + ErrnoText(err));
  if (found == nullptr) return Status::NotFound("no system user named '" + name + "'");
  return FromPasswd(pw);
}

Result<UserIdentity> LookupOwner(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    return Status::IOError("stat " + path + ": " + ErrnoText(errno));
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  int err = getpwuid_r(st.st_uid, &pw, buf.data(), buf.size(), &found);
  if (err != 0 || found == nullptr) {
    return Status::NotFound("owner uid " + std::to_string(st.st_uid) + " of " + path +
                            " is not in the password database");
  }
  return FromPasswd(pw);
}

Result<ProcessOutput> RunProcess(const ProcessOptions& options) {
  if (options.argv.empty()) return Status::InvalidArgument("RunProcess: empty argv");
  std::vector<std::string> args = options.argv;
  std::vector<std::string> env = ChildEnvironment(options.user);
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(env);
  const std::string& program = options.argv[0];

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return Status::IOError("pipe for " + program + ": " + ErrnoText(errno));
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Status::IOError("fork for " + program + ": " + ErrnoText(err));
  }
  if (pid == 0) ChildMain(fds[1], options, argv.data(), envp.data());
  close(fds[1]);
  setpgid(pid, pid);  // also here, so the group exists before any kill below

  auto deadline = Clock::now() + options.timeout;
  ProcessOutput result;
  bool eof = ReadAll(fds[0], deadline, result.output);
  close(fds[0]);
  int wstatus = 0;
  if (!eof || !WaitExit(pid, deadline, wstatus)) {
    KillGroup(pid);
    return Status::Aborted(program + " did not finish within " +
                           std::to_string(options.timeout.count()) +
                           " s and was killed; output: " + LastLines(result.output, 10));
  }
  result.exit_code = ExitCode(wstatus);
  return result;
}

Status CheckAccessAs(const UserIdentity& user, const std::string& dir) {
  pid_t pid = fork();
  if (pid < 0) return Status::IOError("fork: " + ErrnoText(errno));
  if (pid == 0) {
    ChildBecome(user);
    _exit(access(dir.c_str(), R_OK | W_OK | X_OK) == 0 ? 0 : 1);
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (ExitCode(wstatus) == 0) return Status::OK();
  return Status::FailedPrecondition(
      "user " + user.name + " cannot read and write " + dir +
      " (a parent directory is closed to it); choose a directory it can reach, e.g. TMPDIR=/tmp");
}

Status ChownTree(const std::string& root, const UserIdentity& user) {
  namespace fs = std::filesystem;
  auto chown_one = [&](const std::string& path) -> Status {
    if (lchown(path.c_str(), user.uid, user.gid) != 0) {
      return Status::IOError("chown " + path + " to " + user.name + ": " + ErrnoText(errno));
    }
    return Status::OK();
  };
  SQLIFT_RETURN_IF_ERROR(chown_one(root));
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root, ec))) return Status::OK();
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    SQLIFT_RETURN_IF_ERROR(chown_one(it->path().string()));
  }
  if (ec) return Status::IOError("walk " + root + ": " + ec.message());
  return Status::OK();
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

Status WriteFileAtomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("create " + tmp + ": " + ErrnoText(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::IOError("write " + tmp + ": " + ErrnoText(err));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0)
    return Status::IOError("sync " + tmp + ": " + ErrnoText(errno));
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IOError("rename " + tmp + " to " + path + ": " + ErrnoText(errno));
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::IOError("open directory " + dir + ": " + ErrnoText(errno));
  int rc = fsync(dfd);
  close(dfd);
  if (rc != 0) return Status::IOError("sync directory " + dir + ": " + ErrnoText(errno));
  return Status::OK();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("read " + path);
  return ss.str();
}

std::string LastLines(const std::string& text, int max_lines) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n')
    --end;
  size_t pos = end;
  for (int i = 0; i < max_lines && pos > 0; ++i) {
    size_t nl = text.rfind('\n', pos - 1);
    pos = nl == std::string::npos ? 0 : nl;
    if (nl == std::string::npos) break;
  }
  if (pos < end && text[pos] == '\n') ++pos;
  return text.substr(pos, end - pos);
}

}  // namespace sqlift::subprocess
