// Crash points: named places where a crash test can have the process kill itself with
// SIGKILL, to prove an invariant holds wherever a real crash would land.
//
//   SQLIFT_CRASH_POINT=after_log_append      kill at the first pass through that point
//   SQLIFT_CRASH_POINT=after_log_append:3    kill at the third pass
//
// Unset (production), a crash point costs one branch on a cached flag.
// Thread safety: may be called from any thread.
#pragma once

#include <string_view>

namespace sqlift {

void CrashPoint(std::string_view name);

}  // namespace sqlift
