// PgOutputDecoder: turns the messages of PostgreSQL's built-in `pgoutput` logical decoding
// plugin (protocol version 1, text values) into whole transactions (proto/pg_change.h). Pure:
// bytes in, structs out, no libpq, so it can be unit-tested and fuzzed on its own.
//
//   PgOutputDecoder decoder;
//   PgOutputDecoder::Event event;
//   SQLIFT_RETURN_IF_ERROR(decoder.Feed(xlogdata_payload, xlogdata_wal_start, &event));
//   if (event.kind == PgOutputDecoder::Event::Kind::kTransaction) Apply(event.txn);
//
// Each Feed() takes one message (the payload of one XLogData). Begin .. Commit are gathered into
// one Transaction, handed out only at its Commit; Relation messages fill a cache by relation id
// (a Change keeps the definition it was made under, even if the table is described again);
// Type messages and transactional logical messages (pg_logical_emit_message(true, ...)) are
// skipped; a non-transactional logical message, which pgoutput sends outside any transaction,
// is a marker event. An old tuple of kind 'O' (REPLICA IDENTITY FULL) holds every column, each
// of which the Relation marks as key.
//
// Malformed input (short reads, trailing bytes, an unknown message or value kind, a binary
// value, a change outside a transaction or for a relation never described, a tuple whose column
// count differs from its relation, a nested Begin, a Commit whose LSN differs from its Begin's)
// is a Status::Corruption naming the message, its LSN and the problem. The first error is
// permanent: every later Feed() returns it, since the stream can no longer be trusted.
//
// Thread safety: one thread at a time. Events share immutable Relation objects
// (shared_ptr<const>), which may be read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "capture/pg_logical/pg_change.h"
#include "common/base/status.h"

namespace sqlift {

class PgOutputDecoder {
 public:
  struct Options {
    // A transaction whose decoded size (values plus bookkeeping) grows past this is refused
    // with kFailedPrecondition, rather than exhausting memory. Raise it for huge transactions.
    size_t max_transaction_bytes = size_t{1} << 30;
  };

  struct Event {
    enum class Kind {
      kNone,         // the message was absorbed (Begin, Relation, a change...)
      kTransaction,  // `txn` is complete (its Commit was the message fed)
      kMarker,       // a non-transactional logical message: `lsn`, `prefix`, `content`
    };
    Kind kind = Kind::kNone;
    pgchange::Transaction txn;
    pgchange::Lsn lsn = 0;  // kMarker: the XLogData's wal start, the message's LSN
    std::string prefix;
    std::string content;
  };

  PgOutputDecoder() = default;
  explicit PgOutputDecoder(Options options) : options_(options) {}

  // Decodes one pgoutput message that arrived in an XLogData starting at `wal_start`. `*out`
  // is reset first, then filled when the message completes an event.
  [[nodiscard]] Status Feed(std::string_view msg, pgchange::Lsn wal_start, Event* out);

  // True between a Begin and its Commit.
  bool in_transaction() const { return txn_.has_value(); }

  // The most recent definition of relation `id`, or nullptr.
  std::shared_ptr<const pgchange::Relation> FindRelation(uint32_t id) const;

 private:
  class Reader;
  Status Dispatch(char type, Reader& r, pgchange::Lsn wal_start, Event* out);
  Status OnBegin(Reader& r);
  Status OnCommit(Reader& r, Event* out);
  Status OnOrigin(Reader& r);
  Status OnRelation(Reader& r);
  Status OnType(Reader& r);
  Status OnRowChange(char type, Reader& r);
  Status OnTruncate(Reader& r);
  Status OnMessage(Reader& r, pgchange::Lsn wal_start, Event* out);
  Status ReadTuple(Reader& r, const pgchange::Relation& rel, const char* which,
                   std::vector<pgchange::Datum>* out);
  Status FindForChange(uint32_t id, std::shared_ptr<const pgchange::Relation>* out) const;
  Status AddChange(pgchange::Change change);

  Options options_;
  std::map<uint32_t, std::shared_ptr<const pgchange::Relation>> relations_;
  std::optional<pgchange::Transaction> txn_;
  size_t txn_bytes_ = 0;
  Status failed_;  // the first error; permanent
};

}  // namespace sqlift
