// The process exit codes of every sqlift command. They are part of the interface (scripts and
// CI read them), so they are defined once, here, with the one rule that maps a failed Status
// to a code. kExitBlocked is never derived from a Status: the commands that find blockers
// return it explicitly.
//
// Thread safety: constants and a pure function.
#pragma once

#include "common/base/status.h"

namespace sqlift {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,  // the operation failed; the reason is logged
  kExitUsage = 2,    // bad command line or configuration
  kExitBlocked = 3,  // plan/verify/shadow/finish ran, and found something that blocks the migration
};

// ok: kExitOk; InvalidArgument (a bad command line or configuration): kExitUsage; anything
// else: kExitFailure.
inline ExitCode ExitCodeFor(const Status& st) {
  if (st.ok()) return kExitOk;
  return st.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailure;
}

}  // namespace sqlift
