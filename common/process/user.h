// System users a child process can run as (common/process/process.h runs a child as one when
// the caller is root), and the file ownership and access checks that go with them.
//
// Thread safety: every function here may be called from any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/base/status.h"

namespace sqlift::process {

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

// Checks, as `user`, that `dir` can be read, written and searched (in a forked child, so
// ACLs and every parent directory count).
[[nodiscard]] Status CheckAccessAs(const UserIdentity& user, const std::string& dir);

// Gives `root` and everything below it to `user` (lchown, does not follow symlinks).
[[nodiscard]] Status ChownTree(const std::string& root, const UserIdentity& user);

// For a forked child only: becomes `user` (groups, gid, uid) or leaves with exit code 126.
// Async-signal-safe: system calls on data the parent prepared.
void BecomeUserInChild(const UserIdentity& user);

}  // namespace sqlift::process
