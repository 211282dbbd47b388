// pgchange: one decoded PostgreSQL transaction from logical decoding (the pgoutput plugin), as
// the reverse path carries it from apply/ (the reader of the replication stream) to capture/
// (the applier into SQLite). Plain values, no libpq and no sqlite3.h, so both sides can
// include it (docs/design.md, the floor plan: nothing in capture/ includes libpq).
//
// Values are PostgreSQL's text output forms, as pgoutput sends them (protocol version 1). The
// reader's session fixes the forms that depend on settings: TimeZone=UTC, DateStyle=ISO,
// bytea_output=hex, extra_float_digits=3.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sqlift::pgchange {

// A write-ahead log position (PostgreSQL's XLogRecPtr).
using Lsn = uint64_t;

struct Column {
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_mod = -1;
  bool key = false;  // part of the replica identity (the primary key)
};

// A table as the most recent Relation message described it.
struct Relation {
  uint32_t id = 0;  // the relation's OID
  std::string schema;
  std::string table;
  std::vector<Column> columns;
};

// One column value of a tuple.
struct Datum {
  enum class Kind {
    kNull,
    kText,       // `text` holds the value's text output
    kUnchanged,  // a TOASTed value an UPDATE did not change: not sent
  };
  Kind kind = Kind::kNull;
  std::string text;
};

struct Change {
  enum class Op { kInsert, kUpdate, kDelete, kTruncate };
  Op op = Op::kInsert;
  std::shared_ptr<const Relation> rel;
  // kUpdate / kDelete: the old key (key columns set, the others kNull) when the key changed or
  // for every delete; empty when pgoutput sent no old tuple (an UPDATE that kept its key).
  // One Datum per rel->columns entry.
  std::vector<Datum> old_tuple;
  // kInsert / kUpdate: the new row, one Datum per rel->columns entry.
  std::vector<Datum> new_tuple;
};

struct Transaction {
  uint32_t xid = 0;
  Lsn final_lsn = 0;           // LSN of the commit record (Begin's final_lsn)
  Lsn end_lsn = 0;             // end of the commit record: resume after this
  int64_t commit_time_us = 0;  // microseconds since the Unix epoch
  // The replication origin the transaction was written under ("" when none). The forward
  // applier writes under origins named "sqlift_*", which the reverse path skips.
  std::string origin;
  std::vector<Change> changes;
};

// "16/B374D848" → LSN, and back.
bool ParseLsn(const std::string& text, Lsn* out);
std::string FormatLsn(Lsn lsn);

}  // namespace sqlift::pgchange
