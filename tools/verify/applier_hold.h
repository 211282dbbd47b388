// ApplierHold: holds one source's applier at a log position, so that a comparison can read
// PostgreSQL at exactly the position its SQLite snapshot has (design invariant 6), while
// capture goes on logging. The hold lives in PostgreSQL (sqlift.positions.hold_seq and
// hold_until), where the applier reads its position in every transaction
// (apply/pg_batch_sink.h), so no control channel to the daemon is needed, and a hold whose
// owner died lapses by itself at hold_until.
//
//   auto hold = ApplierHold::Begin(std::move(conn), "app", std::chrono::seconds(30));  // at A
//   S = the SQLite snapshot's outbox position (>= A: nothing is applied before it commits)
//   SQLIFT_RETURN_IF_ERROR((*hold)->AdvanceTo(S, timeout));  // applied_seq == S now
//   ... begin the PostgreSQL snapshot (REPEATABLE READ) and read it once ...
//   SQLIFT_RETURN_IF_ERROR((*hold)->Release());               // the applier goes on
//
// One hold per source at a time: a second Begin while one is live is Unavailable (retry: the
// other lets go as soon as its snapshot is taken).
// Ownership: owns its connection (not the one the comparison reads with, which sits in a
// snapshot). Thread safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/pg/pg_connection.h"

namespace sqlift {

// In the message of Begin's Unavailable when another verify holds the applier.
inline constexpr char kHoldBusy[] = "by another verify";

class ApplierHold {
 public:
  // Holds `source` at its current applied_seq (the applier finishes the transaction in hand,
  // then applies nothing more) for at most `ttl`. NotFound when PostgreSQL holds no position.
  [[nodiscard]] static Result<std::unique_ptr<ApplierHold>> Begin(
      std::unique_ptr<PgConnection> conn, std::string source, std::chrono::seconds ttl);
  ~ApplierHold();  // Release(), logging a failure
  ApplierHold(const ApplierHold&) = delete;
  ApplierHold& operator=(const ApplierHold&) = delete;

  uint64_t held_at() const { return held_at_; }
  const std::string& source() const { return source_; }

  // Moves the hold to `seq` (>= held_at) and waits until applied_seq == seq. Aborted when
  // `timeout` passes first (naming both positions: is `sqlift apply` running?).
  [[nodiscard]] Status AdvanceTo(uint64_t seq, std::chrono::milliseconds timeout);

  // Lets the applier go on; idempotent.
  [[nodiscard]] Status Release();

 private:
  ApplierHold(std::unique_ptr<PgConnection> conn, std::string source, uint64_t at)
      : conn_(std::move(conn)), source_(std::move(source)), held_at_(at) {}
  [[nodiscard]] Result<uint64_t> Applied();

  std::unique_ptr<PgConnection> conn_;
  std::string source_;
  uint64_t held_at_ = 0;
  bool released_ = false;
};

// Whether PostgreSQL holds a position for `source` (then an applier is there to hold).
[[nodiscard]] Result<bool> SourceReplicates(PgConnection& conn, const std::string& source);

// The held form's hand-off, once the SQLite snapshot at outbox position `seq` is open: the
// applier is moved to `seq` and awaited, `conn`'s snapshot is taken (BeginVerifySnapshot,
// apply/verify_pg_reader.h) and checked to be at `seq`, and the applier is let go (the snapshot
// keeps what it saw). Without a hold (one-shot), only the snapshot is taken.
[[nodiscard]] Status TakeSnapshotAt(ApplierHold* hold, PgConnection& conn, uint64_t seq,
                                    std::chrono::milliseconds timeout);

// The same hand-off as steps, so that unit tests can check their order against fakes: the
// real ones are the hold's and the comparison connection's.
class SnapshotHandOff {
 public:
  virtual ~SnapshotHandOff() = default;
  virtual bool held() const = 0;  // false: the one-shot form, only the snapshot is taken
  [[nodiscard]] virtual Status AdvanceTo(uint64_t seq, std::chrono::milliseconds timeout) = 0;
  [[nodiscard]] virtual Status BeginSnapshot() = 0;
  // The held source's applied_seq as the snapshot sees it; nullopt without a position.
  [[nodiscard]] virtual Result<std::optional<uint64_t>> SnapshotApplied() = 0;
  [[nodiscard]] virtual Status Release() = 0;
};
[[nodiscard]] Status TakeSnapshotAt(SnapshotHandOff& steps, uint64_t seq,
                                    std::chrono::milliseconds timeout);

}  // namespace sqlift
