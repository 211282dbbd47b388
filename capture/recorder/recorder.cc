#include "capture/recorder/recorder.h"

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <set>
#include <utility>

#include "capture/outbox/outbox.h"
#include "capture/outbox/route_fence.h"
#include "common/base/clock.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_status.h"

namespace sqlift {
namespace {

constexpr const char* kUnflushedRefusal =
    "sqlift refused this COMMIT: the transaction changed captured tables after its last flush, "
    "so its changes are not in the outbox. Call sqlift_flush() (SQL), Recorder::Flush() (C++) "
    "or sqlift_recorder_flush() (C) after the last change and before COMMIT. The transaction "
    "was rolled back.";
constexpr const char* kStaleRefusal =
    "sqlift refused this COMMIT: the recorder could not start a fresh session after an earlier "
    "rollback (out of memory), so it cannot tell this transaction's changes apart from the "
    "rolled-back ones. The transaction was rolled back; retry it.";

// Connections that have a recorder in this process: one recorder per connection, checked before
// the hooks are touched so that a second Attach cannot remove the first recorder's hooks.
// Never destroyed: a connection may be closed (freeing the extension's recorder) during exit.
std::mutex& RegistryMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::set<sqlite3*>& Registry() {
  static auto* connections = new std::set<sqlite3*>;
  return *connections;
}

// Number of row changes in a changeset produced by this SQLite.
Result<int64_t> CountChanges(void* data, int size) {
  sqlite3_changeset_iter* it = nullptr;
  int rc = sqlite3changeset_start(&it, size, data);
  int64_t n = 0;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW)
      ++n;
  }
  int frc = sqlite3changeset_finalize(it);
  if (rc != SQLITE_DONE || frc != SQLITE_OK) {
    return Status::Internal(fmt::format("read back the session's changeset ({} bytes): {}", size,
                                        sqlite3_errstr(rc != SQLITE_DONE ? rc : frc)));
  }
  return n;
}

}  // namespace

Recorder::Recorder(sqlite3* db, RecorderOptions options)
    : db_(db),
      options_(std::move(options)),
      insert_sql_(
          fmt::format("INSERT INTO main.{} (committed_at, kind, payload) VALUES (?1, ?2, ?3)",
                      QuoteSqliteIdentifier(outbox::kOutboxTable))) {
  // The rollback hook may retire a session; with this capacity it never has to allocate.
  retired_.reserve(4);
}

Result<std::unique_ptr<Recorder>> Recorder::Attach(sqlite3* db, RecorderOptions options) {
  if (db == nullptr) return Status::InvalidArgument("attach recorder: no connection");
  SQLIFT_RETURN_IF_ERROR(outbox::CheckTables(db).With("attach recorder"));
  if (!sqlite3_get_autocommit(db)) {
    // The changes made so far in this transaction would be missing from its changeset.
    return Status::FailedPrecondition("attach recorder: a transaction is open on the connection");
  }
  std::unique_ptr<Recorder> r(new Recorder(db, std::move(options)));
  SQLIFT_RETURN_IF_ERROR(r->Register());
  SQLIFT_ASSIGN_OR_RETURN(r->fence_, RouteFence::Load(db, r->options_.keep_prepared_insert));
  int rc = r->NewSession(&r->session_);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "attach recorder: create session");
  if (r->options_.keep_prepared_insert) {
    rc = sqlite3_prepare_v3(db, r->insert_sql_.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &r->insert_,
                            nullptr);
    if (rc != SQLITE_OK) {
      return SqliteStatus(
          rc, fmt::format("attach recorder: prepare outbox insert: {}", sqlite3_errmsg(db)));
    }
  }
  SQLIFT_RETURN_IF_ERROR(r->InstallHooks());
  return r;
}

Recorder::~Recorder() {
  if (hooks_installed_) {
    sqlite3_commit_hook(db_, nullptr, nullptr);
    sqlite3_rollback_hook(db_, nullptr, nullptr);
  }
  if (session_ != nullptr) sqlite3session_delete(session_);
  for (sqlite3_session* s : retired_)
    sqlite3session_delete(s);
  fence_.reset();  // its statement too, before the last one below
  // Last: after sqlite3_close_v2(), finalizing the last statement frees the connection.
  sqlite3_finalize(insert_);
  if (registered_) {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    Registry().erase(db_);
  }
}

Status Recorder::Register() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  if (!Registry().insert(db_).second) {
    return Status::FailedPrecondition("attach recorder: the connection already has a recorder");
  }
  registered_ = true;
  return Status::OK();
}

Status Recorder::InstallHooks() {
  void* commit_arg = sqlite3_commit_hook(db_, &Recorder::OnCommit, this);
  void* rollback_arg = sqlite3_rollback_hook(db_, &Recorder::OnRollback, this);
  hooks_installed_ = true;
  if (commit_arg == nullptr && rollback_arg == nullptr) return Status::OK();
  return Status::FailedPrecondition(
      "attach recorder: the connection already had a commit or rollback hook; the recorder "
      "must own both to refuse commits whose changes are not in the outbox (SQLite cannot give "
      "a replaced hook back, so that hook has been removed)");
}

