// Turns one decoded WAL transaction (wal_source.h) into what the log carries: the row changes
// of the captured tables as one CHANGES transaction, keyed by primary key with their net
// effect (as a session changeset would give them), the DDL events of a schema change, and
// the route events written through _sqlift_outbox (capture/agent/route_writer.h).
//
// Net effect per key. The decoder diffs rows by b-tree key (the rowid for rowid tables), so
// a row whose declared primary key changed, or whose rowid VACUUM renumbered, arrives as a
// change of the wrong identity; regrouping by primary key gives DELETE (old key only),
// INSERT (new key only) or UPDATE (both, with the changed columns), and nothing for a row
// that ends as it began. DELETEs come first, then UPDATEs, then INSERTs.
//
// Thread safety: pure functions.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "capture/agent/wal_source.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

struct WalEncoded {
  size_t ddl = 0;                         // DDL transactions in the batch
  size_t changes = 0;                     // row changes in its CHANGES transaction
  std::vector<wire::Transaction> routes;  // ROUTE transactions (no seq)
  bool reverse = false;                // the reverse applier's own transaction: never shipped back
  uint64_t ignored_recorder_rows = 0;  // recorder changesets in the outbox (wal mode ignores)
};

// Fills `batch` (empty; it may live on an arena, where everything added to it goes too) with
// the tables the changes name, the DDL events (in table name order) and then one CHANGES
// transaction; seqs and times are not set.
[[nodiscard]] Result<WalEncoded> EncodeWalTxn(const WalTxn& txn,
                                              const std::set<std::string>& excluded,
                                              wire::ChangeBatch* batch);

// DDL events that make a log describe `schema` from scratch (a fresh log's first record).
std::vector<wire::Transaction> FullSchemaDdl(const WalSchema& schema,
                                             const std::set<std::string>& excluded);

}  // namespace sqlift
