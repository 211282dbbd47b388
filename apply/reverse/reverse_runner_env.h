// What ReverseRunner's loop (reverse_runner.h) talks to, behind three small interfaces so that
// unit tests can drive it with fakes: SQLite's routes (ReverseEnv::AnyOnPostgres), the writer
// of PostgreSQL's transactions into SQLite (ReverseSink: ReverseApplier), and the logical
// stream (ReverseSource: PgLogicalStream). RealReverseEnv opens the real ones from the
// configuration; a test passes its own to ReverseRunner::Start.
//
// Ownership: the runner owns its env, and the sink and source the env opens.
// Thread safety: everything is called from the runner's thread only.
#pragma once

#include <chrono>
#include <memory>
#include <span>

#include "apply/reverse/reverse_applier.h"
#include "capture/pg_logical/pg_logical_stream.h"
#include "common/base/result.h"
#include "common/config/config.h"

namespace sqlift {

class ReverseSink {
 public:
  virtual ~ReverseSink() = default;
  // The end LSN of the last transaction committed to SQLite.
  [[nodiscard]] virtual Result<pgchange::Lsn> Position() = 0;
  // Applies `txns` in one SQLite transaction, the position with them; committed on OK.
  [[nodiscard]] virtual Result<ReverseApplyStats> ApplyBatch(
      std::span<const pgchange::Transaction> txns) = 0;
};

class ReverseSource {
 public:
  virtual ~ReverseSource() = default;
  [[nodiscard]] virtual Result<PgLogicalStream::Event> Next(std::chrono::milliseconds timeout) = 0;
  // Everything up to `lsn` is applied: the slot may move there.
  [[nodiscard]] virtual Status Confirm(pgchange::Lsn lsn) = 0;
};

class ReverseEnv {
 public:
  virtual ~ReverseEnv() = default;
  // Whether SQLite's route table routes any tenant to postgres.
  [[nodiscard]] virtual Result<bool> AnyOnPostgres() = 0;
  [[nodiscard]] virtual Result<std::unique_ptr<ReverseSink>> OpenSink() = 0;
  // A stream of the source's slot from `start` (the sink's position).
  [[nodiscard]] virtual Result<std::unique_ptr<ReverseSource>> OpenSource(pgchange::Lsn start) = 0;
};

// The real ones: [source] sqlite's routes and ReverseApplier, [target] pg's slot of the source.
std::unique_ptr<ReverseEnv> RealReverseEnv(const Config& cfg);

// The loop's decisions after a failed step: whether it stops reverse replication (a refusal:
// neither retryable nor a slot not made yet), and the ceiling of the back-off that doubles from
// 100 ms (5 s; 500 ms while the slot is missing, which a cutover creates just before its flip).
bool StopsReverse(const Status& st);
std::chrono::milliseconds RetryCeiling(const Status& st);

}  // namespace sqlift