// Someone else's sqlite3_commit_hook() call would silently end the guard; take the hooks back
// and say so, because commits since then may have gone through unrecorded.
Status Recorder::CheckHooks() {
  void* commit_arg = sqlite3_commit_hook(db_, &Recorder::OnCommit, this);
  void* rollback_arg = sqlite3_rollback_hook(db_, &Recorder::OnRollback, this);
  if (commit_arg == this && rollback_arg == this) return Status::OK();
  return Status::FailedPrecondition(
      "another sqlite3_commit_hook/sqlite3_rollback_hook call replaced the recorder's hooks; "
      "transactions committed since then may be missing from the outbox");
}

// A safe point (no session code on the stack): frees retired sessions and, outside a
// transaction, replaces a stale session.
Status Recorder::Settle() {
  FreeRetired();
  if (stale_ && sqlite3_get_autocommit(db_)) {
    int rc = ReplaceSession(/*in_hook=*/false);
    if (rc != SQLITE_OK) return SqliteStatus(rc, "replace the recorder's session");
  }
  if (stale_) {
    return Status::Aborted(
        "the recorder could not start a fresh session after a rollback; roll this transaction "
        "back and retry it");
  }
  return Status::OK();
}

Result<int64_t> Recorder::Flush() {
  if (sqlite3_get_autocommit(db_)) {
    return Status::FailedPrecondition(
        "flush: no transaction is open; flush after the transaction's last change, before "
        "COMMIT");
  }
  SQLIFT_RETURN_IF_ERROR(CheckHooks().With("flush"));
  SQLIFT_RETURN_IF_ERROR(Settle().With("flush"));
  return CountPending(/*write=*/true);
}

Result<int64_t> Recorder::Pending() {
  SQLIFT_RETURN_IF_ERROR(Settle().With("pending"));
  return CountPending(/*write=*/false);
}

// Builds the changeset and counts its changes; with `write`, also inserts it into the outbox
// and replaces the session.
Result<int64_t> Recorder::CountPending(bool write) {
  if (sqlite3session_isempty(session_)) return int64_t{0};
  void* data = nullptr;
  int size = 0;
  // The session's SQL may roll the transaction back, calling the rollback hook while the
  // session's code runs: busy_ tells the hook not to free it.
  busy_ = session_;
  int rc = sqlite3session_changeset(session_, &size, &data);
  busy_ = nullptr;
  std::unique_ptr<void, decltype(&sqlite3_free)> owned(data, &sqlite3_free);
  if (rc == SQLITE_SCHEMA) {
    // The session saw a table's columns change after it recorded a change to that table.
    return Status::Aborted(
        "build the changeset: a table's columns changed after this transaction wrote to it; "
        "roll back and run the transaction again");
  }
  if (rc != SQLITE_OK) {
    return SqliteStatus(
        rc, fmt::format("build the changeset: {}",
                        sqlite3_errcode(db_) == rc ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
  }
  int64_t changes = 0;
  if (size > 0) {
    SQLIFT_ASSIGN_OR_RETURN(changes, CountChanges(data, size));
  }
  if (!write) return changes;
  if (sqlite3_get_autocommit(db_)) {
    // An error in the session's SQL rolled the transaction back: an outbox row written now
    // would commit on its own.
    return Status::Aborted("flush: the transaction was rolled back while building its changeset");
  }
  // Rows that were touched but end unchanged (an UPDATE to the same value, an INSERT then
  // DELETE) give an empty changeset: no outbox row, but the session must still be replaced,
  // or the commit hook would see it non-empty and refuse the COMMIT.
  if (size > 0) {
    SQLIFT_RETURN_IF_ERROR(fence_->Check(data, size));  // its message is for the application
    SQLIFT_RETURN_IF_ERROR(InsertOutboxRow(data, size).With("flush"));
  }
  rc = ReplaceSession(/*in_hook=*/false);
  // The old session still holds the changes, so the commit hook refuses the COMMIT and the
  // outbox row is rolled back with the transaction.
  if (rc != SQLITE_OK) return SqliteStatus(rc, "flush: start a fresh session");
  return changes;
}

Result<RouteRow> Recorder::RouteFor(std::string_view tenant) {
  Result<RouteRow> r = fence_->RouteFor(tenant);
  if (!r.ok()) return r.status().With("route for " + DescribeTenant(tenant));
  return r;
}

Status Recorder::InsertOutboxRow(const void* changeset, int size) {
  sqlite3_stmt* stmt = insert_;
  if (stmt == nullptr) {
    int rc = sqlite3_prepare_v3(db_, insert_sql_.c_str(), -1, 0, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteStatus(rc, fmt::format("prepare outbox insert: {}", sqlite3_errmsg(db_)));
    }
  }
  sqlite3_bind_int64(stmt, 1, NowMicros());
  sqlite3_bind_int64(stmt, 2, static_cast<int64_t>(outbox::OutboxKind::kChangeset));
  int rc = sqlite3_bind_blob(stmt, 3, changeset, size, SQLITE_STATIC);  // TOOBIG past the limit
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  std::string msg = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);  // drops the pointer to the changeset, which is freed next
  if (stmt != insert_) sqlite3_finalize(stmt);
  if (rc == SQLITE_DONE) return Status::OK();
  return SqliteStatus(
      rc, fmt::format("insert {} byte changeset into {}: {}", size, outbox::kOutboxTable, msg));
}

Status Recorder::Discard() {
  if (!sqlite3_get_autocommit(db_)) {
    return Status::FailedPrecondition(
        "discard: a transaction is open; roll it back first (discarding inside it would let its "
        "changes commit without an outbox row)");
  }
  FreeRetired();
  if (!stale_ && sqlite3session_isempty(session_)) return Status::OK();
  int rc = ReplaceSession(/*in_hook=*/false);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "discard: start a fresh session");
  return Status::OK();
}

