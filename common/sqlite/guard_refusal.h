// How a statement's failure reads as a Status on sqlift's own connections (SqliteDb::Exec,
// SqliteStatement): SqliteStatus, except that a refusal by sqlift's guard triggers
// (capture/outbox/guard_triggers.h) for a tenant being switched ("sqlift: ... ; retry
// shortly", SQLITE_CONSTRAINT) is Unavailable, like a busy database, so callers retry it as
// they retry the recorder's fence. A refusal for a tenant on postgres stays FailedPrecondition.
// Thread safety: a pure function.
#pragma once

#include <sqlite3.h>

#include <string>

#include "common/sqlite/sqlite_status.h"

namespace sqlift {

inline Status SqliteWriteStatus(int rc, const std::string& msg) {
  if ((rc & 0xff) == SQLITE_CONSTRAINT && msg.find("sqlift: ") != std::string::npos &&
      msg.find("; retry shortly") != std::string::npos) {
    return Status::Unavailable(msg);
  }
  return SqliteStatus(rc, msg);
}

}  // namespace sqlift
