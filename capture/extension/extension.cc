// libsqlift_capture.so: the recorder as an SQLite loadable extension, for applications in
// Python, Node or the sqlite3 shell (docs/design.md, capture).
//
//   .load ./libsqlift_capture                  -- or conn.load_extension(path) in Python
//   BEGIN; ...writes...; SELECT sqlift_flush(); COMMIT;
//
// SQL functions, on the loading connection only (SQLITE_DIRECTONLY: not from triggers/views):
//   sqlift_flush()        writes the transaction's changes to the outbox; returns their number
//   sqlift_pending()      the number of changes not yet flushed
//   sqlift_route(tenant)  the route of a tenant ('*': the whole database) as JSON text:
//                         {"tenant":"acme","side":"postgres","epoch":4,"fenced":false}
//   sqlift_last_refusal() why the last COMMIT was refused, or NULL. SQLite gives a commit hook
//                         no way to set the error message, so the refused COMMIT itself only
//                         reports SQLITE_CONSTRAINT_COMMITHOOK ("constraint failed").
//   sqlift_shadow(rate, path)  samples this connection's read queries into the shadow log at
//                         `path` with probability `rate` (0..1; capture/shadow_sampler.h),
//                         replacing its sampler; rate 0 detaches (path may be NULL). Returns the
//                         replaced sampler's counts as JSON text, or NULL when there was none:
//                         {"candidates":N,"sampled":N,"skipped":N,"written":N,"dropped":N}.
//                         It installs a trace callback (sqlite3_trace_v2), replacing any other.
//                         When attaching fails, the connection is left without a sampler.
//
// The session API is not in the loadable-extension routine table (sqlite3_api_routines), so
// this library calls the SQLite it links (the system libsqlite3) directly, with no sqlite3ext.h
// indirection. That is only sound when the host process runs that same library; the entry
// point refuses to load otherwise.
//
// Lifetime: the recorder is freed by the functions' destructor when the connection closes. It
// keeps no prepared statement between calls, which would stop sqlite3_close() from closing.
#define SQLITE_CORE 1  // sqlite3ext.h for the layout of sqlite3_api_routines only, no macros
#include <dlfcn.h>
#include <fmt/format.h>
#include <sqlite3ext.h>

#include <memory>
#include <new>
#include <random>
#include <string>

#include "capture/recorder/recorder.h"
#include "capture/shadow_sampler/shadow_sampler.h"
#include "common/json/json.h"
#include "common/sqlite/status_codes.h"

