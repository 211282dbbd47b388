// Maps an SQLite result code to a Status code, so callers can tell a busy database (retry)
// from a damaged one (stop). Internal to capture/.
#pragma once

#include <sqlite3.h>

#include <string>

#include "common/base/status.h"

namespace sqlift {

inline Status SqliteStatus(int rc, const std::string& msg) {
  switch (rc & 0xff) {  // the primary code; extended codes keep it in the low byte
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Status::OK();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return Status::IOError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_CONSTRAINT:
      return Status::FailedPrecondition(msg);
    case SQLITE_CANTOPEN:
      return Status::NotFound(msg);
    default:
      return Status::InvalidArgument(msg);
  }
}

}  // namespace sqlift
