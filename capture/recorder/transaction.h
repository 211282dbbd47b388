// Transaction: a write transaction on a recorder's connection whose Commit() first writes the
// changes into the outbox (Recorder::Flush) and then commits, so both land or neither does.
//
//   SQLIFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*recorder));
//   ...writes on recorder->db()...
//   SQLIFT_RETURN_IF_ERROR(txn.Commit().status());
//
// A Transaction that is neither committed nor rolled back rolls back when destroyed. Errors a
// retry can cure (SQLITE_BUSY: another connection holds the write lock) come back as
// Status::Unavailable; roll back (Commit does it for you) and run the whole transaction again.
//
// Lifetime: `recorder` must outlive the Transaction. Thread safety: that of the connection.
#pragma once

#include <cstdint>

#include "capture/recorder/recorder.h"
#include "common/base/result.h"

namespace sqlift {

class Transaction {
 public:
  // kImmediate takes the write lock at BEGIN (SQLITE_BUSY surfaces here, before any work);
  // kDeferred takes it at the first write.
  enum class Mode { kDeferred, kImmediate };

  // FailedPrecondition when a transaction is already open on the connection.
  [[nodiscard]] static Result<Transaction> Begin(Recorder& recorder, Mode mode = Mode::kImmediate);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Flush, then COMMIT. Returns the number of row changes written to the outbox. On any
  // failure the transaction is rolled back and its recorded changes discarded.
  [[nodiscard]] Result<int64_t> Commit();
  // ROLLBACK, then drop the recorded changes.
  [[nodiscard]] Status Rollback();

  // False once committed, rolled back or moved from.
  bool active() const { return recorder_ != nullptr; }

 private:
  explicit Transaction(Recorder* recorder) : recorder_(recorder) {}

  Recorder* recorder_;
};

}  // namespace sqlift
