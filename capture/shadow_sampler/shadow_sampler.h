// ShadowSampler: samples the read queries an application runs on one SQLite connection into a
// shadow log (capture/shadow_log.h), which `sqlift shadow` replays on SQLite and PostgreSQL at
// one position to find queries whose results would change after the move.
//
//   SQLIFT_ASSIGN_OR_RETURN(std::unique_ptr<ShadowSampler> sampler,
//       ShadowSampler::Attach(db, {.rate = 0.01, .log_path = "/var/lib/app/shadow.log"}));
//   ... the application runs as usual ...
//   sampler.reset();  // before sqlite3_close(db): flushes the log, removes the trace callback
//
// What is recorded. The sampler sees each statement as it starts running through
// sqlite3_trace_v2(SQLITE_TRACE_STMT). A statement is a candidate when it is a top-level
// statement (not a trigger's), sqlite3_stmt_readonly() says it writes nothing, and its text
// starts with SELECT, WITH or VALUES (so no PRAGMA, EXPLAIN, BEGIN/COMMIT/SAVEPOINT, ATTACH).
// Each candidate is sampled with probability `rate`, drawn from a PRNG seeded with `seed` (the
// same seed and statements give the same samples). A sampled statement is then left out when
// it names sqlift's own objects (an identifier containing "sqlift_": the _sqlift_* tables and
// the sqlift_*() functions) or a schema other than main ("temp.", an attached database), or
// when it runs inside the session extension's changeset read (the recorder's Flush(): between
// SAVEPOINT changeset and RELEASE changeset). Otherwise sqlite3_expanded_sql() (bound values
// inlined) and the start time go to the log. An unqualified read of a temp table cannot be
// told from a read of main; its replay fails on PostgreSQL and is reported as such.
//
// Cost. An unsampled statement costs a few comparisons and one PRNG step in the callback; a
// sampled one its expanded text and a buffered append under a mutex (written out every 64 KiB,
// on Flush() and on destruction). The callback never runs SQL. Once the log reaches
// `max_log_bytes` nothing more is written; what would have been is counted as dropped.
//
// Hooks. sqlite3_trace_v2 replaces any trace callback installed earlier on the connection
// (SQLite keeps one), and destroying the sampler removes whatever trace callback the connection
// has then. The recorder (capture/recorder.h) uses the commit and rollback hooks, so both work
// on one connection. One sampler per connection: a second Attach is FailedPrecondition.
//
// Lifetime: `db` is not owned and must outlive the sampler; destroy the sampler before closing
// the connection (it holds no statement, so it never keeps sqlite3_close() from closing).
// Thread safety: the callback runs on the thread using the connection; stats() and Flush() may
// be called from any thread.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "capture/shadow_sampler/shadow_log.h"
#include "common/base/result.h"

namespace sqlift {

struct ShadowOptions {
  double rate = 0.01;  // 0..1: the probability a candidate read is sampled
  std::string log_path;
  uint64_t seed = 1;
  uint64_t max_log_bytes = 64ull << 20;  // > 0; counts what the file held before Attach
};

struct ShadowStats {
  uint64_t candidates = 0;  // read statements seen
  uint64_t sampled = 0;     // drawn by the PRNG
  uint64_t skipped = 0;     // sampled, then left out (sqlift's own, another schema)
  uint64_t written = 0;     // lines added to the log
  uint64_t dropped = 0;     // not written: the log was full or a write failed
};

class ShadowSampler {
 public:
  // InvalidArgument for a rate outside 0..1, an empty path or max_log_bytes 0; IOError when
  // the log cannot be opened; FailedPrecondition when `db` already has a sampler.
  [[nodiscard]] static Result<std::unique_ptr<ShadowSampler>> Attach(sqlite3* db,
                                                                     ShadowOptions options);
  ~ShadowSampler();  // removes the trace callback (see ConnectionClosing) and flushes the log
  ShadowSampler(const ShadowSampler&) = delete;
  ShadowSampler& operator=(const ShadowSampler&) = delete;

  // Writes buffered lines out; the log's first write error when there was one.
  [[nodiscard]] Status Flush();
  ShadowStats stats() const;
  const ShadowOptions& options() const { return options_; }

  // For an owner destroyed while the connection itself closes (the loadable extension frees
  // its sampler from a function destructor inside sqlite3_close): the destructor then leaves
  // the connection alone, since SQLite refuses calls on a closing connection.
  void ConnectionClosing() { closing_ = true; }

 private:
  ShadowSampler(sqlite3* db, ShadowOptions options, std::unique_ptr<ShadowLogWriter> log);
  static int OnTrace(unsigned type, void* self, void* stmt, void* sql) noexcept;
  void Consider(sqlite3_stmt* stmt, const char* sql) noexcept;
  bool Draw() noexcept;
  bool Excluded(const char* sql) const noexcept;

  sqlite3* const db_;
  const ShadowOptions options_;
  std::unique_ptr<ShadowLogWriter> log_;
  uint64_t prng_;              // callback thread only
  bool in_changeset_ = false;  // callback thread only
  bool log_closed_ = false;    // callback thread only: the log refused an entry
  bool closing_ = false;
  std::atomic<uint64_t> candidates_{0}, sampled_{0}, skipped_{0}, written_{0}, dropped_{0};
};

}  // namespace sqlift
