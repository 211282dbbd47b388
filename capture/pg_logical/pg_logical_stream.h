// PgLogicalStream: one replication connection that streams a logical replication slot through
// the built-in `pgoutput` plugin (protocol version 1) and hands out whole decoded transactions,
// for reverse replication (PostgreSQL → SQLite after a cutover).
//
//   SQLIFT_ASSIGN_OR_RETURN(auto stream, PgLogicalStream::Open({.conninfo = uri,
//       .slot = SlotNameFor(source), .publication = "sqlift_app"}));
//   for (;;) {
//     SQLIFT_ASSIGN_OR_RETURN(auto ev, stream->Next(std::chrono::seconds(1)));
//     if (ev.kind == PgLogicalStream::Event::Kind::kTransaction) {
//       ... apply ev.txn durably ...
//       SQLIFT_RETURN_IF_ERROR(stream->Confirm(ev.txn.end_lsn));
//     }
//   }
//
// Call Next() at least every wal_sender_timeout / 2 (30 s by default): the server drops a
// client that does not answer its keepalives for wal_sender_timeout.
//
// Positions: Confirm(end_lsn of a transaction) tells the server everything up to it is applied;
// the slot then resumes after that transaction when a new stream opens with start_lsn 0.
// Until the first Confirm the stream reports no position (the slot's stays where it was).
//
// Sessions of the walsender are fixed to TimeZone=UTC, DateStyle=ISO, extra_float_digits=3,
// bytea_output=hex, IntervalStyle=postgres, client_encoding=UTF8, so values have one text form.
//
// Errors: a lost connection (and a slot still held by another, perhaps dying, connection) is
// kUnavailable: open a new stream, with back-off. A missing slot is kNotFound; other server
// errors carry the server's message. Malformed data is kCorruption. After any error the
// stream is finished: every later call returns the same error. Messages never show a password.
//
// Thread safety: one thread at a time. The stream owns its connection; closed on destruction.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "capture/pg_logical/pg_change.h"
#include "common/base/result.h"
#include "common/base/status.h"

namespace sqlift {

struct LogicalStreamOptions {
  std::string conninfo;         // libpq URI or key=value string (PG* variables honoured)
  std::string slot;             // an existing logical slot of plugin pgoutput ([a-z0-9_], ≤ 63)
  std::string publication;      // the publication to stream
  pgchange::Lsn start_lsn = 0;  // 0: the slot's confirmed position
  std::chrono::milliseconds feedback_interval{1000};
  std::chrono::seconds connect_timeout{10};
  size_t max_transaction_bytes = size_t{1} << 30;  // see PgOutputDecoder::Options
};

class PgLogicalStream {
 public:
  struct Event {
    enum class Kind { kTransaction, kMarker, kIdle } kind = Kind::kIdle;
    pgchange::Transaction txn;  // kTransaction
    // kMarker: the message's LSN. kIdle: the newest server WAL position a keepalive reported
    // while no transaction was in progress (everything committed before it has been sent),
    // or 0 when there was none yet.
    pgchange::Lsn lsn = 0;
    std::string prefix, content;  // kMarker
  };

  // Connects (bounded by connect_timeout, name resolution aside) and starts replication.
  [[nodiscard]] static Result<std::unique_ptr<PgLogicalStream>> Open(
      const LogicalStreamOptions& options);

  ~PgLogicalStream();
  PgLogicalStream(const PgLogicalStream&) = delete;
  PgLogicalStream& operator=(const PgLogicalStream&) = delete;

  // Waits up to `timeout` for the next event; kIdle when nothing complete arrived in time.
  // Never returns half a transaction. Answers keepalives that ask for a reply and sends the
  // confirmed position every feedback_interval while it waits.
  [[nodiscard]] Result<Event> Next(std::chrono::milliseconds timeout);

  // Everything up to `lsn` is durably applied: a standby status update with write = flush =
  // apply = lsn is sent now (or, if the socket's buffer is full, from the next Next()). A
  // position below one already confirmed is ignored: positions only move forward.
  [[nodiscard]] Status Confirm(pgchange::Lsn lsn);

  pgchange::Lsn confirmed_lsn() const;
  // "user@host:port/db slot s", for log messages.
  std::string Describe() const;

 private:
  struct State;
  explicit PgLogicalStream(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace sqlift
