// SwitchSides: what a cutover or fallback asks of the two databases, one call per step of the
// protocol (switch_run.h). switch_sequence.h runs the steps in order over this interface; the
// real implementation (switch_steps.h, over SqliteDb and PgConnection) lives beside each
// direction, and unit tests run the sequence against an in-memory fake.
//
// A method that is not a step of the direction at hand is never called by the sequence.
// Ownership: the sequence borrows the sides for one run. Thread safety: the calling thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "capture/outbox/route_table.h"
#include "common/base/result.h"

namespace sqlift::switching {

class SwitchSides {
 public:
  virtual ~SwitchSides() = default;

  // "check": opens both sides, reads the tenant's route into *route (as soon as it is read,
  // also when a later check fails) and checks that the direction applies to it.
  [[nodiscard]] virtual Status Check(RouteRow* route, std::string* note) = 0;
  // Cutover's "catch up": until the applier is within max_lag_seqs of the outbox.
  [[nodiscard]] virtual Status CatchUp(std::string* note) = 0;
  // "prove", before the fence while the tenant's writers go on: the proof the check inside the
  // fence starts from (switch_proof.h).
  [[nodiscard]] virtual Status Prove(std::string* note) = 0;
  // Cutover's "reverse": the publication and slot exist before PostgreSQL takes a write.
  [[nodiscard]] virtual Status PrepareReverse(std::string* note) = 0;
  // Fallback's "catch up" and "drain": until the slot's confirmed position passes a marker
  // written now.
  [[nodiscard]] virtual Status WaitReverseDrained(std::string* note) = 0;
  // Writes the tenant's route (and its outbox event) on SQLite; returns the event's seq.
  [[nodiscard]] virtual Result<uint64_t> SetRoute(const RouteRow& row) = 0;
  // When the last SetRoute committed on SQLite (the write pause starts at the fence's commit,
  // not when SetRoute returns); nullopt when not known.
  virtual std::optional<std::chrono::steady_clock::time_point> LastRouteCommit() const {
    return std::nullopt;
  }
  // Until PostgreSQL's applied_seq >= seq; Aborted at the deadline.
  [[nodiscard]] virtual Status WaitApplied(uint64_t seq, std::string* note) = 0;
  // Compares the tenant's rows on both sides (fenced and drained, so still); with `fast`, only
  // the rows changed since the proof.
  [[nodiscard]] virtual Status Verify(bool fast, std::string* note) = 0;
  // Cutover's "sequences": identities set past the largest key; before the fence from the rows
  // PostgreSQL holds, inside it (`fenced`) from the keys inserted since, never a table scan.
  [[nodiscard]] virtual Status SetSequences(bool fenced, std::string* note) = 0;
  // Fallback's "close": the slot and publication go when no tenant is left on postgres.
  [[nodiscard]] virtual Status CloseReverse(std::string* note) = 0;

  // Whether the switch's deadline has passed.
  virtual bool TimedOut() const = 0;
  // Moves the deadline to at least `from_now` from now (after the flip: waiting to open).
  virtual void ExtendDeadline(std::chrono::milliseconds from_now) = 0;
};

}  // namespace sqlift::switching
