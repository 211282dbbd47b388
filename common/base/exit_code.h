// The process exit codes of every sqlift command. They are part of the interface (scripts and
// CI read them), so they are defined once, here.
//
// Thread safety: constants.
#pragma once

namespace sqlift {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,  // the operation failed; the reason is logged
  kExitUsage = 2,    // bad command line or configuration
  kExitBlocked = 3,  // plan/verify/shadow/finish ran, and found something that blocks the migration
};

}  // namespace sqlift
