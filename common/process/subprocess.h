// Subprocess and file helpers for the PostgreSQL sandbox (internal to deploy/).
//
// RunProcess forks and execs a program directly (no shell), optionally as another user, with a
// deadline; its stdout and stderr are captured together. It is safe to call from a process with
// several threads: the child only makes async-signal-safe calls between fork and exec.
//
// Thread safety: every function here may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/base/status.h"

namespace sqlift::subprocess {

// A system user that a child process runs as (looked up once, in the parent).
struct UserIdentity {
  std::string name;
  std::string home;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, as initgroups() would set them
};

// Looks up `name` in the password database; NotFound when there is no such user.
[[nodiscard]] Result<UserIdentity> LookupUser(const std::string& name);

// The user that owns `path` (stat), for running pg_ctl against an existing data directory.
[[nodiscard]] Result<UserIdentity> LookupOwner(const std::string& path);

struct ProcessOptions {
  std::vector<std::string> argv;     // argv[0] is the absolute path of the program
  std::optional<UserIdentity> user;  // switch to this user before exec (needs root)
  std::string cwd;                   // empty: inherit
  std::chrono::seconds timeout{60};  // the child (and its process group) is killed after this
};

struct ProcessOutput {
  int exit_code = -1;  // exit status, or 128 + signal number when killed by a signal
  std::string output;  // stdout and stderr interleaved; the last 64 KiB only
};

// Runs a program to completion. Environment: the caller's, without PG* variables (so a
// developer's PGPORT or PGDATA never leaks into a sandbox), with HOME/USER/LOGNAME of `user`
// when one is given. A non-zero exit is not an error here; a timeout is (kAborted).
[[nodiscard]] Result<ProcessOutput> RunProcess(const ProcessOptions& options);

// Checks, as `user`, that `dir` can be read, written and searched (in a forked child, so
// ACLs and every parent directory count).
[[nodiscard]] Status CheckAccessAs(const UserIdentity& user, const std::string& dir);

// Gives `root` and everything below it to `user` (lchown, does not follow symlinks).
[[nodiscard]] Status ChownTree(const std::string& root, const UserIdentity& user);

// The first executable `name` on $PATH, or "" when there is none.
std::string FindOnPath(const std::string& name);

// Writes `content` durably: temp file, fsync, rename, fsync of the directory.
[[nodiscard]] Status WriteFileAtomic(const std::string& path, const std::string& content);

// Reads a whole (small) file.
[[nodiscard]] Result<std::string> ReadFile(const std::string& path);

// The last `max_lines` lines of `text`.
std::string LastLines(const std::string& text, int max_lines);

}  // namespace sqlift::subprocess
