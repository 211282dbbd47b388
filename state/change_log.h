// ChangeLog: the agent's durable log of captured transactions and the positions that point
// into it (design sections 3 and 6). The production implementation is RocksDB
// (OpenRocksChangeLog); NewMemChangeLog is an in-memory fake for unit tests, and
// FaultInjectionChangeLog (fault_injection_change_log.h) fails on command for crash tests.
// The on-disk format is described once, in state/README.md.
//
// Records are keyed by seq (state/keys.h); each value is a serialized wire::ChangeBatch of
// that one seq, stored as given. Every call that moves a position is synced before it
// returns OK, and a record and the position that points past it are written together, so
// after a crash the log is exactly what an OK return promised. After a failed write the log
// refuses further writes until it is reopened: nothing is ever acknowledged past a failure.
//
// Thread safety: all methods may be called concurrently (the agent's drain and its shipper
// run on different threads). Writes are serialized inside the log; Scan and the Get methods
// do not wait for them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"

namespace sqlift::state {

// A meta value (GetMeta/PutMeta) written with an Append.
struct MetaRecord {
  std::string key;
  std::string value;
};

struct LogRecord {
  uint64_t seq = 0;
  std::string value;  // serialized wire::ChangeBatch
};

// One tenant's route as the agent last logged it (docs/design.md, state: the `route` family).
struct RouteRecord {
  std::string tenant;  // "*" for the whole database
  std::string value;   // serialized wire::Route
};

struct LogStats {
  uint64_t first_seq = 0;  // 0 when the log is empty
  uint64_t last_seq = 0;
  uint64_t count = 0;
  uint64_t bytes = 0;  // sum of value sizes
};

class ChangeLog {
 public:
  virtual ~ChangeLog() = default;

  // Appends records with ascending seqs, the first equal to logged_seq + 1 and the rest
  // contiguous (InvalidArgument otherwise: a gap is never written), and moves the position
  // kMetaLoggedSeq to the last one, in one synced write. Rewriting seqs <= logged_seq with
  // the same records is allowed (a replayed drain after a crash) and leaves the position.
  //
  // Precisely: seqs start at 1 (so a fresh log's first record is seq 1), the batch is
  // contiguous, and its first seq is <= logged_seq + 1. A batch that straddles logged_seq
  // rewrites the old seqs and appends the new ones; the position becomes its last seq. A
  // rewrite replaces the stored value (last write wins; the agent re-reads the same outbox
  // rows, so the bytes are expected to be equal) and may bring back a seq that TrimBefore
  // removed. An empty batch is OK and does nothing. On any error nothing is written.
  //
  // `routes` are written into the route family in the same synced write (a route event's
  // record and the route it sets land together); each replaces that tenant's stored route.
  // `meta` values (GetMeta keys) land in the same write too: a source position that must
  // move together with the records it produced.
  [[nodiscard]] virtual Status Append(const std::vector<LogRecord>& records,
                                      const std::vector<RouteRecord>& routes,
                                      const std::vector<MetaRecord>& meta) = 0;
  [[nodiscard]] Status Append(const std::vector<LogRecord>& records,
                              const std::vector<RouteRecord>& routes) {
    return Append(records, routes, {});
  }
  [[nodiscard]] Status Append(const std::vector<LogRecord>& records) { return Append(records, {}); }

  // Every stored route, by tenant.
  [[nodiscard]] virtual Result<std::vector<RouteRecord>> Routes() = 0;

  // A named position (state/keys.h kMeta*); 0 when never set. Names must be non-empty.
  [[nodiscard]] virtual Result<uint64_t> GetPosition(std::string_view name) = 0;
  // Sets a named position, synced. kMetaLoggedSeq is moved only by Append (InvalidArgument).
  // A position may move in either direction; the caller owns its meaning.
  [[nodiscard]] virtual Status SetPosition(std::string_view name, uint64_t value) = 0;

  // Small named byte values in the meta family (table shapes, schema text), synced.
  // Get returns NotFound when absent. Keys must be non-empty; an empty value is a value.
  // Meta keys and position names are separate namespaces: PutMeta("x") never changes
  // GetPosition("x").
  [[nodiscard]] virtual Result<std::string> GetMeta(std::string_view key) = 0;
  [[nodiscard]] virtual Status PutMeta(std::string_view key, std::string_view value) = 0;

  // Calls `fn` for each record with first <= seq <= last, in seq order, stopping at the first
  // non-OK status from `fn` (which is returned). `fn` may call back into the log. Records
  // written while the scan runs may or may not be visited; a record is never visited twice.
  [[nodiscard]] virtual Status Scan(
      uint64_t first, uint64_t last,
      const std::function<Status(uint64_t seq, std::string_view value)>& fn) = 0;

  // Deletes every record with seq < `seq` (retention), synced. Never moves a position.
  // TrimBefore(0) and TrimBefore(1) do nothing. Costs O(records trimmed) in RocksDB.
  [[nodiscard]] virtual Status TrimBefore(uint64_t seq) = 0;

  // Cheap: the RocksDB log keeps count and bytes as counters written with each batch and
  // finds first/last with one seek each. It waits for a write in progress.
  [[nodiscard]] virtual Result<LogStats> Stats() = 0;

  // A secondary opened beside a running agent (RocksChangeLogOptions.secondary_dir): brings
  // reads up to the agent's latest synced write, replaying only what it wrote since the last
  // call. Elsewhere nothing to do.
  [[nodiscard]] virtual Status CatchUp() { return Status::OK(); }
};

// The in-memory fake: same contract, nothing survives the object. Its writes never fail;
// wrap it in a FaultInjectionChangeLog to make them.
std::unique_ptr<ChangeLog> NewMemChangeLog();

struct RocksChangeLogOptions {
  bool create_if_missing = true;  // false: NotFound when `dir` holds no state yet
  // Opens without the lock, beside a running agent (for `sqlift log dump|stats`): reads see
  // the log as it was when opened; every write fails. Implies create_if_missing = false.
  bool read_only = false;
  // Non-empty: opens as a RocksDB secondary instance beside a running agent, keeping its own
  // info files in this directory; reads see the log as of the open or the last CatchUp(),
  // which is cheap (a switch opens it before its fence and catches up inside it). Implies
  // read_only.
  std::string secondary_dir;
};

// Opens (or creates) the RocksDB state in `dir` with column families log, meta and route,
// creating any that are missing. Fails with IOError naming the directory when another
// process (or another open ChangeLog in this one) holds it open, with Corruption when the
// stored data is damaged, and with FailedPrecondition when a newer sqlift wrote a format this
// one does not know. Closing is destroying the returned object; reopening after a failed
// write is destroying it and calling OpenRocksChangeLog again.
[[nodiscard]] Result<std::unique_ptr<ChangeLog>> OpenRocksChangeLog(
    const std::string& dir, const RocksChangeLogOptions& options = {});

}  // namespace sqlift::state
