#include "capture/recorder/transaction.h"

#include <fmt/format.h>

#include <string>
#include <utility>

#include "common/sqlite/sqlite_status.h"

namespace sqlift {
namespace {

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::OK();
  std::string msg = fmt::format("{}: {}", sql, err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return SqliteStatus(rc, msg);
}

// Ends whatever is left of the transaction (a failed COMMIT may leave it open, or SQLite may
// have rolled it back already) and drops the recorded changes.
Status RollbackAndDiscard(Recorder& recorder) {
  Status rolled_back = Status::OK();
  if (!sqlite3_get_autocommit(recorder.db())) rolled_back = Exec(recorder.db(), "ROLLBACK");
  Status discarded = recorder.Discard();
  return rolled_back.ok() ? discarded : rolled_back;
}

// `failure`, mentioning a failed clean-up as well: a caller must learn of both.
Status WithCleanup(const Status& failure, const Status& cleanup) {
  if (cleanup.ok()) return failure;
  return failure.With(fmt::format("then roll back: {}", cleanup.ToString()));
}

}  // namespace

Result<Transaction> Transaction::Begin(Recorder& recorder, Mode mode) {
  if (!sqlite3_get_autocommit(recorder.db())) {
    return Status::FailedPrecondition("begin: a transaction is already open on this connection");
  }
  // Outside a transaction this only frees memory, or heals a session left stale by a failure.
  SQLIFT_RETURN_IF_ERROR(recorder.Discard().With("begin"));
  SQLIFT_RETURN_IF_ERROR(
      Exec(recorder.db(), mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  return Transaction(&recorder);
}

Transaction::Transaction(Transaction&& other) noexcept
    : recorder_(std::exchange(other.recorder_, nullptr)) {}

Transaction::~Transaction() {
  // Nobody can be told of a failure here; SQLite rolls back on close in any case.
  if (recorder_ != nullptr) (void)RollbackAndDiscard(*recorder_);
}

Result<int64_t> Transaction::Commit() {
  if (recorder_ == nullptr) return Status::FailedPrecondition("commit: transaction is not active");
  Recorder& recorder = *std::exchange(recorder_, nullptr);
  Result<int64_t> changes = recorder.Flush();
  if (!changes.ok()) {
    return WithCleanup(changes.status().With("commit"), RollbackAndDiscard(recorder));
  }
  Status committed = Exec(recorder.db(), "COMMIT");
  if (!committed.ok()) {
    if (sqlite3_extended_errcode(recorder.db()) == SQLITE_CONSTRAINT_COMMITHOOK) {
      committed = committed.With(recorder.last_refusal());
    }
    return WithCleanup(committed.With("commit"), RollbackAndDiscard(recorder));
  }
  return changes;
}

Status Transaction::Rollback() {
  if (recorder_ == nullptr)
    return Status::FailedPrecondition("rollback: transaction is not active");
  return RollbackAndDiscard(*std::exchange(recorder_, nullptr)).With("rollback");
}

}  // namespace sqlift
