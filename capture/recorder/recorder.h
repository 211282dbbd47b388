// Recorder: captures what an application changes through one SQLite connection and writes it,
// as one changeset per transaction, into the outbox inside that same transaction (design
// section 4, invariant 1: a transaction's changes are in the outbox iff it committed).
//
//   auto rec = Recorder::Attach(db, {});   // once, after opening the connection
//   BEGIN; ...the application's writes...; rec->Flush(); COMMIT;
//
// Transaction (transaction.h) does the last three steps for C++ callers.
//
// Strictness. The recorder owns the connection's commit and rollback hooks. A COMMIT whose
// transaction changed a captured table after its last Flush() is refused: SQLite turns it into
// a ROLLBACK and the COMMIT fails with SQLITE_CONSTRAINT_COMMITHOOK ("constraint failed";
// last_refusal() says why). That includes autocommit statements (no BEGIN) that change a
// captured table. Changes are refused, never committed without their outbox row.
//
// Routes (design invariant 7). Flush() refuses a transaction that writes a tenant whose route
// does not let SQLite take writes (capture/route_fence.h): Unavailable while the tenant is
// being switched (retry), FailedPrecondition once it is routed to PostgreSQL. The message names
// the tenant and the route epoch; the transaction must be rolled back.
//
// Captured: every table of the "main" database that has a PRIMARY KEY, except sqlift's own
// (_sqlift_*), SQLite's (sqlite_*) and RecorderOptions::exclude_tables. Changes made by triggers
// and foreign-key actions are captured too (flagged indirect). Not captured (SQLite sessions
// cannot): tables without a primary key, "temp" and attached databases, schema changes.
//
// Lifetime: `db` is not owned and must outlive the recorder. Destroy the recorder before closing
// the connection: it holds a prepared statement, so sqlite3_close() would fail with SQLITE_BUSY
// (after sqlite3_close_v2() the connection lingers until the recorder is destroyed). Destroying
// it removes the hooks, so later commits are no longer guarded.
// Thread safety: that of the connection: one thread at a time; one recorder per connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/outbox/route_table.h"
#include "common/base/result.h"

namespace sqlift {

class RouteFence;

struct RecorderOptions {
  // Tables never captured, besides _sqlift_* and sqlite_*. Compared without regard to ASCII
  // case, as SQLite compares table names.
  std::vector<std::string> exclude_tables;
  // Keeps the outbox INSERT prepared from Attach to destruction. The loadable extension turns it
  // off: a statement it held would stop sqlite3_close() from closing the connection, and the
  // recorder is only freed when the connection closes.
  bool keep_prepared_insert = true;
};

class Recorder {
 public:
  // Attaches to `db`, which must have the outbox (`sqlift init`) and no open transaction.
  // Fails with FailedPrecondition when the connection already has a recorder or a commit or
  // rollback hook with a non-NULL argument. SQLite cannot hand a replaced hook back, so in the
  // latter case that hook is gone; a hook installed with a NULL argument cannot be detected.
  [[nodiscard]] static Result<std::unique_ptr<Recorder>> Attach(sqlite3* db,
                                                                RecorderOptions options = {});
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Writes the changes recorded since the last flush into the outbox, as one row (committed_at =
  // now in unix microseconds, kind = changeset), on this connection, in the open transaction;
  // then starts recording afresh. Returns the number of row changes written; 0 and no row when
  // nothing changed. FailedPrecondition outside a transaction.
  [[nodiscard]] Result<int64_t> Flush();

  // The number of row changes a Flush() would write now. It builds the changeset to count it:
  // one primary-key lookup per changed row, so call it for diagnostics, not per statement.
  [[nodiscard]] Result<int64_t> Pending();

  // Drops recorded changes after a ROLLBACK. The rollback hook already does this, so it is only
  // needed to recover from a failure; FailedPrecondition while a transaction is open (dropping
  // changes there would let them commit unrecorded).
  [[nodiscard]] Status Discard();

  // Which side takes writes for `tenant` ("*": the whole database), read from _sqlift_route
  // (capture/route_table.h). Writers follow it: fenced, whichever side it names (a cutover's
  // fence says sqlite, a fallback's postgres): wait and ask again, on neither side; else on
  // `sqlite` write here, on `postgres` write on PostgreSQL.
  [[nodiscard]] Result<RouteRow> RouteFor(std::string_view tenant);

  // Why the connection's most recent COMMIT was refused; empty once a COMMIT has gone through.
  std::string last_refusal() const { return refusal_ ? refusal_ : ""; }
  // How many COMMITs have been refused since Attach (tells which came last: a refusal or an
  // error the caller kept).
  uint64_t refusal_count() const { return refusal_count_; }
  sqlite3* db() const { return db_; }

 private:
  Recorder(sqlite3* db, RecorderOptions options);

  [[nodiscard]] Status Register();
  [[nodiscard]] Status InstallHooks();
  [[nodiscard]] Status CheckHooks();
  [[nodiscard]] Status Settle();
  [[nodiscard]] Result<int64_t> CountPending(bool write);
  [[nodiscard]] Status InsertOutboxRow(const void* changeset, int size);
  int NewSession(sqlite3_session** out) noexcept;
  int ReplaceSession(bool in_hook) noexcept;
  void FreeRetired() noexcept;

  static int OnCommit(void* self) noexcept;
  static void OnRollback(void* self) noexcept;
  static int KeepTable(void* self, const char* table) noexcept;

  sqlite3* const db_;
  const RecorderOptions options_;
  const std::string insert_sql_;
  std::unique_ptr<RouteFence> fence_;
  sqlite3_stmt* insert_ = nullptr;  // the outbox INSERT, when options_.keep_prepared_insert
  bool registered_ = false;
  bool hooks_installed_ = false;

  // Sessions. SQLite cannot clear a session, and one kept across transactions keeps the
  // original values of every row it has seen, so each changeset would hold all earlier ones.
  // A session is therefore replaced (deleted and created anew) whenever it recorded something:
  // after each Flush() that found changes and after each rollback. An empty one is reused.
  sqlite3_session* session_ = nullptr;     // records the current transaction
  sqlite3_session* busy_ = nullptr;        // the session inside sqlite3session_changeset()
  std::vector<sqlite3_session*> retired_;  // disabled, freed at the next safe point
  // session_ holds a rolled-back transaction's changes and could not be replaced (no memory):
  // commits are refused until a call outside a transaction replaces it.
  bool stale_ = false;
  const char* refusal_ = nullptr;  // static text: the hooks must not allocate
  uint64_t refusal_count_ = 0;
};

}  // namespace sqlift
