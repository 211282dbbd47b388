// The C API (sqlift_capture.h): a thin shell over Recorder that turns Status into SQLite result
// codes and keeps the last message for sqlift_recorder_errmsg(). No exception leaves it.
#include <new>
#include <string>

#include "capture/recorder/recorder.h"
#include "capture/recorder/sqlift_capture.h"
#include "common/sqlite/status_codes.h"

struct sqlift_recorder {
  std::unique_ptr<sqlift::Recorder> recorder;  // null when attach failed
  std::string error;                           // of the last call; empty when it succeeded
  uint64_t refusals_at_error = 0;              // the recorder's refusal_count() then
  std::string message;                         // what errmsg() last returned
};

namespace {

int Fail(sqlift_recorder* rec, const sqlift::Status& status) {
  rec->error = status.ToString();
  if (rec->recorder) rec->refusals_at_error = rec->recorder->refusal_count();
  return sqlift::SqliteResultCode(status);
}

// Runs `call` (returning Result<int64_t>) on an attached recorder.
template <typename Call>
int Count(sqlift_recorder* rec, int64_t* changes, Call call) {
  if (rec == nullptr) return SQLITE_MISUSE;
  if (rec->recorder == nullptr) return SQLITE_MISUSE;  // keeps the attach error
  try {
    sqlift::Result<int64_t> n = call(*rec->recorder);
    if (!n.ok()) return Fail(rec, n.status());
    rec->error.clear();
    if (changes != nullptr) *changes = *n;
    return SQLITE_OK;
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
}

}  // namespace

extern "C" {

int sqlift_recorder_attach(sqlite3* db, sqlift_recorder** out) {
  if (out == nullptr) return SQLITE_MISUSE;
  *out = new (std::nothrow) sqlift_recorder;
  if (*out == nullptr) return SQLITE_NOMEM;
  try {
    auto attached = sqlift::Recorder::Attach(db);
    if (!attached.ok()) return Fail(*out, attached.status());
    (*out)->recorder = std::move(attached).value();
    return SQLITE_OK;
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
}

int sqlift_recorder_flush(sqlift_recorder* rec, int64_t* changes) {
  return Count(rec, changes, [](sqlift::Recorder& r) { return r.Flush(); });
}

int sqlift_recorder_pending(sqlift_recorder* rec, int64_t* changes) {
  return Count(rec, changes, [](sqlift::Recorder& r) { return r.Pending(); });
}

int sqlift_recorder_discard(sqlift_recorder* rec) {
  return Count(rec, nullptr, [](sqlift::Recorder& r) -> sqlift::Result<int64_t> {
    SQLIFT_RETURN_IF_ERROR(r.Discard());
    return int64_t{0};
  });
}

int sqlift_recorder_route(sqlift_recorder* rec, const char* tenant, int* on_postgres,
                          int64_t* epoch, int* fenced) {
  if (tenant == nullptr) return SQLITE_MISUSE;
  return Count(rec, nullptr, [&](sqlift::Recorder& r) -> sqlift::Result<int64_t> {
    SQLIFT_ASSIGN_OR_RETURN(sqlift::RouteRow route, r.RouteFor(tenant));
    if (on_postgres != nullptr) *on_postgres = route.on_postgres() ? 1 : 0;
    if (epoch != nullptr) *epoch = route.epoch;
    if (fenced != nullptr) *fenced = route.fenced ? 1 : 0;
    return int64_t{0};
  });
}

const char* sqlift_recorder_errmsg(sqlift_recorder* rec) {
  if (rec == nullptr) return "no recorder (NULL)";
  try {
    // Whichever came last: the failed call, or a refused COMMIT.
    bool refused_since = rec->recorder && rec->recorder->refusal_count() > rec->refusals_at_error;
    if (!rec->error.empty() && !refused_since) return rec->error.c_str();
    rec->message = rec->recorder ? rec->recorder->last_refusal() : "";
    return rec->message.empty() ? "not an error" : rec->message.c_str();
  } catch (const std::bad_alloc&) {
    return "out of memory";
  }
}

void sqlift_recorder_free(sqlift_recorder* rec) {
  delete rec;
}

}  // extern "C"
