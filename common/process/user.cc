#include "common/process/user.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace sqlift::process {
namespace {

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

// Async-signal-safe: writes a fixed message and leaves the child.
[[noreturn]] void ChildFail(const char* what, int code) {
  ssize_t ignored = write(2, what, std::strlen(what));
  (void)ignored;
  _exit(code);
}

}  // namespace

void BecomeUserInChild(const UserIdentity& user) {
  if (setgroups(user.groups.size(), user.groups.data()) != 0) ChildFail("setgroups failed\n", 126);
  if (setgid(user.gid) != 0) ChildFail("setgid failed\n", 126);
  if (setuid(user.uid) != 0) ChildFail("setuid failed\n", 126);
}

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

Status CheckAccessAs(const UserIdentity& user, const std::string& dir) {
  pid_t pid = fork();
  if (pid < 0) return Status::IOError("fork: " + ErrnoText(errno));
  if (pid == 0) {
    BecomeUserInChild(user);
    _exit(access(dir.c_str(), R_OK | W_OK | X_OK) == 0 ? 0 : 1);
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return Status::OK();
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

}  // namespace sqlift::process