int Recorder::NewSession(sqlite3_session** out) noexcept {
  // None of these run SQL, so they are safe inside the rollback hook.
  sqlite3_session* s = nullptr;
  int rc = sqlite3session_create(db_, "main", &s);
  if (rc != SQLITE_OK) return rc;
  sqlite3session_table_filter(s, &Recorder::KeepTable, this);
  rc = sqlite3session_attach(s, nullptr);  // every table the filter keeps
  if (rc != SQLITE_OK) {
    sqlite3session_delete(s);
    return rc;
  }
  *out = s;
  return SQLITE_OK;
}

// Replaces session_ by a fresh one. In a hook, session_ may be running (the session reads a
// table's schema with SQL on its first change to it; an I/O error there rolls back and calls
// the hook), so it is disabled and kept until the next safe point instead of freed. Sessions
// retired earlier are disabled, so they run only inside our own sqlite3session_changeset()
// call (busy_); all others can be freed even here. retired_ thus never exceeds two entries.
int Recorder::ReplaceSession(bool in_hook) noexcept {
  sqlite3_session* fresh = nullptr;
  int rc = NewSession(&fresh);
  if (rc != SQLITE_OK) {
    stale_ = true;
    return rc;
  }
  sqlite3session_enable(session_, 0);
  FreeRetired();
  if (in_hook || session_ == busy_) {
    retired_.push_back(session_);  // within the reserved capacity: cannot throw
  } else {
    sqlite3session_delete(session_);
  }
  session_ = fresh;
  stale_ = false;
  return SQLITE_OK;
}

void Recorder::FreeRetired() noexcept {
  size_t kept = 0;
  for (sqlite3_session* s : retired_) {
    if (s == busy_) {
      retired_[kept++] = s;
    } else {
      sqlite3session_delete(s);
    }
  }
  retired_.resize(kept);
}

// Called by SQLite just before a write transaction commits, with no SQL allowed: only
// sqlite3session_isempty(), which reads the session's memory. Non-zero turns the COMMIT into a
// ROLLBACK (SQLITE_CONSTRAINT_COMMITHOOK).
int Recorder::OnCommit(void* self) noexcept {
  auto* r = static_cast<Recorder*>(self);
  const char* refusal = nullptr;
  if (r->stale_) {
    refusal = kStaleRefusal;
  } else if (!sqlite3session_isempty(r->session_)) {
    refusal = kUnflushedRefusal;
  }
  r->refusal_ = refusal;
  if (refusal == nullptr) return 0;
  ++r->refusal_count_;
  sqlite3_log(SQLITE_CONSTRAINT_COMMITHOOK, "%s", refusal);  // for apps with SQLITE_CONFIG_LOG
  return 1;
}

// Called by SQLite after a transaction rolled back (ROLLBACK, an error, or a refused COMMIT).
// The session still holds the rolled-back changes and the original values of their rows; kept,
// it would put them, or another connection's later changes to those rows, into the next
// changeset. So a session that recorded anything is replaced here, before the next statement.
void Recorder::OnRollback(void* self) noexcept {
  auto* r = static_cast<Recorder*>(self);
  if (!r->stale_ && sqlite3session_isempty(r->session_)) return;
  r->ReplaceSession(/*in_hook=*/true);  // on failure stale_ stays set: commits are refused
}

// The session's table filter: 0 leaves `table` out of the capture.
int Recorder::KeepTable(void* self, const char* table) noexcept {
  auto* r = static_cast<Recorder*>(self);
  if (outbox::IsReservedTable(table) || sqlite3_strnicmp(table, "sqlite_", 7) == 0) return 0;
  for (const std::string& excluded : r->options_.exclude_tables) {
    if (sqlite3_stricmp(table, excluded.c_str()) == 0) return 0;
  }
  return 1;
}

}  // namespace sqlift
