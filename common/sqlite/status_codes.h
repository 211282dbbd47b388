// Maps a Status back to an SQLite result code, for the callers that speak SQLite's language:
// the C API (sqlift_capture.h) and the SQL functions of the loadable extension. Internal.
#pragma once

#include <sqlite3.h>

#include "common/base/status.h"

namespace sqlift {

inline int SqliteResultCode(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return SQLITE_OK;
    case Status::Code::kUnavailable:
      return SQLITE_BUSY;  // retrying can help
    case Status::Code::kIOError:
      return SQLITE_IOERR;
    case Status::Code::kCorruption:
      return SQLITE_CORRUPT;
    case Status::Code::kAborted:
      return SQLITE_ABORT;
    case Status::Code::kFailedPrecondition:
      return SQLITE_MISUSE;  // called in the wrong state
    case Status::Code::kNotFound:
      return SQLITE_NOTFOUND;
    case Status::Code::kInternal:
      return SQLITE_INTERNAL;
    default:
      return SQLITE_ERROR;
  }
}

}  // namespace sqlift