namespace sqlift {
namespace {

using SharedRecorder = std::shared_ptr<Recorder>;  // one owner per registered function

Recorder& RecorderOf(sqlite3_context* ctx) {
  return **static_cast<SharedRecorder*>(sqlite3_user_data(ctx));
}

void ResultError(sqlite3_context* ctx, const char* function, const Status& status) {
  std::string msg = fmt::format("{}: {}", function, status.ToString());
  sqlite3_result_error(ctx, msg.data(), static_cast<int>(msg.size()));
  int code = SqliteResultCode(status);
  // Keep the codes a SQL caller can act on (busy: retry); the rest are plain errors.
  if (code == SQLITE_MISUSE || code == SQLITE_NOTFOUND || code == SQLITE_INTERNAL) {
    code = SQLITE_ERROR;
  }
  sqlite3_result_error_code(ctx, code);
}

template <Result<int64_t> (Recorder::*kCall)()>
void CountFunction(sqlite3_context* ctx, int, sqlite3_value**) {
  try {
    Result<int64_t> n = (RecorderOf(ctx).*kCall)();
    if (n.ok()) {
      sqlite3_result_int64(ctx, *n);
    } else {
      ResultError(ctx, kCall == &Recorder::Flush ? "sqlift_flush()" : "sqlift_pending()",
                  n.status());
    }
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  }
}

void LastRefusal(sqlite3_context* ctx, int, sqlite3_value**) {
  try {
    std::string refusal = RecorderOf(ctx).last_refusal();
    if (refusal.empty()) return sqlite3_result_null(ctx);
    sqlite3_result_text(ctx, refusal.data(), static_cast<int>(refusal.size()), SQLITE_TRANSIENT);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  }
}

void RouteFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  try {
    const unsigned char* t = sqlite3_value_text(argv[0]);
    std::string tenant = t ? reinterpret_cast<const char*>(t) : "*";
    Result<RouteRow> r = RecorderOf(ctx).RouteFor(tenant);
    if (!r.ok()) return ResultError(ctx, "sqlift_route()", r.status());
    std::string json = DumpJson(
        {{"tenant", tenant}, {"side", r->side}, {"epoch", r->epoch}, {"fenced", r->fenced}});
    sqlite3_result_text(ctx, json.data(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  }
}

// The connection's shadow sampler, owned by the sqlift_shadow function (freed with it when the
// connection closes).
struct ShadowSlot {
  sqlite3* db;
  std::unique_ptr<ShadowSampler> sampler;
};

std::string ShadowStatsJson(const ShadowStats& s) {
  return DumpJson({{"candidates", s.candidates},
                   {"sampled", s.sampled},
                   {"skipped", s.skipped},
                   {"written", s.written},
                   {"dropped", s.dropped}});
}

void ShadowFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  try {
    auto* slot = static_cast<ShadowSlot*>(sqlite3_user_data(ctx));
    const double rate = sqlite3_value_double(argv[0]);
    const int rate_type = sqlite3_value_numeric_type(argv[0]);
    if ((rate_type != SQLITE_INTEGER && rate_type != SQLITE_FLOAT) || !(rate >= 0 && rate <= 1)) {
      return ResultError(ctx, "sqlift_shadow()",
                         Status::InvalidArgument("rate must be a number in 0..1"));
    }
    const unsigned char* path = sqlite3_value_text(argv[1]);
    if (rate > 0 && (path == nullptr || *path == '\0')) {
      return ResultError(ctx, "sqlift_shadow()", Status::InvalidArgument("no log path"));
    }
    std::string previous;
    if (slot->sampler) {
      previous = ShadowStatsJson(slot->sampler->stats());
      slot->sampler.reset();  // first: its destructor removes the trace callback
    }
    if (rate > 0) {
      ShadowOptions options;
      options.rate = rate;
      options.log_path = reinterpret_cast<const char*>(path);
      options.seed = std::random_device{}();
      Result<std::unique_ptr<ShadowSampler>> s = ShadowSampler::Attach(slot->db, options);
      if (!s.ok()) return ResultError(ctx, "sqlift_shadow()", s.status());
      slot->sampler = std::move(s).value();
    }
    if (previous.empty()) return sqlite3_result_null(ctx);
    sqlite3_result_text(ctx, previous.data(), static_cast<int>(previous.size()), SQLITE_TRANSIENT);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  }
}

void FreeShadowSlot(void* p) {
  auto* slot = static_cast<ShadowSlot*>(p);
  if (slot->sampler) slot->sampler->ConnectionClosing();
  delete slot;
}

int RegisterShadow(sqlite3* db) {
  auto* slot = new ShadowSlot{db, nullptr};
  // On failure SQLite calls FreeShadowSlot itself.
  return sqlite3_create_function_v2(db, "sqlift_shadow", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, slot,
                                    &ShadowFunction, nullptr, nullptr, &FreeShadowSlot);
}

void FreeRecorder(void* p) {
  delete static_cast<SharedRecorder*>(p);
}

int Register(sqlite3* db, const char* name, const SharedRecorder& rec,
             void (*fn)(sqlite3_context*, int, sqlite3_value**), int nargs = 0) {
  auto* data = new SharedRecorder(rec);
  // On failure SQLite calls FreeRecorder itself.
  return sqlite3_create_function_v2(db, name, nargs, SQLITE_UTF8 | SQLITE_DIRECTONLY, data, fn,
                                    nullptr, nullptr, &FreeRecorder);
}

std::string VersionText(int n) {
  return fmt::format("{}.{}.{}", n / 1000000, n / 1000 % 1000, n % 1000);
}

const char* LibraryPath(const void* function) {
  Dl_info info{};
  if (dladdr(function, &info) != 0 && info.dli_fname != nullptr) return info.dli_fname;
  return "an unknown file";
}

// Empty when the host runs the SQLite this library links; else why the load is refused. The
// routine table holds the host library's own function addresses, so one comparison tells.
std::string CheckSameLibrary(const sqlite3_api_routines* api) {
  if (api == nullptr || api->libversion_number == &sqlite3_libversion_number) return "";
  return fmt::format(
      "sqlift_capture: the host process uses a different SQLite library (version {} in {}) than "
      "the one this extension links (version {} at {}); sessions cannot cross libraries. Run "
      "the application with the system libsqlite3, or use the C/C++ API built against its "
      "SQLite",
      VersionText(api->libversion_number()),
      LibraryPath(reinterpret_cast<const void*>(api->libversion_number)),
      VersionText(sqlite3_libversion_number()),
      LibraryPath(reinterpret_cast<const void*>(&sqlite3_libversion_number)));
}

int Init(sqlite3* db, std::string* error) {
  RecorderOptions options;
  options.keep_prepared_insert = false;  // see "Lifetime" above
  Result<std::unique_ptr<Recorder>> attached = Recorder::Attach(db, std::move(options));
  if (!attached.ok()) {
    *error = "sqlift_capture: " + attached.status().ToString();
    return SQLITE_ERROR;
  }
  SharedRecorder rec(std::move(attached).value());
  int rc = Register(db, "sqlift_flush", rec, &CountFunction<&Recorder::Flush>);
  if (rc == SQLITE_OK) rc = Register(db, "sqlift_pending", rec, &CountFunction<&Recorder::Pending>);
  if (rc == SQLITE_OK) rc = Register(db, "sqlift_last_refusal", rec, &LastRefusal);
  if (rc == SQLITE_OK) rc = Register(db, "sqlift_route", rec, &RouteFunction, 1);
  if (rc == SQLITE_OK) rc = RegisterShadow(db);
  if (rc != SQLITE_OK) {
    *error = fmt::format("sqlift_capture: register SQL functions: {}", sqlite3_errmsg(db));
  }
  return rc;
}

}  // namespace
}  // namespace sqlift

// SQLite derives this name from the file name libsqlift_capture.so: "lib" and everything from
// the first '.' dropped, then only the letters kept: sqlite3_ + sqliftcapture + _init.
extern "C" __attribute__((visibility("default"))) int sqlite3_sqliftcapture_init(
    sqlite3* db, char** pzErrMsg, const sqlite3_api_routines* pApi) {
  std::string error;
  int rc = SQLITE_ERROR;
  try {
    error = sqlift::CheckSameLibrary(pApi);
    if (error.empty()) rc = sqlift::Init(db, &error);
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
  if (rc != SQLITE_OK && pzErrMsg != nullptr) {
    // The caller frees the message with its own library's sqlite3_free.
    *pzErrMsg =
        pApi != nullptr ? pApi->mprintf("%s", error.c_str()) : sqlite3_mprintf("%s", error.c_str());
  }
  return rc;
}
